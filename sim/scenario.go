package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fotasync/fotasync/transport/memlink"
)

// Fault kinds.
const (
	KindPower = "power" // a device loses power during one of its flash operations
	KindCut   = "cut"   // a link goes down for cutTime when a request is sent on it
	KindLoss  = "loss"  // one request on a link is lost
	KindHost  = "host"  // the host stops before sending a request; it is run again later
)

// Links and devices that faults name.
const (
	LinkHost  = "host" // host ↔ primary
	LinkD2D   = "d2d"  // primary ↔ secondary
	Primary   = "primary"
	Secondary = "secondary"
)

// cutTime is how long a link cut lasts.
const cutTime = 20 * time.Second

// Fault is one fault of a scenario. Step counts, from 0, the target's flash
// operations (power) or the requests sent on the target link (the others).
type Fault struct {
	Kind   string
	Target string
	Step   int
}

func (f Fault) String() string { return fmt.Sprintf("%s:%s@%d", f.Kind, f.Target, f.Step) }

// Scenario is one run: a seed, the variant of the pair, and its faults.
type Scenario struct {
	Name             string
	Seed             uint64
	Naive            bool // the primary follows the original note's flow
	SecondaryRejects bool // the secondary accepts only images signed with a key the image lacks
	Faults           []Fault
}

// String is the scenario's replay spec, which ParseScenario reads back.
func (s Scenario) String() string {
	parts := []string{fmt.Sprintf("seed=%d", s.Seed)}
	if s.Naive {
		parts = append(parts, "naive")
	}
	if s.SecondaryRejects {
		parts = append(parts, "reject")
	}
	for _, f := range s.Faults {
		parts = append(parts, f.String())
	}
	return strings.Join(parts, ";")
}

// ParseScenario reads a replay spec such as "seed=7;power:secondary@12;cut:d2d@40".
func ParseScenario(spec string) (Scenario, error) {
	var s Scenario
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
		case part == "naive":
			s.Naive = true
		case part == "reject":
			s.SecondaryRejects = true
		case strings.HasPrefix(part, "seed="):
			seed, err := strconv.ParseUint(strings.TrimPrefix(part, "seed="), 10, 64)
			if err != nil {
				return s, fmt.Errorf("sim: scenario %q: seed: %w", spec, err)
			}
			s.Seed = seed
		default:
			f, err := parseFault(part)
			if err != nil {
				return s, fmt.Errorf("sim: scenario %q: %w", spec, err)
			}
			s.Faults = append(s.Faults, f)
		}
	}
	return s, nil
}

func parseFault(s string) (Fault, error) {
	kind, rest, ok := strings.Cut(s, ":")
	target, step, ok2 := strings.Cut(rest, "@")
	if !ok || !ok2 {
		return Fault{}, fmt.Errorf("fault %q: want KIND:TARGET@STEP", s)
	}
	n, err := strconv.Atoi(step)
	if err != nil || n < 0 {
		return Fault{}, fmt.Errorf("fault %q: step %q is not a number", s, step)
	}
	f := Fault{Kind: kind, Target: target, Step: n}
	valid := map[string][]string{KindPower: {Primary, Secondary}, KindCut: {LinkHost, LinkD2D},
		KindLoss: {LinkHost, LinkD2D}, KindHost: {LinkHost}}
	targets, ok := valid[kind]
	if !ok {
		return Fault{}, fmt.Errorf("fault %q: kind %q is not power, cut, loss or host", s, kind)
	}
	for _, t := range targets {
		if t == target {
			return f, nil
		}
	}
	return Fault{}, fmt.Errorf("fault %q: %s faults take a target among %v", s, kind, targets)
}

// linkOf returns the link a fault target names.
func (w *world) linkOf(name string) *memlink.Link {
	if name == LinkHost {
		return w.hostLink
	}
	return w.d2dLink
}
