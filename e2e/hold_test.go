package e2e

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/emulator"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/google/go-cmp/cmp"
)

// bootView is what a device runs at one instant.
type bootView struct {
	Swap boot.SwapType // of its last boot
	Hash []byte        // of its running image
}

func viewOf(n *emulator.Node) bootView {
	v := bootView{Swap: n.Device.Booted().Swap}
	if img, ok := n.Device.Running(); ok {
		v.Hash = img.Hash()
	}
	return v
}

// heldPair is a pair at 1.0.0 whose D2D link runs through a relay that
// pauses at the secondary's second upload chunk, with a session for
// 1.2.3+4 begun and the whole image uploaded to the primary: the primary
// holds the verified image, the secondary holds the first chunk.
type heldPair struct {
	pri, sec *emulator.Node
	relay    *relay
	c        *client.Client
	sid      uint32
	// atSecondaryReset receives what the primary ran when the secondary's
	// answer to the pair reset crossed the relay.
	atSecondaryReset chan bootView
}

func startHeld(t *testing.T, opts pair.PrimaryOptions) *heldPair {
	t.Helper()
	s := newSetup(t, readRef(t, "hashonly_1k_v1.0.0.bin"))
	s.opts = opts
	h := &heldPair{sid: 0xe2e00001, atSecondaryReset: make(chan bootView, 1)}
	h.sec = s.startSecondary(t)
	var (
		pri     atomic.Pointer[emulator.Node]
		chunks  int
		stalled = make(chan struct{})
	)
	h.relay = newRelay(t, h.sec.Addr(), func(dir direction, hd smp.Header) bool {
		switch {
		case dir == toSecondary && hd.Op == smp.OpWrite && hd.Group == smp.GroupImage && hd.ID == smp.ImageUpload:
			if chunks++; chunks == 2 {
				close(stalled)
				return true
			}
		case dir == toPrimary && hd.Op == smp.OpWriteRsp && hd.Group == pair.Group && hd.ID == pair.CmdReset:
			select {
			case h.atSecondaryReset <- viewOf(pri.Load()):
			default: // a second answer; the first one is the one checked
			}
		}
		return false
	})
	h.pri = s.startPrimary(t, h.relay.Addr())
	pri.Store(h.pri)
	h.c = client.New(dial(t, h.pri), client.Options{})

	image := readRef(t, "hashonly_100k_v1.2.3+4.bin")
	begin := beginFor(h.sid, pair.TargetAll, image, hash100k, "1.2.3.4")
	if err := command(bounded(t), h.c, pair.CmdSession, begin, nil); err != nil {
		t.Fatalf("begin: %v", err)
	}
	route := &client.Route{Group: pair.Group, ID: pair.CmdUpload, SID: h.sid}
	if _, err := h.c.Upload(bounded(t), image, client.UploadOptions{Route: route}); err != nil {
		t.Fatalf("upload to the primary: %v", err)
	}
	select {
	case <-stalled:
	case <-bounded(t).Done():
		t.Fatal("the relay never saw the secondary's second chunk")
	}
	waitSession(t, h.pri.Primary, "the primary to verify its image", func(s pair.Session) bool {
		return s.Primary == pair.StateVerified
	})
	return h
}

// reset asks the primary for the coordinated reset and checks that it holds
// it: the secondary is still receiving.
func (h *heldPair) reset(t *testing.T) {
	t.Helper()
	var resp pair.ResetResponse
	if err := command(bounded(t), h.c, pair.CmdReset, pair.ResetRequest{SID: h.sid}, &resp); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if resp.Decision != "held" {
		t.Errorf("reset decision = %q, want held", resp.Decision)
	}
}

// TestResetHeldForSecondary asks for the reset while the secondary has only
// part of the image: the primary holds its own reset, resets the secondary
// first once the link carries the rest, and both commit the new image.
func TestResetHeldForSecondary(t *testing.T) {
	// The paused link is slow, not dead: no D2D timeout may fire.
	h := startHeld(t, pair.PrimaryOptions{PeerTimeout: patience})
	before := viewOf(h.pri)
	h.reset(t)

	st := status(t, h.c)
	if st.Phase != pair.PhaseHeld {
		t.Errorf("phase = %s, want held", st.Phase)
	}
	if got := viewOf(h.pri); !cmp.Equal(got, before) {
		t.Errorf("the primary reset while holding: runs %+v, ran %+v", got, before)
	}
	if len(st.Devices) != 2 {
		t.Fatalf("status lists %d devices, want 2", len(st.Devices))
	}
	if d := st.Devices[1]; d.State != pair.StateReceiving || d.Off == 0 || d.Off >= d.Len {
		t.Errorf("secondary: state %s at %d of %d bytes; want receiving, some bytes but not all", d.State, d.Off, d.Len)
	}
	// A plain SMP reset of the primary is refused too (field case B17).
	if err := h.c.Reset(bounded(t), false); !errors.Is(err, smp.RCBusy) {
		t.Errorf("plain reset of the primary: %v, want %v", err, smp.RCBusy)
	}

	h.relay.resume()
	// The primary settles the pair on its own after its reboot; the host's
	// commit below may find it done.
	waitSession(t, h.pri.Primary, "the pair to run the test images",
		inPhase(pair.PhaseTesting, pair.PhaseCommitted))
	select {
	case at := <-h.atSecondaryReset:
		if !cmp.Equal(at, before) {
			t.Errorf("when the secondary's reset answer crossed the link the primary ran %+v, want %+v", at, before)
		}
	default:
		t.Error("no answer to the secondary's reset crossed the link")
	}
	if err := command(bounded(t), h.c, pair.CmdCommit, pair.SIDRequest{SID: h.sid}, nil); err != nil {
		t.Fatalf("commit: %v", err)
	}
	st = status(t, h.c)
	if st.Phase != pair.PhaseCommitted {
		t.Errorf("phase = %s, want committed (%s)", st.Phase, st.Decision)
	}
	want := []smp.ImageSlot{running("1.2.3.4", hash100k), staged("1.0.0", hash1k)}
	for role, got := range devices(st) {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s slots (-want +got):\n%s", role, diff)
		}
	}
}

// watchedClock is a virtual clock that tells the test when a timer it
// watches for is set.
type watchedClock struct {
	*clock.Virtual
	watch func(d time.Duration) bool
	set   chan time.Duration // the length of each watched timer set
}

func newWatchedClock(watch func(time.Duration) bool) *watchedClock {
	return &watchedClock{Virtual: clock.NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), watch: watch,
		set: make(chan time.Duration, 64)}
}

func (c *watchedClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	t := c.Virtual.AfterFunc(d, f)
	if c.watch(d) {
		select {
		case c.set <- d:
		default: // more than the test reads; it has failed already
		}
	}
	return t
}

// next waits for the next watched timer.
func (c *watchedClock) next(t *testing.T, what string) time.Duration {
	t.Helper()
	select {
	case d := <-c.set:
		return d
	case <-bounded(t).Done():
		t.Fatalf("waiting for %s: no timer set", what)
	}
	return 0
}

// TestHeldResetTimesOut keeps the link to the secondary paused after the
// reset was asked for: when the hold runs out the session is aborted, and
// neither device resets or keeps anything pending.
func TestHeldResetTimesOut(t *testing.T) {
	const hold = 30 * time.Second
	vc := newWatchedClock(func(d time.Duration) bool { return d == hold })
	h := startHeld(t, pair.PrimaryOptions{Clock: vc, Hold: hold, PeerTimeout: time.Hour})
	priBefore, secBefore := viewOf(h.pri), viewOf(h.sec)
	h.reset(t)
	vc.next(t, "the hold timer")
	vc.Advance(hold - time.Millisecond)
	if s := h.pri.Primary.Session(); s.Phase != pair.PhaseHeld {
		t.Fatalf("phase %s before the hold ran out, want held", s.Phase)
	}
	vc.Advance(time.Millisecond)
	s := waitSession(t, h.pri.Primary, "the hold to run out", inPhase(pair.PhaseAborted))

	if f := s.Failure; f == nil || f.Device != "secondary" || f.Step != "ready" {
		t.Errorf("failure = %+v, want the secondary at ready", f)
	}
	t.Logf("decision: %s; failure: %v", s.Decision, s.Failure)
	if got := viewOf(h.pri); !cmp.Equal(got, priBefore) {
		t.Errorf("primary runs %+v, ran %+v before", got, priBefore)
	}
	if got := viewOf(h.sec); !cmp.Equal(got, secBefore) {
		t.Errorf("secondary runs %+v, ran %+v before", got, secBefore)
	}
	// The primary keeps its verified copy, the secondary a partial one
	// that lists as nothing; neither is marked for a boot.
	for _, d := range []struct {
		n    *emulator.Node
		want []smp.ImageSlot
	}{
		{h.pri, []smp.ImageSlot{running("1.0.0", hash1k), staged("1.2.3.4", hash100k)}},
		{h.sec, []smp.ImageSlot{running("1.0.0", hash1k)}},
	} {
		got, err := d.n.Device.Images()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(d.want, got); diff != "" {
			t.Errorf("%s slots (-want +got):\n%s", d.n.Device.Name(), diff)
		}
	}

	// Once the link carries again, the host reads the same outcome.
	h.relay.resume()
	st := status(t, h.c)
	if st.Phase != pair.PhaseAborted || st.Failure == nil || st.Failure.Step != "ready" {
		t.Errorf("status: phase %s, failure %+v; want aborted at ready", st.Phase, st.Failure)
	}
	for _, d := range st.Devices {
		for _, im := range d.Images {
			if im.Pending || !bytes.Equal(im.Hash, hash1k) && im.Active {
				t.Errorf("%s: slot %d %+v is pending or runs a new image", d.Role, im.Slot, im)
			}
		}
	}
}
