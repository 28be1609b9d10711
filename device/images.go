package device

import (
	"bytes"
	"fmt"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/flash"
	"github.com/fotasync/fotasync/mcuboot"
	"github.com/fotasync/fotasync/smp"
)

// slotImage parses the image stored in a slot. ok is false for a slot that
// holds no readable image, which the image list omits as Zephyr does.
func (d *Device) slotImage(a *flash.Area) (*mcuboot.Image, bool) {
	b, err := readArea(a)
	if err != nil {
		return nil, false
	}
	img, err := mcuboot.Parse(b)
	if err != nil || len(img.Hash()) == 0 {
		return nil, false
	}
	return img, true
}

func readArea(a *flash.Area) ([]byte, error) {
	b := make([]byte, a.Size())
	if _, err := a.ReadAt(b, 0); err != nil {
		return nil, err
	}
	return b, nil
}

// validate is MCUboot's check of an image before it boots or swaps it in:
// structure, hash, and a signature when keys are configured.
func (d *Device) validate(slot []byte) error {
	img, err := mcuboot.Parse(slot)
	if err != nil {
		return err
	}
	return img.Verify(d.cfg.Keys...)
}

// Images returns the image state list, as the image group reports it.
func (d *Device) Images() ([]smp.ImageSlot, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.imagesLocked()
}

func (d *Device) imagesLocked() ([]smp.ImageSlot, error) {
	flags, err := d.slots.Flags()
	if err != nil {
		return nil, fmt.Errorf("device %s: image state: %w", d.cfg.Name, err)
	}
	list := make([]smp.ImageSlot, 0, 2) // encodes as an empty list, not null, when no slot has an image
	for i, a := range []*flash.Area{d.slots.Primary, d.slots.Secondary} {
		img, ok := d.slotImage(a)
		if !ok {
			continue
		}
		list = append(list, smp.ImageSlot{
			Slot:      uint32(i),
			Version:   img.Header.Version.SMPString(),
			Hash:      img.Hash(),
			Bootable:  img.Header.Flags&mcuboot.FlagNonBootable == 0,
			Pending:   flags[i].Pending,
			Confirmed: flags[i].Confirmed,
			Active:    flags[i].Active,
			Permanent: flags[i].Permanent,
		})
	}
	return list, nil
}

// Running returns the image that runs now, from the primary slot.
func (d *Device) Running() (*mcuboot.Image, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.slotImage(d.slots.Primary)
}

// findSlot returns the slot whose image has hash, scanning slot 0 first as
// Zephyr does.
func findSlot(list []smp.ImageSlot, hash []byte) (smp.ImageSlot, bool) {
	for _, s := range list {
		if bytes.Equal(s.Hash, hash) {
			return s, true
		}
	}
	return smp.ImageSlot{}, false
}

// SlotSize is the size of each slot in bytes.
func (d *Device) SlotSize() int { return d.cfg.SlotSize }

// MaxImageSize is the largest image a slot holds: the slot less its trailer.
func (d *Device) MaxImageSize() int {
	n, err := boot.TrailerSize(boot.DefaultMaxAlign)
	if err != nil {
		panic(err) // the default alignment is valid
	}
	return d.cfg.SlotSize - n
}

// padTo pads b with erased bytes to a multiple of align.
func padTo(b []byte, align int) []byte {
	if r := len(b) % align; r != 0 {
		b = append(bytes.Clone(b), bytes.Repeat([]byte{0xff}, align-r)...)
	}
	return b
}

// StagedImage parses the image in the secondary slot.
func (d *Device) StagedImage() (*mcuboot.Image, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, err := readArea(d.slots.Secondary)
	if err != nil {
		return nil, err
	}
	return mcuboot.Parse(b)
}

// Validate checks img as MCUboot would before booting it: its hash, and a
// signature by one of the device's keys when it has any.
func (d *Device) Validate(img *mcuboot.Image) error {
	return img.Verify(d.cfg.Keys...)
}
