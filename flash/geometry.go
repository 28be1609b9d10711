package flash

import "fmt"

// DefaultSectorSize is the erase unit used when Geometry.SectorSize is zero.
const DefaultSectorSize = 4096

// Geometry describes one partition of NOR flash. All values are in bytes.
type Geometry struct {
	// Size is the partition size. It must be a positive multiple of SectorSize;
	// zero is invalid.
	Size int
	// SectorSize is the erase unit. Zero means DefaultSectorSize.
	SectorSize int
	// WriteAlign is the program unit: every write starts at and spans a
	// multiple of it. It must divide SectorSize. Zero means 1 (any offset).
	WriteAlign int
}

// withDefaults returns g with zero fields replaced by their defaults.
func (g Geometry) withDefaults() Geometry {
	if g.SectorSize == 0 {
		g.SectorSize = DefaultSectorSize
	}
	if g.WriteAlign == 0 {
		g.WriteAlign = 1
	}
	return g
}

// check reports the first field of g (with defaults applied) that is unusable.
func (g Geometry) check() error {
	switch {
	case g.SectorSize < 0:
		return fmt.Errorf("flash: geometry: sector size %d is negative", g.SectorSize)
	case g.WriteAlign < 0:
		return fmt.Errorf("flash: geometry: write align %d is negative", g.WriteAlign)
	case g.SectorSize%g.WriteAlign != 0:
		return fmt.Errorf("flash: geometry: write align %d does not divide sector size %d",
			g.WriteAlign, g.SectorSize)
	case g.Size <= 0 || g.Size%g.SectorSize != 0:
		return fmt.Errorf("flash: geometry: size %d is not a positive multiple of sector size %d",
			g.Size, g.SectorSize)
	}
	return nil
}
