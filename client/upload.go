package client

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
)

// minFirstChunk is the least data a Zephyr device accepts in the first chunk:
// it reads the image header from it (IMG_MGMT_ERR_INVALID_IMAGE_HEADER).
const minFirstChunk = 32

// UploadOptions configures an image upload. The zero value is a usable default.
type UploadOptions struct {
	Image uint32 // image number on a multi-image device; 0 for the first
	// Window is how many chunks may be in flight at once; 0 means the
	// device's buf_count (1 on serial links), at least 1. 1 is stop-and-wait.
	Window int
	// ChunkSize caps the data bytes of one chunk; 0 means as many as fit the
	// smaller of the transport's and the device's packet limit.
	ChunkSize int
	// Align rounds chunk data down to a multiple of this many bytes (a flash
	// write block, field case B01); 0 means 1.
	Align int
	// FirstTimeout is the wait for the first chunk, which erases the slot,
	// and for the last, which checks the file; 0 means 40 s (field case B13).
	FirstTimeout time.Duration
	Upgrade      bool   // ask the device to refuse an image that is not newer
	SHA          []byte // SHA-256 of the whole file; nil means compute it from the source
	// Route sends the chunks as another command than the image group's
	// upload, such as a proxy's; nil means image upload.
	Route    *Route
	Progress func(off, total int) // called when the device acknowledges data
}

// UploadStats tells what an upload cost.
type UploadStats struct {
	ResumedAt int // offset the device already held when the upload began
	DataSent  int // data bytes sent, re-sent chunks included
}

// errSessionLost reports that the device forgot the upload (it answered a
// later chunk with offset 0), so the first chunk must be sent again.
var errSessionLost = errors.New("client: device lost the upload session")

// maxSessionRestarts bounds how often an upload starts over after the device
// lost its upload session.
const maxSessionRestarts = 3

// maxLearnedAlign bounds the write alignment an upload infers from a short
// write (field case B01). Flash write blocks are powers of two of a few bytes;
// a larger gap between the data sent and the data taken is not alignment.
const maxLearnedAlign = 64

// Source is a file being uploaded. A proxy forwards an image while it still
// arrives, so a source may grow: Ready says how much can be read now.
type Source interface {
	Len() int
	ReadAt(p []byte, off int64) (int, error)
	Ready() int
	// Wait blocks until more than n bytes are ready, the source fails, or ctx
	// is done.
	Wait(ctx context.Context, n int) error
}

// Upload sends data (a whole image file) to the device. It resumes where the
// device says it is: the device's "off" always wins over the client's own.
func (c *Client) Upload(ctx context.Context, data []byte, o UploadOptions) (UploadStats, error) {
	return c.UploadFrom(ctx, bytesSource(data), o)
}

// UploadFrom is Upload from a Source. Its SHA-256 comes from o.SHA, which
// a growing source needs; a complete source may leave it nil.
func (c *Client) UploadFrom(ctx context.Context, src Source, o UploadOptions) (UploadStats, error) {
	u, err := c.newUpload(ctx, src, o)
	if err != nil {
		return UploadStats{}, err
	}
	for restarts := 0; ; restarts++ {
		err := u.run(ctx)
		if !errors.Is(err, errSessionLost) || restarts == maxSessionRestarts {
			return u.stats, err
		}
	}
}

type upload struct {
	c        *Client
	route    Route
	o        UploadOptions
	src      Source
	total    int
	sha      []byte
	limit    int // largest SMP packet, header included
	window   int
	acked    int         // offset the device last confirmed
	inflight []chunk     // chunks sent and not answered, in send order
	sends    map[int]int // how often a chunk was sent at each offset in this session
	stats    UploadStats
	started  bool
}

type chunk struct {
	seq      uint8
	off, end int
}

func (c *Client) newUpload(ctx context.Context, src Source, o UploadOptions) (*upload, error) {
	total := src.Len()
	if total < minFirstChunk {
		return nil, fmt.Errorf("client: image upload: %d bytes is too short for an image", total)
	}
	if int64(total) > 1<<32-1 {
		return nil, fmt.Errorf("client: image upload: %d bytes does not fit the protocol's 32-bit length", total)
	}
	sha := o.SHA
	if sha == nil {
		if src.Ready() < total {
			return nil, fmt.Errorf("client: image upload: a growing source needs its SHA-256 up front")
		}
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(src, 0, int64(total))); err != nil {
			return nil, fmt.Errorf("client: image upload: read source: %w", err)
		}
		sha = h.Sum(nil)
	}
	params, err := c.Params(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: image upload: %w", err)
	}
	if o.FirstTimeout == 0 {
		o.FirstTimeout = 40 * time.Second
	}
	if o.Align <= 0 {
		o.Align = 1
	}
	u := &upload{c: c, o: o, src: src, total: total, sha: sha, window: o.Window, route: imageUpload,
		limit: transport.PacketLimit(c.conn, int(params.BufSize))}
	if u.window <= 0 {
		u.window = transport.MaxInFlight(c.conn, int(params.BufCount))
	}
	if o.Route != nil {
		u.route = *o.Route
	}
	if u.fit(0) < minFirstChunk {
		return nil, fmt.Errorf("client: image upload: packet limit %d leaves no room for a %d-byte first chunk",
			u.limit, minFirstChunk)
	}
	return u, nil
}

// run sends the first chunk, then streams the rest.
func (u *upload) run(ctx context.Context) error {
	off, sent, err := u.first(ctx)
	if err != nil {
		return err
	}
	switch {
	case off == 0:
		// Nothing was written, so the next chunk must be a first chunk
		// again, with its session keys (field case B05).
		return errSessionLost
	case off > sent && !u.started:
		u.stats.ResumedAt = off
	case off < sent:
		u.learnAlign(sent, off)
	}
	u.started = true
	u.advance(off)
	return u.stream(ctx)
}

// first sends the chunk at offset 0 with the session keys and returns the
// device's offset and the data bytes sent. A device that holds an upload with
// the same sha answers with its offset and ignores the data; otherwise it
// starts over (Zephyr img_mgmt_upload).
func (u *upload) first(ctx context.Context) (off, sent int, err error) {
	data, err := u.read(ctx, 0, u.fit(0))
	if err != nil {
		return 0, 0, err
	}
	total := uint32(u.total)
	req := smp.UploadRequest{Image: &u.o.Image, Len: &total, Off: 0, SHA: u.sha, Data: data}
	if u.o.Upgrade {
		req.Upgrade = &u.o.Upgrade
	}
	var resp smp.UploadResponse
	u.stats.DataSent += len(data)
	err = u.c.Do(ctx, Request{Op: smp.OpWrite, Group: u.route.Group, ID: u.route.ID, Body: u.route.body(req),
		Timeout: u.o.FirstTimeout}, &resp)
	if err != nil {
		return 0, 0, fmt.Errorf("client: image upload: first chunk: %w", err)
	}
	off, err = u.checkOffset(resp, 0)
	return off, len(data), err
}

// stream keeps up to window chunks in flight until the device holds the
// whole file.
func (u *upload) stream(ctx context.Context) error {
	next, timeouts := u.acked, 0
	u.inflight = u.inflight[:0]
	u.sends = make(map[int]int)
	for u.acked < u.total {
		for len(u.inflight) < u.window && next < u.total && (next < u.src.Ready() || len(u.inflight) == 0) {
			end, err := u.send(ctx, next)
			if err != nil {
				return err
			}
			next = end
		}
		p, ch, err := u.receive(ctx)
		if errors.Is(err, ErrTimeout) {
			// Void what is in flight and go on from the last offset the
			// device confirmed; bounded like any other retry.
			if timeouts++; timeouts > u.c.retries {
				return fmt.Errorf("client: image upload: %w at offset %d", ErrTimeout, u.acked)
			}
			u.inflight, next = u.inflight[:0], u.acked
			continue
		}
		if err != nil {
			return fmt.Errorf("client: image upload: chunk at offset %d: %w", u.inflight[0].off, err)
		}
		timeouts = 0
		sent := u.inflight[ch]
		off, err := u.answer(p, sent.off)
		if err != nil {
			return err
		}
		switch {
		case off == sent.end:
			// The device processes chunks in order, so every earlier chunk
			// is settled too.
			u.inflight = u.inflight[ch+1:]
			u.advance(off)
		case off == 0:
			return errSessionLost
		default:
			if off > sent.off && off < sent.end {
				u.learnAlign(sent.end-sent.off, off-sent.off)
			}
			// The device expects another offset: what is in flight is void
			// and the stream goes on from the device's offset (B01).
			u.inflight, next = u.inflight[:0], off
			u.advance(off)
		}
	}
	return nil
}

// send transmits the chunk that starts at off and returns where it ends. A
// chunk of a growing source waits until its bytes are ready. An offset sent
// more often than a timeout allows retries means that the device does not
// move on; that ends the upload instead of looping (field case B16).
func (u *upload) send(ctx context.Context, off int) (int, error) {
	if u.sends[off]++; u.sends[off] > u.c.retries+2 {
		return 0, fmt.Errorf("client: image upload: device keeps asking for offset %d (sent %d times)",
			off, u.sends[off]-1)
	}
	data, err := u.read(ctx, off, u.fit(off))
	if err != nil {
		return 0, err
	}
	end := off + len(data)
	req := Request{Op: smp.OpWrite, Group: u.route.Group, ID: u.route.ID,
		Body: u.route.body(smp.UploadRequest{Off: uint32(off), Data: data})}
	seq, err := u.c.send(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("client: image upload: chunk at offset %d: %w", off, err)
	}
	u.inflight = append(u.inflight, chunk{seq: seq, off: off, end: end})
	u.stats.DataSent += end - off
	return end, nil
}

// receive waits for a response to one of the chunks in flight and returns
// it with that chunk's index. The device answers in order, so the wait is
// for the oldest chunk: the long one only when that is the last chunk.
func (u *upload) receive(ctx context.Context) (smp.Packet, int, error) {
	timeout := u.c.timeout
	if u.inflight[0].end == u.total {
		timeout = u.o.FirstTimeout
	}
	seqs := make([]uint8, len(u.inflight))
	for i, ch := range u.inflight {
		seqs[i] = ch.seq
	}
	p, err := u.c.awaitPacket(ctx, smp.OpWrite, u.route.Group, u.route.ID, seqs, timeout)
	if err != nil {
		return p, 0, err
	}
	for i, ch := range u.inflight {
		if ch.seq == p.Seq {
			return p, i, nil
		}
	}
	panic("client: awaitPacket returned an unrequested sequence number") // unreachable
}

// answer returns the offset in the device's answer p to the chunk sent at
// off, or the error the answer reports.
func (u *upload) answer(p smp.Packet, off int) (int, error) {
	if err := smp.StatusError(p.Body); err != nil {
		return 0, fmt.Errorf("client: image upload: chunk at offset %d: %w", off, err)
	}
	var resp smp.UploadResponse
	if err := smp.Unmarshal(p.Body, &resp); err != nil {
		return 0, fmt.Errorf("client: image upload: chunk at offset %d: %w", off, err)
	}
	return u.checkOffset(resp, off)
}

// checkOffset validates the device's answer to the chunk sent at off.
func (u *upload) checkOffset(resp smp.UploadResponse, off int) (int, error) {
	switch {
	case resp.Off == nil:
		// A reply without "off" is an error, never a success (field case B05).
		return 0, fmt.Errorf("client: image upload: chunk at offset %d: response has no \"off\"", off)
	case int64(*resp.Off) > int64(u.total):
		return 0, fmt.Errorf("client: image upload: chunk at offset %d: device offset %d is past the end (%d)",
			off, *resp.Off, u.total)
	case resp.Match != nil && !*resp.Match:
		return 0, fmt.Errorf("client: image upload: device reports that the received file does not match its sha")
	}
	return int(*resp.Off), nil
}

// read returns up to n bytes at off. From a growing source it waits until at
// least one is ready (the first chunk: the image header's 32).
func (u *upload) read(ctx context.Context, off, n int) ([]byte, error) {
	need := off + 1
	if off == 0 {
		need = minFirstChunk
	}
	for u.src.Ready() < need {
		if err := u.src.Wait(ctx, u.src.Ready()); err != nil {
			return nil, fmt.Errorf("client: image upload: source at offset %d: %w", off, err)
		}
	}
	buf := make([]byte, min(n, u.src.Ready()-off))
	if _, err := u.src.ReadAt(buf, int64(off)); err != nil {
		return nil, fmt.Errorf("client: image upload: read source at offset %d: %w", off, err)
	}
	return buf, nil
}

// learnAlign infers the device's write alignment from a chunk of which it
// took only the first took of sent bytes: the device wrote a whole number of
// write blocks, so the block is the least power of two above the rest that
// divides what it took (field case B01). Later chunks are rounded to it.
func (u *upload) learnAlign(sent, took int) {
	a := 1
	for a <= sent-took {
		a *= 2
	}
	if a <= maxLearnedAlign && took%a == 0 && a > u.o.Align && a%u.o.Align == 0 {
		u.o.Align = a
	}
}

func (u *upload) advance(off int) {
	u.acked = off
	if u.o.Progress != nil {
		u.o.Progress(off, u.total)
	}
}

// fit returns how many data bytes the chunk at off carries: as many as fit
// the packet limit, capped by ChunkSize and rounded down to Align.
func (u *upload) fit(off int) int {
	remaining := u.total - off
	n := u.limit - u.overhead(off, 0)
	for n > 0 && u.overhead(off, n)+n > u.limit {
		n--
	}
	if u.o.ChunkSize > 0 {
		n = min(n, u.o.ChunkSize)
	}
	if n >= remaining {
		return remaining
	}
	return max(0, n-n%u.o.Align)
}

// overhead is the size of a chunk packet at off without its n data bytes:
// header, keys and CBOR heads (reference §3.4).
func (u *upload) overhead(off, n int) int {
	size := smp.HeaderSize + 1 + len("\x63off") + cborHead(uint64(off)) + len("\x64data") + cborHead(uint64(n))
	if u.route.SID != 0 {
		size += len("\x63sid") + cborHead(uint64(u.route.SID))
	}
	if off == 0 {
		size += len("\x65image") + cborHead(uint64(u.o.Image)) + len("\x63len") + cborHead(uint64(u.total)) +
			len("\x63sha") + cborHead(uint64(len(u.sha))) + len(u.sha)
		if u.o.Upgrade {
			size += len("\x67upgrade") + 1
		}
	}
	return size
}

// cborHead is the length of a CBOR head whose argument is v.
func cborHead(v uint64) int {
	switch {
	case v < 24:
		return 1
	case v < 1<<8:
		return 2
	case v < 1<<16:
		return 3
	case v < 1<<32:
		return 5
	}
	return 9
}
