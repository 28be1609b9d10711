package device

import (
	"fmt"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/flash"
)

// modeSwapScratch is MCUboot's mode number for swap with scratch (enum
// mcuboot_mode), the mode package boot emulates.
const modeSwapScratch = 1

// openBootAreas opens the scratch sector and the swap status journal.
func (d *Device) openBootAreas() (scratch, status *flash.Area, err error) {
	sectors := d.cfg.SlotSize / d.cfg.SectorSize
	size := boot.StatusSize(sectors, d.cfg.WriteAlign)
	size = (size + d.cfg.SectorSize - 1) / d.cfg.SectorSize * d.cfg.SectorSize
	scratch, err = d.openArea("scratch.bin", flash.Geometry{Size: d.cfg.SectorSize,
		SectorSize: d.cfg.SectorSize, WriteAlign: d.cfg.WriteAlign})
	if err != nil {
		return nil, nil, err
	}
	status, err = d.openArea("swap-status.bin", flash.Geometry{Size: size,
		SectorSize: d.cfg.SectorSize, WriteAlign: d.cfg.WriteAlign})
	if err != nil {
		scratch.Close()
		return nil, nil, err
	}
	return scratch, status, nil
}

// boot runs the bootloader, as at power-on, then the AfterBoot hook.
func (d *Device) boot() error {
	d.mu.Lock()
	err := d.bootLocked()
	hook, res := d.hooks.AfterBoot, d.booted
	d.mu.Unlock()
	if err == nil && hook != nil {
		hook(res)
	}
	return err
}

// bootLocked runs MCUboot over the slots and forgets all RAM state. The
// caller holds d.mu.
func (d *Device) bootLocked() error {
	d.up = upload{}
	d.setStaged(0)
	loader := boot.Loader{Slots: d.slots, Scratch: d.scratch, Status: d.status, Validate: d.validate}
	res, err := loader.Boot()
	if err != nil {
		return fmt.Errorf("device %s: boot: %w", d.cfg.Name, err)
	}
	d.booted = res
	return nil
}

// Booted returns what the last boot did.
func (d *Device) Booted() boot.Result {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.booted
}

// ScheduleReset reboots the device after its configured reset delay: RAM
// state is lost and MCUboot runs. NB: a boot that fails (a flash error, no
// valid image in either slot) is not reported anywhere; Booted keeps the
// last good boot.
func (d *Device) ScheduleReset() {
	if d.cfg.ResetDelay == 0 {
		_ = d.boot()
		return
	}
	d.clock.AfterFunc(d.cfg.ResetDelay, func() { _ = d.boot() })
}
