package pair

import (
	"bytes"
	"context"
	"sync"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/server"
	"github.com/fotasync/fotasync/smp"
)

// Secondary is the pair protocol on the secondary device: it records the
// session the primary begins, verifies and reports the image it received,
// and switches and confirms when the primary says so, each at most once.
type Secondary struct {
	dev     *device.Device
	journal journal

	mu       sync.Mutex
	s        Session
	tracking bool // the upload in progress is the session's image
}

// NewSecondary attaches the pair protocol to dev and loads its journal.
func NewSecondary(dev *device.Device) (*Secondary, error) {
	x := &Secondary{dev: dev, journal: newJournal(dev)}
	s, err := x.journal.load()
	if err != nil {
		return nil, err
	}
	x.s = s
	dev.SetHooks(device.Hooks{AfterBoot: x.afterBoot})
	x.afterBoot(dev.Booted())
	return x, nil
}

// Register adds the pair group commands to m.
func (x *Secondary) Register(m *server.Mux) {
	m.HandleRead(Group, CmdSession, x.status)
	m.HandleWrite(Group, CmdSession, x.begin)
	m.HandleWrite(Group, CmdReport, x.report)
	m.HandleWrite(Group, CmdReset, x.reset)
	m.HandleWrite(Group, CmdCommit, x.commit)
	m.HandleWrite(Group, CmdAbort, x.abort)
	m.HandleWrite(smp.GroupImage, smp.ImageUpload, x.upload)
}

// upload is the image group's upload with a journaled checkpoint: while the
// staged image is the session's, its durable offset survives a reset.
func (x *Secondary) upload(_ context.Context, r *server.Request) (any, error) {
	var c device.Chunk
	if err := r.Decode(&c); err != nil {
		return nil, err
	}
	resp, err := x.dev.Receive(c)
	if err != nil {
		return nil, err
	}
	s := x.Session()
	if c.Off != nil && *c.Off == 0 {
		x.mu.Lock()
		x.tracking = s.Phase == PhaseTransfer && stagedIsSession(s, c.SHA)
		x.mu.Unlock()
	}
	x.mu.Lock()
	tracking := x.tracking
	x.mu.Unlock()
	if tracking {
		checkpoint(x.dev, s, x.change)
	}
	return resp, nil
}

// change applies f to the session and journals it.
func (x *Secondary) change(f func(*Session)) error {
	s := x.Session()
	s.Applied = append([]string(nil), s.Applied...)
	f(&s)
	return x.store(s)
}

// Session returns the secondary's view of the session.
func (x *Secondary) Session() Session {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.s
}

// afterBoot moves a switching session on once the device has booted: into
// testing when the test swap happened, to reverted when the old image came
// back.
func (x *Secondary) afterBoot(res boot.Result) {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.s
	switch {
	case s.Phase == PhaseTransfer && s.Secondary == StateReceiving:
		resumeUpload(x.dev, s)
		x.tracking = s.DurableOff > 0
		return
	case s.Phase == PhaseSwitching && res.Swap == boot.SwapTest:
		s.Phase, s.Secondary = PhaseTesting, StateTesting
	case s.Phase == PhaseSwitching && res.Swap == boot.SwapFail:
		s.Phase, s.Secondary = PhaseReverted, StateFailed
		s.Failure = &Failure{Device: "secondary", Step: "boot", Reason: errText(res.Rejected)}
	case (s.Phase == PhaseSwitching || s.Phase == PhaseTesting) && res.Swap == boot.SwapRevert:
		s.Phase, s.Secondary = PhaseReverted, StateFailed
		s.Decision = "reverted: the test image was not confirmed before a reset"
	default:
		return
	}
	x.save(s)
}

func (x *Secondary) status(context.Context, *server.Request) (any, error) {
	x.mu.Lock()
	s := x.s
	x.mu.Unlock()
	list, err := x.dev.Images()
	if err != nil {
		return nil, err
	}
	return Status{SID: s.SID, Target: s.Target, Phase: s.Phase, Version: s.Version, Hash: s.Hash,
		Decision: s.Decision, Failure: s.Failure,
		Devices: []DeviceStatus{{Role: "secondary", State: s.Secondary, Len: s.Len, Reachable: true, Images: list}}}, nil
}

// begin records the session the primary starts. The primary coordinates, so
// a new session replaces whatever this device remembered.
func (x *Secondary) begin(_ context.Context, r *server.Request) (any, error) {
	var req BeginRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if err := req.check(); err != nil {
		return nil, err
	}
	if int(req.Len) > x.dev.SlotSize() {
		return nil, withReason(RCBadRequest, "image file of %d bytes does not fit the secondary's %d-byte slot",
			req.Len, x.dev.SlotSize())
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if req.same(x.s) {
		return nil, nil
	}
	return nil, x.save(Session{BeginRequest: req, Phase: PhaseTransfer, Secondary: StateReceiving})
}

// report verifies the staged image and answers with the completion report.
func (x *Secondary) report(_ context.Context, r *server.Request) (any, error) {
	s, err := x.session(r)
	if err != nil {
		return nil, err
	}
	if s.Secondary != StateReceiving && s.Secondary != StateVerified && s.Secondary != StateFailed {
		return Report{SID: s.SID, State: s.Secondary, Hash: s.Hash}, nil
	}
	rep := Report{SID: s.SID, State: StateVerified, Hash: s.Hash}
	if code, err := verifyStaged(x.dev, s); err != nil {
		rep = Report{SID: s.SID, State: StateFailed, Code: uint16(code), Reason: err.Error()}
		s.Failure = &Failure{Device: "secondary", Step: StepVerify, Reason: err.Error()}
	}
	s.Secondary = rep.State
	return rep, x.store(s)
}

// reset marks the verified image for a test boot and resets once. A replay
// of the same command is answered without a second reset (field case B15).
func (x *Secondary) reset(_ context.Context, r *server.Request) (any, error) {
	s, err := x.session(r)
	if err != nil {
		return nil, err
	}
	if s.did("reset") {
		return nil, nil
	}
	if s.Phase != PhaseTransfer {
		// A reset that arrives after the session ended (aborted, or rolled
		// back while this command was delayed) must not switch this device
		// alone.
		return nil, withReason(RCBadState, "session %d is %s", s.SID, s.Phase)
	}
	if s.Secondary != StateVerified {
		return nil, withReason(RCNotReady, "secondary state is %q, not verified", s.Secondary)
	}
	if err := x.dev.SetState(s.Hash, false); err != nil {
		return nil, err
	}
	s.Applied = append(s.Applied, "reset")
	s.Phase, s.Secondary = PhaseSwitching, StateSwitched
	if err := x.store(s); err != nil {
		return nil, err
	}
	r.AfterReply(x.dev.ScheduleReset)
	return nil, nil
}

// commit confirms the running image if it is the session's.
func (x *Secondary) commit(_ context.Context, r *server.Request) (any, error) {
	s, err := x.session(r)
	if err != nil {
		return nil, err
	}
	if s.Phase == PhaseCommitted {
		return nil, nil
	}
	// Also after a roll forward, which reached this device through the
	// image group: confirming a confirmed image changes nothing, and the
	// journal learns the session's end.
	run, ok := x.dev.Running()
	if !ok || !bytes.Equal(run.Hash(), s.Hash) {
		return nil, withReason(RCMismatch, "secondary does not run the session's image")
	}
	if err := x.dev.SetState(nil, true); err != nil {
		return nil, err
	}
	if !s.did("commit") {
		s.Applied = append(s.Applied, "commit")
	}
	s.Phase, s.Secondary, s.Failure = PhaseCommitted, StateConfirmed, nil
	s.Decision = "committed by the primary"
	return nil, x.store(s)
}

func (x *Secondary) abort(_ context.Context, r *server.Request) (any, error) {
	s, err := x.session(r)
	if err != nil {
		return nil, err
	}
	if s.Phase.Finished() {
		return nil, nil
	}
	s.Phase, s.Decision = PhaseAborted, "aborted by the primary"
	if err := x.store(s); err != nil {
		return nil, err
	}
	// A switch that got here before the abort is undone: an unconfirmed
	// test image of the session reverts at the reset.
	if list, err := x.dev.Images(); err == nil {
		if run, ok := running(list); ok && bytes.Equal(run.Hash, s.Hash) && !run.Confirmed {
			r.AfterReply(x.dev.ScheduleReset)
		}
	}
	return nil, nil
}

// session decodes a SIDRequest and returns a copy of the session it names.
// Handlers run one at a time (server.Serve), so the copy stays current until
// the handler stores it back.
func (x *Secondary) session(r *server.Request) (Session, error) {
	var req SIDRequest
	if err := r.Decode(&req); err != nil {
		return Session{}, err
	}
	x.mu.Lock()
	s := x.s
	x.mu.Unlock()
	if req.SID == 0 || req.SID != s.SID {
		return Session{}, withReason(RCBadSession, "session %08x is not this device's (%s)", req.SID, sessionName(s))
	}
	return s, nil
}

// store journals s and makes it current.
func (x *Secondary) store(s Session) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.save(s)
}

// save journals s and makes it current. The caller holds x.mu.
func (x *Secondary) save(s Session) error {
	if err := x.journal.save(s); err != nil {
		return err
	}
	x.s = s
	return nil
}

func errText(err error) string {
	if err == nil {
		return "unknown"
	}
	return err.Error()
}
