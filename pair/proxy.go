package pair

import (
	"context"
	"fmt"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/server"
	"github.com/fotasync/fotasync/smp"
)

// firstChunkTimeout bounds the secondary's answer to a first chunk, which
// erases its slot (field case B13).
const firstChunkTimeout = 40 * time.Second

// upload takes one chunk of the session's image. With the primary targeted
// it is written to the primary's secondary slot (and, for target all, relayed
// from there); for the secondary alone it is passed through.
func (p *Primary) upload(ctx context.Context, r *server.Request) (any, error) {
	var req UploadRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	s, err := p.check(req.SID)
	if err != nil {
		return nil, err
	}
	if s.Phase != PhaseTransfer && s.Phase != PhaseHeld && s.Phase != PhaseReady {
		return nil, withReason(RCBadState, "session %d is %s, not receiving", s.SID, s.Phase)
	}
	if s.Target.Has(TargetPrimary) {
		return p.uploadOwn(ctx, s, req)
	}
	return p.uploadThrough(ctx, s, req)
}

// uploadOwn writes a chunk into the primary's secondary slot.
func (p *Primary) uploadOwn(ctx context.Context, s Session, req UploadRequest) (any, error) {
	if s.Primary == StateVerified {
		return offsetResponse(s.Len), nil // a repeated chunk of a finished upload
	}
	chunk := device.Chunk{Off: &req.Off, Data: req.Data}
	if req.Off == 0 {
		zero := uint32(0)
		chunk.Image, chunk.Len, chunk.SHA = &zero, &s.Len, s.SHA
	}
	resp, err := p.dev.Receive(chunk)
	if err != nil {
		return nil, err
	}
	p.armTransferTimeout(s.SID)
	checkpoint(p.dev, s, p.update)
	if resp.Match != nil {
		p.ownComplete(s, *resp.Match)
	}
	return resp, nil
}

// ownComplete verifies the primary's staged image once it is whole.
func (p *Primary) ownComplete(s Session, match bool) {
	err := fmt.Errorf("the received file does not match the session's sha")
	if match {
		_, err = verifyStaged(p.dev, s)
	}
	if err != nil {
		p.fail(PhaseAborted, Failure{Device: "primary", Step: StepVerify, Reason: err.Error()},
			"aborted: the primary rejected the image; neither device switches")
		p.stopBackground()
		return
	}
	p.verified(TargetPrimary)
	if p.opts.Naive {
		// The broken flow: reset at once, whatever the secondary is doing.
		if p.dev.SetState(s.Hash, false) == nil {
			_ = p.update(func(s *Session) { s.Primary, s.Phase = StateSwitched, PhaseSwitching })
			p.dev.ScheduleReset()
		}
	}
}

// uploadThrough passes a chunk to the secondary, for a session that targets
// it alone: the primary is a pure proxy.
func (p *Primary) uploadThrough(ctx context.Context, s Session, req UploadRequest) (any, error) {
	if s.Secondary == StateVerified {
		return offsetResponse(s.Len), nil
	}
	chunk := smp.UploadRequest{Off: req.Off, Data: req.Data}
	timeout := time.Duration(0)
	if req.Off == 0 {
		zero := uint32(0)
		chunk.Image, chunk.Len, chunk.SHA = &zero, &s.Len, s.SHA
		timeout = firstChunkTimeout
	}
	p.armTransferTimeout(s.SID)
	resp, err := p.peer.chunk(ctx, chunk, timeout)
	if err != nil {
		p.fail("", peerFailure("transfer", err), "the secondary did not take a chunk; the host may retry")
		return nil, withReason(RCPeerDown, "secondary: chunk at offset %d: %v", req.Off, err)
	}
	if resp.Off != nil {
		p.setPeerOff(int(*resp.Off), int(s.Len))
		if *resp.Off == s.Len {
			p.requestReport(ctx, s.SID)
		}
	}
	return resp, nil
}

func offsetResponse(off uint32) smp.UploadResponse { return smp.UploadResponse{Off: &off} }

// setPeerOff records the secondary's offset, which it just reported: it is
// reachable.
func (p *Primary) setPeerOff(off, _ int) {
	p.mu.Lock()
	p.peerOff = off
	p.mu.Unlock()
	p.peer.alive()
}

// relay streams the image from the primary's slot to the secondary while it
// arrives from the host, so both hops run at once. A broken transfer is
// retried with backoff; each retry resumes at the secondary's offset.
func (p *Primary) relay(ctx context.Context, req BeginRequest) {
	src := stagedSource{dev: p.dev, n: int(req.Len)}
	var err error
	for attempt := 0; attempt <= p.opts.PeerRetries; attempt++ {
		if attempt > 0 {
			if clock.Sleep(ctx, p.opts.Clock, time.Duration(attempt)*time.Second) != nil {
				return
			}
		}
		// The secondary may have been replaced or wiped since the session
		// began: begin is a replay for one that knows the session, and
		// gives it back to one that lost it.
		if err = p.peer.do(ctx, CmdSession, req, nil); err != nil {
			continue
		}
		_, err = p.peer.upload(ctx, src, client.UploadOptions{SHA: req.SHA, Progress: p.setPeerOff})
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		p.fail(PhaseAborted, peerFailure("transfer", err),
			fmt.Sprintf("aborted: the transfer to the secondary failed %d times; neither device switches",
				p.opts.PeerRetries+1))
		return
	}
	p.requestReport(ctx, req.SID)
}

// requestReport asks the secondary to verify what it received and records
// its completion report.
func (p *Primary) requestReport(ctx context.Context, sid uint32) {
	var rep Report
	if err := p.peer.do(ctx, CmdReport, SIDRequest{SID: sid}, &rep); err != nil {
		p.fail(PhaseAborted, peerFailure("report", err), "aborted: the secondary did not report; neither device switches")
		return
	}
	if rep.State != StateVerified {
		reason := rep.Reason
		if rep.Code != 0 {
			reason = fmt.Sprintf("%s (%s)", reason, smp.ImageRC(rep.Code).Name())
		}
		p.fail(PhaseAborted, Failure{Device: "secondary", Step: StepVerify, Reason: reason},
			"aborted: the secondary rejected the image; neither device switches")
		p.stopBackground()
		return
	}
	p.verified(TargetSecondary)
}

// verified records that device holds the verified image, and moves the
// session to ready once every targeted device does.
func (p *Primary) verified(device Target) {
	_ = p.update(func(s *Session) {
		if device == TargetPrimary {
			s.Primary = StateVerified
		} else {
			s.Secondary = StateVerified
		}
		ready := (!s.Target.Has(TargetPrimary) || s.Primary == StateVerified) &&
			(!s.Target.Has(TargetSecondary) || s.Secondary == StateVerified)
		if ready && (s.Phase == PhaseTransfer || s.Phase == PhaseHeld) {
			s.Phase = PhaseReady
		}
	})
}

// stagedSource is the image in the primary's secondary slot as a growing
// upload source.
type stagedSource struct {
	dev *device.Device
	n   int
}

func (s stagedSource) Len() int { return s.n }

func (s stagedSource) Ready() int {
	got, _ := s.dev.Staged()
	return min(got, s.n)
}

func (s stagedSource) ReadAt(b []byte, off int64) (int, error) { return s.dev.ReadStaged(b, off) }

func (s stagedSource) Wait(ctx context.Context, n int) error { return s.dev.WaitStaged(ctx, n) }

// armTransferTimeout (re)starts the wait for the host's next chunk. When no
// chunk comes for TransferTimeout the session is aborted: the relay must not
// wait for bytes that will never arrive (G4). The host may resume until then.
func (p *Primary) armTransferTimeout(sid uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.transferTimer != nil {
		p.transferTimer.Stop()
	}
	p.transferTimer = p.opts.Clock.AfterFunc(p.opts.TransferTimeout, func() {
		s := p.Session()
		if s.SID != sid || (s.Phase != PhaseTransfer && s.Phase != PhaseHeld) {
			return
		}
		p.fail(PhaseAborted, Failure{Device: "host", Step: "transfer",
			Reason: fmt.Sprintf("no chunk for %v", p.opts.TransferTimeout)},
			"aborted: the host stopped sending; neither device switches")
		p.stopBackground()
	})
}
