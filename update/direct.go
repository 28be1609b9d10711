package update

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
)

// direct runs the two-phase update itself, over standard SMP only, for
// firmware without the pair group when the host reaches both devices.
// docs/protocol.md says which guarantees hold in this mode.
type direct struct {
	*run
	devices []*directDevice // targeted devices, secondary first
}

type directDevice struct {
	role string
	c    *client.Client
	// switched: the device already runs the image, unconfirmed (an earlier
	// run stopped before its commit); it only needs confirming.
	switched bool
}

// RunDirect performs the update with the host as the coordinator.
// Options.SecondaryConn is the host's own link to the secondary.
func RunDirect(ctx context.Context, o Options) (Result, error) {
	if o.SecondaryConn == nil && o.Target.Has(pair.TargetSecondary) {
		return Result{}, errors.New("update: direct mode needs a connection to the secondary")
	}
	r, err := newRun(o)
	if err != nil {
		return Result{}, err
	}
	d := &direct{run: r}
	res := Result{Version: r.img.Header.Version}
	// A pair session on the primary would fight the host: its guard refuses
	// resets, its journal speaks of another image.
	if st, err := r.status(ctx); err == nil && !st.Phase.Finished() {
		return res, fmt.Errorf("update: prepare: primary: pair session %08x is in phase %s; finish it in pair mode "+
			"(fotasync update without --mode direct) before a direct update", st.SID, st.Phase)
	}
	if err := d.prepare(ctx); err != nil {
		return res, err
	}
	res.Target = r.target
	if len(d.devices) == 0 {
		res.UpToDate = true
		return res, nil
	}
	for _, step := range []func(context.Context) error{d.transfer, d.ready, d.switchPair, d.waitTesting, d.commit} {
		if err := step(ctx); err != nil {
			return res, err
		}
	}
	return res, nil
}

// prepare reads both devices and keeps those that need the image.
func (d *direct) prepare(ctx context.Context) error {
	conns := []struct {
		role   string
		target pair.Target
		c      *client.Client
	}{{"secondary", pair.TargetSecondary, nil}, {"primary", pair.TargetPrimary, d.c}}
	if d.o.SecondaryConn != nil {
		conns[0].c = client.New(d.o.SecondaryConn, d.o.Client)
	}
	for _, x := range conns {
		if !d.o.Target.Has(x.target) {
			continue
		}
		list, err := x.c.ImageState(ctx)
		if err != nil {
			return fmt.Errorf("update: prepare: %s: read image state: %w", x.role, err)
		}
		dev := &directDevice{role: x.role, c: x.c}
		if run, ok := runningSlot(list); ok && !run.Confirmed && bytes.Equal(run.Hash, d.img.Hash()) {
			dev.switched = true
			d.event(Event{Step: "prepare", Device: x.role, Message: "runs the image unconfirmed; will confirm it"})
		} else {
			needed, err := d.needs(x.role, pair.DeviceStatus{Images: list})
			if err != nil {
				return err
			}
			if !needed {
				continue
			}
		}
		d.target |= x.target
		d.devices = append(d.devices, dev)
	}
	return nil
}

// transfer uploads to every targeted device at once, each on its own link.
func (d *direct) transfer(ctx context.Context) error {
	return d.each(ctx, func(dev *directDevice) error {
		if dev.switched {
			return nil
		}
		_, err := dev.c.Upload(ctx, d.o.Image, client.UploadOptions{ChunkSize: d.o.ChunkSize,
			Progress: func(off, total int) {
				d.event(Event{Step: "transfer", Device: dev.role, Off: off, Total: total})
			}})
		if err != nil {
			return fmt.Errorf("update: transfer: %s: %w", dev.role, err)
		}
		return nil
	})
}

// ready requires the image's hash in each device's other slot (field case
// B02: never test an image that is not verifiably there).
func (d *direct) ready(ctx context.Context) error {
	for _, dev := range d.devices {
		if dev.switched {
			continue
		}
		list, err := dev.c.ImageState(ctx)
		if err != nil {
			return fmt.Errorf("update: ready: %s: read image state: %w", dev.role, err)
		}
		if !holds(list, d.img.Hash()) {
			return fmt.Errorf("update: ready: %s: the uploaded image is not in its slots", dev.role)
		}
	}
	d.event(Event{Step: "ready", Message: "every targeted device holds the image"})
	return nil
}

// switchPair marks every image for test before resetting any device, then
// resets the secondary first.
func (d *direct) switchPair(ctx context.Context) error {
	for _, dev := range d.devices {
		if dev.switched {
			continue
		}
		if _, err := dev.c.ImageTest(ctx, d.img.Hash()); err != nil {
			return fmt.Errorf("update: switch: %s: mark for test: %w", dev.role, err)
		}
	}
	for _, dev := range d.devices {
		if dev.switched {
			continue
		}
		// A lost answer to a reset is probable success (B17); the
		// reconnect step finds out.
		if err := dev.c.Reset(ctx, false); err != nil && !errors.Is(err, client.ErrTimeout) {
			return fmt.Errorf("update: switch: %s: reset: %w", dev.role, err)
		}
		d.event(Event{Step: "reset", Device: dev.role, Message: "reset into the test image"})
	}
	return nil
}

// waitTesting waits until every targeted device runs the image. A device
// that comes back on its old image makes the pair roll back.
func (d *direct) waitTesting(ctx context.Context) error {
	deadline := d.clock.Now().Add(d.o.RebootTimeout)
	wait := d.o.Poll
	for {
		back, old, err := d.survey(ctx)
		if old != "" {
			d.rollBack(ctx)
			return fmt.Errorf("update: reconnect: %s came back on its old image; the pair was rolled back", old)
		}
		if back {
			d.event(Event{Step: "verify", Message: "every targeted device runs " + d.img.Header.Version.String()})
			return nil
		}
		if !d.clock.Now().Before(deadline) {
			d.rollBack(ctx)
			return fmt.Errorf("update: reconnect: not every device came back within %v (%v); rolled back",
				d.o.RebootTimeout, err)
		}
		if err := clock.Sleep(ctx, d.clock, wait); err != nil {
			return fmt.Errorf("update: reconnect: %w", err)
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// survey reads every targeted device: whether all run the image, and the
// first one that answers running something else.
func (d *direct) survey(ctx context.Context) (bool, string, error) {
	all := true
	var lastErr error
	for _, dev := range d.devices {
		list, err := dev.c.ImageState(ctx)
		if err != nil {
			all, lastErr = false, fmt.Errorf("%s: %w", dev.role, err)
			continue
		}
		run, ok := runningSlot(list)
		switch {
		case ok && bytes.Equal(run.Hash, d.img.Hash()):
		case ok && run.Confirmed && !holdsPending(list, d.img.Hash()):
			return false, dev.role, nil
		default:
			all = false
		}
	}
	return all, "", lastErr
}

// commit confirms the secondary, then the primary.
func (d *direct) commit(ctx context.Context) error {
	for _, dev := range d.devices {
		if _, err := dev.c.ImageConfirm(ctx, nil); err != nil {
			return fmt.Errorf("update: commit: %s: confirm: %w", dev.role, err)
		}
		list, err := dev.c.ImageState(ctx)
		if err != nil {
			return fmt.Errorf("update: commit: %s: read image state: %w", dev.role, err)
		}
		if run, ok := runningSlot(list); !ok || !run.Confirmed || !bytes.Equal(run.Hash, d.img.Hash()) {
			return fmt.Errorf("update: commit: %s: the new image is not confirmed", dev.role)
		}
	}
	roles := make([]string, len(d.devices))
	for i, dev := range d.devices {
		roles[i] = dev.role
	}
	d.event(Event{Step: "commit", Message: fmt.Sprintf("%s confirmed on %s", d.img.Header.Version, strings.Join(roles, " and "))})
	return nil
}

// rollBack resets every device that runs the unconfirmed new image, so
// MCUboot reverts it. Errors are not returned: the caller reports the cause.
func (d *direct) rollBack(ctx context.Context) {
	for _, dev := range d.devices {
		list, err := dev.c.ImageState(ctx)
		if err != nil {
			continue
		}
		if run, ok := runningSlot(list); ok && !run.Confirmed && bytes.Equal(run.Hash, d.img.Hash()) {
			_ = dev.c.Reset(ctx, true)
			d.event(Event{Step: "rollback", Device: dev.role, Message: "reset to revert the test image"})
		}
	}
}

// each runs f for every targeted device at once and returns their errors.
func (d *direct) each(ctx context.Context, f func(*directDevice) error) error {
	errs := make([]error, len(d.devices))
	done := make([]chan struct{}, len(d.devices))
	for i, dev := range d.devices {
		done[i] = make(chan struct{})
		clock.Go(d.clock, func() {
			defer close(done[i])
			errs[i] = f(dev)
		})
	}
	for _, ch := range done {
		// Each f ends on its own (its uploads are bounded), so the wait
		// ignores cancellation: the goroutines must not outlive the call.
		_ = clock.Wait(context.Background(), d.clock, ch)
	}
	return errors.Join(errs...)
}

func holds(list []smp.ImageSlot, hash []byte) bool {
	for _, s := range list {
		if bytes.Equal(s.Hash, hash) {
			return true
		}
	}
	return false
}

// holdsPending reports whether the image with hash waits for its test boot:
// a device that still shows it pending has not reset yet.
func holdsPending(list []smp.ImageSlot, hash []byte) bool {
	for _, s := range list {
		if s.Pending && bytes.Equal(s.Hash, hash) {
			return true
		}
	}
	return false
}
