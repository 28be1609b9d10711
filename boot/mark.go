package boot

import "fmt"

// SetPending marks the image in the secondary slot to be swapped in at the
// next reset: for one test boot, or for good when permanent. It writes
// image_ok (permanent only), then swap_info, then the magic last: the magic
// is what makes the request count, so a power cut part-way through leaves
// either no request or a complete one, and calling SetPending again finishes
// a torn attempt. Marking again the same way is a no-op; a mark of the other
// kind returns ErrAlreadyPending.
func (s Slots) SetPending(permanent bool) error {
	l, err := s.layout()
	if err != nil {
		return err
	}
	t, err := ReadTrailer(s.Secondary, s.MaxAlign)
	if err != nil {
		return err
	}
	want, kind := FlagUnset, SwapTest
	if permanent {
		want, kind = FlagSet, SwapPerm
	}
	if t.Magic == MagicGood && t.ImageOK == want {
		return nil // already marked this way
	}
	// A good magic, or an image_ok left by a torn mark of the other kind.
	if t.Magic == MagicGood || (t.ImageOK != FlagUnset && t.ImageOK != want) {
		return fmt.Errorf("%w: secondary image_ok is %v, want %v", ErrAlreadyPending, t.ImageOK, want)
	}
	if permanent {
		if err := l.writeField(s.Secondary, "image_ok", l.imageOK, l.chunk(0x01)); err != nil {
			return err
		}
	}
	if err := l.writeField(s.Secondary, "swap_info", l.swapInfo, l.chunk(byte(kind))); err != nil {
		return err
	}
	return l.writeField(s.Secondary, "magic", l.magic, l.magicChunk())
}

// Confirm makes the running image permanent by setting image_ok in the
// primary trailer, so that the next reset does not revert it. A primary
// without a trailer is already confirmed and is left as it is, as in MCUboot.
func (s Slots) Confirm() error {
	l, err := s.layout()
	if err != nil {
		return err
	}
	t, err := ReadTrailer(s.Primary, s.MaxAlign)
	if err != nil {
		return err
	}
	switch {
	case t.Magic == MagicUnset || t.ImageOK != FlagUnset:
		return nil
	case t.Magic == MagicBad:
		return fmt.Errorf("%w: primary slot %s", ErrBadTrailer, s.Primary.Name())
	}
	return l.writeField(s.Primary, "image_ok", l.imageOK, l.chunk(0x01))
}
