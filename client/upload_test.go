package client

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fotasync/fotasync/smp"
)

// chunkSent is one upload request as it went on the wire.
type chunkSent struct {
	raw  []byte
	req  smp.UploadRequest
	keys []string // map keys of the body, sorted
}

func (c chunkSent) end() int { return int(c.req.Off) + len(c.req.Data) }

func uploadsSent(t *testing.T, s *sim) []chunkSent {
	t.Helper()
	return chunksSent(t, s, smp.GroupImage, smp.ImageUpload)
}

// chunksSent returns the upload chunks sent as command id of group.
func chunksSent(t *testing.T, s *sim, group smp.Group, id uint8) []chunkSent {
	t.Helper()
	var out []chunkSent
	for _, e := range s.sent(group, id) {
		c := chunkSent{raw: e.raw}
		var m map[string]any
		if err := smp.Unmarshal(e.pkt.Body, &m); err != nil {
			t.Fatalf("upload request %x: %v", e.raw, err)
		}
		for k := range m {
			c.keys = append(c.keys, k)
		}
		slices.Sort(c.keys)
		if err := smp.Unmarshal(e.pkt.Body, &c.req); err != nil {
			t.Fatalf("upload request %x: %v", e.raw, err)
		}
		out = append(out, c)
	}
	return out
}

// dataBytes is the image data the chunks carried, re-sent chunks included.
func dataBytes(chunks []chunkSent) int {
	n := 0
	for _, c := range chunks {
		n += len(c.req.Data)
	}
	return n
}

// maxInFlight is the most upload requests sent and not yet answered at once,
// counting every upload reply the client read.
func maxInFlight(s *sim) int {
	n, most := 0, 0
	for _, e := range s.log {
		if e.pkt.Group != smp.GroupImage || e.pkt.ID != smp.ImageUpload {
			continue
		}
		if e.sent {
			n++
		} else {
			n--
		}
		most = max(most, n)
	}
	return most
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex: %v", err)
	}
	return b
}

// withoutSeq blanks the sequence number (header byte 6) of a packet.
func withoutSeq(pkt []byte) []byte {
	out := slices.Clone(pkt)
	out[6] = 0
	return out
}

var (
	firstKeys = []string{"data", "image", "len", "off", "sha"}
	laterKeys = []string{"data", "off"}
)

// TestUploadFillsPackets checks chunk sizes against the arithmetic of
// reference §3.4: with a 380-byte packet limit (serial with buf_size 384, or
// a link with buf_size 380) a 49692-byte image goes as a first chunk of 306
// bytes and later chunks of 356 (every offset here needs a 3-byte CBOR head),
// each packet exactly 380 bytes but the last.
func TestUploadFillsPackets(t *testing.T) {
	const size, limit, firstN, laterN = 49692, 380, 306, 356
	img := testImage(size, 1)
	sum := sha256.Sum256(img)
	// TV4's first chunk up to its data (same len 49692), with our sha; then
	// the 306 data bytes behind a 3-byte bstr head.
	wantFirst := slices.Concat(mustHex(t, "0a 00 01 74 00 01 00 01"),
		mustHex(t, "a565696d61676500636c656e19c21c636f666600637368615820"), sum[:],
		mustHex(t, "6464617461 590132"), img[:firstN])
	// {"off":306,"data":<356 bytes>}
	wantSecond := slices.Concat(mustHex(t, "0a 00 01 74 00 01 00 01"),
		mustHex(t, "a2 636f6666 190132 6464617461 590164"), img[firstN:firstN+laterN])
	var wantOffs, wantEnds []int
	for off := 0; off < size; {
		wantOffs = append(wantOffs, off)
		n := laterN
		if off == 0 {
			n = firstN
		}
		off = min(size, off+n)
		wantEnds = append(wantEnds, off)
	}

	for _, link := range []struct {
		name    string
		serial  bool
		bufSize uint32
	}{{"serial buf_size 384", true, 384}, {"udp buf_size 380", false, 380}} {
		for _, window := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s window %d", link.name, window), func(t *testing.T) {
				d := newDevice()
				d.bufSize = link.bufSize
				s := newSim(t, d.serve)
				c := New(s, Options{Clock: s})
				if link.serial {
					c = New(serialSim{s}, Options{Clock: s})
				}
				var progress []int
				stats, err := c.Upload(t.Context(), img, UploadOptions{Window: window,
					Progress: func(off, total int) {
						if total != size {
							t.Errorf("progress total = %d, want %d", total, size)
						}
						progress = append(progress, off)
					}})
				if err != nil {
					t.Fatalf("Upload: %v", err)
				}
				if diff := cmp.Diff(UploadStats{DataSent: size}, stats); diff != "" {
					t.Errorf("stats (-want +got):\n%s", diff)
				}
				if !bytes.Equal(d.image, img) || d.completed != 1 || d.erases != 1 {
					t.Errorf("device holds the file: %v, completed %d, erases %d; want true, 1, 1",
						bytes.Equal(d.image, img), d.completed, d.erases)
				}
				chunks := uploadsSent(t, s)
				var offs []int
				for i, ch := range chunks {
					offs = append(offs, int(ch.req.Off))
					wantLen := limit
					if i == len(chunks)-1 {
						wantLen = len(ch.raw) // the tail
					}
					if len(ch.raw) != wantLen || len(ch.raw) > limit {
						t.Errorf("chunk %d at %d: %d bytes on the wire, want %d", i, ch.req.Off, len(ch.raw), wantLen)
					}
					wantKeys := laterKeys
					if i == 0 {
						wantKeys = firstKeys
					}
					if !slices.Equal(ch.keys, wantKeys) {
						t.Errorf("chunk %d keys = %v, want %v", i, ch.keys, wantKeys)
					}
				}
				if diff := cmp.Diff(wantOffs, offs); diff != "" {
					t.Errorf("chunk offsets (-want +got):\n%s", diff)
				}
				if got := withoutSeq(chunks[0].raw); !bytes.Equal(got, wantFirst) {
					t.Errorf("first chunk =\n%x\nwant\n%x", got, wantFirst)
				}
				if got := withoutSeq(chunks[1].raw); !bytes.Equal(got, wantSecond) {
					t.Errorf("second chunk =\n%x\nwant\n%x", got, wantSecond)
				}
				if diff := cmp.Diff(wantEnds, progress); diff != "" {
					t.Errorf("progress (-want +got):\n%s", diff)
				}
				if got := maxInFlight(s); got != window {
					t.Errorf("most chunks in flight = %d, want %d", got, window)
				}
			})
		}
	}
}

// TestUploadRealImage uploads a real application image over a link with the
// UDP fixture's parameters (TV3: buf_size 2048, buf_count 2). The first
// chunk's sha must be the file SHA-256 from the testdata manifest, and every
// packet but the last fills the 2048 bytes, also past offset 65536 where the
// offset's CBOR head grows to 5 bytes.
func TestUploadRealImage(t *testing.T) {
	const (
		path    = "../../shared/testdata/real/Bosco75_TestFota_e10d7d3_app_update.bin"
		fileSHA = "233ae8dc3c84999de60eba4e06c544bf69359815d9245f40d2ca217ddf14a8c1"
	)
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := newDevice()
	d.bufSize, d.bufCount = 2048, 2
	s := newSim(t, d.serve)
	c := New(s, Options{Clock: s})
	if _, err := c.Upload(t.Context(), img, UploadOptions{}); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	chunks := uploadsSent(t, s)
	if got := hex.EncodeToString(chunks[0].req.SHA); got != fileSHA {
		t.Errorf("first chunk sha = %s, want %s", got, fileSHA)
	}
	for i, ch := range chunks[:len(chunks)-1] {
		if len(ch.raw) != 2048 {
			t.Errorf("chunk %d at %d: %d bytes, want 2048", i, ch.req.Off, len(ch.raw))
		}
	}
	if !bytes.Equal(d.image, img) || d.completed != 1 {
		t.Errorf("device does not hold the file (completed %d)", d.completed)
	}
	if got := maxInFlight(s); got != 2 {
		t.Errorf("most chunks in flight = %d, want buf_count 2", got)
	}
	if got := dataBytes(chunks); got != len(img) {
		t.Errorf("data bytes sent = %d, want %d", got, len(img))
	}
}

// TestUploadSmallImages: an image that fits the first chunk goes in one
// request; one shorter than an image header is refused before any packet.
func TestUploadSmallImages(t *testing.T) {
	d := newDevice()
	s := newSim(t, d.serve)
	c := New(s, Options{Clock: s})
	img := testImage(100, 3)
	if _, err := c.Upload(t.Context(), img, UploadOptions{}); err != nil {
		t.Fatalf("Upload(100 bytes): %v", err)
	}
	if chunks := uploadsSent(t, s); len(chunks) != 1 || !bytes.Equal(chunks[0].req.Data, img) {
		t.Errorf("sent %d chunks, want 1 with the whole file", len(chunks))
	}

	s = newSim(t, d.serve)
	c = New(s, Options{Clock: s})
	if _, err := c.Upload(t.Context(), img[:31], UploadOptions{}); err == nil {
		t.Error("Upload(31 bytes) = nil error, want one")
	}
	if len(s.log) != 0 {
		t.Errorf("Upload(31 bytes) sent %d packets, want 0", len(s.log))
	}
}

// TestUploadFollowsAlignedDevice replays field case B01: the device writes
// whole 4-byte blocks, answers with the offset it reached, and answers any
// other offset with the one it expects. The client must go on from the
// device's offset, waste at most window−1 frames per short write, and keep
// the data on the wire under 1.2 × the image.
func TestUploadFollowsAlignedDevice(t *testing.T) {
	tests := []struct {
		name                     string
		size, chunk, window      int
		bufSize                  uint32
		align                    int // UploadOptions.Align
		wantShortWrites, wantWas int // wantWas: rejected frames
	}{
		// First chunk 127 bytes, of which 124 are written: the client must
		// take 124 as the offset and, with a window of 5, stop sending
		// chunks that the device cannot take whole.
		{name: "127-byte chunks, window 5", size: 1000, chunk: 127, window: 5, bufSize: 384,
			wantShortWrites: 1, wantWas: 0},
		{name: "alignment given", size: 1000, chunk: 127, window: 5, bufSize: 384, align: 4},
		// buf_size 201: the first chunk carries 128 bytes (aligned), the
		// next ones 179, so the short write shows only with 5 in flight.
		{name: "short write mid-stream", size: 20000, window: 5, bufSize: 201,
			wantShortWrites: 1, wantWas: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := testImage(tt.size, 4)
			d := newDevice()
			d.bufSize, d.align = tt.bufSize, 4
			s := newSim(t, d.serve)
			c := New(s, Options{Clock: s})
			stats, err := c.Upload(t.Context(), img, UploadOptions{ChunkSize: tt.chunk, Window: tt.window,
				Align: tt.align})
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if !bytes.Equal(d.image, img) || d.completed != 1 {
				t.Fatalf("device does not hold the file (completed %d)", d.completed)
			}
			if stats.ResumedAt != 0 {
				t.Errorf("ResumedAt = %d after a short write, want 0", stats.ResumedAt)
			}
			if d.shortWrites != tt.wantShortWrites || d.rejected != tt.wantWas {
				t.Errorf("device saw %d short writes and %d chunks at a wrong offset, want %d and %d",
					d.shortWrites, d.rejected, tt.wantShortWrites, tt.wantWas)
			}
			chunks := uploadsSent(t, s)
			if wire := dataBytes(chunks); wire*5 >= tt.size*6 || wire != stats.DataSent {
				t.Errorf("data bytes on the wire = %d (stats %d), want < 1.2 × %d", wire, stats.DataSent, tt.size)
			}
			checkOffsetsFollowDevice(t, s)
		})
	}
}

// checkOffsetsFollowDevice checks that every upload request after the first
// starts where the previous one ended or at the offset of the last reply
// read before it.
func checkOffsetsFollowDevice(t *testing.T, s *sim) {
	t.Helper()
	prevEnd, lastReply := -1, -1
	for _, e := range s.log {
		if e.pkt.Group != smp.GroupImage || e.pkt.ID != smp.ImageUpload {
			continue
		}
		if !e.sent {
			var r smp.UploadResponse
			if err := smp.Unmarshal(e.pkt.Body, &r); err == nil && r.Off != nil {
				lastReply = int(*r.Off)
			}
			continue
		}
		var req smp.UploadRequest
		if err := smp.Unmarshal(e.pkt.Body, &req); err != nil {
			t.Fatal(err)
		}
		if off := int(req.Off); prevEnd >= 0 && off != prevEnd && off != lastReply {
			t.Errorf("chunk at %d: neither the end of the previous chunk (%d) nor the last device offset (%d)",
				off, prevEnd, lastReply)
		}
		prevEnd = int(req.Off) + len(req.Data)
	}
}

// TestUploadResumes replays field case B02: the device holds 4096 bytes of a
// session with the same sha and answers the first chunk with {"off":4096}.
// With the right bytes there the upload ends there; with erased flash there
// (a session that survived an erase) the device's match:false must fail it.
func TestUploadResumes(t *testing.T) {
	const size, held = 10000, 4096
	img := testImage(size, 5)
	sum := sha256.Sum256(img)
	// buf_size 384 over a link without overhead: the first chunk carries
	// 384 − 74 = 310 bytes (§3.4), ignored by a resuming device.
	const firstN = 310
	for _, stale := range []bool{false, true} {
		t.Run(fmt.Sprintf("stale %v", stale), func(t *testing.T) {
			d := newDevice()
			d.session = &session{size: size, sha: sum[:], off: held}
			d.image = erased(size)
			if !stale {
				copy(d.image, img[:held])
			}
			s := newSim(t, d.serve)
			c := New(s, Options{Clock: s})
			stats, err := c.Upload(t.Context(), img, UploadOptions{Window: 4})
			chunks := uploadsSent(t, s)
			if len(chunks) < 2 || chunks[1].req.Off != held {
				t.Fatalf("second chunk does not start at %d: %d chunks", held, len(chunks))
			}
			if d.erases != 0 {
				t.Errorf("device erased %d times, want 0", d.erases)
			}
			if stale {
				if err == nil || !strings.Contains(err.Error(), "does not match") {
					t.Fatalf("Upload over a stale session = %v, want a sha mismatch", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			want := UploadStats{ResumedAt: held, DataSent: firstN + size - held}
			if diff := cmp.Diff(want, stats); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			if !bytes.Equal(d.image, img) {
				t.Error("device does not hold the file")
			}
		})
	}
}

// TestUploadSilentPastSlot replays field case B04: the slot ends at 64 KiB
// and the device answers nothing at or past it. The client must give up with
// ErrTimeout naming offset 65536, after sending that offset 1 + Retries times
// and waiting Timeout after each.
func TestUploadSilentPastSlot(t *testing.T) {
	const slot = 65536
	img := testImage(80*1024, 6)
	d := newDevice()
	var lastAnswer time.Time
	var s *sim
	s = newSim(t, func(p smp.Packet) []reply {
		if p.Group == smp.GroupImage && p.ID == smp.ImageUpload {
			var req smp.UploadRequest
			if smp.Unmarshal(p.Body, &req) == nil && req.Off >= slot {
				return nil
			}
			lastAnswer = s.now
		}
		return d.serve(p)
	})
	c := New(s, Options{Clock: s, Timeout: 3 * time.Second})
	// 256-byte chunks end exactly at the slot's end.
	_, err := c.Upload(t.Context(), img, UploadOptions{ChunkSize: 256, Window: 4})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "offset 65536") {
		t.Fatalf("Upload = %v, want ErrTimeout at offset 65536", err)
	}
	atSlot := 0
	for _, ch := range uploadsSent(t, s) {
		if ch.req.Off == slot {
			atSlot++
		}
	}
	if want := 1 + 3; atSlot != want {
		t.Errorf("chunk at %d sent %d times, want %d", slot, atSlot, want)
	}
	if got, want := s.now.Sub(lastAnswer), 4*3*time.Second; got != want {
		t.Errorf("waited %v after the last answer, want %v", got, want)
	}
}

// TestUploadBadReplies replays field case B05 and the error shapes of TV6: a
// reply without "off" is an error (not a success, not a hang), and a device
// error on the first chunk comes back as its smp error.
func TestUploadBadReplies(t *testing.T) {
	tests := []struct {
		name   string
		atOff  uint32 // the chunk that gets the bad reply
		reply  func(p smp.Packet) []byte
		wantIs error  // nil: check wantIn
		wantIn string // part of the error text
	}{
		{name: "first chunk answered {}", atOff: 0,
			reply: func(p smp.Packet) []byte { return respond(p, smp.Empty{}) }, wantIn: `no "off"`},
		{name: "later chunk answered {}", atOff: 310,
			reply: func(p smp.Packet) []byte { return respond(p, smp.Empty{}) }, wantIn: `no "off"`},
		{name: "first chunk answered rc 3 in v1", atOff: 0, wantIs: smp.RCInvalid,
			reply: func(p smp.Packet) []byte {
				return rawReply(p, smp.Version1, smp.OpWriteRsp, mustHex(t, "bf627263"+"03ff"))
			}},
		// TV6: missing len, v1 answer with a reason.
		{name: "first chunk answered rc 3 with reason", atOff: 0, wantIs: smp.RCInvalid, wantIn: "header malformed",
			reply: func(p smp.Packet) []byte {
				return rawReply(p, smp.Version1, smp.OpWriteRsp,
					mustHex(t, "bf627263036372736e70686561646572206d616c666f726d6564ff"))
			}},
		// TV6: missing len, v2 answer err{1,21}.
		{name: "first chunk answered err{1,21}", atOff: 0, wantIs: smp.ImageInvalidLength,
			reply: func(p smp.Packet) []byte {
				return rawReply(p, smp.Version2, smp.OpWriteRsp, mustHex(t, "bf63657272bf6567726f75700162726315ffff"))
			}},
		{name: "later chunk answered err{1,12}", atOff: 310, wantIs: smp.ImageFlashWriteFailed, wantIn: "offset 310",
			reply: func(p smp.Packet) []byte { return respond(p, smp.ErrorBody(p.Version, smp.ImageFlashWriteFailed)) }},
		{name: "offset past the end", atOff: 310, wantIn: "past the end",
			reply: func(p smp.Packet) []byte { return respond(p, offset(2001)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDevice()
			s := newSim(t, func(p smp.Packet) []reply {
				if p.Group == smp.GroupImage && p.ID == smp.ImageUpload {
					var req smp.UploadRequest
					if smp.Unmarshal(p.Body, &req) == nil && req.Off == tt.atOff {
						return asap(tt.reply(p))
					}
				}
				return d.serve(p)
			})
			c := New(s, Options{Clock: s})
			_, err := c.Upload(t.Context(), testImage(2000, 7), UploadOptions{Window: 2})
			if err == nil {
				t.Fatal("Upload = nil error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Upload = %v, want errors.Is %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("Upload = %q, want it to contain %q", err, tt.wantIn)
			}
			if n := len(uploadsSent(t, s)); tt.atOff == 0 && n != 1 {
				t.Errorf("sent %d chunks after a failed first chunk, want 1", n)
			}
		})
	}
}

// TestUploadSlowErase replays field case B13: the first chunk starts an
// erase that takes 25 s, far beyond Timeout. Waiting FirstTimeout (40 s by
// default) for it succeeds with one first chunk; with a FirstTimeout below the
// erase, the retried first chunk carries the same sha, so the device resumes
// instead of erasing twice. A last chunk slow with the hash check is waited
// for too.
func TestUploadSlowErase(t *testing.T) {
	tests := []struct {
		name                  string
		eraseDelay, lastDelay time.Duration
		firstTimeout          time.Duration
		wantFirsts            int
	}{
		{name: "erase within FirstTimeout", eraseDelay: 25 * time.Second, wantFirsts: 1},
		{name: "erase beyond FirstTimeout", eraseDelay: 25 * time.Second, firstTimeout: 10 * time.Second,
			wantFirsts: 2},
		{name: "slow last chunk", lastDelay: 10 * time.Second, wantFirsts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := testImage(5000, 8)
			d := newDevice()
			d.delay, d.eraseDelay, d.lastDelay = 30*time.Millisecond, tt.eraseDelay, tt.lastDelay
			s := newSim(t, d.serve)
			c := New(s, Options{Clock: s, Timeout: 2500 * time.Millisecond})
			if _, err := c.Upload(t.Context(), img, UploadOptions{Window: 4, FirstTimeout: tt.firstTimeout}); err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if !bytes.Equal(d.image, img) || d.erases != 1 {
				t.Errorf("device holds the file: %v, erases %d; want true, 1", bytes.Equal(d.image, img), d.erases)
			}
			chunks := uploadsSent(t, s)
			var firsts [][]byte
			perOff := map[uint32]int{}
			for _, ch := range chunks {
				perOff[ch.req.Off]++
				if ch.req.Off == 0 {
					firsts = append(firsts, withoutSeq(ch.raw))
				}
			}
			if len(firsts) != tt.wantFirsts {
				t.Fatalf("sent %d first chunks, want %d", len(firsts), tt.wantFirsts)
			}
			for _, f := range firsts[1:] {
				if !bytes.Equal(f, firsts[0]) {
					t.Errorf("retried first chunk differs:\n%x\nwant\n%x", f, firsts[0])
				}
			}
			if n := perOff[chunks[len(chunks)-1].req.Off]; n != 1 {
				t.Errorf("last chunk sent %d times, want 1", n)
			}
		})
	}
}

// TestUploadSessionLost: the device forgets the upload mid-way (a reboot, or
// another client) and answers the next chunk with {"off":0}. The client must
// start over with a complete first chunk and finish.
func TestUploadSessionLost(t *testing.T) {
	img := testImage(20000, 9)
	d := newDevice()
	forgot := false
	s := newSim(t, func(p smp.Packet) []reply {
		if d.session != nil && d.session.off >= 8000 && !forgot {
			forgot, d.session = true, nil
		}
		return d.serve(p)
	})
	c := New(s, Options{Clock: s})
	if _, err := c.Upload(t.Context(), img, UploadOptions{Window: 4}); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if !bytes.Equal(d.image, img) || d.erases != 2 {
		t.Errorf("device holds the file: %v, erases %d; want true, 2", bytes.Equal(d.image, img), d.erases)
	}
	firsts := 0
	for _, ch := range uploadsSent(t, s) {
		if ch.req.Off == 0 {
			firsts++
			if !slices.Equal(ch.keys, firstKeys) {
				t.Errorf("first chunk keys = %v, want %v", ch.keys, firstKeys)
			}
		}
	}
	if firsts != 2 {
		t.Errorf("sent %d first chunks, want 2", firsts)
	}
}

// TestUploadFirstChunkWritesNothing: a device that answers every first chunk
// with {"off":0} took none of it. The client must never follow up with a
// chunk at offset 0 without the session keys (field case B05), and must stop.
func TestUploadFirstChunkWritesNothing(t *testing.T) {
	s := newSim(t, nil)
	d := newDevice()
	s.serve = func(p smp.Packet) []reply {
		if p.Group == smp.GroupImage && p.ID == smp.ImageUpload {
			return asap(respond(p, offset(0)))
		}
		return d.serve(p)
	}
	c := New(s, Options{Clock: s})
	if _, err := c.Upload(t.Context(), testImage(2000, 10), UploadOptions{}); err == nil {
		t.Fatal("Upload = nil error")
	}
	chunks := uploadsSent(t, s)
	for _, ch := range chunks {
		if !slices.Equal(ch.keys, firstKeys) {
			t.Errorf("chunk at %d keys = %v, want %v", ch.req.Off, ch.keys, firstKeys)
		}
	}
	if want := 1 + maxSessionRestarts; len(chunks) != want {
		t.Errorf("sent %d first chunks, want %d", len(chunks), want)
	}
}

// TestUploadStuckDevice: a device that keeps answering the same offset (its
// flash write fails silently) must not keep the client sending forever.
func TestUploadStuckDevice(t *testing.T) {
	const stuck = 310 // the first chunk's data at buf_size 384
	d := newDevice()
	s := newSim(t, func(p smp.Packet) []reply {
		var req smp.UploadRequest
		if p.Group == smp.GroupImage && p.ID == smp.ImageUpload && smp.Unmarshal(p.Body, &req) == nil && req.Off > 0 {
			return asap(respond(p, offset(stuck)))
		}
		return d.serve(p)
	})
	c := New(s, Options{Clock: s, Retries: 3})
	_, err := c.Upload(t.Context(), testImage(5000, 11), UploadOptions{Window: 4})
	if err == nil || errors.Is(err, errTooManySends) || !strings.Contains(err.Error(), "offset 310") {
		t.Fatalf("Upload = %v, want an error naming offset %d", err, stuck)
	}
	atStuck := 0
	for _, ch := range uploadsSent(t, s) {
		if ch.req.Off == stuck {
			atStuck++
		}
	}
	if want := 3 + 2; atStuck != want {
		t.Errorf("chunk at %d sent %d times, want %d", stuck, atStuck, want)
	}
}

// TestUploadDuplicatedReplies: a link that delivers every reply twice must
// not make the client re-send or skip anything.
func TestUploadDuplicatedReplies(t *testing.T) {
	img := testImage(30000, 12)
	d := newDevice()
	s := newSim(t, func(p smp.Packet) []reply {
		r := d.serve(p)
		return append(r, r...)
	})
	c := New(s, Options{Clock: s})
	stats, err := c.Upload(t.Context(), img, UploadOptions{Window: 4})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if !bytes.Equal(d.image, img) || d.rejected != 0 || stats.DataSent != len(img) {
		t.Errorf("device holds the file: %v, rejected %d, data sent %d; want true, 0, %d",
			bytes.Equal(d.image, img), d.rejected, stats.DataSent, len(img))
	}
}

// TestUploadLossNearTheEnd: requests lost while the last chunk is in flight
// behind others cost the normal Timeout, not FirstTimeout: the device answers
// in order, so only a wait for the last chunk itself may take the hash check's
// time.
func TestUploadLossNearTheEnd(t *testing.T) {
	const timeout = 3 * time.Second
	// 5000 bytes at buf_size 384: chunks at 0 (310 bytes), then every 356
	// bytes; the last three start at 4226, 4582 and 4938.
	img := testImage(5000, 16)
	d := newDevice()
	dropped := map[uint32]bool{}
	s := newSim(t, func(p smp.Packet) []reply {
		var req smp.UploadRequest
		if p.Group == smp.GroupImage && p.ID == smp.ImageUpload && smp.Unmarshal(p.Body, &req) == nil &&
			req.Off >= 4226 && !dropped[req.Off] {
			dropped[req.Off] = true
			return nil
		}
		return d.serve(p)
	})
	c := New(s, Options{Clock: s, Timeout: timeout})
	if _, err := c.Upload(t.Context(), img, UploadOptions{Window: 4}); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if !bytes.Equal(d.image, img) || len(dropped) != 3 {
		t.Fatalf("device holds the file: %v, dropped %d requests; want true, 3", bytes.Equal(d.image, img), len(dropped))
	}
	if got := s.elapsed(); got != timeout {
		t.Errorf("upload took %v of virtual time, want one Timeout (%v)", got, timeout)
	}
}
