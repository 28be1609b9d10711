package flash

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// device opens two areas powered through one plan.
func device(t *testing.T, dir string, pc *PowerCut) (a, b *Area) {
	t.Helper()
	var err error
	if a, err = pc.Open(filepath.Join(dir, "a.bin"), small); err != nil {
		t.Fatal(err)
	}
	if b, err = pc.Open(filepath.Join(dir, "b.bin"), small); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// script runs a fixed sequence of four operations and returns the first error.
func script(a, b *Area) error {
	data := bytes.Repeat([]byte{0x11}, 256)
	if _, err := a.WriteAt(data, 0); err != nil {
		return err
	}
	if _, err := b.WriteAt(data, 256); err != nil {
		return err
	}
	if err := a.Erase(0, 1024); err != nil {
		return err
	}
	_, err := b.WriteAt(data, 512)
	return err
}

func TestPowerCutCountsOperations(t *testing.T) {
	pc := NewPowerCut(-1, 0)
	a, b := device(t, t.TempDir(), pc)
	if err := script(a, b); err != nil {
		t.Fatalf("script without cut: %v", err)
	}
	if _, err := a.WriteAt(make([]byte, 3), 0); err == nil {
		t.Fatal("misaligned write succeeded")
	}
	if got, want := pc.Ops(), 4; got != want {
		t.Errorf("Ops() = %d, want %d (rejected writes do not count)", got, want)
	}
	if pc.Lost() {
		t.Errorf("Lost() = true without a cut")
	}
}

func TestPowerCutTearsOneOperationAndStopsTheRest(t *testing.T) {
	for k := range 4 {
		dir := t.TempDir()
		pc := NewPowerCut(k, 7)
		a, b := device(t, dir, pc)
		err := script(a, b)
		if !errors.Is(err, ErrPowerLost) {
			t.Fatalf("cut at %d: script err = %v, want ErrPowerLost", k, err)
		}
		if got := pc.Ops(); got != k+1 {
			t.Errorf("cut at %d: Ops() = %d, want %d", k, got, k+1)
		}
		if _, err := b.ReadAt(make([]byte, 1), 0); !errors.Is(err, ErrPowerLost) {
			t.Errorf("cut at %d: read after cut: err = %v, want ErrPowerLost", k, err)
		}
		if err := a.Erase(0, 256); !errors.Is(err, ErrPowerLost) {
			t.Errorf("cut at %d: erase after cut: err = %v, want ErrPowerLost", k, err)
		}
		a.Close()
		b.Close()
		if _, err := Open(filepath.Join(dir, "a.bin"), small); err != nil {
			t.Errorf("cut at %d: reopen: %v", k, err)
		}
	}
}

// TestTornWriteIsAPrefix checks that a torn write lands a prefix of its bytes
// and that the same plan inputs always tear at the same place.
func TestTornWriteIsAPrefix(t *testing.T) {
	data := bytes.Repeat([]byte{0x00}, 256)
	var first []byte
	for run := range 2 {
		pc := NewPowerCut(0, 42)
		a, _ := device(t, t.TempDir(), pc)
		n, err := a.WriteAt(data, 256)
		if !errors.Is(err, ErrPowerLost) {
			t.Fatalf("err = %v, want ErrPowerLost", err)
		}
		a.Close()
		b, err := Open(filepath.Join(filepath.Dir(a.f.Name()), "a.bin"), small)
		if err != nil {
			t.Fatal(err)
		}
		got := read(t, b, 256, 256)
		b.Close()
		want := append(bytes.Repeat([]byte{0x00}, n), bytes.Repeat([]byte{0xFF}, 256-n)...)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("run %d: torn write of %d bytes is not a prefix (-want +got):\n%s", run, n, diff)
		}
		if run == 1 && !bytes.Equal(first, got) {
			t.Errorf("same plan tore differently on a second run")
		}
		first = got
	}
}

func TestTornEraseIsASectorPrefix(t *testing.T) {
	seen := map[int]bool{}
	for seed := range uint64(40) {
		pc := NewPowerCut(1, seed)
		a, _ := device(t, t.TempDir(), pc)
		if _, err := a.WriteAt(bytes.Repeat([]byte{0}, 1024), 0); err != nil {
			t.Fatal(err)
		}
		if err := a.Erase(0, 1024); !errors.Is(err, ErrPowerLost) {
			t.Fatalf("err = %v, want ErrPowerLost", err)
		}
		b, err := Open(filepath.Join(filepath.Dir(a.f.Name()), "a.bin"), small)
		if err != nil {
			t.Fatal(err)
		}
		got := read(t, b, 0, 1024)
		b.Close()
		erased := bytes.IndexByte(got, 0)
		if erased < 0 {
			erased = len(got)
		}
		if erased%256 != 0 || !bytes.Equal(got[erased:], make([]byte, 1024-erased)) {
			t.Fatalf("seed %d: torn erase is not a whole-sector prefix", seed)
		}
		seen[erased/256] = true
	}
	if len(seen) < 3 {
		t.Errorf("40 seeds erased only %d distinct sector counts, want a spread", len(seen))
	}
}

func TestCutNow(t *testing.T) {
	pc := NewPowerCut(-1, 0)
	a, _ := device(t, t.TempDir(), pc)
	pc.Cut()
	if _, err := a.WriteAt([]byte{0}, 0); !errors.Is(err, ErrPowerLost) {
		t.Errorf("write after Cut: err = %v, want ErrPowerLost", err)
	}
	if pc.Ops() != 0 {
		t.Errorf("Ops() = %d after Cut, want 0", pc.Ops())
	}
}
