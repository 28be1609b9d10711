package boot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/fotasync/fotasync/flash"
)

// Status journal layout (see the package doc for how it is used).
const (
	statusHeaderLen = 32
	statusVersion   = 1
)

var statusMagic = [4]byte{'F', 'S', 'W', 'P'}

// statusHeader records a swap before its first byte moves.
type statusHeader struct {
	swap       SwapType // SwapTest, SwapPerm or SwapRevert
	sectorSize uint32   // the slots' sector size when the swap began
	sectors    uint32   // slot sectors swapped, counted from sector 0
	swapSize   uint32   // bytes of each slot holding an image; goes into swap_size
}

// encode returns the 32-byte header: magic, version, swap type, two zero
// bytes, sector size, sector count and swap size (u32 LE), eight zero bytes,
// and the CRC-32 (IEEE) of the 28 bytes before it.
func (h statusHeader) encode() []byte {
	b := make([]byte, statusHeaderLen)
	copy(b, statusMagic[:])
	b[4], b[5] = statusVersion, byte(h.swap)
	binary.LittleEndian.PutUint32(b[8:], h.sectorSize)
	binary.LittleEndian.PutUint32(b[12:], h.sectors)
	binary.LittleEndian.PutUint32(b[16:], h.swapSize)
	binary.LittleEndian.PutUint32(b[28:], crc32.ChecksumIEEE(b[:28]))
	return b
}

// parseStatusHeader decodes a header; ok is false for anything that is not
// a complete header written by encode (erased, torn or corrupt).
func parseStatusHeader(b []byte) (h statusHeader, ok bool) {
	if len(b) < statusHeaderLen || !bytes.Equal(b[:4], statusMagic[:]) || b[4] != statusVersion {
		return h, false
	}
	if binary.LittleEndian.Uint32(b[28:]) != crc32.ChecksumIEEE(b[:28]) {
		return h, false
	}
	h = statusHeader{
		swap:       SwapType(b[5]),
		sectorSize: binary.LittleEndian.Uint32(b[8:]),
		sectors:    binary.LittleEndian.Uint32(b[12:]),
		swapSize:   binary.LittleEndian.Uint32(b[16:]),
	}
	// A valid CRC over unexpected values is still not a header we wrote.
	known := h.swap >= SwapTest && h.swap <= SwapRevert && h.sectors > 0
	if !known || !bytes.Equal(h.encode(), b[:statusHeaderLen]) {
		return statusHeader{}, false
	}
	return h, true
}

// steps returns the journal entries of a swap: three per sector, then one
// for finishing the trailers.
func (h statusHeader) steps() int { return 3*int(h.sectors) + 1 }

// journal is the status area: a header, then one entry of the area's write
// alignment per step. An entry is done when any of its bytes is programmed.
type journal struct {
	a     *flash.Area
	entry int // bytes per entry: the area's write alignment
	head  int // header bytes, rounded up to whole entries
}

// newJournal returns the journal in a, whose write alignment is w.
func newJournal(a *flash.Area, w int) journal {
	return journal{a: a, entry: w, head: (statusHeaderLen + w - 1) / w * w}
}

// StatusSize returns the bytes the status area needs for slots of
// slotSectors sectors when its write alignment is writeAlign (zero means 1).
func StatusSize(slotSectors, writeAlign int) int {
	return newJournal(nil, max(writeAlign, 1)).need(3*slotSectors + 1)
}

func (j journal) need(steps int) int { return j.head + steps*j.entry }

// read returns the recorded swap and the first step not yet done. busy is
// false when no swap is recorded or the recorded one has finished.
func (j journal) read() (h statusHeader, next int, busy bool, err error) {
	head := make([]byte, j.head)
	if _, err := j.a.ReadAt(head, 0); err != nil {
		return h, 0, false, fmt.Errorf("boot: read status: %w", err)
	}
	h, ok := parseStatusHeader(head)
	if !ok {
		return h, 0, false, nil
	}
	if int64(j.need(h.steps())) > j.a.Size() {
		return h, 0, false, fmt.Errorf("boot: status: recorded swap of %d sectors does not fit %s",
			h.sectors, j.a.Name())
	}
	entries := make([]byte, h.steps()*j.entry)
	if _, err := j.a.ReadAt(entries, int64(j.head)); err != nil {
		return h, 0, false, fmt.Errorf("boot: read status: %w", err)
	}
	for next = 0; next < h.steps(); next++ {
		e := entries[next*j.entry : (next+1)*j.entry]
		if bytes.Count(e, []byte{0xFF}) == len(e) {
			return h, next, true, nil
		}
	}
	return h, next, false, nil
}

// begin erases what the journal needs, sector 0 (the header) first, and
// records h. Until the header is complete no swap is recorded.
func (j journal) begin(h statusHeader) error {
	need := int64(j.need(h.steps()))
	if need > j.a.Size() {
		return fmt.Errorf("boot: status: %s holds %d bytes, a swap of %d sectors needs %d",
			j.a.Name(), j.a.Size(), h.sectors, need)
	}
	sector := int64(j.a.Geometry().SectorSize)
	for off := int64(0); off < need; off += sector {
		if err := j.a.Erase(off, sector); err != nil {
			return fmt.Errorf("boot: erase status: %w", err)
		}
	}
	head := bytes.Repeat([]byte{0xFF}, j.head)
	copy(head, h.encode())
	if _, err := j.a.WriteAt(head, 0); err != nil {
		return fmt.Errorf("boot: write status header: %w", err)
	}
	return nil
}

// mark records that step is done. It is written only after the step's own
// writes returned, so any trace of an entry proves the step complete.
func (j journal) mark(step int) error {
	if _, err := j.a.WriteAt(make([]byte, j.entry), int64(j.need(step))); err != nil {
		return fmt.Errorf("boot: write status entry %d: %w", step, err)
	}
	return nil
}
