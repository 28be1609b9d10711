package boot

import (
	"errors"
	"testing"

	"github.com/fotasync/fotasync/flash"
	"github.com/google/go-cmp/cmp"
)

func flagsOf(t *testing.T, s Slots) [2]SlotFlags {
	t.Helper()
	f, err := s.Flags()
	if err != nil {
		t.Fatalf("Flags: %v", err)
	}
	return f
}

// TestImageStateSequence follows the sequence observed in reference §3.1:
// after upload, after test, after the swap, after confirm.
func TestImageStateSequence(t *testing.T) {
	l := openLoader(t, tempDir(t), slotGeo, nil)
	install(t, l.Primary, synthImage(5000, 1, 1))
	install(t, l.Secondary, synthImage(7000, 2, 2))
	steps := []struct {
		name string
		act  func() error
		want [2]SlotFlags
	}{
		{"upload", func() error { return nil },
			[2]SlotFlags{{Active: true, Confirmed: true}, {}}},
		{"test", func() error { return l.SetPending(false) },
			[2]SlotFlags{{Active: true, Confirmed: true}, {Pending: true}}},
		{"reset", func() error { _, err := l.Boot(); return err },
			[2]SlotFlags{{Active: true}, {Confirmed: true}}},
		{"confirm", l.Confirm,
			[2]SlotFlags{{Active: true, Confirmed: true}, {}}},
	}
	for _, s := range steps {
		if err := s.act(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if diff := cmp.Diff(s.want, flagsOf(t, l.Slots)); diff != "" {
			t.Errorf("after %s (-want +got):\n%s", s.name, diff)
		}
	}
}

func TestSetPendingTwice(t *testing.T) {
	l := openLoader(t, tempDir(t), slotGeo, nil)
	if err := l.SetPending(true); err != nil {
		t.Fatal(err)
	}
	if err := l.SetPending(true); err != nil {
		t.Errorf("second permanent mark: %v, want nil", err)
	}
	if err := l.SetPending(false); !errors.Is(err, ErrAlreadyPending) {
		t.Errorf("test mark after permanent: %v, want ErrAlreadyPending", err)
	}
	want := [2]SlotFlags{{Active: true, Confirmed: true}, {Pending: true, Permanent: true}}
	if diff := cmp.Diff(want, flagsOf(t, l.Slots)); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
}

func TestConfirmWithoutTrailerWritesNothing(t *testing.T) {
	pc := flash.NewPowerCut(-1, 0)
	l := openLoader(t, tempDir(t), slotGeo, pc)
	if err := l.Confirm(); err != nil {
		t.Fatal(err)
	}
	if pc.Ops() != 0 {
		t.Errorf("Confirm on a primary without trailer made %d flash operations, want 0", pc.Ops())
	}
}

func TestConfirmBadMagic(t *testing.T) {
	l := openLoader(t, tempDir(t), slotGeo, nil)
	if _, err := l.Primary.WriteAt(make([]byte, 16), l.Primary.Size()-16); err != nil {
		t.Fatal(err)
	}
	if err := l.Confirm(); !errors.Is(err, ErrBadTrailer) {
		t.Errorf("Confirm: %v, want ErrBadTrailer", err)
	}
}

// TestSetPendingPowerCut cuts power at each write of a permanent mark: the
// next reset sees either no request or the permanent one, never a test, and
// marking again completes a torn attempt.
func TestSetPendingPowerCut(t *testing.T) {
	for k := 0; ; k++ {
		dir := tempDir(t)
		pc := flash.NewPowerCut(k, uint64(k))
		err := openLoader(t, dir, slotGeo, pc).SetPending(true)
		if !pc.Lost() {
			if err != nil {
				t.Fatal(err)
			}
			if k != 3 {
				t.Errorf("permanent mark took %d writes, want 3", k)
			}
			return
		}
		l := openLoader(t, dir, slotGeo, nil)
		if next, _ := l.NextSwap(); next != SwapNone && next != SwapPerm {
			t.Errorf("cut at %d: next swap %v, want none or perm", k, next)
		}
		if err := l.SetPending(true); err != nil {
			t.Errorf("cut at %d: marking again: %v", k, err)
		}
		if next, _ := l.NextSwap(); next != SwapPerm {
			t.Errorf("cut at %d: after marking again next swap %v, want perm", k, next)
		}
	}
}

func TestSlotsConfigErrors(t *testing.T) {
	l := openLoader(t, tempDir(t), slotGeo, nil)
	other, err := flash.Open(tempDir(t)+"/x.bin", flash.Geometry{Size: 4 * 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for name, s := range map[string]Slots{
		"missing secondary": {Primary: l.Primary},
		"bad align":         {Primary: l.Primary, Secondary: l.Secondary, MaxAlign: 12},
		"size mismatch":     {Primary: l.Primary, Secondary: other},
	} {
		if _, err := s.Flags(); err == nil {
			t.Errorf("%s: Flags succeeded, want error", name)
		}
	}
}
