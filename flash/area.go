// Package flash emulates NOR flash partitions, each stored in its own file.
//
// An Area behaves like a flash partition: erased bytes read 0xFF, a write may
// only program erased bytes (or rewrite a byte with the value it already has),
// and erasing works on whole sectors. Every write and erase is synced to disk
// before it returns, so the file always shows what a device would find after
// a reset. A PowerCut plan shared by the areas of one device tears one chosen
// operation and fails every later one, to test recovery from power loss.
package flash

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Area is one flash partition backed by one file. It is safe for concurrent use.
type Area struct {
	mu   sync.Mutex
	f    *os.File
	name string
	geo  Geometry
	pc   *PowerCut // nil: power is never cut
}

// Open opens the partition stored at path. An absent file is created fully
// erased; an existing file must be exactly g.Size bytes long.
func Open(path string, g Geometry) (*Area, error) {
	return open(path, g, nil)
}

func open(path string, g Geometry, pc *PowerCut) (*Area, error) {
	g = g.withDefaults()
	if err := g.check(); err != nil {
		return nil, err
	}
	if err := ensureFile(path, g.Size); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("flash: open: %w", err)
	}
	return &Area{f: f, name: filepath.Base(path), geo: g, pc: pc}, nil
}

// ensureFile creates an erased file of size bytes at path unless one exists,
// and checks the size of an existing one. Creation goes through a temporary
// file and a rename, so a crash never leaves a short file behind.
func ensureFile(path string, size int) error {
	st, err := os.Stat(path)
	if err == nil {
		if st.Size() != int64(size) {
			return fmt.Errorf("flash: open %s: file size %d, geometry wants %d",
				filepath.Base(path), st.Size(), size)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("flash: open: %w", err)
	}
	tmp := path + ".new"
	if err := writeSynced(tmp, bytes.Repeat([]byte{0xFF}, size)); err != nil {
		return fmt.Errorf("flash: create %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("flash: create %s: %w", filepath.Base(path), err)
	}
	return syncDir(filepath.Dir(path))
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("flash: sync directory: %w", err)
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// Name returns the base name of the area's file.
func (a *Area) Name() string { return a.name }

// Size returns the partition size in bytes.
func (a *Area) Size() int64 { return int64(a.geo.Size) }

// Geometry returns the partition's geometry with defaults filled in.
func (a *Area) Geometry() Geometry { return a.geo }

// Close closes the backing file. It works even after a power cut.
func (a *Area) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.f.Close(); err != nil {
		return fmt.Errorf("flash: close %s: %w", a.name, err)
	}
	return nil
}

// ReadAt reads len(p) bytes at off. Reading fails once power is lost.
func (a *Area) ReadAt(p []byte, off int64) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.pc.alive(); err != nil {
		return 0, a.fail("read", off, len(p), err)
	}
	if err := a.checkRange(off, int64(len(p))); err != nil {
		return 0, a.fail("read", off, len(p), err)
	}
	n, err := a.f.ReadAt(p, off)
	if err != nil {
		return n, a.fail("read", off, len(p), err)
	}
	return n, nil
}

func (a *Area) checkRange(off, n int64) error {
	if off < 0 || n < 0 || off > a.Size()-n {
		return fmt.Errorf("%w: area size is %d", ErrRange, a.Size())
	}
	return nil
}

func (a *Area) fail(op string, off int64, n int, err error) error {
	return &OpError{Op: op, Area: a.name, Off: off, Len: int64(n), Err: err}
}
