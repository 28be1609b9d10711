package boot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/fotasync/fotasync/flash"
)

// outcome is what a device holds between resets.
type outcome struct {
	primary, secondary []byte   // images the slots start with (secondary nil: any)
	next               SwapType // swap the next reset would do
}

// cutScenario is a device state, the outcome of the Boot under test (done)
// and the outcome of one more reset after it (again).
type cutScenario struct {
	name        string
	status      flash.Geometry                // of the status area
	prepare     func(t *testing.T, l *Loader) // runs without power cuts
	done, again outcome
}

// open opens the scenario's device in dir.
func (sc cutScenario) open(t *testing.T, dir string, pc *flash.PowerCut) *Loader {
	t.Helper()
	return openLoaderWith(t, dir, slotGeo, sc.status, pc)
}

func cutScenarios(t *testing.T) []cutScenario {
	old, new := readFile(t, "hashonly_1k_v1.0.0.bin"), readFile(t, "hashonly_12345B_v2.0.0.bin")
	bigOld := synthImage(int(slotGeo.Size)-64, 1, 1)
	bigNew := synthImage(int(slotGeo.Size)-5000, 2, 2)
	corrupt := append([]byte(nil), new...)
	corrupt[0x1200] ^= 1
	garbage := []byte("garbage!")
	uploaded := func(pri, sec []byte, mark func(*Loader) error) func(*testing.T, *Loader) {
		return func(t *testing.T, l *Loader) {
			install(t, l.Primary, pri)
			install(t, l.Secondary, sec)
			if err := mark(l); err != nil {
				t.Fatal(err)
			}
		}
	}
	test := func(l *Loader) error { return l.SetPending(false) }
	perm := func(l *Loader) error { return l.SetPending(true) }
	none := func(*Loader) error { return nil }
	tested := func(spoil func(*Loader) error) func(*Loader) error {
		return func(l *Loader) error {
			if err := test(l); err != nil {
				return err
			}
			if _, err := l.Boot(); err != nil {
				return err
			}
			return spoil(l)
		}
	}
	spoil := func(l *Loader) error { return l.Secondary.Erase(0, 4096) }
	// A journal over four 64-byte sectors, to cut between their erases.
	smallSectors := flash.Geometry{Size: 512, SectorSize: 64, WriteAlign: 8}
	return []cutScenario{
		{"test swap", statusGeo, uploaded(old, new, test),
			outcome{new, old, SwapRevert}, outcome{old, new, SwapNone}},
		{"test swap of images reaching the last sector", statusGeo, uploaded(bigOld, bigNew, test),
			outcome{bigNew, bigOld, SwapRevert}, outcome{bigOld, bigNew, SwapNone}},
		{"permanent swap", statusGeo, uploaded(old, new, perm),
			outcome{new, old, SwapNone}, outcome{new, old, SwapNone}},
		{"revert", statusGeo, uploaded(old, new, tested(none)),
			outcome{old, new, SwapNone}, outcome{old, new, SwapNone}},
		{"revert with a journal over small sectors", smallSectors, uploaded(old, new, tested(none)),
			outcome{old, new, SwapNone}, outcome{old, new, SwapNone}},
		{"revert of large images", statusGeo, uploaded(bigOld, bigNew, tested(none)),
			outcome{bigOld, bigNew, SwapNone}, outcome{bigOld, bigNew, SwapNone}},
		{"rejected secondary", statusGeo, uploaded(old, corrupt, test),
			outcome{old, nil, SwapNone}, outcome{old, nil, SwapNone}},
		{"revert to a spoilt image", statusGeo, uploaded(old, new, tested(spoil)),
			outcome{new, nil, SwapNone}, outcome{new, nil, SwapNone}},
		{"invalid primary replaced", statusGeo, uploaded(garbage, new, none),
			outcome{new, garbage, SwapNone}, outcome{new, garbage, SwapNone}},
	}
}

// TestBootPowerCut cuts power at every flash operation of each scenario's
// Boot, and in a second pass once more during the Boot that follows. Then it
// checks the device: either the cut Boot had already finished its work (the
// cut hit its last write), or a Boot without cuts finishes it. Either way the
// slots hold complete images, byte for byte, and the primary validates.
func TestBootPowerCut(t *testing.T) {
	for _, sc := range cutScenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			template := tempDir(t)
			l := sc.open(t, template, nil)
			sc.prepare(t, l)
			closeLoader(l)

			ops := countOps(t, sc, template)
			if ops == 0 {
				t.Fatalf("Boot made no flash operation")
			}
			for k := range ops {
				cutAndRecover(t, sc, template, []int{k}, uint64(k))
				cutAndRecover(t, sc, template, []int{k, k % 7}, uint64(k)+1000)
			}
		})
	}
}

// countOps boots a copy of template without cuts, checks the outcome and
// returns how many flash operations the Boot made.
func countOps(t *testing.T, sc cutScenario, template string) int {
	dir := cloneDir(t, template)
	pc := flash.NewPowerCut(-1, 0)
	l := sc.open(t, dir, pc)
	mustBoot(t, l)
	closeLoader(l)
	if err := check(t, sc, dir, sc.done); err != nil {
		t.Errorf("no cut: %v", err)
	}
	return pc.Ops()
}

// cutAndRecover boots a copy of template once per cut index, each Boot
// powered through its own plan, and checks the result.
func cutAndRecover(t *testing.T, sc cutScenario, template string, cuts []int, seed uint64) {
	t.Helper()
	dir := cloneDir(t, template)
	defer os.RemoveAll(dir)
	// Once a cut Boot has left the done outcome (the cut hit a write after
	// the last one that mattered), every later Boot is a further reset.
	want := sc.done
	advance := func() {
		if check(t, sc, dir, sc.done) == nil {
			want = sc.again
		}
	}
	for i, k := range cuts {
		if i > 0 {
			advance()
		}
		l := sc.open(t, dir, flash.NewPowerCut(k, seed+uint64(i)))
		_, err := l.Boot()
		closeLoader(l)
		if (i == 0 && !errors.Is(err, flash.ErrPowerLost)) || (err != nil && !errors.Is(err, flash.ErrPowerLost)) {
			t.Fatalf("cuts %v: Boot %d err = %v, want ErrPowerLost", cuts, i, err)
		}
	}
	advance()
	l := sc.open(t, dir, nil)
	_, err := l.Boot()
	closeLoader(l)
	if err != nil {
		t.Fatalf("cuts %v: Boot without cut: %v", cuts, err)
	}
	if err := check(t, sc, dir, want); err != nil {
		t.Errorf("cuts %v: %v", cuts, err)
	}
}

// check compares the device in dir with o; a finished swap also leaves the
// journal idle.
func check(t *testing.T, sc cutScenario, dir string, o outcome) error {
	t.Helper()
	l := sc.open(t, dir, nil)
	defer closeLoader(l)
	var errs []error
	if !slotHas(t, l.Primary, o.primary) {
		errs = append(errs, errors.New("primary does not hold the expected image"))
	}
	if o.secondary != nil && !slotHas(t, l.Secondary, o.secondary) {
		errs = append(errs, errors.New("secondary does not hold the expected image"))
	}
	slot, err := readSlot(l.Primary)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateSHA256(slot); err != nil {
		errs = append(errs, fmt.Errorf("primary does not validate: %w", err))
	}
	if next, err := l.NextSwap(); err != nil || next != o.next {
		errs = append(errs, fmt.Errorf("next swap = %v, %v; want %v", next, err, o.next))
	}
	if _, _, busy, err := newJournal(l.Status, 8).read(); err != nil || busy {
		errs = append(errs, fmt.Errorf("journal busy = %v, %v; want idle", busy, err))
	}
	return errors.Join(errs...)
}

// cloneDir copies the device files of src into a new directory.
func cloneDir(t *testing.T, src string) string {
	t.Helper()
	dst := tempDir(t)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err == nil {
			err = os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
