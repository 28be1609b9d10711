package server

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// packet builds an SMP packet (reference §1.1) whose length field is the
// body's length.
func packet(b0 byte, group uint16, seq, id byte, body string) string {
	h := []byte{b0, 0}
	h = binary.BigEndian.AppendUint16(h, uint16(len(body)/2))
	h = binary.BigEndian.AppendUint16(h, group)
	return hex.EncodeToString(append(h, seq, id)) + body
}

// testMux serves OS echo (read and write) the way the device does, an image
// state write that fails with IMAGE_SETTING_TEST_TO_ACTIVE_DENIED, and a
// write in an application group that asks for work after its reply.
func testMux(after func()) *Mux {
	m := NewMux()
	echo := func(_ context.Context, r *Request) (any, error) {
		var req smp.EchoRequest
		if err := r.Decode(&req); err != nil {
			return nil, err
		}
		return smp.EchoResponse{R: req.D}, nil
	}
	m.HandleRead(smp.GroupOS, smp.OSEcho, echo)
	m.HandleWrite(smp.GroupOS, smp.OSEcho, echo)
	m.HandleWrite(smp.GroupImage, smp.ImageState, func(context.Context, *Request) (any, error) {
		return nil, smp.ImageSettingTestToActiveDenied
	})
	m.HandleWrite(64, 0, func(_ context.Context, r *Request) (any, error) {
		r.AfterReply(after)
		var req struct {
			Fail bool `cbor:"fail"`
		}
		if err := r.Decode(&req); err != nil {
			return nil, err
		}
		if req.Fail {
			return nil, errors.New("refused")
		}
		return nil, nil
	})
	return m
}

// testBody is TV6's request: test an image by its 32-byte hash.
const testBody = "a264686173685820" + "1baa222074cc805faf4e09846d2377886b1e5ef7cfccd9eac1554d82d9aa9d5a" +
	"67636f6e6669726df4"

// failBody asks the application handler to fail: {"fail": true}.
const failBody = "a1" + "64" + "6661696c" + "f5"

// TestAnswerVectors replays request/response pairs of the reference (§1,
// §7) and errors of the SMP layer, which are plain "rc" in v1 and v2.
func TestAnswerVectors(t *testing.T) {
	tests := []struct{ name, req, want string }{
		{"TV1 echo v1 read", "0000000900004200a161646568656c6c6f", "0100000a00004200bf61726568656c6c6fff"},
		{"TV2 echo v2 write", "0a00000600000100a16164626869", "0b00000700000100bf6172626869ff"},
		{"TV7 version 2: rc 13, reply downgraded to v2 (version 1)",
			"1000000500000900a161646178", "0900000600000900bf6272630dff"},
		{"version 3: rc 13 as well", "1800000500000900a161646178", "0900000600000900bf6272630dff"},
		{"TV7 unknown command v1 id 42", packet(0x00, 0, 7, 42, "a0"), packet(0x01, 0, 7, 42, "bf62726308ff")},
		{"unknown command v2", packet(0x08, 0, 7, 42, "a0"), packet(0x09, 0, 7, 42, "bf62726308ff")},
		{"unknown group v2", packet(0x0a, 77, 8, 0, "a0"), packet(0x0b, 77, 8, 0, "bf62726308ff")},
		{"image state read not registered: rc 8", packet(0x08, 1, 9, 0, "a0"),
			packet(0x09, 1, 9, 0, "bf62726308ff")},
		{"undecodable body: rc 3", packet(0x0a, 0, 3, 0, "a1616401"), packet(0x0b, 0, 3, 0, "bf62726303ff")},
		{"body not CBOR: rc 3", packet(0x08, 0, 4, 0, "ff"), packet(0x09, 0, 4, 0, "bf62726303ff")},
		{"shorter than its length: rc 9", "0a00000600000500a1616462", "0b00000600000500bf62726309ff"},
		{"short, version 2: length first", "1200000600000500a1616462", "0b00000600000500bf62726309ff"},
		{"op 4: rc 8", packet(0x04, 0, 6, 0, "a0"), packet(0x03, 0, 6, 0, "bf62726308ff")},
		{"op 7 v2: rc 8", packet(0x0f, 0, 6, 0, "a0"), packet(0x0b, 0, 6, 0, "bf62726308ff")},
		{"TV6 group error v2", packet(0x0a, 1, 0x29, 0, testBody),
			"0b00001400012900bf63657272bf6567726f7570016272631821ffff"},
		{"TV6 group error v1", packet(0x02, 1, 0x2a, 0, testBody), "0300000600012a00bf62726301ff"},
		{"plain Go error: {\"rc\":1,\"rsn\":\"refused\"}", packet(0x0a, 64, 1, 0, failBody),
			packet(0x0b, 64, 1, 0, "bf"+"627263"+"01"+"6372736e"+"67"+hex.EncodeToString([]byte("refused"))+"ff")},
		{"empty body reads as an empty map", packet(0x0a, 64, 2, 0, ""), packet(0x0b, 64, 2, 0, "bfff")},
	}
	m := testMux(func() {})
	for _, tt := range tests {
		got, _ := m.Answer(t.Context(), unhex(t, tt.req))
		if want := unhex(t, tt.want); hex.EncodeToString(got) != hex.EncodeToString(want) {
			t.Errorf("%s:\n got %x\nwant %x", tt.name, got, want)
		}
	}
}

// TestNoAnswer: an incomplete header and response packets get no reply.
func TestNoAnswer(t *testing.T) {
	m := testMux(func() {})
	for _, req := range []string{
		"", "0a000006000001", // fewer than 8 header bytes
		"0100000700000100bf6172626869ff", "0b00000700000100bf6172626869ff", // read and write responses
		"0900000600000900bf6272630dff", "0300000600012a00bf62726301ff",
	} {
		if got, after := m.Answer(t.Context(), unhex(t, req)); got != nil || after != nil {
			t.Errorf("Answer(%s) = %x, %d functions; want no reply", req, got, len(after))
		}
	}
}

// TestAfterReply: work a handler asks for after its reply is returned, not
// run; a request that fails asks for none.
func TestAfterReply(t *testing.T) {
	ran := 0
	m := testMux(func() { ran++ })
	got, after := m.Answer(t.Context(), unhex(t, packet(0x0a, 64, 5, 0, "a0")))
	if want := packet(0x0b, 64, 5, 0, "bfff"); hex.EncodeToString(got) != want {
		t.Fatalf("reply %x, want %s", got, want)
	}
	if ran != 0 || len(after) != 1 {
		t.Fatalf("ran %d, %d functions after the reply; want 0 and 1", ran, len(after))
	}
	after[0]()
	if ran != 1 {
		t.Errorf("ran %d after calling the function, want 1", ran)
	}
	if _, after := m.Answer(t.Context(), unhex(t, packet(0x0a, 64, 6, 0, failBody))); after != nil {
		t.Errorf("failed request left %d functions to run", len(after))
	}
}

// scriptConn is a PacketConn that delivers a fixed list of packets, records
// what happens in order, then reports itself closed.
type scriptConn struct {
	in  [][]byte
	log *[]string
}

type peer struct{}

func (peer) Network() string { return "test" }
func (peer) String() string  { return "peer" }

func (c *scriptConn) ReadPacket(context.Context) ([]byte, net.Addr, error) {
	if len(c.in) == 0 {
		return nil, nil, transport.ErrClosed
	}
	p := c.in[0]
	c.in = c.in[1:]
	return p, peer{}, nil
}

func (c *scriptConn) WritePacket(p []byte, to net.Addr) error {
	*c.log = append(*c.log, "reply "+hex.EncodeToString(p[:8])+" to "+to.String())
	return nil
}

func (c *scriptConn) LocalAddr() net.Addr { return peer{} }
func (c *scriptConn) Close() error        { return nil }

// TestServe answers packets in order, sends each reply to its sender and
// runs the work after a reply only once that reply is sent. A packet without
// a reply is skipped; a closed link ends Serve without error.
func TestServe(t *testing.T) {
	var log []string
	m := testMux(func() { log = append(log, "after") })
	pc := &scriptConn{log: &log, in: [][]byte{
		unhex(t, packet(0x0a, 64, 1, 0, "a0")),
		unhex(t, "0b00000700000100bf6172626869ff"),
		unhex(t, "0a00000600000200a16164626869"),
	}}
	if err := Serve(t.Context(), pc, m); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	want := []string{"reply 0b00000200400100 to peer", "after", "reply 0b00000700000200 to peer"}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
}

// FuzzAnswer: any packet gets either no reply or one well-formed reply that
// echoes the request's group, sequence number and command, with the response
// op and a version of at most 1 (SMP v2).
func FuzzAnswer(f *testing.F) {
	for _, s := range []string{"0000000900004200a161646568656c6c6f", "1000000500000900a161646178",
		"0a00000600000500a1616462", "0a00002300012900a2646861736858", packet(0x0a, 64, 5, 0, "a0")} {
		b, err := hex.DecodeString(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	m := testMux(func() {})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _ := m.Answer(t.Context(), b)
		if got == nil {
			return
		}
		req, err := smp.DecodeHeader(b)
		if err != nil {
			t.Fatalf("reply %x to a packet without a header", got)
		}
		p, err := smp.Decode(got)
		if err != nil {
			t.Fatalf("reply %x does not decode: %v", got, err)
		}
		if p.Group != req.Group || p.Seq != req.Seq || p.ID != req.ID || p.Op != req.Op.Response() ||
			p.Version != min(req.Version, smp.Version2) || p.Flags != 0 {
			t.Fatalf("reply header %+v to request %+v", p.Header, req)
		}
		var body map[string]any
		if err := smp.Unmarshal(p.Body, &body); err != nil {
			t.Fatalf("reply body %x is not a CBOR map: %v", p.Body, err)
		}
	})
}
