package boot

import (
	"bytes"
	"errors"
	"testing"

	"github.com/fotasync/fotasync/flash"
	"github.com/google/go-cmp/cmp"
)

// pair is a device prepared with an old image running and a new one uploaded.
type pair struct {
	l        *Loader
	old, new []byte
}

func newPair(t *testing.T, old, new []byte) pair {
	t.Helper()
	l := openLoader(t, tempDir(t), slotGeo, nil)
	install(t, l.Primary, old)
	install(t, l.Secondary, new)
	return pair{l, old, new}
}

func realPair(t *testing.T) pair {
	return newPair(t, readFile(t, "hashonly_1k_v1.0.0.bin"), readFile(t, "hashonly_12345B_v2.0.0.bin"))
}

// expect checks which image each slot starts with and the Boot result.
func (p pair) expect(t *testing.T, what string, res Result, want Result, primary, secondary []byte) {
	t.Helper()
	bothOrNeither := cmp.Comparer(func(a, b error) bool { return (a == nil) == (b == nil) })
	if diff := cmp.Diff(want, res, bothOrNeither); diff != "" {
		t.Errorf("%s: result (-want +got):\n%s", what, diff)
	}
	if !slotHas(t, p.l.Primary, primary) {
		t.Errorf("%s: primary does not hold the expected image", what)
	}
	if secondary != nil && !slotHas(t, p.l.Secondary, secondary) {
		t.Errorf("%s: secondary does not hold the expected image", what)
	}
}

func TestBootWithoutRequest(t *testing.T) {
	p := realPair(t)
	p.expect(t, "boot", mustBoot(t, p.l), Result{Swap: SwapNone, Confirmed: true}, p.old, p.new)
}

func TestTestSwapThenRevert(t *testing.T) {
	p := realPair(t)
	if err := p.l.SetPending(false); err != nil {
		t.Fatal(err)
	}
	p.expect(t, "test boot", mustBoot(t, p.l), Result{Swap: SwapTest}, p.new, p.old)
	p.expect(t, "revert boot", mustBoot(t, p.l), Result{Swap: SwapRevert, Confirmed: true}, p.old, p.new)
	pri, sec, err := p.l.Trailers()
	if err != nil {
		t.Fatal(err)
	}
	wantPri := Trailer{Magic: MagicGood, ImageOK: FlagSet, CopyDone: FlagSet,
		SwapType: SwapRevert, SwapSize: 12897}
	if diff := cmp.Diff(wantPri, pri); diff != "" {
		t.Errorf("primary trailer after revert (-want +got):\n%s", diff)
	}
	if sec.Magic != MagicUnset {
		t.Errorf("secondary magic after revert = %v, want unset", sec.Magic)
	}
	p.expect(t, "third boot", mustBoot(t, p.l), Result{Swap: SwapNone, Confirmed: true}, p.old, p.new)
}

func TestTestSwapThenConfirm(t *testing.T) {
	p := realPair(t)
	if err := p.l.SetPending(false); err != nil {
		t.Fatal(err)
	}
	mustBoot(t, p.l)
	if err := p.l.Confirm(); err != nil {
		t.Fatal(err)
	}
	p.expect(t, "boot after confirm", mustBoot(t, p.l), Result{Swap: SwapNone, Confirmed: true}, p.new, p.old)
	p.expect(t, "boot again", mustBoot(t, p.l), Result{Swap: SwapNone, Confirmed: true}, p.new, p.old)
}

func TestPermanentSwap(t *testing.T) {
	p := realPair(t)
	if err := p.l.SetPending(true); err != nil {
		t.Fatal(err)
	}
	p.expect(t, "perm boot", mustBoot(t, p.l), Result{Swap: SwapPerm, Confirmed: true}, p.new, p.old)
	p.expect(t, "next boot", mustBoot(t, p.l), Result{Swap: SwapNone, Confirmed: true}, p.new, p.old)
}

// TestLargeImages swaps images that reach into the slot's last sector, just
// below the trailer.
func TestLargeImages(t *testing.T) {
	size := int(slotGeo.Size) - 48 - 16
	p := newPair(t, synthImage(size, 1, 1), synthImage(size-4000, 2, 2))
	if err := p.l.SetPending(false); err != nil {
		t.Fatal(err)
	}
	p.expect(t, "test boot", mustBoot(t, p.l), Result{Swap: SwapTest}, p.new, p.old)
	p.expect(t, "revert boot", mustBoot(t, p.l), Result{Swap: SwapRevert, Confirmed: true}, p.old, p.new)
}

func TestInvalidSecondaryIsNotSwapped(t *testing.T) {
	new := readFile(t, "hashonly_12345B_v2.0.0.bin")
	new[0x1200] ^= 0x01
	p := newPair(t, readFile(t, "hashonly_1k_v1.0.0.bin"), new)
	if err := p.l.SetPending(false); err != nil {
		t.Fatal(err)
	}
	res := mustBoot(t, p.l)
	want := Result{Swap: SwapFail, Confirmed: true, Rejected: errors.New("")}
	p.expect(t, "boot", res, want, p.old, nil)
	if !slotHas(t, p.l.Secondary, bytes.Repeat([]byte{0xFF}, int(slotGeo.Size))) {
		t.Errorf("rejected secondary was not erased")
	}
	p.expect(t, "next boot", mustBoot(t, p.l), Result{Swap: SwapNone, Confirmed: true}, p.old, nil)
}

func TestImageOverlappingTrailerIsRejected(t *testing.T) {
	// The image claims 8 bytes more than fit below the trailer; pretend it validates.
	tooBig := synthImage(int(slotGeo.Size)-40, 2, 2)[:slotGeo.Size-48]
	p := newPair(t, readFile(t, "hashonly_1k_v1.0.0.bin"), tooBig)
	p.l.Validate = func([]byte) error { return nil }
	if err := p.l.SetPending(true); err != nil {
		t.Fatal(err)
	}
	res := mustBoot(t, p.l)
	if res.Swap != SwapFail || res.Rejected == nil {
		t.Errorf("Boot = %+v, want SwapFail with a reason", res)
	}
}

// TestRevertToInvalidImageKeepsTestImage: when the fallback no longer
// validates, the running test image stays and is confirmed.
func TestRevertToInvalidImageKeepsTestImage(t *testing.T) {
	p := realPair(t)
	if err := p.l.SetPending(false); err != nil {
		t.Fatal(err)
	}
	mustBoot(t, p.l)
	if err := p.l.Secondary.Erase(0, 4096); err != nil {
		t.Fatal(err)
	}
	res := mustBoot(t, p.l)
	want := Result{Swap: SwapFail, Confirmed: true, Rejected: errors.New("")}
	p.expect(t, "revert boot", res, want, p.new, nil)
	if next, _ := p.l.NextSwap(); next != SwapNone {
		t.Errorf("next swap = %v, want none", next)
	}
}

func TestInvalidPrimaryIsReplaced(t *testing.T) {
	l := openLoader(t, tempDir(t), slotGeo, nil)
	img := readFile(t, "hashonly_12345B_v2.0.0.bin")
	install(t, l.Secondary, img)
	install(t, l.Primary, []byte("garbage!"))
	p := pair{l: l}
	p.expect(t, "boot", mustBoot(t, l), Result{Swap: SwapPerm, Confirmed: true}, img, []byte("garbage!"))
}

func TestNoImage(t *testing.T) {
	l := openLoader(t, tempDir(t), slotGeo, nil)
	if _, err := l.Boot(); !errors.Is(err, ErrNoImage) {
		t.Errorf("Boot on empty slots: %v, want ErrNoImage", err)
	}
}

func TestLoaderConfigErrors(t *testing.T) {
	dir := tempDir(t)
	l := openLoader(t, dir, slotGeo, nil)
	tiny, err := flash.Open(dir+"/tiny.bin", flash.Geometry{Size: 1024, SectorSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer tiny.Close()
	for name, bad := range map[string]Loader{
		"no validate":   {Slots: l.Slots, Scratch: l.Scratch, Status: l.Status},
		"no scratch":    {Slots: l.Slots, Status: l.Status, Validate: validateSHA256},
		"small scratch": {Slots: l.Slots, Scratch: tiny, Status: l.Status, Validate: validateSHA256},
	} {
		if _, err := bad.Boot(); err == nil {
			t.Errorf("%s: Boot succeeded, want error", name)
		}
	}
	// A status area too small for the journal fails before anything moves.
	status, err := flash.Open(dir+"/status64.bin", flash.Geometry{Size: 64, SectorSize: 64, WriteAlign: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer status.Close()
	old, new := readFile(t, "hashonly_1k_v1.0.0.bin"), readFile(t, "hashonly_12345B_v2.0.0.bin")
	install(t, l.Primary, old)
	install(t, l.Secondary, new)
	if err := l.SetPending(false); err != nil {
		t.Fatal(err)
	}
	small := Loader{Slots: l.Slots, Scratch: l.Scratch, Status: status, Validate: validateSHA256}
	if _, err := small.Boot(); err == nil {
		t.Errorf("Boot with a 64-byte status area succeeded, want error")
	}
	if !slotHas(t, l.Primary, old) || !slotHas(t, l.Secondary, new) {
		t.Errorf("failed Boot changed the slots")
	}
}
