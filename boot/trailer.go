package boot

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/fotasync/fotasync/flash"
)

// DefaultMaxAlign is MCUboot's BOOT_MAX_ALIGN unless configured otherwise.
const DefaultMaxAlign = 8

// magic8 is the trailer magic when the maximum write alignment is 8.
var magic8 = [16]byte{0x77, 0xC2, 0x95, 0xF3, 0x60, 0xD2, 0xEF, 0x7F,
	0x35, 0x52, 0x50, 0x0F, 0x2C, 0xB6, 0x79, 0x80}

// magicTail follows the alignment (u16 LE) in the magic for other alignments.
var magicTail = [14]byte{0x2D, 0xE1, 0x5D, 0x29, 0x41, 0x0B, 0x8D, 0x77,
	0x67, 0x9C, 0x11, 0x0F, 0x1F, 0x8A}

// Trailer is the decoded state MCUboot keeps at the end of a slot.
//
// Layout (reference §6.1), from the slot end backwards, A = max alignment:
// magic (16 bytes, in a chunk of max(16, A) padded with 0xFF in front),
// image_ok, copy_done, swap_info and swap_size, each A bytes with the value
// first and 0xFF padding. The swap-using-offset field (unprotected TLV sizes)
// is not part of this layout. Swap status lives outside the slot (see Loader).
type Trailer struct {
	Magic    MagicState
	ImageOK  Flag
	CopyDone Flag
	// SwapType is swap_info's low nibble. An erased swap_info, or one whose
	// type is not test, perm or revert, reads as SwapNone with ImageNum 0, as
	// in MCUboot.
	SwapType SwapType
	ImageNum uint8  // swap_info's high nibble: the image pair
	SwapSize uint32 // bytes of each slot being swapped; 0xFFFFFFFF when erased
}

// layout gives the trailer size and its field offsets from the trailer start.
type layout struct {
	align, size                                  int
	swapSize, swapInfo, copyDone, imageOK, magic int
}

// newLayout checks the maximum alignment (0 means DefaultMaxAlign). MCUboot
// uses 8 unless the flash programs larger blocks (16, 32); any power of two
// from 8 to 256 is accepted.
func newLayout(maxAlign int) (layout, error) {
	if maxAlign == 0 {
		maxAlign = DefaultMaxAlign
	}
	if maxAlign < 8 || maxAlign > 256 || maxAlign&(maxAlign-1) != 0 {
		return layout{}, fmt.Errorf("boot: trailer: max align %d is not a power of two from 8 to 256", maxAlign)
	}
	a := maxAlign
	return layout{align: a, size: 4*a + max(16, a),
		swapSize: 0, swapInfo: a, copyDone: 2 * a, imageOK: 3 * a, magic: 4 * a}, nil
}

// TrailerSize returns the bytes the trailer takes at the end of a slot for
// a maximum alignment (0 means DefaultMaxAlign), or an error for an
// unsupported alignment. It is 48 for alignment 8.
func TrailerSize(maxAlign int) (int, error) {
	l, err := newLayout(maxAlign)
	return l.size, err
}

// magicChunk returns the magic field as written: max(16, A) bytes.
func (l layout) magicChunk() []byte {
	chunk := bytes.Repeat([]byte{0xFF}, l.size-l.magic)
	m := chunk[len(chunk)-16:]
	if l.align == 8 {
		copy(m, magic8[:])
		return chunk
	}
	binary.LittleEndian.PutUint16(m, uint16(l.align))
	copy(m[2:], magicTail[:])
	return chunk
}

// chunk returns an A-byte field holding v followed by 0xFF padding.
func (l layout) chunk(v ...byte) []byte {
	c := bytes.Repeat([]byte{0xFF}, l.align)
	copy(c, v)
	return c
}

// ParseTrailer decodes the last TrailerSize(maxAlign) bytes of a slot.
func ParseTrailer(b []byte, maxAlign int) (Trailer, error) {
	l, err := newLayout(maxAlign)
	if err != nil {
		return Trailer{}, err
	}
	if len(b) != l.size {
		return Trailer{}, fmt.Errorf("boot: trailer: %d bytes, want %d", len(b), l.size)
	}
	t := Trailer{
		Magic:    l.magicState(b[l.magic:]),
		ImageOK:  flagState(b[l.imageOK]),
		CopyDone: flagState(b[l.copyDone]),
		SwapType: SwapNone,
		SwapSize: binary.LittleEndian.Uint32(b[l.swapSize:]),
	}
	// An erased swap_info or an unknown type means no swap was requested.
	if info := b[l.swapInfo]; info != 0xFF && info&0x0F >= byte(SwapTest) && info&0x0F <= byte(SwapRevert) {
		t.SwapType, t.ImageNum = SwapType(info&0x0F), info>>4
	}
	return t, nil
}

func (l layout) magicState(field []byte) MagicState {
	m, good := field[len(field)-16:], l.magicChunk()
	switch {
	case bytes.Equal(m, good[len(good)-16:]):
		return MagicGood
	case bytes.Count(m, []byte{0xFF}) == len(m):
		return MagicUnset
	}
	return MagicBad
}

func flagState(b byte) Flag {
	switch b {
	case 0xFF:
		return FlagUnset
	case 0x01:
		return FlagSet
	}
	return FlagBad
}

// flagByte is the byte stored for a flag; FlagBad is stored as 0x00.
func flagByte(f Flag) byte {
	switch f {
	case FlagUnset:
		return 0xFF
	case FlagSet:
		return 0x01
	}
	return 0x00
}

// Bytes encodes t as the last TrailerSize(maxAlign) bytes of a slot. Bad
// states are stored as zero bytes and SwapNone as an erased swap_info, so
// the result decodes to t for any t that ParseTrailer returns.
func (t Trailer) Bytes(maxAlign int) ([]byte, error) {
	l, err := newLayout(maxAlign)
	if err != nil {
		return nil, err
	}
	b := bytes.Repeat([]byte{0xFF}, l.size)
	copy(b[l.swapSize:], l.chunk(binary.LittleEndian.AppendUint32(nil, t.SwapSize)...))
	if t.SwapType >= SwapTest && t.SwapType <= SwapRevert {
		b[l.swapInfo] = t.ImageNum<<4 | byte(t.SwapType)&0x0F
	}
	b[l.copyDone] = flagByte(t.CopyDone)
	b[l.imageOK] = flagByte(t.ImageOK)
	switch t.Magic {
	case MagicGood:
		copy(b[l.magic:], l.magicChunk())
	case MagicBad:
		clear(b[l.size-16:])
	}
	return b, nil
}

// ReadTrailer reads and decodes the trailer at the end of a slot.
func ReadTrailer(a *flash.Area, maxAlign int) (Trailer, error) {
	l, err := newLayout(maxAlign)
	if err != nil {
		return Trailer{}, err
	}
	b := make([]byte, l.size)
	if _, err := a.ReadAt(b, a.Size()-int64(l.size)); err != nil {
		return Trailer{}, fmt.Errorf("boot: read trailer: %w", err)
	}
	return ParseTrailer(b, maxAlign)
}

// writeField programs one trailer field (at offset off from the trailer start).
func (l layout) writeField(a *flash.Area, name string, off int, chunk []byte) error {
	if _, err := a.WriteAt(chunk, a.Size()-int64(l.size)+int64(off)); err != nil {
		return fmt.Errorf("boot: write %s: %w", name, err)
	}
	return nil
}
