package pair

import (
	"context"
	"sync"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/server"
	"github.com/fotasync/fotasync/transport"
)

// PrimaryOptions configures the coordinator. The zero value is a usable
// default.
type PrimaryOptions struct {
	// Hold is how long a reset waits for the secondary to become ready
	// before the session is aborted; 0 means 30 s, the design note's value.
	Hold time.Duration
	// PeerTimeout is the wait for one answer over the D2D link; 0 means 2 s.
	PeerTimeout time.Duration
	// PeerRetries is how often a failed transfer to the secondary starts
	// again (it resumes where the secondary is); 0 means 3.
	PeerRetries int
	// CommitTimeout bounds how long the primary tries, after the reset, to
	// bring the pair to its end on its own; then it rolls back (before the
	// commit point) or records that the roll forward is incomplete. 0 means
	// 2 minutes.
	CommitTimeout time.Duration
	// TransferTimeout bounds the wait for the host's next chunk during a
	// transfer; then the session is aborted. 0 means 10 minutes.
	TransferTimeout time.Duration
	Clock           clock.Clock // nil means the wall clock
	// Naive reproduces the flow of the original design note, for the
	// simulator to catch: the primary resets into its new image as soon as
	// its own copy is verified, and a held reset goes ahead after the hold
	// time even if the secondary failed. Never use it on a real pair.
	Naive bool
}

func (o PrimaryOptions) withDefaults() PrimaryOptions {
	if o.Hold == 0 {
		o.Hold = 30 * time.Second
	}
	if o.PeerTimeout == 0 {
		o.PeerTimeout = 2 * time.Second
	}
	if o.PeerRetries == 0 {
		o.PeerRetries = 3
	}
	if o.CommitTimeout == 0 {
		o.CommitTimeout = 2 * time.Minute
	}
	if o.TransferTimeout == 0 {
		o.TransferTimeout = 10 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = clock.Wall
	}
	return o
}

// Primary is the pair protocol on the primary device: the proxy that stages
// the image on both devices and the coordinator that decides when they
// switch and commit.
type Primary struct {
	dev     *device.Device
	opts    PrimaryOptions
	journal journal
	peer    *peer // nil when the primary has no secondary

	ctx    context.Context // ends with Close; bounds the background work
	cancel context.CancelFunc
	wg     sync.WaitGroup

	settleMu *clock.Lock // one settle step at a time: the host's commit and the background

	mu            sync.Mutex
	s             Session
	peerOff       int           // bytes the secondary holds of the session's image
	transferTimer clock.Timer   // aborts a transfer the host stopped feeding
	settling      bool          // a settle loop runs
	settleGen     int           // which loop settling speaks of
	changed       chan struct{} // closed and replaced whenever s changes
	stopWork      context.CancelFunc
}

// NewPrimary attaches the pair protocol to dev. link is the D2D link to the
// secondary; nil means a primary without one.
func NewPrimary(dev *device.Device, link transport.Conn, o PrimaryOptions) (*Primary, error) {
	o = o.withDefaults()
	p := &Primary{dev: dev, opts: o, journal: newJournal(dev), changed: make(chan struct{}),
		settleMu: clock.NewLock()}
	s, err := p.journal.load()
	if err != nil {
		return nil, err
	}
	p.s = s
	if link != nil {
		p.peer = newPeer(client.New(link, client.Options{Clock: o.Clock, Timeout: o.PeerTimeout}), o.Clock)
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	dev.SetHooks(device.Hooks{AfterBoot: p.afterBoot, BeforeReset: p.guardReset})
	p.afterBoot(dev.Booted())
	return p, nil
}

// Close stops the background work (forwarding, holding a reset) and waits
// for it.
func (p *Primary) Close() {
	p.Stop()
	p.wg.Wait()
}

// Stop ends the background work without waiting for it to return, as a
// power cut does; under a scheduler its goroutines return when next run.
func (p *Primary) Stop() { p.cancel() }

// Register adds the pair group commands to m.
func (p *Primary) Register(m *server.Mux) {
	m.HandleRead(Group, CmdSession, p.status)
	m.HandleWrite(Group, CmdSession, p.begin)
	m.HandleWrite(Group, CmdUpload, p.upload)
	m.HandleWrite(Group, CmdReset, p.reset)
	m.HandleWrite(Group, CmdCommit, p.commit)
	m.HandleWrite(Group, CmdAbort, p.abort)
	m.HandleWrite(Group, CmdForward, p.forward)
}

// Session returns the primary's view of the session.
func (p *Primary) Session() Session {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.s
}

// Changed returns a channel closed at the next change of the session.
func (p *Primary) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

// update applies f to the session and journals the result.
func (p *Primary) update(f func(*Session)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.s
	s.Applied = append([]string(nil), s.Applied...)
	f(&s)
	if err := p.journal.save(s); err != nil {
		return err
	}
	p.s = s
	close(p.changed)
	p.changed = make(chan struct{})
	return nil
}

// fail records a failure and the decision it led to. An abort is passed on
// to the secondary, so that it does not resume a dead transfer after its next
// reset.
func (p *Primary) fail(phase Phase, f Failure, decision string) {
	if s := p.Session(); phase == PhaseAborted && s.Target.Has(TargetSecondary) && p.peer != nil {
		p.wg.Add(1)
		clock.Go(p.opts.Clock, func() {
			defer p.wg.Done()
			_ = p.peer.do(p.ctx, CmdAbort, SIDRequest{SID: s.SID}, nil) // best effort
		})
	}
	_ = p.update(func(s *Session) {
		s.Failure = &f
		s.Decision = decision
		if phase != "" {
			s.Phase = phase
		}
		switch f.Device {
		case "primary":
			s.Primary = StateFailed
		case "secondary":
			s.Secondary = StateFailed
		}
	})
}

// background runs f in a goroutine bound to the current session's work.
func (p *Primary) background(f func(ctx context.Context)) {
	p.mu.Lock()
	ctx := p.workContextLocked()
	p.mu.Unlock()
	p.wg.Add(1)
	clock.Go(p.opts.Clock, func() {
		defer p.wg.Done()
		f(ctx)
	})
}

// startSettle starts the settle loop unless one runs already.
func (p *Primary) startSettle() {
	p.mu.Lock()
	if p.settling {
		p.mu.Unlock()
		return
	}
	p.settling = true
	p.settleGen++
	gen := p.settleGen
	p.mu.Unlock()
	p.background(func(ctx context.Context) {
		defer func() {
			p.mu.Lock()
			if p.settleGen == gen {
				p.settling = false
			}
			p.mu.Unlock()
		}()
		p.settle(ctx)
	})
}

// workContextLocked returns the context of the session's background work,
// starting one if needed. The caller holds p.mu.
func (p *Primary) workContextLocked() context.Context {
	ctx, cancel := context.WithCancel(p.ctx)
	prev := p.stopWork
	p.stopWork = func() {
		if prev != nil {
			prev()
		}
		cancel()
	}
	return ctx
}

// stopBackground ends the session's background work.
func (p *Primary) stopBackground() {
	p.mu.Lock()
	stop := p.stopWork
	p.stopWork = nil
	p.settling = false // the loop, if any, is being cancelled
	p.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (p *Primary) status(ctx context.Context, _ *server.Request) (any, error) {
	s := p.Session()
	own, err := p.dev.Images()
	if err != nil {
		return nil, err
	}
	staged, _ := p.dev.Staged()
	st := Status{SID: s.SID, Target: s.Target, Phase: s.Phase, Version: s.Version, Hash: s.Hash,
		Decision: s.Decision, Failure: s.Failure}
	st.Devices = append(st.Devices, DeviceStatus{Role: "primary", State: s.Primary, Off: uint32(staged),
		Len: s.Len, Reachable: true, Images: own})
	if p.peer != nil {
		images, reachable := p.peer.images(ctx)
		p.mu.Lock()
		off := p.peerOff
		p.mu.Unlock()
		st.Devices = append(st.Devices, DeviceStatus{Role: "secondary", State: s.Secondary, Off: uint32(off),
			Len: s.Len, Reachable: reachable, Images: images})
	}
	return st, nil
}

// begin starts a session, or answers a replay of the one in progress.
func (p *Primary) begin(ctx context.Context, r *server.Request) (any, error) {
	var req BeginRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if err := req.check(); err != nil {
		return nil, err
	}
	cur := p.Session()
	switch {
	case req.same(cur):
		return p.status(ctx, r) // a replay, whatever became of the session
	case req.SID == cur.SID:
		return nil, withReason(RCBadSession, "sid %d was used for another session", req.SID)
	case !cur.Phase.Finished():
		return nil, withReason(RCBusy, "session %d is in phase %s; abort it first", cur.SID, cur.Phase)
	case req.Target.Has(TargetSecondary) && p.peer == nil:
		return nil, withReason(RCNoPeer, "this primary has no secondary")
	case req.Target.Has(TargetPrimary) && int(req.Len) > p.dev.SlotSize():
		return nil, withReason(RCBadRequest, "image file of %d bytes does not fit the primary's %d-byte slot",
			req.Len, p.dev.SlotSize())
	}
	if req.Target.Has(TargetSecondary) {
		if err := p.peer.do(ctx, CmdSession, req, nil); err != nil {
			return nil, withReason(RCPeerDown, "secondary: begin session: %v", err)
		}
	}
	p.stopBackground()
	err := p.update(func(s *Session) {
		*s = Session{BeginRequest: req, Phase: PhaseTransfer}
		if req.Target.Has(TargetPrimary) {
			s.Primary = StateReceiving
		}
		if req.Target.Has(TargetSecondary) {
			s.Secondary = StateReceiving
		}
	})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.peerOff = 0
	p.mu.Unlock()
	if req.Target == TargetAll {
		p.background(func(ctx context.Context) { p.relay(ctx, req) })
	}
	return p.status(ctx, r)
}

// abort ends the session without switching; the old images keep running.
func (p *Primary) abort(ctx context.Context, r *server.Request) (any, error) {
	s, err := p.named(r)
	if err != nil {
		return nil, err
	}
	if s.Phase.Finished() {
		return p.status(ctx, r)
	}
	if s.Phase == PhaseSwitching || s.Phase == PhaseTesting {
		return nil, withReason(RCBadState, "session %d is %s; only commit or a rollback ends it now", s.SID, s.Phase)
	}
	p.stopBackground()
	if s.Target.Has(TargetSecondary) {
		_ = p.peer.do(ctx, CmdAbort, SIDRequest{SID: s.SID}, nil) // best effort: the secondary never switches without us
	}
	if err := p.update(func(s *Session) { s.Phase, s.Decision = PhaseAborted, "aborted by the host" }); err != nil {
		return nil, err
	}
	return p.status(ctx, r)
}

// named decodes a SIDRequest and returns the session if the sid names it.
func (p *Primary) named(r *server.Request) (Session, error) {
	var req SIDRequest
	if err := r.Decode(&req); err != nil {
		return Session{}, err
	}
	return p.check(req.SID)
}

func (p *Primary) check(sid uint32) (Session, error) {
	s := p.Session()
	if sid == 0 || sid != s.SID {
		return s, withReason(RCBadSession, "session %08x is not this device's (%s)", sid, sessionName(s))
	}
	return s, nil
}

// forward carries a raw SMP packet to the secondary and returns its answer.
// The link carries one exchange at a time; while a transfer holds it the
// answer is EBUSY.
func (p *Primary) forward(ctx context.Context, r *server.Request) (any, error) {
	var req ForwardRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if p.peer == nil {
		return nil, withReason(RCNoPeer, "this primary has no secondary")
	}
	resp, err := p.peer.exchange(ctx, req.Packet)
	if err != nil {
		return nil, err
	}
	return ForwardResponse{Packet: resp}, nil
}

// peerFailure describes a failed exchange with the secondary.
func peerFailure(step string, err error) Failure {
	return Failure{Device: "secondary", Step: step, Reason: err.Error()}
}
