package mcuboot

import (
	"bytes"
	"encoding/binary"
)

// The slot trailer sits at the end of a slot (smp-mcuboot.md §6.1). From
// the end: the 16-byte magic (in a chunk rounded up to the maximum write
// alignment A), then image_ok, copy_done, swap_info and swap_size, each A
// bytes, then the swap status area. Build with Pad writes what imgtool
// writes: erased bytes, the magic, and image_ok for a confirmed image.
const (
	trailerMagicLen = 16
	// defaultMaxAlign is MCUboot's default BOOT_MAX_ALIGN (bytes).
	defaultMaxAlign = 8
	// defaultMaxSectors is imgtool's default --max-sectors, which sizes the
	// swap status area.
	defaultMaxSectors = 128
	flagSet           = 0x01 // image_ok, copy_done: set
	erasedByte        = 0xff // erased flash
)

// trailerMagic8 is the magic when A is 8.
var trailerMagic8 = []byte{
	0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
	0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
}

// trailerMagicTail follows the u16 LE alignment when A is not 8.
var trailerMagicTail = []byte{
	0x2d, 0xe1, 0x5d, 0x29, 0x41, 0x0b, 0x8d, 0x77, 0x67, 0x9c, 0x11, 0x0f, 0x1f, 0x8a,
}

// maxAlign is the maximum write alignment A imgtool derives from a write
// alignment when none is given: never below 8.
func maxAlign(align int) int {
	return max(defaultMaxAlign, align)
}

func trailerMagic(maxAlign int) []byte {
	if maxAlign == defaultMaxAlign {
		return trailerMagic8
	}
	return append(binary.LittleEndian.AppendUint16(nil, uint16(maxAlign)), trailerMagicTail...)
}

// trailerSize is the space imgtool reserves at the end of a slot for a
// swap-mode trailer without encryption keys: the status area (three writes
// per sector), four fields of A bytes and the magic rounded up to A.
func trailerSize(align int) int {
	a := maxAlign(align)
	return defaultMaxSectors*3*align + 4*a + alignUp(trailerMagicLen, a)
}

// appendTrailer pads img with erased bytes to slotSize, which must leave
// room for trailerSize, and writes the magic and, if confirm, image_ok.
func appendTrailer(img []byte, slotSize, align int, confirm bool) []byte {
	out := append(img, bytes.Repeat([]byte{erasedByte}, slotSize-len(img))...)
	a := maxAlign(align)
	copy(out[slotSize-trailerMagicLen:], trailerMagic(a))
	if confirm {
		out[slotSize-alignUp(trailerMagicLen, a)-a] = flagSet
	}
	return out
}

func alignUp(n, a int) int {
	return (n + a - 1) / a * a
}
