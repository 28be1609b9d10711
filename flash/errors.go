package flash

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrPowerLost means the device's power was cut: the operation that was
	// running landed only partly, and every later one fails until the areas
	// are opened again.
	ErrPowerLost = errors.New("flash: power lost")
	// ErrNotErased means a write would change bytes that are already
	// programmed; NOR flash only programs erased (0xFF) bytes.
	ErrNotErased = errors.New("flash: not erased")
	// ErrAlign means an offset or length is not a multiple of the write
	// alignment (writes) or of the sector size (erases).
	ErrAlign = errors.New("flash: misaligned")
	// ErrRange means an operation reaches outside the area.
	ErrRange = errors.New("flash: out of range")
)

// OpError describes a failed read, write or erase on one area.
type OpError struct {
	Op   string // "read", "write" or "erase"
	Area string // base name of the area's file
	Off  int64  // first byte of the operation
	Len  int64  // bytes the operation covers
	Err  error  // the cause
}

func (e *OpError) Error() string {
	cause := strings.TrimPrefix(e.Err.Error(), "flash: ")
	return fmt.Sprintf("flash: %s %s at offset %d length %d: %s", e.Op, e.Area, e.Off, e.Len, cause)
}

func (e *OpError) Unwrap() error { return e.Err }
