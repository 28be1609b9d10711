package e2e

import (
	"testing"

	"github.com/fotasync/fotasync/emulator"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/update"
)

// updateOnce starts the pair, updates target to image, and stops the pair
// again, so that the test reads what the devices stored.
func (s *setup) updateOnce(t *testing.T, image []byte, target pair.Target) update.Result {
	t.Helper()
	pri, sec := s.start(t)
	res, err := update.Run(bounded(t), options(t, dial(t, pri), image, target))
	if err != nil {
		t.Fatalf("update %s: %v", target, err)
	}
	stop(t, pri, sec)
	if res.Target != target || res.UpToDate || res.Resumed || res.Status.Phase != pair.PhaseCommitted {
		t.Errorf("update %s: result target %s, up to date %v, resumed %v, phase %s; want %s, false, false, committed",
			target, res.Target, res.UpToDate, res.Resumed, res.Status.Phase, target)
	}
	return res
}

// stop closes nodes in order.
func stop(t *testing.T, nodes ...*emulator.Node) {
	t.Helper()
	for _, n := range nodes {
		if err := n.Close(); err != nil {
			t.Errorf("close %s: %v", n.Device.Name(), err)
		}
	}
}

// TestReferenceImages updates a pair through three sessions (both devices,
// the primary alone, the secondary alone) with imgtool-built images, and
// after each powers both devices on from their state directories to check
// every slot and both journals.
func TestReferenceImages(t *testing.T) {
	s := newSetup(t, readRef(t, "hashonly_1k_v1.0.0.bin"))
	pri, sec := s.start(t)
	stop(t, pri, sec)
	v100 := []smp.ImageSlot{running("1.0.0", hash1k)}
	idle := journal{Phase: pair.PhaseIdle}
	checkStored(t, "provisioned", s, stored{v100, idle}, stored{v100, idle})

	// Both devices: 1.0.0 → 1.2.3+4.
	all := s.updateOnce(t, readRef(t, "hashonly_100k_v1.2.3+4.bin"), pair.TargetAll)
	v1234 := []smp.ImageSlot{running("1.2.3.4", hash100k), staged("1.0.0", hash1k)}
	allDone := journal{SID: all.SID, Target: pair.TargetAll, Phase: pair.PhaseCommitted, Version: "1.2.3.4",
		Primary: pair.StateConfirmed, Secondary: pair.StateConfirmed, Applied: []string{"reset", "commit"}}
	secAllDone := allDone
	secAllDone.Primary = pair.StateNone
	checkStored(t, "target all", s, stored{v1234, allDone}, stored{v1234, secAllDone})

	// The primary alone: 1.2.3+4 → 2.0.0; the secondary keeps the first
	// session's state.
	one := s.updateOnce(t, readRef(t, "hashonly_12345B_v2.0.0.bin"), pair.TargetPrimary)
	priV200 := []smp.ImageSlot{running("2.0.0", hash12345), staged("1.2.3.4", hash100k)}
	oneDone := journal{SID: one.SID, Target: pair.TargetPrimary, Phase: pair.PhaseCommitted, Version: "2.0.0",
		Primary: pair.StateConfirmed, Applied: []string{"reset", "commit"}}
	checkStored(t, "target primary", s, stored{priV200, oneDone}, stored{v1234, secAllDone})

	// The secondary alone: 1.2.3+4 → 2.0.0 with the 1.2.3+4 payload.
	two := s.updateOnce(t, readRef(t, "hashonly_100k_v2.0.0_samepayload.bin"), pair.TargetSecondary)
	secV200 := []smp.ImageSlot{running("2.0.0", hashSame), staged("1.2.3.4", hash100k)}
	twoDone := journal{SID: two.SID, Target: pair.TargetSecondary, Phase: pair.PhaseCommitted, Version: "2.0.0",
		Secondary: pair.StateConfirmed, Applied: []string{"reset", "commit"}}
	checkStored(t, "target secondary", s, stored{priV200, twoDone}, stored{secV200, twoDone})

	// A last start and stop changes nothing.
	pri, sec = s.start(t)
	stop(t, pri, sec)
	checkStored(t, "end", s, stored{priV200, twoDone}, stored{secV200, twoDone})
}
