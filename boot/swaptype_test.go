package boot

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNextSwap walks the rows of the reference §6.2 table.
func TestNextSwap(t *testing.T) {
	good := Trailer{Magic: MagicGood}
	with := func(tr Trailer, f func(*Trailer)) Trailer { f(&tr); return tr }
	testMark := good
	permMark := with(good, func(t *Trailer) { t.ImageOK = FlagSet })
	ranTest := with(good, func(t *Trailer) { t.CopyDone = FlagSet })
	cases := []struct {
		name         string
		primary, sec Trailer
		want         SwapType
	}{
		{"both erased", Trailer{}, Trailer{}, SwapNone},
		{"row 1 test", Trailer{}, testMark, SwapTest},
		{"row 1 wins over row 3", ranTest, testMark, SwapTest},
		{"row 2 permanent", Trailer{}, permMark, SwapPerm},
		{"row 3 revert", ranTest, Trailer{}, SwapRevert},
		{"confirmed test image", with(ranTest, func(t *Trailer) { t.ImageOK = FlagSet }), Trailer{}, SwapNone},
		{"copy_done unset", good, Trailer{}, SwapNone},
		{"primary magic bad", with(ranTest, func(t *Trailer) { t.Magic = MagicBad }), Trailer{}, SwapNone},
		{"secondary magic bad", Trailer{}, Trailer{Magic: MagicBad}, SwapNone},
		{"secondary image_ok bad", Trailer{}, with(good, func(t *Trailer) { t.ImageOK = FlagBad }), SwapNone},
		{"secondary image_ok without magic", Trailer{}, Trailer{ImageOK: FlagSet}, SwapNone},
	}
	for _, c := range cases {
		if got := NextSwap(c.primary, c.sec); got != c.want {
			t.Errorf("%s: NextSwap = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestStateFlags follows reference §3.1 and its observed sequence.
func TestStateFlags(t *testing.T) {
	cases := map[SwapType][2]SlotFlags{
		SwapNone:   {{Active: true, Confirmed: true}, {}},
		SwapTest:   {{Active: true, Confirmed: true}, {Pending: true}},
		SwapPerm:   {{Active: true, Confirmed: true}, {Pending: true, Permanent: true}},
		SwapRevert: {{Active: true}, {Confirmed: true}},
	}
	for typ, want := range cases {
		if diff := cmp.Diff(want, StateFlags(typ)); diff != "" {
			t.Errorf("StateFlags(%v) mismatch (-want +got):\n%s", typ, diff)
		}
	}
}

func TestSwapTypeString(t *testing.T) {
	names := map[SwapType]string{SwapNone: "none", SwapRevert: "revert", SwapPanic: "panic", 9: "SwapType(9)"}
	for typ, want := range names {
		if got := typ.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
