package sim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReplayIsExact runs scenarios twice and requires the same transcript
// to the nanosecond of virtual time: a run is replayed from its spec alone.
func TestReplayIsExact(t *testing.T) {
	images := testImages(t)
	for _, spec := range []string{
		"seed=3",
		"seed=4;power:secondary@40;cut:host@12",
		"seed=5;loss:d2d@7;host:host@20;power:primary@60",
	} {
		sc, err := ParseScenario(spec)
		if err != nil {
			t.Fatal(err)
		}
		first, second := Run(sc, images), Run(sc, images)
		if diff := cmp.Diff(first.Log, second.Log); diff != "" {
			t.Errorf("%s: transcripts differ between two runs (-first +second):\n%s", spec, diff)
		}
		if first.Outcome != second.Outcome || first.HostBytes != second.HostBytes {
			t.Errorf("%s: outcome %s/%s, host bytes %d/%d", spec, first.Outcome, second.Outcome,
				first.HostBytes, second.HostBytes)
		}
	}
}

func TestScenarioSpecRoundTrip(t *testing.T) {
	want := Scenario{Seed: 9, Naive: true, SecondaryRejects: true,
		Faults: []Fault{{KindPower, Primary, 3}, {KindCut, LinkD2D, 4}, {KindLoss, LinkHost, 0}, {KindHost, LinkHost, 8}}}
	got, err := ParseScenario(want.String())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"seed=x", "power:host@1", "cut:d2d", "melt:primary@1", "loss:d2d@-1"} {
		if _, err := ParseScenario(bad); err == nil {
			t.Errorf("ParseScenario(%q) = nil error", bad)
		}
	}
}

var sharedImages *Images

func testImages(t testing.TB) *Images {
	t.Helper()
	if sharedImages == nil {
		images, err := BuildImages()
		if err != nil {
			t.Fatal(err)
		}
		sharedImages = images
	}
	return sharedImages
}
