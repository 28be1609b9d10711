package client

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fotasync/fotasync/smp"
)

// chunkSent is one upload request as it went on the wire.
type chunkSent struct {
	raw  []byte
	req  smp.UploadRequest
	keys []string // map keys of the body, sorted
}

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
