package pair

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/server"
	"github.com/fotasync/fotasync/smp"
)

// reset is the coordinated reset. When every targeted device holds the
// verified image the pair switches right after the reply, the secondary
// first. Otherwise the primary holds the reset until the secondary is ready
// or the hold time runs out; running out aborts the session, so that
// neither device switches alone.
func (p *Primary) reset(_ context.Context, r *server.Request) (any, error) {
	var req ResetRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	s, err := p.check(req.SID)
	if err != nil {
		return nil, err
	}
	switch {
	case s.did("reset"):
		return ResetResponse{Decision: "reset"}, nil // a replay: the switch is under way
	case s.Phase == PhaseReady:
		r.AfterReply(func() { p.switchPair(p.ctx) })
		return ResetResponse{Decision: "reset"}, nil
	case s.Phase == PhaseHeld:
		return ResetResponse{Decision: "held"}, nil
	case s.Phase != PhaseTransfer:
		return nil, withReason(RCBadState, "session %d is %s", s.SID, s.Phase)
	case s.Primary == StateReceiving && s.Target.Has(TargetPrimary):
		return nil, withReason(RCNotReady, "the primary has not received the whole image")
	}
	hold := p.opts.Hold
	if req.HoldMS != 0 {
		hold = msDuration(req.HoldMS)
	}
	err = p.update(func(s *Session) {
		s.Phase = PhaseHeld
		s.Decision = fmt.Sprintf("reset held: waiting up to %v for the secondary", hold)
	})
	if err != nil {
		return nil, err
	}
	p.background(func(ctx context.Context) { p.hold(ctx, hold) })
	return ResetResponse{Decision: "held"}, nil
}

// hold waits for the session to become ready, then switches; if the time
// runs out first it aborts.
func (p *Primary) hold(ctx context.Context, limit time.Duration) {
	expired := make(chan struct{})
	t := p.opts.Clock.AfterFunc(limit, func() { close(expired) })
	defer t.Stop()
	for {
		changed := p.Changed()
		s := p.Session()
		switch s.Phase {
		case PhaseReady:
			p.switchPair(ctx)
			return
		case PhaseHeld:
		default:
			return // failed or aborted meanwhile; the decision is recorded
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		case <-expired:
			p.mu.Lock()
			off := p.peerOff
			p.mu.Unlock()
			p.fail(PhaseAborted, Failure{Device: "secondary", Step: "ready",
				Reason: fmt.Sprintf("not ready after %v (%d of %d bytes received)", limit, off, s.Len)},
				"aborted: the secondary was not ready in time; neither device switches")
			p.stopBackground()
			return
		}
	}
}

// switchPair marks the images for a test boot and resets the devices, the
// secondary first, so the D2D link stays up until the secondary has
// switched.
func (p *Primary) switchPair(ctx context.Context) {
	s := p.Session()
	err := p.update(func(s *Session) {
		s.Phase = PhaseSwitching
		s.Applied = append(s.Applied, "reset")
		s.Decision = "switching: every targeted device holds the verified image"
	})
	if err != nil {
		return
	}
	if s.Target.Has(TargetSecondary) {
		if err := p.peer.do(ctx, CmdReset, SIDRequest{SID: s.SID}, nil); err != nil {
			// NB: the secondary may have switched with its answer lost; the
			// commit step finds out which image it runs.
			p.fail("", peerFailure("reset", err), "the secondary did not confirm its reset; the primary does not reset")
			return
		}
		_ = p.update(func(s *Session) { s.Secondary = StateSwitched })
	}
	if !s.Target.Has(TargetPrimary) {
		_ = p.update(func(s *Session) { s.Phase = PhaseTesting })
		return
	}
	if err := p.dev.SetState(s.Hash, false); err != nil {
		p.fail("", Failure{Device: "primary", Step: "mark test", Reason: err.Error()}, "the primary could not mark its image")
		return
	}
	_ = p.update(func(s *Session) { s.Primary = StateSwitched })
	p.dev.ScheduleReset()
}

// afterBoot moves a switching session on once the primary has booted.
func (p *Primary) afterBoot(res boot.Result) {
	s := p.Session()
	if s.Primary != StateSwitched && s.Primary != StateTesting {
		return
	}
	switch {
	case s.Primary == StateSwitched && res.Swap == boot.SwapTest:
		_ = p.update(func(s *Session) { s.Phase, s.Primary = PhaseTesting, StateTesting })
	case res.Swap == boot.SwapRevert:
		_ = p.update(func(s *Session) {
			s.Phase, s.Primary = PhaseReverted, StateFailed
			s.Decision = "reverted: the primary's test image was not confirmed before a reset"
		})
	case res.Swap == boot.SwapFail:
		p.fail(PhaseReverted, Failure{Device: "primary", Step: "boot", Reason: errText(res.Rejected)},
			"reverted: the primary did not boot the new image")
	}
}

// commit confirms the pair after the reset: it checks that every targeted
// device runs the session's image, confirms the secondary, then the primary.
// The first confirmation is the commit point. A device that does not run the
// new image makes the pair roll back instead.
func (p *Primary) commit(ctx context.Context, r *server.Request) (any, error) {
	s, err := p.named(r)
	if err != nil {
		return nil, err
	}
	if s.Phase == PhaseCommitted {
		return nil, nil
	}
	if s.Phase != PhaseTesting {
		return nil, withReason(RCBadState, "session %d is %s, not testing", s.SID, s.Phase)
	}
	reason, err := p.mismatch(ctx, s)
	if err != nil {
		return nil, withReason(RCPeerDown, "secondary: read image state: %v", err)
	}
	if reason != "" {
		p.rollback(ctx, s, reason)
		return nil, withReason(RCMismatch, "%s", reason)
	}
	if s.Target.Has(TargetSecondary) {
		if err := p.peer.do(ctx, CmdCommit, SIDRequest{SID: s.SID}, nil); err != nil {
			p.fail("", peerFailure("commit", err), "commit not reached: the secondary did not confirm")
			return nil, withReason(RCPeerDown, "secondary: commit: %v", err)
		}
		_ = p.update(func(s *Session) { s.Secondary = StateConfirmed })
	}
	if s.Target.Has(TargetPrimary) {
		if err := p.dev.SetState(nil, true); err != nil {
			return nil, err
		}
	}
	err = p.update(func(s *Session) {
		s.Phase, s.Applied = PhaseCommitted, append(s.Applied, "commit")
		if s.Target.Has(TargetPrimary) {
			s.Primary = StateConfirmed
		}
		s.Decision = fmt.Sprintf("committed: %s confirmed on %s", s.Version, devicesOf(s.Target))
		s.Failure = nil
	})
	return nil, err
}

// mismatch returns why a targeted device does not run the session's image,
// or "". A secondary that does not answer (still swapping, B17) is an error,
// not a mismatch: the host asks again later.
func (p *Primary) mismatch(ctx context.Context, s Session) (string, error) {
	if s.Target.Has(TargetPrimary) {
		if run, ok := p.dev.Running(); !ok || !bytes.Equal(run.Hash(), s.Hash) {
			return "the primary does not run the session's image", nil
		}
	}
	if s.Target.Has(TargetSecondary) {
		list, err := p.peer.state(ctx)
		if err != nil {
			return "", err
		}
		if run, ok := running(list); !ok || !bytes.Equal(run.Hash, s.Hash) {
			return "the secondary does not run the session's image", nil
		}
	}
	return "", nil
}

// rollback resets every device that runs the session's unconfirmed test
// image, so MCUboot reverts it, and ends the session as reverted.
func (p *Primary) rollback(ctx context.Context, s Session, reason string) {
	p.fail(PhaseReverted, Failure{Device: "pair", Step: "commit", Reason: reason},
		"rolling back: resetting the devices that run the unconfirmed test image")
	if s.Target.Has(TargetSecondary) {
		if list, err := p.peer.state(ctx); err == nil {
			if run, ok := running(list); ok && !run.Confirmed {
				_ = p.peer.reset(ctx)
			}
		}
	}
	if s.Target.Has(TargetPrimary) {
		if run, ok := p.dev.Running(); ok && bytes.Equal(run.Hash(), s.Hash) {
			p.dev.ScheduleReset()
		}
	}
}

// guardReset refuses a plain SMP reset of the primary while the secondary
// still depends on it (field case B17); a forced reset goes through.
func (p *Primary) guardReset(force bool) error {
	s := p.Session()
	busy := s.Phase == PhaseTransfer || s.Phase == PhaseHeld || s.Phase == PhaseReady || s.Phase == PhaseSwitching
	if force || !busy || !s.Target.Has(TargetSecondary) {
		return nil
	}
	return withReason(smp.RCBusy, "pair session %d is %s; the secondary is not done", s.SID, s.Phase)
}

func msDuration(ms uint32) time.Duration { return time.Duration(ms) * time.Millisecond }
