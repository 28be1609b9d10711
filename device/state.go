package device

import (
	"crypto/sha256"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/smp"
)

// SetState applies an image state write (reference §3.2): confirm false
// marks the image with hash for a test boot; confirm true confirms the
// running image (hash empty or the running image's) or makes the image in the
// secondary slot permanent. Once a swap is scheduled it follows Zephyr's
// img_mgmt_set_next_boot_slot: repeating the same request is a no-op, and any
// other change is refused with IMAGE_ALREADY_PENDING.
func (d *Device) SetState(hash []byte, confirm bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case len(hash) == 0 && !confirm:
		return smp.ImageInvalidHash // a test needs to say which image
	case len(hash) != 0 && len(hash) != sha256.Size:
		return smp.ImageInvalidHash
	}
	list, err := d.imagesLocked()
	if err != nil {
		return smp.ImageFlashReadFailed
	}
	next, err := d.slots.NextSwap()
	if err != nil {
		return smp.ImageFlashReadFailed
	}
	slot := uint32(0) // an empty hash names the running image, as in Zephyr
	if len(hash) != 0 {
		s, ok := findSlot(list, hash)
		if !ok {
			return smp.ImageHashNotFound
		}
		slot = s.Slot
	}
	switch {
	case slot == 0 && !confirm:
		return smp.ImageSettingTestToActiveDenied
	case next == boot.SwapTest || next == boot.SwapPerm:
		if slot == 1 && confirm == (next == boot.SwapPerm) {
			return nil // already scheduled this way
		}
		return smp.ImageAlreadyPending
	case next == boot.SwapRevert:
		// While a test image runs unconfirmed, only confirming it is allowed;
		// the fallback in slot 1 is confirmed already.
		switch {
		case slot == 0:
			return imageError(d.slots.Confirm())
		case confirm:
			return nil
		}
		return smp.ImageAlreadyPending
	case slot == 0:
		return nil // already confirmed
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
