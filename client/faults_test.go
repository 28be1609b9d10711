package client

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fotasync/fotasync/smp"
)

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
