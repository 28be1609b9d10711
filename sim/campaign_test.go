package sim

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestCampaign is the CI campaign: one fault at every step of the happy path
// and enough random runs to make at least 5000, with no broken guarantee.
func TestCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("the full campaign takes a minute or two")
	}
	images := testImages(t)
	base := Run(Scenario{Seed: 1}, images)
	exhaustive := len(Exhaustive(base.Trace, 1, false))
	r := Campaign(CampaignConfig{Exhaustive: true, Random: 5000 - exhaustive, Seed: 1}, images)
	t.Logf("%d scenarios in %v: outcomes %v, faults %v", r.Scenarios, r.Elapsed, r.Outcomes, r.Faults)
	if r.Scenarios < 5000 {
		t.Errorf("ran %d scenarios, want at least 5000", r.Scenarios)
	}
	for _, f := range r.Violations {
		t.Errorf("%v\n    replay: fotasync sim --replay '%s'", f.Violations, f.Replay)
	}
}

// TestNaiveFlowIsCaught runs the same checks against the original note's
// flow, which resets the primary as soon as its own copy is done: the
// checker must report mismatched pairs.
func TestNaiveFlowIsCaught(t *testing.T) {
	images := testImages(t)
	r := Campaign(CampaignConfig{Random: 40, Seed: 3, Naive: true}, images)
	mismatched := 0
	for _, f := range r.Violations {
		for _, v := range f.Violations {
			if v.Guarantee == "G1" && strings.HasPrefix(v.Detail, "mismatched") {
				mismatched++
				break
			}
		}
	}
	t.Logf("%d of %d naive runs ended mismatched", mismatched, r.Scenarios)
	if mismatched == 0 {
		t.Fatal("no naive run ended mismatched: the checker cannot fail")
	}
}

// TestRandomFaultsKeepGuarantees drives random fault sequences (rapid) and
// checks the same invariants as the campaign.
func TestRandomFaultsKeepGuarantees(t *testing.T) {
	images := testImages(t)
	trace := Run(Scenario{Seed: 1}, images).Trace
	steps := map[string]map[string]int{
		KindPower: {Primary: trace.FlashOps[0], Secondary: trace.FlashOps[1]},
		KindCut:   {LinkHost: trace.HostRequests, LinkD2D: trace.D2DRequests},
		KindLoss:  {LinkHost: trace.HostRequests, LinkD2D: trace.D2DRequests},
		KindHost:  {LinkHost: trace.HostRequests},
	}
	rapid.Check(t, func(t *rapid.T) {
		sc := Scenario{Seed: rapid.Uint64().Draw(t, "seed")}
		for i, n := 0, rapid.IntRange(1, 4).Draw(t, "faults"); i < n; i++ {
			kind := rapid.SampledFrom([]string{KindPower, KindCut, KindLoss, KindHost}).Draw(t, "kind")
			target := rapid.SampledFrom(SortedKeys(steps[kind])).Draw(t, "target")
			step := rapid.IntRange(0, steps[kind][target]-1).Draw(t, "step")
			sc.Faults = append(sc.Faults, Fault{Kind: kind, Target: target, Step: step})
		}
		res := Run(sc, images)
		if len(res.Violations) > 0 {
			t.Fatalf("%v\nreplay: fotasync sim --replay '%s'", res.Violations, sc)
		}
	})
}
