package sim

import (
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"time"
)

// CampaignConfig says which scenarios a campaign runs. The zero value runs
// nothing.
type CampaignConfig struct {
	Exhaustive bool   // one fault at every step of the happy-path trace, for every kind and target
	Random     int    // this many scenarios of 1 to 3 random faults each
	Seed       uint64 // seed of the random scenarios and of every run
	Naive      bool   // run against the original note's flow
	Workers    int    // runs at once; 0 means GOMAXPROCS
}

// Report is a campaign's result.
type Report struct {
	Scenarios  int                       `json:"scenarios"`
	Faults     map[string]map[string]int `json:"faults"`   // kind → target → count
	Outcomes   map[string]int            `json:"outcomes"` // outcome → count
	Violations []Failure                 `json:"violations"`
	ResentMax  int                       `json:"resent_max_bytes"` // most bytes a run sent the primary beyond the happy path
	Elapsed    time.Duration             `json:"elapsed_ns"`
	Trace      Trace                     `json:"happy_path"`
}

// Failure is one run that broke a guarantee, with what replays it.
type Failure struct {
	Scenario   string      `json:"scenario"`
	Replay     string      `json:"replay"`
	Outcome    string      `json:"outcome"`
	Violations []Violation `json:"violations"`
}

// Campaign runs the scenarios cfg asks for and counts what happened.
func Campaign(cfg CampaignConfig, images *Images) Report {
	start := time.Now()
	base := Run(Scenario{Name: "happy path", Seed: cfg.Seed, Naive: cfg.Naive}, images)
	scenarios := []Scenario{base.Scenario}
	if cfg.Exhaustive {
		scenarios = append(scenarios, Exhaustive(base.Trace, cfg.Seed, cfg.Naive)...)
	}
	scenarios = append(scenarios, randomScenarios(base.Trace, max(0, cfg.Random), cfg.Seed, cfg.Naive)...)
	results := runAll(scenarios[1:], images, cfg.Workers)
	results = append([]Result{base}, results...)

	r := Report{Faults: map[string]map[string]int{}, Outcomes: map[string]int{}, Trace: base.Trace,
		Violations: []Failure{}}
	for _, res := range results {
		r.Scenarios++
		r.Outcomes[res.Outcome]++
		for _, f := range res.Scenario.Faults {
			if r.Faults[f.Kind] == nil {
				r.Faults[f.Kind] = map[string]int{}
			}
			r.Faults[f.Kind][f.Target]++
		}
		r.ResentMax = max(r.ResentMax, res.HostBytes-base.HostBytes)
		if len(res.Violations) > 0 {
			r.Violations = append(r.Violations, Failure{Scenario: res.Scenario.Name, Replay: res.Scenario.String(),
				Outcome: res.Outcome, Violations: res.Violations})
		}
	}
	r.Elapsed = time.Since(start)
	return r
}

// Exhaustive places one fault at every step of the happy-path trace: a power
// cut at every flash operation of each device, a link cut and a lost request
// at every request on each link, and the host stopping before every request.
func Exhaustive(t Trace, seed uint64, naive bool) []Scenario {
	var out []Scenario
	add := func(kind, target string, steps int) {
		for i := 0; i < steps; i++ {
			f := Fault{Kind: kind, Target: target, Step: i}
			out = append(out, Scenario{Name: f.String(), Seed: seed, Naive: naive, Faults: []Fault{f}})
		}
	}
	add(KindPower, Primary, t.FlashOps[0])
	add(KindPower, Secondary, t.FlashOps[1])
	for _, link := range []struct {
		name  string
		steps int
	}{{LinkHost, t.HostRequests}, {LinkD2D, t.D2DRequests}} {
		add(KindCut, link.name, link.steps)
		add(KindLoss, link.name, link.steps)
	}
	add(KindHost, LinkHost, t.HostRequests)
	return out
}

// randomScenarios draws n scenarios of one to three faults each, with steps
// within the happy-path trace, from seed.
func randomScenarios(t Trace, n int, seed uint64, naive bool) []Scenario {
	rng := rand.New(rand.NewPCG(seed, 0xca4a1))
	kinds := []struct {
		kind, target string
		steps        int
	}{
		{KindPower, Primary, t.FlashOps[0]}, {KindPower, Secondary, t.FlashOps[1]},
		{KindCut, LinkHost, t.HostRequests}, {KindCut, LinkD2D, t.D2DRequests},
		{KindLoss, LinkHost, t.HostRequests}, {KindLoss, LinkD2D, t.D2DRequests},
		{KindHost, LinkHost, t.HostRequests},
	}
	out := make([]Scenario, n)
	for i := range out {
		sc := Scenario{Seed: rng.Uint64(), Naive: naive}
		for j := rng.IntN(3); j >= 0; j-- {
			k := kinds[rng.IntN(len(kinds))]
			sc.Faults = append(sc.Faults, Fault{Kind: k.kind, Target: k.target, Step: rng.IntN(max(1, k.steps))})
		}
		sc.Name = sc.String()
		out[i] = sc
	}
	return out
}

// runAll runs scenarios on workers goroutines and returns the results in
// the scenarios' order.
func runAll(scenarios []Scenario, images *Images, workers int) []Result {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make([]Result, len(scenarios))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = Run(scenarios[i], images)
				results[i].Log = nil // a campaign keeps counts, not transcripts
			}
		}()
	}
	for i := range scenarios {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// SortedKeys returns m's keys in order, for printing.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
