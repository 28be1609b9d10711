package client

import (
	"context"
	"fmt"
)

// bytesSource is a complete file held in memory.
type bytesSource []byte

func (b bytesSource) Len() int   { return len(b) }
func (b bytesSource) Ready() int { return len(b) }

func (b bytesSource) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(b)) {
		return 0, fmt.Errorf("client: read %d bytes at offset %d of a %d-byte file", len(p), off, len(b))
	}
	return copy(p, b[off:]), nil
}

func (b bytesSource) Wait(ctx context.Context, n int) error {
	return fmt.Errorf("client: source is complete at %d bytes; waited for more than %d", len(b), n)
}
