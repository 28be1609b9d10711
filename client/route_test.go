package client

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/fotasync/fotasync/smp"
)

// TestUploadOnSessionRoute: chunks sent on another command carry the session
// id in every chunk, and the id's bytes are counted against the packet limit.
func TestUploadOnSessionRoute(t *testing.T) {
	const group, id, sid = smp.GroupUserFirst, 1, 7
	img := testImage(3000, 17)
	d := newDevice()
	badSID := 0
	s := newSim(t, func(p smp.Packet) []reply {
		if p.Group != group || p.ID != id {
			return d.serve(p)
		}
		var k struct {
			SID uint32 `cbor:"sid"`
		}
		if smp.Unmarshal(p.Body, &k) != nil || k.SID != sid {
			badSID++
		}
		body, _ := d.upload(p)
		return asap(respond(p, body))
	})
	c := New(s, Options{Clock: s})
	_, err := c.Upload(t.Context(), img, UploadOptions{Window: 2, Route: &Route{Group: group, ID: id, SID: sid}})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if !bytes.Equal(d.image, img) || badSID != 0 {
		t.Errorf("device holds the file: %v, chunks without sid %d; want true, 0", bytes.Equal(d.image, img), badSID)
	}
	chunks := chunksSent(t, s, group, id)
	// §3.4's first chunk at buf_size 384 is 74 + 310 bytes; "sid": 7 adds
	// 4 + 1, so 305 data bytes fill the 384 exactly.
	if len(chunks[0].raw) != 384 || len(chunks[0].req.Data) != 305 {
		t.Errorf("first chunk: %d bytes with %d data, want 384 with 305", len(chunks[0].raw), len(chunks[0].req.Data))
	}
	for _, ch := range chunks {
		if len(ch.raw) > 384 || !slices.Contains(ch.keys, "sid") {
			t.Errorf("chunk at %d: %d bytes, keys %v; want ≤ 384 with sid", ch.req.Off, len(ch.raw), ch.keys)
		}
	}
	if n := len(uploadsSent(t, s)); n != 0 {
		t.Errorf("sent %d chunks as image upload, want 0", n)
	}
}

// TestExchange relays whole packets: TV2's request comes back with TV2's
// response, byte for byte; a response is refused; silence is one attempt.
func TestExchange(t *testing.T) {
	req := mustHex(t, "0a 00 00 06 00 00 01 00 a1 61 64 62 68 69")
	resp := mustHex(t, "0b 00 00 07 00 00 01 00 bf 61 72 62 68 69 ff")
	s := newSim(t, func(p smp.Packet) []reply {
		earlier := p
		earlier.Seq--
		return []reply{{pkt: respond(earlier, smp.EchoResponse{R: "old"})}, {pkt: resp}}
	})
	c := New(s, Options{Clock: s})
	got, err := c.Exchange(t.Context(), req)
	if err != nil || !bytes.Equal(got, resp) {
		t.Fatalf("Exchange = %x, %v; want %x", got, err, resp)
	}
	if !bytes.Equal(s.log[0].raw, req) {
		t.Errorf("sent %x, want the packet as given %x", s.log[0].raw, req)
	}

	s = newSim(t, nil)
	c = New(s, Options{Clock: s})
	if _, err := c.Exchange(t.Context(), resp); err == nil || len(s.log) != 0 {
		t.Errorf("Exchange(response) = %v with %d packets sent, want an error and none", err, len(s.log))
	}
	if _, err := c.Exchange(t.Context(), req); !errors.Is(err, ErrTimeout) || len(s.log) != 1 {
		t.Errorf("Exchange to a silent device = %v with %d packets sent, want ErrTimeout and 1", err, len(s.log))
	}
}
