package device

import (
	"bytes"
	"crypto/sha256"
	"fmt"
)

// ResumeUpload restores an upload that a reset interrupted, from a durable
// offset that a protocol layer journaled: the first off bytes of the file are
// in the secondary slot. Zephyr keeps the upload in RAM and starts over
// after a reset; a layer that journals its progress need not. off must be a
// multiple of the sector size: the rest of the slot is erased, because a
// write torn by the reset may have left bytes behind it.
func (d *Device) ResumeUpload(size int, sha []byte, off int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case len(sha) != sha256.Size:
		return fmt.Errorf("device %s: resume upload: sha has %d bytes, want 32", d.cfg.Name, len(sha))
	case off < 0 || off >= size || size > d.cfg.SlotSize:
		return fmt.Errorf("device %s: resume upload: offset %d of %d bytes is out of range", d.cfg.Name, off, size)
	case off%d.cfg.SectorSize != 0:
		return fmt.Errorf("device %s: resume upload: offset %d is not on a %d-byte sector", d.cfg.Name, off, d.cfg.SectorSize)
	}
	end := d.slots.Secondary.Size()
	if err := d.slots.Secondary.Erase(int64(off), end-int64(off)); err != nil {
		return fmt.Errorf("device %s: resume upload: %w", d.cfg.Name, err)
	}
	d.up = upload{active: true, size: size, off: off, written: off, sha: bytes.Clone(sha)}
	d.setStaged(off)
	return nil
}

// DurableOffset rounds the bytes staged so far down to a sector: what a
// protocol layer may journal for ResumeUpload.
func (d *Device) DurableOffset() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stagedLen - d.stagedLen%d.cfg.SectorSize
}

// Restage declares that the first n bytes of the secondary slot are a
// complete staged file, after a reset cleared that count; a proxy forwards
// from them.
func (d *Device) Restage(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setStaged(min(n, int(d.slots.Secondary.Size())))
}
