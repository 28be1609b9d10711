package boot

import "encoding/binary"

// MCUboot image constants (reference §5).
const (
	imageMagic   = 0x96F3B83D // ih_magic
	tlvInfoMagic = 0x6907     // unprotected TLV area info header
	headerLen    = 32
)

// imageEnd returns how many bytes at the start of slot the MCUboot image
// occupies: header, body, protected TLV area and unprotected TLV area. ok is
// false when the header magic or the unprotected TLV info header is missing,
// or when the image would end past slot.
func imageEnd(slot []byte) (end int, ok bool) {
	if len(slot) < headerLen || binary.LittleEndian.Uint32(slot) != imageMagic {
		return 0, false
	}
	hdr := uint64(binary.LittleEndian.Uint16(slot[8:]))
	prot := uint64(binary.LittleEndian.Uint16(slot[10:]))
	body := uint64(binary.LittleEndian.Uint32(slot[12:]))
	info := hdr + body + prot // the unprotected TLV info follows the protected area
	if info+4 > uint64(len(slot)) || binary.LittleEndian.Uint16(slot[info:]) != tlvInfoMagic {
		return 0, false
	}
	// The info header's total includes the info header itself.
	total := uint64(binary.LittleEndian.Uint16(slot[info+2:]))
	if total < 4 || info+total > uint64(len(slot)) {
		return 0, false
	}
	return int(info + total), true
}
