package boot

import (
	"errors"
	"fmt"

	"github.com/fotasync/fotasync/flash"
)

var (
	// ErrAlreadyPending means the secondary slot is already marked for a
	// swap of the other kind (test versus permanent).
	ErrAlreadyPending = errors.New("boot: another swap is already pending")
	// ErrBadTrailer means a trailer's magic is neither erased nor valid.
	ErrBadTrailer = errors.New("boot: trailer magic is corrupt")
)

// Slots is the primary and secondary slot of one image pair. In swap mode the
// image in the primary is the one that runs. The methods are what an SMP
// image-state handler needs; Loader uses the same slots at reset.
type Slots struct {
	Primary, Secondary *flash.Area
	// MaxAlign is MCUboot's BOOT_MAX_ALIGN in bytes: the size of each trailer
	// field. Zero means DefaultMaxAlign (8). The slots' write alignment must
	// divide it.
	MaxAlign int
}

// SlotFlags are the per-slot flags of an SMP image state response (reference §3.1).
type SlotFlags struct {
	Active, Confirmed, Pending, Permanent bool
}

// layout checks the slots and returns their trailer layout.
func (s Slots) layout() (layout, error) {
	l, err := newLayout(s.MaxAlign)
	if err != nil {
		return l, err
	}
	if s.Primary == nil || s.Secondary == nil {
		return l, errors.New("boot: slots: primary or secondary area is missing")
	}
	p, q := s.Primary.Geometry(), s.Secondary.Geometry()
	if p.Size != q.Size || p.SectorSize != q.SectorSize {
		return l, fmt.Errorf("boot: slots: primary %+v and secondary %+v differ in size or sectors", p, q)
	}
	if l.align%p.WriteAlign != 0 || l.align%q.WriteAlign != 0 {
		return l, fmt.Errorf("boot: slots: write align %d/%d does not divide max align %d",
			p.WriteAlign, q.WriteAlign, l.align)
	}
	if p.Size < l.size {
		return l, fmt.Errorf("boot: slots: size %d is smaller than the trailer", p.Size)
	}
	return l, nil
}

// Trailers reads both slots' trailers.
func (s Slots) Trailers() (primary, secondary Trailer, err error) {
	if _, err = s.layout(); err != nil {
		return
	}
	if primary, err = ReadTrailer(s.Primary, s.MaxAlign); err != nil {
		return
	}
	secondary, err = ReadTrailer(s.Secondary, s.MaxAlign)
	return
}

// NextSwap reads the trailers and returns the swap the next reset performs.
func (s Slots) NextSwap() (SwapType, error) {
	p, q, err := s.Trailers()
	if err != nil {
		return 0, err
	}
	return NextSwap(p, q), nil
}

// Flags returns the image-state flags of slot 0 (primary) and slot 1
// (secondary) for the next reset's swap type.
func (s Slots) Flags() ([2]SlotFlags, error) {
	t, err := s.NextSwap()
	if err != nil {
		return [2]SlotFlags{}, err
	}
	return StateFlags(t), nil
}

// StateFlags derives the SMP image-state flags from the next reset's swap
// type, as Zephyr does in swap modes (reference §3.1): the primary is active,
// and confirmed unless a revert is due; a test marks the secondary pending, a
// permanent swap pending and permanent; during a revert the secondary holds
// the confirmed fallback.
func StateFlags(next SwapType) [2]SlotFlags {
	f := [2]SlotFlags{{Active: true, Confirmed: next != SwapRevert}}
	switch next {
	case SwapTest:
		f[1].Pending = true
	case SwapPerm:
		f[1].Pending, f[1].Permanent = true, true
	case SwapRevert:
		f[1].Confirmed = true
	}
	return f
}
