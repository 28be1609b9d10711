package client

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fotasync/fotasync/smp"
)

// TestUploadFollowsAlignedDevice replays field case B01: the device writes
// whole 4-byte blocks, answers with the offset it reached, and answers any
// other offset with the one it expects. The client must go on from the
// device's offset, waste at most window−1 frames per short write, and keep
// the data on the wire under 1.2 × the image.
func TestUploadFollowsAlignedDevice(t *testing.T) {
	tests := []struct {
		name                          string
		size, chunk, window           int
		bufSize                       uint32
		align                         int // UploadOptions.Align
		wantShortWrites, wantRejected int
	}{
		// First chunk 127 bytes, of which 124 are written: the client must
		// take 124 as the offset and, with a window of 5, stop sending
		// chunks that the device cannot take whole.
		{name: "127-byte chunks, window 5", size: 1000, chunk: 127, window: 5, bufSize: 384,
			wantShortWrites: 1, wantRejected: 0},
		{name: "alignment given", size: 1000, chunk: 127, window: 5, bufSize: 384, align: 4},
		// buf_size 201: the first chunk carries 128 bytes (aligned), the
		// next ones 179, so the short write shows only with 5 in flight.
		{name: "short write mid-stream", size: 20000, window: 5, bufSize: 201,
			wantShortWrites: 1, wantRejected: 4},
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
			if d.shortWrites != tt.wantShortWrites || d.rejected != tt.wantRejected {
				t.Errorf("device saw %d short writes and %d chunks at a wrong offset, want %d and %d",
					d.shortWrites, d.rejected, tt.wantShortWrites, tt.wantRejected)
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
