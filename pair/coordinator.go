package pair

import (
	"context"
	"fmt"
	"time"

	"github.com/fotasync/fotasync/clock"
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
	// The relay may have made the session ready, or failed it, since it was
	// read: decide on the phase as the update finds it.
	var phase Phase
	err = p.update(func(s *Session) {
		if phase = s.Phase; phase == PhaseTransfer {
			s.Phase = PhaseHeld
			s.Decision = fmt.Sprintf("reset held: waiting up to %v for the secondary", hold)
		}
	})
	switch {
	case err != nil:
		return nil, err
	case phase == PhaseReady:
		r.AfterReply(func() { p.switchPair(p.ctx) })
		return ResetResponse{Decision: "reset"}, nil
	case phase != PhaseTransfer:
		return nil, withReason(RCBadState, "session %d is %s", s.SID, phase)
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
		i, err := clock.WaitAny(ctx, p.opts.Clock, changed, expired)
		switch {
		case err != nil:
			return
		case i == 1:
			if p.opts.Naive {
				p.switchPair(ctx) // the note's fallback: reset after the timeout regardless
				return
			}
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
		if !s.did("reset") {
			s.Applied = append(s.Applied, "reset")
		}
		s.Decision = "switching: every targeted device holds the verified image"
	})
	if err != nil {
		return
	}
	if s.Target.Has(TargetSecondary) {
		if err := p.peer.do(ctx, CmdReset, SIDRequest{SID: s.SID}, nil); err != nil {
			// The secondary may have switched with its answer lost, or not
			// got the command yet: settle finds out what it runs, and sends
			// the reset again (applied at most once) while it has not.
			refused := false
			if rc, ok := AsRC(err); ok && (rc == RCBadSession || rc == RCBadState || rc == RCNotReady) {
				refused = true // it lost the session (replaced, wiped): it can never switch
			}
			_ = p.update(func(s *Session) {
				f := peerFailure("reset", err)
				s.Failure, s.Decision = &f, "the secondary did not confirm its reset; settling from what it runs"
				if refused {
					s.Secondary, s.Decision = StateFailed, "the secondary refused the switch; rolling back"
				}
			})
			p.startSettle()
			return
		}
		_ = p.update(func(s *Session) { s.Secondary = StateSwitched })
	}
	if !s.Target.Has(TargetPrimary) {
		_ = p.update(func(s *Session) { s.Phase = PhaseTesting })
		p.startSettle()
		return
	}
	if err := p.dev.SetState(s.Hash, false); err != nil {
		// The staged image is still good: settle finishes the switch.
		_ = p.update(func(s *Session) {
			s.Failure = &Failure{Device: "primary", Step: "mark test", Reason: err.Error()}
			s.Decision = "the primary could not mark its image; settling"
		})
		p.startSettle()
		return
	}
	_ = p.update(func(s *Session) { s.Primary = StateSwitched })
	p.dev.ScheduleReset()
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
