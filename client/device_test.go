package client

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"math/rand/v2"
	"time"

	"github.com/fotasync/fotasync/smp"
)

// imageMagic opens every MCUboot image (reference §5.1); a Zephyr device
// rejects a first chunk without it (§3.3).
var imageMagic = []byte{0x3d, 0xb8, 0xf3, 0x96}

// device is a scripted SMP server for the commands the client uses, with the
// upload rules of Zephyr's img_mgmt (reference §3.3): a first chunk with the
// sha of the session in progress resumes it and any other starts a new one
// (an erase); a later chunk at another offset than expected is dropped and
// answered with the expected offset; a chunk whose offset is past the session
// gets {"off":0}. With align, it writes whole write blocks only, except the
// file's tail (field case B01).
type device struct {
	bufSize, bufCount uint32        // os params answer; bufSize 0 answers rc 8 (ENOTSUP)
	align             int           // flash write block in bytes; 0 means 1
	delay             time.Duration // delay of every reply not named below
	eraseDelay        time.Duration // delay of a first chunk or erase that erases; 0 means delay
	lastDelay         time.Duration // delay of the chunk that completes the file; 0 means delay

	session *session // upload in progress, nil if none
	image   []byte   // the slot: what the last or the current upload wrote

	erases      int // sessions started by a first chunk, and erase commands
	rejected    int // later chunks dropped for their offset
	shortWrites int // chunks of which the alignment left some bytes unwritten
	completed   int // uploads that reached their length
}

// session is an upload in progress.
type session struct {
	size int
	sha  []byte
	off  int // next offset expected
}

func newDevice() *device { return &device{bufSize: 384, bufCount: 4} }

// serve answers one request with one reply.
func (d *device) serve(p smp.Packet) []reply {
	body, delay := d.handle(p)
	return []reply{{pkt: respond(p, body), delay: delay}}
}

func (d *device) handle(p smp.Packet) (any, time.Duration) {
	switch {
	case p.Group == smp.GroupOS && p.ID == smp.OSParams:
		if d.bufSize == 0 {
			return smp.ErrorBody(p.Version, smp.RCNotSupported), d.delay
		}
		return smp.ParamsResponse{BufSize: d.bufSize, BufCount: d.bufCount}, d.delay
	case p.Group == smp.GroupOS && p.ID == smp.OSEcho:
		var req smp.EchoRequest
		if err := smp.Unmarshal(p.Body, &req); err != nil {
			return smp.ErrorBody(p.Version, smp.RCInvalid), d.delay
		}
		return smp.EchoResponse{R: req.D}, d.delay
	case p.Group == smp.GroupOS && p.ID == smp.OSReset:
		return smp.Empty{}, d.delay
	case p.Group == smp.GroupImage && p.ID == smp.ImageState:
		return smp.ImageStateResponse{Images: []smp.ImageSlot{{Slot: 0, Version: "1.0.0", Hash: make([]byte, 32),
			Bootable: true, Confirmed: true, Active: true}}}, d.delay
	case p.Group == smp.GroupImage && p.ID == smp.ImageUpload:
		return d.upload(p)
	case p.Group == smp.GroupImage && p.ID == smp.ImageErase:
		d.session = nil
		d.erases++
		return smp.Empty{}, cmp.Or(d.eraseDelay, d.delay)
	}
	return smp.ErrorBody(p.Version, smp.RCNotSupported), d.delay
}

func (d *device) upload(p smp.Packet) (any, time.Duration) {
	var req smp.UploadRequest
	if err := smp.Unmarshal(p.Body, &req); err != nil {
		d.session = nil
		return smp.ErrorBody(p.Version, smp.RCInvalid), d.delay
	}
	if req.Off == 0 {
		return d.first(p.Version, req)
	}
	s := d.session
	switch {
	case s == nil:
		return offset(0), d.delay
	case int(req.Off) != s.off:
		d.rejected++
		return offset(s.off), d.delay
	case s.off+len(req.Data) > s.size:
		d.session = nil
		return smp.ErrorBody(p.Version, smp.ImageInvalidImageDataOverrun), d.delay
	}
	return d.write(req.Data)
}

// first handles a chunk at offset 0, checking what Zephyr checks, in its order.
func (d *device) first(version uint8, req smp.UploadRequest) (any, time.Duration) {
	var err error
	switch {
	case len(req.Data) < 32:
		err = smp.ImageInvalidImageHeader
	case req.Len == nil:
		err = smp.ImageInvalidLength
	case !bytes.HasPrefix(req.Data, imageMagic):
		err = smp.ImageInvalidImageHeaderMagic
	case len(req.SHA) > 32:
		err = smp.ImageInvalidHash
	case d.session != nil && len(req.SHA) > 0 && bytes.Equal(req.SHA, d.session.sha):
		return offset(d.session.off), d.delay // resume: the data is ignored
	}
	if err != nil {
		d.session = nil
		return smp.ErrorBody(version, err), d.delay
	}
	d.erases++
	d.session = &session{size: int(*req.Len), sha: req.SHA}
	d.image = erased(int(*req.Len))
	body, _ := d.write(req.Data)
	return body, cmp.Or(d.eraseDelay, d.delay)
}

// write stores data at the session's offset in whole write blocks (the
// file's tail is flushed whole) and answers with the new offset; at the end
// of the file it adds "match" when the session has a full sha.
func (d *device) write(data []byte) (any, time.Duration) {
	s := d.session
	n := len(data)
	if d.align > 1 && s.off+n < s.size && n%d.align != 0 {
		d.shortWrites++
		n -= n % d.align
	}
	copy(d.image[s.off:], data[:n])
	s.off += n
	if s.off < s.size {
		return offset(s.off), d.delay
	}
	d.session = nil
	d.completed++
	resp := offset(s.off)
	if len(s.sha) == sha256.Size {
		sum := sha256.Sum256(d.image)
		resp.Match = ptr(bytes.Equal(sum[:], s.sha))
	}
	return resp, cmp.Or(d.lastDelay, d.delay)
}

func offset(off int) smp.UploadResponse { return smp.UploadResponse{Off: ptr(uint32(off))} }

func ptr[T any](v T) *T { return &v }

// erased returns n bytes of erased flash.
func erased(n int) []byte { return bytes.Repeat([]byte{0xff}, n) }

// testImage returns n seeded pseudo-random bytes that start with the image
// magic.
func testImage(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	copy(b, imageMagic)
	return b
}
