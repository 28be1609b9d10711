// Package device emulates a Zephyr device that boots through MCUboot and
// answers MCUmgr's OS and image groups. Its two slots live in files under a
// state directory, so everything it was told survives a restart, as flash
// does; what Zephyr keeps in RAM (the upload in progress) does not.
package device

import (
	"crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/flash"
	"github.com/fotasync/fotasync/mcuboot"
)

// Slot sizes and SMP buffers of an emulated device unless configured.
const (
	DefaultSlotSize   = 0x60000 // imgtool -S of the reference images
	DefaultSectorSize = 4096
	DefaultWriteAlign = 4
	DefaultBufSize    = 2048 // Zephyr's netbuf size with the UDP transport
	DefaultBufCount   = 4
)

// Config describes one emulated device. The zero value of every field but
// Dir is a usable default.
type Config struct {
	Dir        string // state directory; created if absent
	Name       string // how errors and OS info name the device; "" means "device"
	SlotSize   int    // bytes per slot; 0 means DefaultSlotSize
	SectorSize int    // flash erase unit; 0 means DefaultSectorSize
	WriteAlign int    // flash write unit; 0 means DefaultWriteAlign
	BufSize    int    // SMP buf_size reported; 0 means DefaultBufSize
	BufCount   int    // SMP buf_count reported; 0 means DefaultBufCount
	// Keys, when set, are the public keys MCUboot accepts: an image that
	// verifies with none of them is not booted. Empty means hash check only.
	Keys []crypto.PublicKey
	// ResetDelay is how long after answering a reset the device reboots
	// (CONFIG_MCUMGR_GRP_OS_RESET_MS); 0 means at once.
	ResetDelay time.Duration
	Clock      clock.Clock // nil means the wall clock
	// PowerCut, when set, cuts power during one of the device's flash
	// operations (simulation).
	PowerCut *flash.PowerCut
}

// Device is one emulated device. It is safe for concurrent use.
type Device struct {
	cfg     Config
	clock   clock.Clock
	slots   boot.Slots
	scratch *flash.Area // one sector for the swap
	status  *flash.Area // swap progress journal

	mu        sync.Mutex
	up        upload        // upload in progress; RAM state, lost at reset
	booted    boot.Result   // what the last boot did
	hooks     Hooks         // what a layer above adds (the pair protocol)
	stagedLen int           // bytes of the latest upload in the secondary slot
	staged    chan struct{} // closed and replaced whenever stagedLen changes
}

// Hooks let a protocol layer take part in the device's life.
type Hooks struct {
	// AfterBoot runs after every boot, the first included.
	AfterBoot func(boot.Result)
	// BeforeReset may refuse an SMP reset request that is not forced; it
	// returns the status to answer with (smp.RCBusy, field case B17).
	BeforeReset func(force bool) error
}

// Open opens the device's flash under cfg.Dir and boots it, as a power-on
// does.
func Open(cfg Config) (*Device, error) {
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("device %s: state directory: %w", cfg.Name, err)
	}
	d := &Device{cfg: cfg, clock: cfg.Clock, staged: make(chan struct{})}
	g := flash.Geometry{Size: cfg.SlotSize, SectorSize: cfg.SectorSize, WriteAlign: cfg.WriteAlign}
	var err error
	if d.slots.Primary, err = d.openArea("slot0.bin", g); err != nil {
		return nil, err
	}
	if d.slots.Secondary, err = d.openArea("slot1.bin", g); err != nil {
		d.slots.Primary.Close()
		return nil, err
	}
	if d.scratch, d.status, err = d.openBootAreas(); err != nil {
		d.slots.Primary.Close()
		d.slots.Secondary.Close()
		return nil, err
	}
	if err := d.boot(); err != nil && !errors.Is(err, boot.ErrNoImage) {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (cfg Config) withDefaults() Config {
	if cfg.Name == "" {
		cfg.Name = "device"
	}
	defaults := []struct {
		field *int
		value int
	}{
		{&cfg.SlotSize, DefaultSlotSize}, {&cfg.SectorSize, DefaultSectorSize},
		{&cfg.WriteAlign, DefaultWriteAlign}, {&cfg.BufSize, DefaultBufSize}, {&cfg.BufCount, DefaultBufCount},
	}
	for _, d := range defaults {
		if *d.field == 0 {
			*d.field = d.value
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Wall
	}
	return cfg
}

func (d *Device) openArea(name string, g flash.Geometry) (*flash.Area, error) {
	path := filepath.Join(d.cfg.Dir, name)
	var (
		a   *flash.Area
		err error
	)
	if d.cfg.PowerCut != nil {
		a, err = d.cfg.PowerCut.Open(path, g)
	} else {
		a, err = flash.Open(path, g)
	}
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", d.cfg.Name, err)
	}
	return a, nil
}

// PowerCut is the device's power-cut plan, nil when it has none: the durable
// writes of a protocol layer (its journal) count as operations in it.
func (d *Device) PowerCut() *flash.PowerCut { return d.cfg.PowerCut }

// Name is the device's name from its Config.
func (d *Device) Name() string { return d.cfg.Name }

// Dir is the device's state directory.
func (d *Device) Dir() string { return d.cfg.Dir }

// SetHooks installs the hooks of a protocol layer.
func (d *Device) SetHooks(h Hooks) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hooks = h
}

// Close releases the flash files.
func (d *Device) Close() error {
	return errors.Join(d.slots.Primary.Close(), d.slots.Secondary.Close(), d.scratch.Close(), d.status.Close())
}

// Provision writes image into the primary slot of a device that has never
// run anything, as a factory programmer would, then boots it. A device whose
// primary slot already holds an image is left as it is: provisioning runs on
// every start of the emulator and must not undo an update.
func (d *Device) Provision(image []byte) error {
	img, err := mcuboot.Parse(image)
	if err != nil {
		return fmt.Errorf("device %s: provision: %w", d.cfg.Name, err)
	}
	if err := img.Verify(d.cfg.Keys...); err != nil {
		return fmt.Errorf("device %s: provision: %w", d.cfg.Name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.slotImage(d.slots.Primary); ok {
		return nil
	}
	if img.Len() > d.MaxImageSize() {
		return fmt.Errorf("device %s: provision: image of %d bytes does not fit the %d usable bytes of a slot",
			d.cfg.Name, img.Len(), d.MaxImageSize())
	}
	if err := d.slots.Primary.Erase(0, d.slots.Primary.Size()); err != nil {
		return fmt.Errorf("device %s: provision: %w", d.cfg.Name, err)
	}
	if _, err := d.slots.Primary.WriteAt(padTo(img.Bytes(), d.cfg.WriteAlign), 0); err != nil {
		return fmt.Errorf("device %s: provision: %w", d.cfg.Name, err)
	}
	return d.bootLocked()
}
