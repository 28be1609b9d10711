package flash

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var small = Geometry{Size: 4 * 256, SectorSize: 256, WriteAlign: 4}

func openTemp(t *testing.T, g Geometry) (*Area, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "slot0.bin")
	a, err := Open(path, g)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a, path
}

func read(t *testing.T, a *Area, off int64, n int) []byte {
	t.Helper()
	p := make([]byte, n)
	if _, err := a.ReadAt(p, off); err != nil {
		t.Fatalf("ReadAt(%d, %d): %v", off, n, err)
	}
	return p
}

func TestOpenCreatesErasedFile(t *testing.T) {
	a, path := openTemp(t, small)
	if got, want := a.Size(), int64(1024); got != want {
		t.Errorf("Size() = %d, want %d", got, want)
	}
	if got := read(t, a, 0, 1024); !bytes.Equal(got, bytes.Repeat([]byte{0xFF}, 1024)) {
		t.Errorf("new area is not erased")
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() != 1024 {
		t.Errorf("file: %v, size %d, want 1024", err, st.Size())
	}
}

func TestOpenDefaults(t *testing.T) {
	a, _ := openTemp(t, Geometry{Size: 8192})
	want := Geometry{Size: 8192, SectorSize: 4096, WriteAlign: 1}
	if diff := cmp.Diff(want, a.Geometry()); diff != "" {
		t.Errorf("Geometry() mismatch (-want +got):\n%s", diff)
	}
}

func TestOpenRejectsBadGeometry(t *testing.T) {
	for _, g := range []Geometry{
		{},
		{Size: 1000, SectorSize: 256},
		{Size: 1024, SectorSize: 256, WriteAlign: 3},
		{Size: 1024, SectorSize: -256},
	} {
		if _, err := Open(filepath.Join(t.TempDir(), "x.bin"), g); err == nil {
			t.Errorf("Open(%+v) succeeded, want error", g)
		}
	}
}

func TestOpenChecksExistingSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slot1.bin")
	if err := os.WriteFile(path, make([]byte, 512), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, small)
	if err == nil || !strings.Contains(err.Error(), "slot1.bin") {
		t.Errorf("Open on a 512-byte file: err = %v, want a size error naming slot1.bin", err)
	}
}

func TestWriteSurvivesReopen(t *testing.T) {
	a, path := openTemp(t, small)
	data := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	if _, err := a.WriteAt(data, 256); err != nil {
		t.Fatalf("WriteAt: %v", err)
	}
	a.Close()
	b, err := Open(path, small)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer b.Close()
	if diff := cmp.Diff(data, read(t, b, 256, 8)); diff != "" {
		t.Errorf("data after reopen (-want +got):\n%s", diff)
	}
}

func TestNORRule(t *testing.T) {
	a, _ := openTemp(t, small)
	if _, err := a.WriteAt([]byte{0x0F, 0xFF, 0x00, 0x12}, 8); err != nil {
		t.Fatalf("first write: %v", err)
	}
	// The same data again, and programming the byte left erased, are allowed.
	if _, err := a.WriteAt([]byte{0x0F, 0x34, 0x00, 0x12}, 8); err != nil {
		t.Fatalf("rewrite with same data: %v", err)
	}
	// 0x0F -> 0x0E only clears a bit, but the byte is no longer erased.
	_, err := a.WriteAt([]byte{0x0E, 0x34, 0x00, 0x12}, 8)
	if !errors.Is(err, ErrNotErased) {
		t.Fatalf("overwrite: err = %v, want ErrNotErased", err)
	}
	for _, s := range []string{"slot0.bin", "offset 8 ", "length 4", "byte at offset 8 holds 0x0f"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
	if diff := cmp.Diff([]byte{0x0F, 0x34, 0x00, 0x12}, read(t, a, 8, 4)); diff != "" {
		t.Errorf("rejected write changed flash (-want +got):\n%s", diff)
	}
}

func TestEraseSectors(t *testing.T) {
	a, _ := openTemp(t, small)
	full := bytes.Repeat([]byte{0xA5}, 1024)
	if _, err := a.WriteAt(full, 0); err != nil {
		t.Fatal(err)
	}
	if err := a.Erase(256, 512); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	want := append(bytes.Repeat([]byte{0xA5}, 256), bytes.Repeat([]byte{0xFF}, 512)...)
	want = append(want, bytes.Repeat([]byte{0xA5}, 256)...)
	if !bytes.Equal(read(t, a, 0, 1024), want) {
		t.Errorf("Erase(256, 512) did not erase exactly sectors 1 and 2")
	}
	if _, err := a.WriteAt([]byte{1, 2, 3, 4}, 256); err != nil {
		t.Errorf("write after erase: %v", err)
	}
}

func TestArgumentErrors(t *testing.T) {
	a, _ := openTemp(t, small)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"write offset", second(a.WriteAt(make([]byte, 4), 2)), ErrAlign},
		{"write length", second(a.WriteAt(make([]byte, 3), 0)), ErrAlign},
		{"write past end", second(a.WriteAt(make([]byte, 8), 1020)), ErrRange},
		{"read past end", second(a.ReadAt(make([]byte, 8), 1020)), ErrRange},
		{"read negative", second(a.ReadAt(make([]byte, 1), -1)), ErrRange},
		{"erase offset", a.Erase(128, 256), ErrAlign},
		{"erase length", a.Erase(0, 100), ErrAlign},
		{"erase past end", a.Erase(768, 512), ErrRange},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, c.err, c.want)
		}
		var op *OpError
		if !errors.As(c.err, &op) || op.Area != "slot0.bin" {
			t.Errorf("%s: err = %v, want an *OpError naming slot0.bin", c.name, c.err)
		}
	}
}

func second(_ int, err error) error { return err }
