package device

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"

	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/mcuboot"
	"github.com/fotasync/fotasync/smp"
)

// upload is the image upload in progress. Zephyr keeps it in RAM, so a reset
// forgets it and the next first chunk starts over.
type upload struct {
	active  bool
	size    int    // total file length, from the first chunk's "len"
	off     int    // bytes received: the offset the next chunk must have
	written int    // bytes programmed into flash; off less a partial write block
	sha     []byte // the first chunk's "sha", up to 32 bytes
	tail    []byte // received bytes past written, less than one write block
}

// Chunk is one upload request, with the keys Zephyr reads from it. Pointers
// tell a missing key from a zero.
type Chunk struct {
	Image   *uint32 `cbor:"image"`
	Len     *uint32 `cbor:"len"`
	Off     *uint32 `cbor:"off"`
	SHA     []byte  `cbor:"sha"`
	Data    []byte  `cbor:"data"`
	Upgrade bool    `cbor:"upgrade"`
}

// Receive applies one upload chunk to the secondary slot with Zephyr's rules
// (img_mgmt_upload, reference §3.3) and returns the response.
func (d *Device) Receive(c Chunk) (smp.UploadResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	resp, err := d.receive(c)
	if err != nil {
		d.up = upload{} // any error ends the upload; there is no resume after it
	}
	return resp, err
}

func (d *Device) receive(c Chunk) (smp.UploadResponse, error) {
	if c.Off == nil {
		return smp.UploadResponse{}, smp.ImageInvalidOffset
	}
	if *c.Off == 0 {
		if resp, resumed, err := d.firstChunk(c); err != nil || resumed {
			return resp, err
		}
	} else if !d.up.active || int(*c.Off) != d.up.off {
		// Not the expected offset: success with the offset the device wants;
		// the data is dropped.
		return offset(d.up.off), nil
	}
	if d.up.off+len(c.Data) > d.up.size {
		return smp.UploadResponse{}, smp.ImageInvalidImageDataOverrun
	}
	if err := d.program(c.Data); err != nil {
		return smp.UploadResponse{}, err
	}
	resp := offset(d.up.off)
	if d.up.off == d.up.size {
		match, err := d.finishUpload()
		if err != nil {
			return smp.UploadResponse{}, err
		}
		resp.Match = match
	}
	return resp, nil
}

// firstChunk checks a chunk at offset 0 in Zephyr's order. It either resumes
// the upload in progress (same sha: the data is ignored) or starts a new one,
// erasing the secondary slot.
func (d *Device) firstChunk(c Chunk) (resp smp.UploadResponse, resumed bool, err error) {
	switch {
	case len(c.Data) < mcuboot.HeaderLen:
		return resp, false, smp.ImageInvalidImageHeader
	case c.Len == nil:
		return resp, false, smp.ImageInvalidLength
	case binary.LittleEndian.Uint32(c.Data) != mcuboot.HeaderMagic:
		return resp, false, smp.ImageInvalidImageHeaderMagic
	case len(c.SHA) > sha256.Size:
		return resp, false, smp.ImageInvalidHash
	}
	if d.up.active && len(c.SHA) > 0 && bytes.Equal(c.SHA, d.up.sha) {
		return offset(d.up.off), true, nil
	}
	if c.Image != nil && *c.Image != 0 {
		// One image pair only: no unused slot for another image.
		return resp, false, smp.ImageNoFreeSlot
	}
	flags, err := d.slots.Flags()
	if err != nil {
		return resp, false, smp.ImageFlashReadFailed
	}
	// The secondary slot is in use while it waits for a swap or holds the
	// fallback of an unconfirmed test image.
	if flags[1].Pending || flags[1].Confirmed {
		return resp, false, smp.ImageNoFreeSlot
	}
	// Zephyr compares the file with the slot: a padded image (imgtool --pad)
	// is exactly a slot long, its trailer included.
	if int(*c.Len) > d.cfg.SlotSize {
		return resp, false, smp.ImageInvalidImageTooLarge
	}
	if c.Upgrade {
		if err := d.checkUpgrade(c.Data); err != nil {
			return resp, false, err
		}
	}
	if err := d.slots.Secondary.Erase(0, d.slots.Secondary.Size()); err != nil {
		return resp, false, smp.ImageFlashEraseFailed
	}
	d.up = upload{active: true, size: int(*c.Len), sha: bytes.Clone(c.SHA)}
	d.setStaged(0)
	return resp, false, nil
}

// checkUpgrade refuses an image that is not newer than the running one
// ("upgrade": true).
func (d *Device) checkUpgrade(first []byte) error {
	h, err := mcuboot.ParseHeader(first)
	if err != nil {
		return smp.ImageInvalidImageHeader
	}
	running, ok := d.slotImage(d.slots.Primary)
	if ok && h.Version.Compare(running.Header.Version) <= 0 {
		return smp.ImageCurrentVersionIsNewer
	}
	return nil
}

// program appends data to the upload, writing whole flash write blocks and
// keeping a partial block in RAM until the next chunk completes it.
func (d *Device) program(data []byte) error {
	d.up.tail = append(d.up.tail, data...)
	d.up.off += len(data)
	n := len(d.up.tail) - len(d.up.tail)%d.cfg.WriteAlign
	if d.up.off == d.up.size {
		n = len(d.up.tail)
	}
	if n == 0 {
		return nil
	}
	if _, err := d.slots.Secondary.WriteAt(padTo(d.up.tail[:n], d.cfg.WriteAlign), int64(d.up.written)); err != nil {
		return smp.ImageFlashWriteFailed
	}
	d.up.written += n
	d.up.tail = append(d.up.tail[:0], d.up.tail[n:]...)
	d.setStaged(d.up.written)
	return nil
}

// finishUpload ends a complete upload. With a full 32-byte sha it reports
// whether the received file matches it ("match").
func (d *Device) finishUpload() (*bool, error) {
	defer func() { d.up = upload{} }()
	if len(d.up.sha) != sha256.Size {
		return nil, nil
	}
	b := make([]byte, d.up.size)
	if _, err := d.slots.Secondary.ReadAt(b, 0); err != nil {
		return nil, smp.ImageFlashReadFailed
	}
	sum := sha256.Sum256(b)
	match := bytes.Equal(sum[:], d.up.sha)
	return &match, nil
}

func offset(off int) smp.UploadResponse {
	o := uint32(off)
	return smp.UploadResponse{Off: &o}
}

// setStaged records how many bytes of the latest upload are in flash and
// wakes whoever waits for them (a proxy forwarding them). The caller holds
// d.mu.
func (d *Device) setStaged(n int) {
	d.stagedLen = n
	close(d.staged)
	d.staged = make(chan struct{})
}

// Staged returns how many bytes of the latest upload are in the secondary
// slot, and a channel closed when that changes. The count stays after the
// upload completes, and a reset clears it.
func (d *Device) Staged() (int, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stagedLen, d.staged
}

// ReadStaged reads the secondary slot.
func (d *Device) ReadStaged(p []byte, off int64) (int, error) {
	return d.slots.Secondary.ReadAt(p, off)
}

// WaitStaged blocks until more than n bytes are staged or ctx ends.
func (d *Device) WaitStaged(ctx context.Context, n int) error {
	for {
		got, changed := d.Staged()
		if got > n {
			return nil
		}
		if err := clock.Wait(ctx, d.clock, changed); err != nil {
			return err
		}
	}
}
