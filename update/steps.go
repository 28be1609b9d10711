package update

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/mcuboot"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
)

// roles are the devices of a pair, in the order the primary reports them.
var roles = []struct {
	name   string
	target pair.Target
}{{"primary", pair.TargetPrimary}, {"secondary", pair.TargetSecondary}}

// prepare reads the pair and decides which devices the update touches: a
// device that already runs the image is left out, and an older image is
// refused unless a downgrade is allowed. Nothing is written.
func (r *run) prepare(ctx context.Context) (pair.Status, error) {
	r.event(Event{Step: "prepare", Message: fmt.Sprintf("image %s, %d bytes, hash %x",
		r.img.Header.Version, len(r.o.Image), r.img.Hash()[:8])})
	st, err := r.status(ctx)
	if errors.Is(err, smp.RCNotSupported) {
		return st, fmt.Errorf("update: prepare: primary: the firmware has no pair group (SMP group %d)", pair.Group)
	}
	if err != nil {
		return st, fmt.Errorf("update: prepare: primary: read status: %w", err)
	}
	var target pair.Target
	for _, role := range roles {
		if !r.o.Target.Has(role.target) {
			continue
		}
		dev, ok := device(st, role.name)
		if !ok {
			return st, fmt.Errorf("update: prepare: %s: the primary reports no %s device", role.name, role.name)
		}
		resuming := !st.Phase.Finished() && bytes.Equal(st.Hash, r.img.Hash())
		if !dev.Reachable {
			if resuming {
				// The versions were checked when the session began; the
				// primary's relay reaches the secondary once it is back.
				target |= role.target
				continue
			}
			return st, fmt.Errorf("update: prepare: %s: not reachable through the primary", role.name)
		}
		needed, err := r.needs(role.name, dev)
		if err != nil {
			return st, err
		}
		if needed {
			target |= role.target
		}
	}
	r.target = target
	if target != 0 {
		if err := r.checkSize(ctx); err != nil {
			return st, err
		}
	}
	return st, nil
}

// needs reports whether dev must be updated: not when it already runs the
// image. An older image is an error unless downgrades are allowed.
func (r *run) needs(role string, dev pair.DeviceStatus) (bool, error) {
	run, ok := runningSlot(dev.Images)
	if !ok {
		return true, nil
	}
	if bytes.Equal(run.Hash, r.img.Hash()) {
		if !run.Confirmed {
			// A session stopped between the reset and its commit.
			r.event(Event{Step: "prepare", Device: role, Message: "runs the image unconfirmed; the session must end"})
			return true, nil
		}
		r.event(Event{Step: "prepare", Device: role, Message: "already runs " + run.Version + "; left out"})
		return false, nil
	}
	v, err := mcuboot.ParseVersion(run.Version)
	if err != nil {
		return false, fmt.Errorf("update: prepare: %s: running version %q: %w", role, run.Version, err)
	}
	if r.img.Header.Version.Compare(v) < 0 && !r.o.AllowDowngrade {
		return false, fmt.Errorf("update: prepare: %s: runs %s, the image is %s: refusing a downgrade",
			role, v, r.img.Header.Version)
	}
	r.event(Event{Step: "prepare", Device: role, Message: fmt.Sprintf("runs %s, will get %s", v, r.img.Header.Version)})
	return true, nil
}

// checkSize refuses an image larger than the primary's slot: the image
// itself (header, payload, TLVs) must leave room for the trailer, and the file
// (with any padding) must fit the slot.
func (r *run) checkSize(ctx context.Context) error {
	images, err := r.c.SlotInfo(ctx)
	if errors.Is(err, smp.RCNotSupported) {
		return nil // older firmware: the first chunk's "len" check decides
	}
	if err != nil {
		return fmt.Errorf("update: prepare: primary: slot info: %w", err)
	}
	for _, im := range images {
		if im.Image != 0 {
			continue
		}
		if im.MaxImageSize != nil && r.img.Len() > int(*im.MaxImageSize) {
			return fmt.Errorf("update: prepare: primary: image of %d bytes does not fit the slot (%d bytes usable)",
				r.img.Len(), *im.MaxImageSize)
		}
		for _, s := range im.Slots {
			if s.Slot == 1 && len(r.o.Image) > int(s.Size) {
				return fmt.Errorf("update: prepare: primary: file of %d bytes does not fit the %d-byte slot",
					len(r.o.Image), s.Size)
			}
		}
	}
	return nil
}

// begin starts the session, or continues one the primary holds for the same
// image and target. A stale session of another image is aborted if nothing
// has switched yet.
func (r *run) begin(ctx context.Context, st pair.Status) (bool, error) {
	if !st.Phase.Finished() {
		if bytes.Equal(st.Hash, r.img.Hash()) && !lostImage(st) {
			r.sid, r.target = st.SID, st.Target
			r.event(Event{Step: "begin", Message: fmt.Sprintf("resuming session %08x in phase %s", st.SID, st.Phase)})
			return true, nil
		}
		if st.Phase != pair.PhaseTransfer && st.Phase != pair.PhaseHeld && st.Phase != pair.PhaseReady {
			return false, fmt.Errorf("update: begin: primary: session %08x of another image is %s; "+
				"finish it with that image first", st.SID, st.Phase)
		}
		if err := r.pairCommand(ctx, pair.CmdAbort, pair.SIDRequest{SID: st.SID}, nil); err != nil {
			return false, fmt.Errorf("update: begin: primary: abort stale session %08x: %w", st.SID, err)
		}
		r.event(Event{Step: "begin", Message: fmt.Sprintf("aborted stale session %08x", st.SID)})
	}
	sid, err := r.newSID()
	if err != nil {
		return false, err
	}
	r.sid = sid
	req := pair.BeginRequest{SID: sid, Target: r.target, Len: uint32(len(r.o.Image)), SHA: r.sha,
		Hash: r.img.Hash(), Version: r.img.Header.Version.SMPString(), Downgrade: r.o.AllowDowngrade}
	if err := r.pairCommand(ctx, pair.CmdSession, req, nil); err != nil {
		return false, r.failure(ctx, "begin", err)
	}
	r.event(Event{Step: "begin", Message: fmt.Sprintf("session %08x, target %s", sid, r.target)})
	return false, nil
}

// transfer uploads the image through the primary.
func (r *run) transfer(ctx context.Context) error {
	st, err := r.status(ctx)
	if err == nil && st.Phase != pair.PhaseTransfer {
		return nil // resumed past the transfer
	}
	via := "primary"
	if !r.target.Has(pair.TargetPrimary) {
		via = "secondary"
	}
	_, err = r.c.Upload(ctx, r.o.Image, client.UploadOptions{
		Route:     &client.Route{Group: pair.Group, ID: pair.CmdUpload, SID: r.sid},
		ChunkSize: r.o.ChunkSize,
		Window:    r.o.Window,
		Progress: func(off, total int) {
			r.event(Event{Step: "transfer", Device: via, Off: off, Total: total})
		},
	})
	if err != nil {
		return r.failure(ctx, "transfer", err)
	}
	return nil
}

// waitReady polls until every targeted device holds the verified image.
func (r *run) waitReady(ctx context.Context) error {
	deadline := r.clock.Now().Add(r.o.ReadyTimeout)
	for {
		st, err := r.status(ctx)
		if err != nil {
			return fmt.Errorf("update: wait ready: primary: %w", err)
		}
		if dev, ok := device(st, "secondary"); ok && r.target.Has(pair.TargetSecondary) {
			r.event(Event{Step: "transfer", Device: "secondary", Off: int(dev.Off), Total: int(dev.Len)})
		}
		switch st.Phase {
		case pair.PhaseReady, pair.PhaseHeld, pair.PhaseSwitching, pair.PhaseTesting:
			r.event(Event{Step: "ready", Message: "every targeted device holds the verified image"})
			return nil
		case pair.PhaseTransfer:
		default:
			return failureError("wait ready", st)
		}
		if !r.clock.Now().Before(deadline) {
			return fmt.Errorf("update: wait ready: %s: not ready after %v", lagging(st), r.o.ReadyTimeout)
		}
		if err := clock.Sleep(ctx, r.clock, r.o.Poll); err != nil {
			return fmt.Errorf("update: wait ready: %w", err)
		}
	}
}

// reset asks the primary for the coordinated reset.
func (r *run) reset(ctx context.Context) error {
	st, err := r.status(ctx)
	if err == nil && (st.Phase == pair.PhaseSwitching || st.Phase == pair.PhaseTesting) {
		return nil // resumed after the reset was asked for
	}
	var resp pair.ResetResponse
	req := pair.ResetRequest{SID: r.sid, HoldMS: uint32(r.o.Hold / time.Millisecond)}
	if err := r.pairCommand(ctx, pair.CmdReset, req, &resp); err != nil {
		return r.failure(ctx, "reset", err)
	}
	r.event(Event{Step: "reset", Message: "primary decided: " + resp.Decision})
	return nil
}

// waitTesting waits, with backoff, until every targeted device answers
// again and runs the session's image.
func (r *run) waitTesting(ctx context.Context) error {
	deadline := r.clock.Now().Add(r.o.RebootTimeout)
	wait := r.o.Poll
	for {
		st, err := r.status(ctx)
		if err == nil {
			switch {
			case (st.Phase == pair.PhaseTesting || st.Phase == pair.PhaseCommitted) && r.runsImage(st):
				r.event(Event{Step: "verify", Message: "every targeted device runs " + r.img.Header.Version.String()})
				return nil
			case st.Phase.Finished():
				return failureError("reconnect", st)
			}
		}
		if !r.clock.Now().Before(deadline) {
			return fmt.Errorf("update: reconnect: the pair did not come back running %s within %v",
				r.img.Header.Version, r.o.RebootTimeout)
		}
		r.event(Event{Step: "reconnect", Message: fmt.Sprintf("waiting %v", wait)})
		if err := clock.Sleep(ctx, r.clock, wait); err != nil {
			return fmt.Errorf("update: reconnect: %w", err)
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// runsImage reports whether every targeted device runs the image.
func (r *run) runsImage(st pair.Status) bool {
	for _, role := range roles {
		if !r.target.Has(role.target) {
			continue
		}
		dev, ok := device(st, role.name)
		if !ok || !dev.Reachable {
			return false
		}
		if run, ok := runningSlot(dev.Images); !ok || !bytes.Equal(run.Hash, r.img.Hash()) {
			return false
		}
	}
	return true
}

// commit confirms the pair, then checks that both images are confirmed. The
// primary answers NOT_READY while a device is still coming back; the host
// asks again until its reboot deadline.
func (r *run) commit(ctx context.Context) error {
	deadline := r.clock.Now().Add(r.o.RebootTimeout)
	for {
		err := r.pairCommand(ctx, pair.CmdCommit, pair.SIDRequest{SID: r.sid}, nil)
		if err == nil {
			break
		}
		if rc, ok := pair.AsRC(err); !ok || rc != pair.RCNotReady || !r.clock.Now().Before(deadline) {
			return r.failure(ctx, "commit", err)
		}
		if err := clock.Sleep(ctx, r.clock, r.o.Poll); err != nil {
			return fmt.Errorf("update: commit: %w", err)
		}
	}
	st, err := r.status(ctx)
	if err != nil {
		return fmt.Errorf("update: commit: primary: read status: %w", err)
	}
	for _, role := range roles {
		if !r.target.Has(role.target) {
			continue
		}
		dev, _ := device(st, role.name)
		if run, ok := runningSlot(dev.Images); !ok || !run.Confirmed {
			return fmt.Errorf("update: commit: %s: the running image is not confirmed", role.name)
		}
	}
	r.event(Event{Step: "commit", Message: st.Decision})
	return nil
}

func (r *run) pairCommand(ctx context.Context, cmd uint8, body, resp any) error {
	once := cmd == pair.CmdReset || cmd == pair.CmdCommit
	return r.c.Do(ctx, client.Request{Op: smp.OpWrite, Group: pair.Group, ID: cmd, Body: body, Once: once,
		Name: pair.CommandName(cmd)}, resp)
}

// failure explains err: the primary's record of what failed when it has
// one, otherwise err itself at the primary.
func (r *run) failure(ctx context.Context, step string, err error) error {
	if st, serr := r.status(ctx); serr == nil && st.SID == r.sid && st.Failure != nil {
		if st.Failure.Step == pair.StepVerify {
			err = fmt.Errorf("%w: %w", ErrRejected, err)
		}
		return fmt.Errorf("update: %s: %s: %s: %w", step, st.Failure.Device, st.Failure.Reason, err)
	}
	name := "primary"
	rc, ok := pair.AsRC(err)
	if ok && (rc == pair.RCPeerDown || rc == pair.RCPeerFailed) {
		name = "secondary"
	}
	if ok {
		return fmt.Errorf("update: %s: %s: %s: %w", step, name, rc.Name(), err)
	}
	return fmt.Errorf("update: %s: %s: %w", step, name, err)
}

// failureError reports a session that ended without the update.
func failureError(step string, st pair.Status) error {
	if st.Failure != nil && st.Failure.Step == pair.StepVerify {
		return fmt.Errorf("update: %s: %s: %s: %w (session %s; %s)", step, st.Failure.Device, st.Failure.Reason,
			ErrRejected, st.Phase, st.Decision)
	}
	if st.Failure != nil {
		return fmt.Errorf("update: %s: %s: %s: %s (session %s; %s)", step, st.Failure.Device, st.Failure.Step,
			st.Failure.Reason, st.Phase, st.Decision)
	}
	return fmt.Errorf("update: %s: session ended in phase %s: %s", step, st.Phase, st.Decision)
}

// lagging names the device that is not ready yet.
func lagging(st pair.Status) string {
	for _, d := range st.Devices {
		if d.State == pair.StateReceiving {
			return fmt.Sprintf("%s (%d of %d bytes)", d.Role, d.Off, d.Len)
		}
	}
	return "pair"
}

func device(st pair.Status, role string) (pair.DeviceStatus, bool) {
	for _, d := range st.Devices {
		if d.Role == role {
			return d, true
		}
	}
	return pair.DeviceStatus{}, false
}

func runningSlot(list []smp.ImageSlot) (smp.ImageSlot, bool) {
	for _, s := range list {
		if s.Active {
			return s, true
		}
	}
	return smp.ImageSlot{}, false
}

// lostImage reports whether a session that has not switched yet counts on a
// device that no longer holds its image (a device replaced or wiped since):
// such a session cannot be resumed, only aborted and begun again.
func lostImage(st pair.Status) bool {
	if st.Phase != pair.PhaseTransfer && st.Phase != pair.PhaseHeld && st.Phase != pair.PhaseReady {
		return false
	}
	for _, d := range st.Devices {
		if d.State == pair.StateVerified && d.Reachable && !holds(d.Images, st.Hash) {
			return true
		}
	}
	return false
}
