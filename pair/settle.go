package pair

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/server"
	"github.com/fotasync/fotasync/smp"
)

// The commit point is journaled as this applied command before the first
// device is confirmed. Before it, recovery rolls the pair back; after it,
// forward.
const commitPoint = "commit"

// outcome is what one settle step achieved.
type outcome int

const (
	settled   outcome = iota // the session ended: committed or reverted
	waiting                  // a device is not back yet; try again later
	switching                // a device was reset to move the pair on; try again later
)

// facts is what a device runs, read at one instant.
type facts struct {
	reachable  bool
	runsNew    bool // the running image is the session's
	confirmed  bool // the running image is confirmed
	stagedNew  bool // the other slot holds the session's image
	pendingNew bool // ... marked for its test boot: the device has not reset yet
}

func readFacts(list []smp.ImageSlot, hash []byte) facts {
	f := facts{reachable: true}
	for _, s := range list {
		switch {
		case s.Active:
			f.runsNew, f.confirmed = bytes.Equal(s.Hash, hash), s.Confirmed
		case bytes.Equal(s.Hash, hash):
			f.stagedNew, f.pendingNew = true, s.Pending
		}
	}
	return f
}

// afterBoot runs after every boot of the primary: a session that was
// switching or testing is settled in the background, so the pair reaches
// its end even when the host has gone.
func (p *Primary) afterBoot(res boot.Result) {
	p.stopBackground() // a reset ends whatever ran before it
	s := p.Session()
	if s.Phase == PhaseTransfer || s.Phase == PhaseHeld {
		p.resumeTransfer(s)
		return
	}
	if s.Phase != PhaseSwitching && s.Phase != PhaseTesting {
		return
	}
	if p.opts.Naive {
		// The note's flow keeps no coordinator across a reset.
		_ = p.update(func(s *Session) { s.Phase, s.Primary = PhaseTesting, StateTesting })
		return
	}
	_ = p.update(func(s *Session) {
		switch {
		case res.Swap == boot.SwapTest && s.Primary == StateSwitched:
			s.Phase, s.Primary = PhaseTesting, StateTesting
		case res.Swap == boot.SwapRevert || res.Swap == boot.SwapFail:
			s.Primary = StateFailed
			s.Failure = &Failure{Device: "primary", Step: "boot",
				Reason: fmt.Sprintf("booted %s swap: %s", res.Swap, errText(res.Rejected))}
		}
	})
	p.startSettle()
}

// resumeTransfer picks up a transfer that a reset of the primary cut: its
// own upload resumes at the journaled offset, the relay to the secondary
// starts again (resuming at the secondary's offset), and a held reset is
// released: the host asks again.
func (p *Primary) resumeTransfer(s Session) {
	if s.Phase == PhaseHeld {
		_ = p.update(func(s *Session) {
			s.Phase, s.Decision = PhaseTransfer, "the primary restarted while holding a reset; the host asks again"
		})
	}
	if s.Target.Has(TargetPrimary) {
		switch s.Primary {
		case StateReceiving:
			resumeUpload(p.dev, s)
		case StateVerified:
			p.dev.Restage(int(s.Len))
		}
	}
	if s.Target == TargetAll && s.Secondary == StateReceiving {
		p.background(func(ctx context.Context) { p.relay(ctx, s.BeginRequest) })
	}
}

// settle repeats settle steps, with backoff, until the session ends or the
// commit timeout decides: before the commit point the pair rolls back, after
// it the failure to roll forward is recorded for the host.
func (p *Primary) settle(ctx context.Context) {
	deadline := p.opts.Clock.Now().Add(p.opts.CommitTimeout)
	wait := 250 * time.Millisecond
	for {
		out, err := p.settleStep(ctx)
		if out == settled || ctx.Err() != nil {
			return
		}
		if !p.opts.Clock.Now().Before(deadline) {
			p.giveUp(ctx, err)
			return
		}
		if clock.Sleep(ctx, p.opts.Clock, wait) != nil {
			return
		}
		wait = min(2*wait, 4*time.Second)
	}
}

// settleStep looks at what each device runs and moves the pair one step to
// its end. It is the coordinator's whole decision table:
//
//	every targeted device runs the new image  → commit (secondary first)
//	a device is unreachable                   → wait
//	a device is marked for test, not yet reset → wait
//	before the commit point, a device still on the old image:
//	    not yet switched, holds the verified image → switch it
//	    switched and came back old                 → roll the pair back
//	after the commit point, a device on the old image → roll it forward
func (p *Primary) settleStep(ctx context.Context) (outcome, error) {
	p.settleMu.Lock(p.opts.Clock)
	defer p.settleMu.Unlock()
	s := p.Session()
	if s.Phase.Finished() {
		return settled, nil
	}
	pri, sec, err := p.facts(ctx, s)
	if err != nil {
		return waiting, err
	}
	all := (pri.runsNew || !s.Target.Has(TargetPrimary)) && (sec.runsNew || !s.Target.Has(TargetSecondary))
	if all {
		return p.commitAll(ctx, s, pri, sec)
	}
	if (s.Target.Has(TargetSecondary) && sec.pendingNew) || (s.Target.Has(TargetPrimary) && pri.pendingNew) {
		return waiting, nil // marked and about to reset (a reset delay, B17)
	}
	if s.did(commitPoint) {
		return p.rollForward(ctx, s, pri, sec)
	}
	if s.Target.Has(TargetSecondary) && !sec.runsNew {
		if s.Secondary == StateVerified {
			return p.resumeSwitch(ctx, s)
		}
		if s.Secondary == StateFailed && s.Failure != nil {
			return p.rollBack(ctx, s, "the secondary cannot switch: "+s.Failure.Reason)
		}
		return p.rollBack(ctx, s, "the secondary came back on its old image")
	}
	if s.Primary == StateVerified {
		return p.resumeSwitch(ctx, s)
	}
	return p.rollBack(ctx, s, "the primary came back on its old image")
}

// facts reads both targeted devices. An unreachable secondary is an error:
// it may still be swapping (B17).
func (p *Primary) facts(ctx context.Context, s Session) (pri, sec facts, err error) {
	if s.Target.Has(TargetPrimary) {
		list, err := p.dev.Images()
		if err != nil {
			return pri, sec, err
		}
		pri = readFacts(list, s.Hash)
	}
	if s.Target.Has(TargetSecondary) {
		list, err := p.peer.state(ctx)
		if err != nil {
			return pri, sec, fmt.Errorf("secondary: read image state: %w", err)
		}
		sec = readFacts(list, s.Hash)
	}
	return pri, sec, nil
}

// commitAll confirms every targeted device that runs the new image
// unconfirmed: the secondary, then the primary. The commit point is
// journaled first.
func (p *Primary) commitAll(ctx context.Context, s Session, pri, sec facts) (outcome, error) {
	if !s.did(commitPoint) {
		if err := p.update(func(s *Session) { s.Applied = append(s.Applied, commitPoint) }); err != nil {
			return waiting, err
		}
	}
	if s.Target.Has(TargetSecondary) {
		// Sent even to a confirmed secondary (a roll forward confirmed it
		// through the image group): its journal learns the end.
		if err := p.peer.do(ctx, CmdCommit, SIDRequest{SID: s.SID}, nil); err != nil {
			return waiting, fmt.Errorf("secondary: commit: %w", err)
		}
	}
	if s.Target.Has(TargetPrimary) && !pri.confirmed {
		if err := p.dev.SetState(nil, true); err != nil {
			return waiting, fmt.Errorf("primary: confirm: %w", err)
		}
	}
	err := p.update(func(s *Session) {
		s.Phase = PhaseCommitted
		if s.Target.Has(TargetPrimary) {
			s.Primary = StateConfirmed
		}
		if s.Target.Has(TargetSecondary) {
			s.Secondary = StateConfirmed
		}
		s.Decision = fmt.Sprintf("committed: %s confirmed on %s", s.Version, devicesOf(s.Target))
		s.Failure = nil
	})
	return settled, err
}

// resumeSwitch finishes a switch that a reset or a lost answer cut short.
func (p *Primary) resumeSwitch(ctx context.Context, s Session) (outcome, error) {
	_ = p.update(func(s *Session) { s.Decision = "resuming the switch after an interruption" })
	p.switchPair(ctx)
	return switching, nil
}

// rollBack resets every targeted device that runs the session's unconfirmed
// test image, so that MCUboot reverts it, and takes back a test mark left
// on a device that has not reset. The session ends as reverted only once
// every device is back on its old image or on its way there; until then the
// settle loop tries again.
func (p *Primary) rollBack(ctx context.Context, s Session, reason string) (outcome, error) {
	pri, sec, err := p.facts(ctx, s)
	if err != nil {
		return waiting, err
	}
	_ = p.update(func(s *Session) { s.Decision = "rolling back before the commit point: " + reason })
	if s.Target.Has(TargetSecondary) {
		switch {
		case sec.runsNew && !sec.confirmed:
			err = p.peer.reset(ctx)
		case sec.pendingNew:
			err = p.peer.erase(ctx) // a test mark left behind would switch it at its next reset
		}
		if err != nil {
			return waiting, err
		}
	}
	resetSelf := false
	if s.Target.Has(TargetPrimary) {
		switch {
		case pri.runsNew && !pri.confirmed:
			resetSelf = true
		case pri.pendingNew:
			if err := p.dev.Erase(1); err != nil {
				return waiting, err
			}
		}
	}
	p.fail(PhaseReverted, Failure{Device: "pair", Step: "switch", Reason: reason},
		"rolled back before the commit point: every device returns to its old, confirmed image")
	if resetSelf {
		p.dev.ScheduleReset()
	}
	return settled, nil
}

// rollForward makes the session's image permanent on a device that is back
// on its old image after the commit point, from the image still staged in
// its other slot, and resets it.
func (p *Primary) rollForward(ctx context.Context, s Session, pri, sec facts) (outcome, error) {
	_ = p.update(func(s *Session) { s.Decision = "rolling forward after the commit point" })
	if s.Target.Has(TargetSecondary) && !sec.runsNew {
		if !sec.stagedNew {
			return waiting, fmt.Errorf("secondary: the session's image is gone from its slots")
		}
		if err := p.peer.permanent(ctx, s.Hash); err != nil {
			return waiting, err
		}
	}
	if s.Target.Has(TargetPrimary) && !pri.runsNew {
		if !pri.stagedNew {
			return waiting, fmt.Errorf("primary: the session's image is gone from its slots")
		}
		if err := p.dev.SetState(s.Hash, true); err != nil {
			return waiting, err
		}
		p.dev.ScheduleReset()
	}
	return switching, nil
}

// giveUp is the commit timeout's decision. Before the commit point the
// pair rolls back; a secondary that does not answer is reverted later, when
// it answers again.
func (p *Primary) giveUp(ctx context.Context, cause error) {
	s := p.Session()
	why := "a device did not come back"
	if cause != nil {
		why = cause.Error()
	}
	reason := fmt.Sprintf("the pair did not settle within %v: %s", p.opts.CommitTimeout, why)
	if s.did(commitPoint) {
		p.fail("", Failure{Device: "pair", Step: "roll forward", Reason: reason},
			"roll forward incomplete; run the update again to finish it")
		return
	}
	if out, err := p.rollBack(ctx, s, reason); err == nil && out == settled {
		return
	}
	p.fail(PhaseReverted, Failure{Device: "pair", Step: "switch", Reason: reason},
		"rolled back: the primary reverts now, the secondary once it answers again")
	if s.Target.Has(TargetSecondary) {
		p.wg.Add(1)
		clock.Go(p.opts.Clock, func() {
			defer p.wg.Done()
			p.revertSecondary(s)
		})
	}
	if list, err := p.dev.Images(); err == nil && s.Target.Has(TargetPrimary) {
		if f := readFacts(list, s.Hash); f.runsNew && !f.confirmed {
			p.dev.ScheduleReset()
		}
	}
}

// revertSecondary undoes the switch of a secondary that could not be reached
// when the pair rolled back: once it answers, an unconfirmed test image is
// reset away and a test mark erased. It gives up after revertWindow, so no
// wait is unbounded; the host's next update finds the state in the status.
func (p *Primary) revertSecondary(s Session) {
	deadline := p.opts.Clock.Now().Add(revertWindow)
	for p.opts.Clock.Now().Before(deadline) {
		list, err := p.peer.state(p.ctx)
		if err == nil {
			f := readFacts(list, s.Hash)
			switch {
			case f.runsNew && !f.confirmed:
				err = p.peer.reset(p.ctx)
			case f.pendingNew:
				err = p.peer.erase(p.ctx)
			}
			if err == nil {
				return
			}
		}
		if clock.Sleep(p.ctx, p.opts.Clock, 4*time.Second) != nil {
			return
		}
	}
}

// revertWindow bounds how long the primary keeps trying to revert an
// unreachable secondary.
const revertWindow = 30 * time.Minute

// commit is the host's request to confirm the pair. It runs one settle step
// and reports where the pair stands.
func (p *Primary) commit(ctx context.Context, r *server.Request) (any, error) {
	s, err := p.named(r)
	if err != nil {
		return nil, err
	}
	if s.Phase != PhaseSwitching && s.Phase != PhaseTesting && s.Phase != PhaseCommitted {
		return nil, withReason(RCBadState, "session %d is %s, not testing", s.SID, s.Phase)
	}
	if p.opts.Naive {
		return nil, p.naiveCommit(ctx, s)
	}
	out, err := p.settleStep(ctx)
	s = p.Session()
	switch {
	case s.Phase == PhaseCommitted:
		return nil, nil
	case s.Phase == PhaseReverted:
		return nil, withReason(RCMismatch, "%s", errText(s.Failure))
	case out == waiting && err != nil:
		return nil, withReason(RCNotReady, "%v", err)
	}
	return nil, withReason(RCNotReady, "the pair is still switching")
}

// naiveCommit is the note's commit: each device confirms what it runs,
// checked by nobody.
func (p *Primary) naiveCommit(ctx context.Context, s Session) error {
	if s.Target.Has(TargetSecondary) {
		_ = p.peer.do(ctx, CmdCommit, SIDRequest{SID: s.SID}, nil)
	}
	if err := p.dev.SetState(nil, true); err != nil {
		return err
	}
	return p.update(func(s *Session) { s.Phase, s.Decision = PhaseCommitted, "committed without checks (naive)" })
}
