package sim

import "testing"

func TestHappyPath(t *testing.T) {
	images, err := BuildImages()
	if err != nil {
		t.Fatal(err)
	}
	res := Run(Scenario{Seed: 1}, images)
	for _, l := range res.Log {
		t.Log(l)
	}
	t.Logf("%+v %+v hostbytes=%d", res.Outcome, res.Trace, res.HostBytes)
	if res.Outcome != OutcomeUpdated {
		t.Fatalf("outcome %s: %v", res.Outcome, res.Violations)
	}
}
