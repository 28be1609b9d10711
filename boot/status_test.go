package boot

import (
	"bytes"
	"testing"
)

func TestStatusHeaderRoundTrip(t *testing.T) {
	h := statusHeader{swap: SwapRevert, sectorSize: 4096, sectors: 7, swapSize: 0xC21C}
	b := h.encode()
	if len(b) != 32 || !bytes.Equal(b[:4], []byte("FSWP")) {
		t.Fatalf("encode = %x, want 32 bytes starting with FSWP", b)
	}
	got, ok := parseStatusHeader(b)
	if !ok || got != h {
		t.Errorf("parse = %+v, %v; want %+v", got, ok, h)
	}
}

// TestStatusHeaderRejectsDamage: a torn header (any prefix, rest erased) or
// one flipped bit never reads as a recorded swap.
func TestStatusHeaderRejectsDamage(t *testing.T) {
	b := statusHeader{swap: SwapTest, sectorSize: 4096, sectors: 3, swapSize: 9000}.encode()
	for n := range len(b) {
		torn := append(bytes.Clone(b[:n]), bytes.Repeat([]byte{0xFF}, len(b)-n)...)
		if _, ok := parseStatusHeader(torn); ok {
			t.Errorf("header torn after %d bytes parses", n)
		}
	}
	for bit := range len(b) * 8 {
		bad := bytes.Clone(b)
		bad[bit/8] ^= 1 << (bit % 8)
		if _, ok := parseStatusHeader(bad); ok {
			t.Errorf("header with bit %d flipped parses", bit)
		}
	}
}

func TestStatusSize(t *testing.T) {
	cases := []struct{ sectors, align, want int }{
		{8, 8, 32 + 25*8},
		{8, 0, 32 + 25},
		{8, 64, 64 + 25*64},
		{169, 8, 4096}, // one 4 KiB sector holds the journal of up to 169 slot sectors
	}
	for _, c := range cases {
		if got := StatusSize(c.sectors, c.align); got != c.want {
			t.Errorf("StatusSize(%d, %d) = %d, want %d", c.sectors, c.align, got, c.want)
		}
	}
}

// FuzzStatusHeader: decoding never panics, and a decoded header re-encodes
// to the bytes it came from.
func FuzzStatusHeader(f *testing.F) {
	f.Add(statusHeader{swap: SwapPerm, sectorSize: 4096, sectors: 2, swapSize: 100}.encode())
	f.Add(bytes.Repeat([]byte{0xFF}, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := parseStatusHeader(b)
		if ok && !bytes.Equal(h.encode(), b[:statusHeaderLen]) {
			t.Errorf("header %+v re-encodes to %x, want %x", h, h.encode(), b[:statusHeaderLen])
		}
	})
}
