package flash

import (
	"bytes"
	"fmt"
)

// WriteAt programs p at off. Both off and len(p) must be multiples of the
// write alignment. Each byte must be erased (0xFF) or already hold the value
// being written; otherwise nothing is written and the error names the first
// conflicting offset. The data is synced to disk before WriteAt returns.
func (a *Area) WriteAt(p []byte, off int64) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.pc.alive(); err != nil {
		return 0, a.fail("write", off, len(p), err)
	}
	if err := a.checkWrite(p, off); err != nil {
		return 0, a.fail("write", off, len(p), err)
	}
	if len(p) == 0 {
		return 0, nil
	}
	land, cut := a.pc.begin(len(p))
	if err := a.program(p[:land], off); err != nil {
		return 0, a.fail("write", off, len(p), err)
	}
	if cut != nil {
		return land, a.fail("write", off, len(p), cut)
	}
	return len(p), nil
}

// checkWrite enforces alignment, bounds and the NOR programming rule.
func (a *Area) checkWrite(p []byte, off int64) error {
	align := int64(a.geo.WriteAlign)
	if off%align != 0 || int64(len(p))%align != 0 {
		return fmt.Errorf("%w: write align is %d", ErrAlign, align)
	}
	if err := a.checkRange(off, int64(len(p))); err != nil {
		return err
	}
	have := make([]byte, len(p))
	if _, err := a.f.ReadAt(have, off); err != nil {
		return err
	}
	for i, b := range have {
		if b != 0xFF && b != p[i] {
			return fmt.Errorf("%w: byte at offset %d holds 0x%02x, cannot program 0x%02x",
				ErrNotErased, off+int64(i), b, p[i])
		}
	}
	return nil
}

// Erase sets n bytes at off back to 0xFF. Both must be multiples of the
// sector size. The result is synced to disk before Erase returns.
func (a *Area) Erase(off, n int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.pc.alive(); err != nil {
		return a.fail("erase", off, int(n), err)
	}
	sector := int64(a.geo.SectorSize)
	if off%sector != 0 || n%sector != 0 {
		return a.fail("erase", off, int(n), fmt.Errorf("%w: sector size is %d", ErrAlign, sector))
	}
	if err := a.checkRange(off, n); err != nil {
		return a.fail("erase", off, int(n), err)
	}
	if n == 0 {
		return nil
	}
	land, cut := a.pc.begin(int(n / sector))
	if err := a.program(bytes.Repeat([]byte{0xFF}, land*int(sector)), off); err != nil {
		return a.fail("erase", off, int(n), err)
	}
	if cut != nil {
		return a.fail("erase", off, int(n), cut)
	}
	return nil
}

// program stores p at off in the file and syncs it.
func (a *Area) program(p []byte, off int64) error {
	if len(p) == 0 {
		return nil
	}
	if _, err := a.f.WriteAt(p, off); err != nil {
		return err
	}
	return a.f.Sync()
}
