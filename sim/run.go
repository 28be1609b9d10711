package sim

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/flash"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
)

// Outcomes of a run.
const (
	OutcomeUpdated       = "updated"        // both run the new image, confirmed
	OutcomeRolledForward = "rolled forward" // updated, after recovering past the commit point
	OutcomeRolledBack    = "rolled back"    // both run the old image, confirmed
	OutcomeBroken        = "broken"         // anything else: see the violations
)

// Result is what one run did and whether it kept the guarantees.
type Result struct {
	Scenario   Scenario
	Outcome    string
	Violations []Violation
	Trace      Trace
	HostBytes  int // bytes of the host's upload requests to the primary (G3: what was sent again)
	Final      [2]DeviceEnd
	Duration   time.Duration // virtual time from the host's first run to its last run's end
	Log        []string
}

// DeviceEnd is what a device runs at the end of a run.
type DeviceEnd struct {
	Version   string // as the image list reports it; "" when the device does not run
	Confirmed bool
}

// Violation is a broken guarantee.
type Violation struct {
	Guarantee string `json:"guarantee"` // "G1" … "G5"
	Detail    string `json:"detail"`
}

func (v Violation) String() string { return v.Guarantee + ": " + v.Detail }

// Trace counts the steps of a run, where faults can be placed.
type Trace struct {
	HostRequests int `json:"host_requests"` // requests the host sent to the primary
	D2DRequests  int `json:"d2d_requests"`  // requests the primary sent to the secondary
	// FlashOps counts the operations (flash writes and erases, journal
	// writes) of the primary and the secondary in their first power cycle.
	FlashOps [2]int `json:"device_operations"`
}

// Run plays one scenario to its end, in the default setup, and checks the
// guarantees.
func Run(sc Scenario, images *Images) Result {
	return RunSetup(sc, images, Setup{})
}

// RunSetup is Run in another setup (link models, window, target).
func RunSetup(sc Scenario, images *Images, setup Setup) Result {
	res := Result{Scenario: sc}
	w, err := newWorld(sc, images, setup)
	if err != nil {
		res.Outcome, res.Violations = OutcomeBroken, []Violation{{"setup", err.Error()}}
		return res
	}
	defer w.close()
	var cuts [2]*flash.PowerCut
	for i, n := range w.nodes {
		at := -1
		for _, f := range sc.Faults {
			if f.Kind == KindPower && f.Target == n.name {
				at = f.Step
			}
		}
		if err := provision(n.cfg, images.Old); err != nil {
			res.Outcome, res.Violations = OutcomeBroken, []Violation{{"setup", err.Error()}}
			return res
		}
		cuts[i] = flash.NewPowerCut(at, sc.Seed^uint64(i+1))
	}
	w.powerOn(w.nodes[1], cuts[1], nil)
	w.powerOn(w.nodes[0], cuts[0], nil)
	w.host.w = w
	w.host.start()
	pending := w.clk.Run(epoch.Add(runLimit))
	res.Violations = w.check(pending)
	res.Final = w.final()
	res.Violations = append(res.Violations, w.checkStatus()...)
	res.Outcome = w.outcome(res.Violations)
	res.Trace = Trace{HostRequests: w.hostConn.sent, D2DRequests: w.d2dConn.sent,
		FlashOps: [2]int{cuts[0].Ops(), cuts[1].Ops()}}
	res.HostBytes = w.hostConn.uploadBytes
	res.Duration = w.host.finished.Sub(epoch)
	res.Log = w.log
	return res
}

// provision puts the old image on a new device, as the factory does.
func provision(cfg device.Config, image []byte) error {
	dev, err := device.Open(cfg)
	if err != nil {
		return err
	}
	if err := dev.Provision(image); err != nil {
		dev.Close()
		return err
	}
	return dev.Close()
}

// check tests G1, G2 and G4 on the pair as the run left it.
func (w *world) check(pending bool) []Violation {
	var v []Violation
	if pending {
		v = append(v, Violation{"G4", fmt.Sprintf("still busy after %v of virtual time", runLimit)})
	}
	if !w.host.done && !w.host.gaveUp {
		v = append(v, Violation{"G4", "the host's update never returned"})
	}
	var running [2]smp.ImageSlot
	for i, n := range w.nodes {
		switch {
		case n.bootErr != nil:
			v = append(v, Violation{"G2", fmt.Sprintf("%s does not boot: %v", n.name, n.bootErr)})
			continue
		case n.dev == nil:
			v = append(v, Violation{"G4", n.name + " is still off"})
			continue
		}
		img, ok := n.dev.Running()
		if !ok {
			v = append(v, Violation{"G2", n.name + " has no image in its primary slot"})
			continue
		}
		if err := n.dev.Validate(img); err != nil {
			v = append(v, Violation{"G2", fmt.Sprintf("%s runs an image that does not verify: %v", n.name, err)})
		}
		list, err := n.dev.Images()
		if err != nil {
			v = append(v, Violation{"G2", fmt.Sprintf("%s: image state: %v", n.name, err)})
			continue
		}
		for _, s := range list {
			switch {
			case s.Active:
				running[i] = s
			case s.Pending:
				v = append(v, Violation{"G1", fmt.Sprintf("%s has slot %d pending: its next reset switches it", n.name, s.Slot)})
			}
		}
		if !running[i].Confirmed {
			v = append(v, Violation{"G1", fmt.Sprintf("%s runs %s unconfirmed: its next reset reverts it", n.name, running[i].Version)})
		}
	}
	if running[0].Hash != nil && running[1].Hash != nil && !bytes.Equal(running[0].Hash, running[1].Hash) {
		v = append(v, Violation{"G1", fmt.Sprintf("mismatched: primary runs %s, secondary runs %s",
			running[0].Version, running[1].Version)})
	}
	return v
}

// final reads what each device runs.
func (w *world) final() [2]DeviceEnd {
	var end [2]DeviceEnd
	for i, n := range w.nodes {
		if n.dev == nil {
			continue
		}
		list, _ := n.dev.Images()
		for _, s := range list {
			if s.Active {
				end[i] = DeviceEnd{Version: s.Version, Confirmed: s.Confirmed}
			}
		}
	}
	return end
}

// checkStatus tests G5: the host can read the pair's state at the end.
func (w *world) checkStatus() []Violation {
	if w.nodes[0].dev == nil {
		return nil // reported as G4 already
	}
	var err error
	done := false
	clock.Go(w.clk, func() {
		ctx, cancel := clock.WithTimeout(context.Background(), w.clk, 10*time.Second)
		defer cancel()
		c := client.New(w.hostLink.Client(), client.Options{Clock: w.clk, Seq: 0x80})
		var st pair.Status
		err = c.Do(ctx, client.Request{Op: smp.OpRead, Group: pair.Group, ID: pair.CmdSession}, &st)
		if err == nil && !st.Phase.Finished() {
			err = fmt.Errorf("session %08x still in phase %s", st.SID, st.Phase)
		}
		done = true
	})
	w.clk.Run(w.clk.Now().Add(time.Minute))
	switch {
	case !done:
		return []Violation{{"G5", "the status read did not return"}}
	case err != nil:
		return []Violation{{"G5", "status: " + err.Error()}}
	}
	return nil
}

// outcome names how the run ended.
func (w *world) outcome(v []Violation) string {
	if len(v) > 0 {
		return OutcomeBroken
	}
	run, _ := w.nodes[0].dev.Running()
	if !bytes.Equal(run.Hash(), w.newHash) {
		return OutcomeRolledBack
	}
	for _, line := range w.log {
		if strings.Contains(line, "rolling forward") {
			return OutcomeRolledForward
		}
	}
	return OutcomeUpdated
}
