package boot

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/fotasync/fotasync/flash"
	"github.com/google/go-cmp/cmp"
)

// hexBytes decodes hex with spaces and '|' separators.
func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "|", "").Replace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TV10 (reference §7): the last bytes of a slot, BOOT_MAX_ALIGN 8. The
// fixture ran swap-using-offset, whose extra field (unprotected TLV sizes)
// sits at -48, where swap-scratch keeps swap_size; the swap-offset swap_size
// at -56 is quoted separately.
const (
	tv10Magic        = "77c295f360d2ef7f3552500f2cb67980"
	tv10SecAfterTest = "ffffffffffffffff 02ffffffffffffff ffffffffffffffff ffffffffffffffff " + tv10Magic
	tv10PriAfterSwap = "02ffffffffffffff 01ffffffffffffff ffffffffffffffff " + tv10Magic
	tv10PriReverted  = "04ffffffffffffff 01ffffffffffffff 01ffffffffffffff " + tv10Magic
	tv10SwapSize     = "1cc20000ffffffff" // 0xC21C, the fixture image's length
)

// TestTrailerTV10 replays the TV10 sequence with images of the fixture's
// length (0xC21C) in 16-sector slots and compares the trailer bytes.
func TestTrailerTV10(t *testing.T) {
	geo := flash.Geometry{Size: 16 * 4096, SectorSize: 4096, WriteAlign: 8}
	old, new := synthImage(0xC21C, 0, 1), synthImage(0xC21C, 1, 2)
	setup := func(dir string) *Loader {
		l := openLoader(t, dir, geo, nil)
		install(t, l.Primary, old)
		install(t, l.Secondary, new)
		return l
	}

	dir := tempDir(t)
	l := setup(dir)
	if err := l.SetPending(false); err != nil {
		t.Fatal(err)
	}
	compare(t, "secondary after test", tail(t, l.Secondary, 48), hexBytes(t, tv10SecAfterTest))

	mustBoot(t, l)
	compare(t, "primary after test swap", tail(t, l.Primary, 40), hexBytes(t, tv10PriAfterSwap))
	compare(t, "primary swap_size", tail(t, l.Primary, 48)[:8], hexBytes(t, tv10SwapSize))
	compare(t, "secondary after test swap", tail(t, l.Secondary, 48), bytes.Repeat([]byte{0xFF}, 48))

	mustBoot(t, l)
	compare(t, "primary after revert", tail(t, l.Primary, 40), hexBytes(t, tv10PriReverted))

	// Confirming the running test image sets image_ok and nothing else.
	l = setup(tempDir(t))
	if err := l.SetPending(false); err != nil {
		t.Fatal(err)
	}
	mustBoot(t, l)
	if err := l.Confirm(); err != nil {
		t.Fatal(err)
	}
	want := hexBytes(t, tv10PriAfterSwap)
	want[16] = 0x01 // image_ok at -24
	compare(t, "primary after confirm", tail(t, l.Primary, 40), want)
}

func compare(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %x\nwant %x", what, got, want)
	}
}

func TestTrailerSize(t *testing.T) {
	for align, want := range map[int]int{0: 48, 8: 48, 16: 80, 32: 160} {
		if got, err := TrailerSize(align); err != nil || got != want {
			t.Errorf("TrailerSize(%d) = %d, %v; want %d", align, got, err, want)
		}
	}
	for _, align := range []int{4, 12, 512} {
		if _, err := TrailerSize(align); err == nil {
			t.Errorf("TrailerSize(%d) succeeded, want error", align)
		}
	}
}

// TestMagicOtherAlign checks the magic form for alignments other than 8
// (reference §6.1): the alignment as u16 LE, 14 fixed bytes, 0xFF in front.
func TestMagicOtherAlign(t *testing.T) {
	const rest = "2de15d29410b8d77679c110f1f8a"
	for align, want := range map[int]string{
		16: "1000" + rest,
		32: strings.Repeat("ff", 16) + "2000" + rest,
	} {
		b, err := Trailer{Magic: MagicGood}.Bytes(align)
		if err != nil {
			t.Fatal(err)
		}
		compare(t, "magic", b[len(b)-max(16, align):], hexBytes(t, want))
		got, err := ParseTrailer(b, align)
		if err != nil || got.Magic != MagicGood {
			t.Errorf("align %d: ParseTrailer = %+v, %v; want good magic", align, got, err)
		}
		// The same 16 bytes are not the magic of an align-8 trailer.
		b8 := bytes.Repeat([]byte{0xFF}, 48)
		copy(b8[32:], b[len(b)-16:])
		if got, _ := ParseTrailer(b8, 8); got.Magic != MagicBad {
			t.Errorf("align %d magic read with align 8: %v, want bad", align, got.Magic)
		}
	}
}

// TestParseTrailerFields places each field by the reference's offsets
// (A = 16: magic -16, image_ok -32, copy_done -48, swap_info -64, swap_size -80).
func TestParseTrailerFields(t *testing.T) {
	b := bytes.Repeat([]byte{0xFF}, 80)
	copy(b[0:], []byte{0x78, 0x56, 0x34, 0x12})
	b[16], b[32], b[48] = 0x13, 0x00, 0x01
	got, err := ParseTrailer(b, 16)
	if err != nil {
		t.Fatal(err)
	}
	want := Trailer{Magic: MagicUnset, ImageOK: FlagSet, CopyDone: FlagBad,
		SwapType: SwapPerm, ImageNum: 1, SwapSize: 0x12345678}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseTrailer mismatch (-want +got):\n%s", diff)
	}
}

func TestParseTrailerSwapInfo(t *testing.T) {
	for info, want := range map[byte]SwapType{0xFF: SwapNone, 0x01: SwapNone, 0x02: SwapTest,
		0x04: SwapRevert, 0x05: SwapNone, 0x00: SwapNone, 0x32: SwapTest} {
		b := bytes.Repeat([]byte{0xFF}, 48)
		b[8] = info
		got, _ := ParseTrailer(b, 8)
		if got.SwapType != want {
			t.Errorf("swap_info 0x%02x: SwapType = %v, want %v", info, got.SwapType, want)
		}
	}
	if _, err := ParseTrailer(make([]byte, 47), 8); err == nil {
		t.Errorf("ParseTrailer of 47 bytes succeeded")
	}
}

// FuzzParseTrailer: decoding never panics, and what decodes re-encodes to
// bytes that decode to the same trailer.
func FuzzParseTrailer(f *testing.F) {
	f.Add(bytes.Repeat([]byte{0xFF}, 48), uint8(0))
	f.Add(append(bytes.Repeat([]byte{0x01}, 32), magic8[:]...), uint8(0))
	f.Add(make([]byte, 160), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, pick uint8) {
		align := []int{8, 16, 32}[pick%3]
		tr, err := ParseTrailer(b, align)
		if err != nil {
			return
		}
		enc, err := tr.Bytes(align)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseTrailer(enc, align)
		if err != nil || again != tr {
			t.Errorf("re-encoded trailer decodes to %+v, %v; want %+v", again, err, tr)
		}
	})
}
