package boot

import (
	"fmt"

	"github.com/fotasync/fotasync/flash"
)

// startSwap records a swap of type t in the journal and carries it out.
// pri and sec are the slots' current contents; the swap covers the sectors
// that hold either image (the whole slot when one cannot be parsed).
func (r *run) startSwap(t SwapType, pri, sec []byte) error {
	size := max(r.extent(pri), r.extent(sec))
	h := statusHeader{
		swap:       t,
		sectorSize: uint32(r.sector),
		sectors:    uint32((size + r.sector - 1) / r.sector),
		swapSize:   uint32(size),
	}
	if err := r.j.begin(h); err != nil {
		return err
	}
	return r.runSwap(h, 0)
}

// extent returns the bytes of a slot that must move: its image, or
// everything up to the trailer when no image header can be parsed.
func (r *run) extent(slot []byte) int {
	if end, ok := imageEnd(slot[:r.tail]); ok {
		return end
	}
	return r.tail
}

// runSwap carries out the recorded swap h from step next on, marking each
// step done in the journal once its writes have returned.
func (r *run) runSwap(h statusHeader, next int) error {
	if int(h.sectorSize) != r.sector || int(h.sectors)*r.sector > r.tail+r.lay.size {
		return fmt.Errorf("boot: status: recorded swap (%d sectors of %d bytes) does not fit the slots",
			h.sectors, h.sectorSize)
	}
	last := h.steps() - 1
	for step := next; step <= last; step++ {
		var err error
		if step == last {
			err = r.finish(h)
		} else {
			err = r.copyStep(step/3, step%3)
		}
		if err != nil {
			return err
		}
		if err := r.j.mark(step); err != nil {
			return err
		}
	}
	return nil
}

// copyStep performs step k of exchanging slot sector i through the scratch
// area: 0 copies the secondary sector to scratch, 1 the primary sector to the
// secondary, 2 the scratch copy to the primary. Each step's source stays
// untouched until the step is marked done, so a torn step is simply redone.
// Bytes from the trailer offset on are not copied: they stay erased.
func (r *run) copyStep(i, k int) error {
	off := int64(i * r.sector)
	n := min(r.sector, r.tail-i*r.sector)
	switch k {
	case 0:
		return r.copySector(r.Secondary, off, r.Scratch, 0, n)
	case 1:
		return r.copySector(r.Primary, off, r.Secondary, off, n)
	}
	return r.copySector(r.Scratch, 0, r.Primary, off, n)
}

// copySector erases the slot-sized sector at dstOff in dst and programs it
// with n bytes read from src at srcOff.
func (r *run) copySector(src *flash.Area, srcOff int64, dst *flash.Area, dstOff int64, n int) error {
	buf := make([]byte, n)
	if _, err := src.ReadAt(buf, srcOff); err != nil {
		return fmt.Errorf("boot: swap: %w", err)
	}
	if err := dst.Erase(dstOff, int64(r.sector)); err != nil {
		return fmt.Errorf("boot: swap: %w", err)
	}
	if _, err := dst.WriteAt(buf, dstOff); err != nil {
		return fmt.Errorf("boot: swap: %w", err)
	}
	return nil
}

// finish leaves the secondary trailer erased and writes the primary one: magic,
// swap_info, swap_size and copy_done, plus image_ok after a permanent swap or
// a revert (reference §6.3). When the swap did not reach the last sector,
// that sector holds nothing but the trailer and is erased in both slots.
func (r *run) finish(h statusHeader) error {
	lastOff := r.Primary.Size() - int64(r.sector)
	if int64(h.sectors)*int64(r.sector) <= lastOff {
		for _, a := range []*flash.Area{r.Secondary, r.Primary} {
			if err := a.Erase(lastOff, int64(r.sector)); err != nil {
				return fmt.Errorf("boot: erase trailer: %w", err)
			}
		}
	}
	t := Trailer{Magic: MagicGood, CopyDone: FlagSet, SwapType: h.swap, SwapSize: h.swapSize}
	if h.swap != SwapTest {
		t.ImageOK = FlagSet
	}
	b, err := t.Bytes(r.lay.align)
	if err != nil {
		return err
	}
	if _, err := r.Primary.WriteAt(b, int64(r.tail)); err != nil {
		return fmt.Errorf("boot: write trailer: %w", err)
	}
	return nil
}
