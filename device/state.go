package device

import (
	"crypto/sha256"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/smp"
)

// SetState applies an image state write (reference §3.2): confirm false
// marks the image with hash for a test boot; confirm true confirms the
// running image (hash nil or the running image's) or makes the image in the
// secondary slot permanent.
func (d *Device) SetState(hash []byte, confirm bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if hash != nil && len(hash) != sha256.Size {
		return smp.ImageInvalidHash
	}
	if hash == nil && !confirm {
		return smp.ImageInvalidHash // a test needs to say which image
	}
	list, err := d.imagesLocked()
	if err != nil {
		return smp.ImageFlashReadFailed
	}
	next, err := d.slots.NextSwap()
	if err != nil {
		return smp.ImageFlashReadFailed
	}
	slot := uint32(0)
	if hash != nil {
		s, ok := findSlot(list, hash)
		if !ok {
			return smp.ImageHashNotFound
		}
		slot = s.Slot
	}
	switch {
	case slot == 0 && !confirm:
		return smp.ImageSettingTestToActiveDenied
	case slot == 0:
		if next != boot.SwapRevert {
			return nil // already confirmed
		}
		return imageError(d.slots.Confirm())
	case next == boot.SwapRevert:
		// While a test image runs unconfirmed, only confirming it is allowed.
		return smp.ImageAlreadyPending
	}
	return imageError(d.slots.SetPending(confirm))
}

// Erase erases a slot. The running slot, and the fallback of an unconfirmed
// test image, are in use and refused; a slot waiting for a test swap may be
// erased, as with CONFIG_MCUMGR_GRP_IMG_ALLOW_ERASE_PENDING.
func (d *Device) Erase(slot uint32) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if slot > 1 {
		return smp.ImageInvalidSlot
	}
	flags, err := d.slots.Flags()
	if err != nil {
		return smp.ImageFlashReadFailed
	}
	if slot == 0 || flags[1].Confirmed {
		return smp.ImageNoFreeSlot
	}
	if err := d.slots.Secondary.Erase(0, d.slots.Secondary.Size()); err != nil {
		return smp.ImageFlashEraseFailed
	}
	d.up = upload{}
	d.setStaged(0)
	return nil
}
