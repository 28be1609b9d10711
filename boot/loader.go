package boot

import (
	"errors"
	"fmt"

	"github.com/fotasync/fotasync/flash"
)

// ErrNoImage means neither slot holds an image that validates.
var ErrNoImage = errors.New("boot: no valid image in either slot")

// Loader does what MCUboot does at reset, for one image pair in swap-scratch
// mode. It is not safe for concurrent use, and nothing else may use the areas
// while Boot runs.
type Loader struct {
	Slots
	// Scratch holds one slot sector in transit. It must be at least one slot
	// sector long, its sector size must divide the slots' sector size, and its
	// write alignment must divide MaxAlign.
	Scratch *flash.Area
	// Status holds the swap journal; it needs StatusSize(slot sectors, its
	// write alignment) bytes. See the package doc for its layout.
	Status *flash.Area
	// Validate checks the image at the start of a slot; it receives the whole
	// slot, trailer included, and must not keep or modify it. Required.
	Validate func(slot []byte) error
}

// Result describes one Boot. The image that runs afterwards is always the
// one in the primary slot.
type Result struct {
	// Swap is the swap carried out: SwapNone, SwapTest, SwapPerm (also when a
	// valid secondary replaced an invalid primary), SwapRevert, or SwapFail
	// when the image to swap in did not validate and the primary was kept.
	Swap SwapType
	// Resumed reports that the swap had been interrupted by a power cut and
	// was finished by this Boot.
	Resumed bool
	// Confirmed reports that the running image will not be reverted at the
	// next reset.
	Confirmed bool
	// Rejected says why the image to swap in was refused (Swap == SwapFail).
	Rejected error
}

// Boot finishes an interrupted swap if there is one; otherwise it performs
// the swap the trailers ask for, after validating the image to swap in (an
// invalid one is erased and, for a revert, the running image is confirmed
// instead). Last, it makes sure the primary validates, swapping in a valid
// secondary if it does not. It fails with ErrNoImage when no slot validates.
func (l *Loader) Boot() (Result, error) {
	r, err := l.prepare()
	if err != nil {
		return Result{}, err
	}
	res, err := r.update()
	if err != nil {
		return res, err
	}
	if err := r.ensureBootable(&res); err != nil {
		return res, err
	}
	flags, err := l.Flags()
	res.Confirmed = flags[0].Confirmed
	return res, err
}

// run is the checked configuration of one Boot.
type run struct {
	*Loader
	lay    layout
	j      journal
	sector int // slot sector size
	tail   int // offset of the trailer in a slot
}

func (l *Loader) prepare() (*run, error) {
	lay, err := l.layout()
	if err != nil {
		return nil, err
	}
	if l.Scratch == nil || l.Status == nil || l.Validate == nil {
		return nil, errors.New("boot: loader: Scratch, Status and Validate are required")
	}
	sector, sg := l.Primary.Geometry().SectorSize, l.Scratch.Geometry()
	if l.Scratch.Size() < int64(sector) || sector%sg.SectorSize != 0 || lay.align%sg.WriteAlign != 0 {
		return nil, fmt.Errorf("boot: loader: scratch %+v cannot hold a slot sector of %d bytes "+
			"written in %d-byte fields", sg, sector, lay.align)
	}
	if lay.size > sector {
		return nil, fmt.Errorf("boot: loader: trailer of %d bytes exceeds a sector", lay.size)
	}
	w := l.Status.Geometry().WriteAlign
	return &run{Loader: l, lay: lay, j: newJournal(l.Status, w), sector: sector,
		tail: int(l.Primary.Size()) - lay.size}, nil
}

// update finishes a recorded swap, or starts the one the trailers ask for.
func (r *run) update() (Result, error) {
	h, next, busy, err := r.j.read()
	if err != nil {
		return Result{}, err
	}
	if busy {
		return Result{Swap: h.swap, Resumed: true}, r.runSwap(h, next)
	}
	t, err := r.NextSwap()
	if err != nil || t == SwapNone {
		return Result{Swap: SwapNone}, err
	}
	sec, err := readSlot(r.Secondary)
	if err != nil {
		return Result{}, err
	}
	if bad := r.check(sec); bad != nil {
		return Result{Swap: SwapFail, Rejected: bad}, r.reject(t)
	}
	pri, err := readSlot(r.Primary)
	if err != nil {
		return Result{}, err
	}
	return Result{Swap: t}, r.startSwap(t, pri, sec)
}

// reject erases an invalid secondary so it is not tried again. When it was
// the fallback of a revert, the running image is confirmed: it is the only
// image left.
func (r *run) reject(t SwapType) error {
	if err := r.Secondary.Erase(0, r.Secondary.Size()); err != nil {
		return fmt.Errorf("boot: erase rejected secondary: %w", err)
	}
	if t == SwapRevert {
		return r.Confirm()
	}
	return nil
}

// ensureBootable swaps in a valid secondary when the primary does not validate.
func (r *run) ensureBootable(res *Result) error {
	pri, err := readSlot(r.Primary)
	if err != nil {
		return err
	}
	priErr := r.check(pri)
	if priErr == nil {
		return nil
	}
	sec, err := readSlot(r.Secondary)
	if err != nil {
		return err
	}
	if secErr := r.check(sec); secErr != nil {
		return fmt.Errorf("%w: primary: %v; secondary: %v", ErrNoImage, priErr, secErr)
	}
	res.Swap = SwapPerm
	if err := r.startSwap(SwapPerm, pri, sec); err != nil {
		return err
	}
	if pri, err = readSlot(r.Primary); err != nil {
		return err
	}
	if err := r.check(pri); err != nil {
		return fmt.Errorf("boot: primary after swap: %w", err)
	}
	return nil
}

// check validates the image in a slot and that it ends before the trailer.
func (r *run) check(slot []byte) error {
	if end, ok := imageEnd(slot); ok && end > r.tail {
		return fmt.Errorf("boot: image of %d bytes overlaps the trailer at offset %d", end, r.tail)
	}
	return r.Validate(slot)
}

func readSlot(a *flash.Area) ([]byte, error) {
	b := make([]byte, a.Size())
	if _, err := a.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("boot: read slot: %w", err)
	}
	return b, nil
}
