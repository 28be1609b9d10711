package e2e

import (
	"crypto/sha256"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/update"
	"github.com/google/go-cmp/cmp"
)

// rebootClock is a device clock that counts reboots. A device with a
// ResetDelay schedules each reboot on its clock; this one runs it at once,
// in a goroutine of its own as a Clock must, and counts it when it is
// scheduled and again when it is done.
type rebootClock struct {
	scheduled atomic.Int32
	done      chan struct{} // receives after each reboot
}

func newRebootClock() *rebootClock { return &rebootClock{done: make(chan struct{}, 8)} }

func (c *rebootClock) Now() time.Time { return clock.Wall.Now() }

func (c *rebootClock) AfterFunc(_ time.Duration, f func()) clock.Timer {
	c.scheduled.Add(1)
	return clock.Wall.AfterFunc(0, func() {
		f()
		c.done <- struct{}{}
	})
}

// wait waits for the next reboot to be done.
func (c *rebootClock) wait(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-bounded(t).Done():
		t.Fatal("the device did not reboot")
	}
}

// settle makes sure a node has served everything sent to it before, and run
// what it runs after a reply: it serves one request at a time.
func settle(t *testing.T, c *client.Client) {
	t.Helper()
	if _, err := c.Echo(bounded(t), "settle"); err != nil {
		t.Fatalf("echo: %v", err)
	}
}

// beginFor is a begin request for image.
func beginFor(sid uint32, target pair.Target, image, hash []byte, version string) pair.BeginRequest {
	sum := sha256.Sum256(image)
	return pair.BeginRequest{SID: sid, Target: target, Len: uint32(len(image)), SHA: sum[:], Hash: hash,
		Version: version}
}

// TestReplays sends each state-changing command of a session again, as a
// host or a primary does after a reconnect: a second begin answers the same
// session, and a second reset or commit, to the primary or straight to the
// secondary, changes nothing. The secondary boots once. The replays of the
// reset land while the pair runs its test images unconfirmed, when a second
// reset would revert the secondary: the D2D link is held after the
// secondary's reset so that the primary cannot commit yet.
func TestReplays(t *testing.T) {
	s := newSetup(t, readRef(t, "hashonly_1k_v1.0.0.bin"))
	reboots := newRebootClock()
	s.sec.Clock, s.sec.ResetDelay = reboots, time.Millisecond
	s.opts.PeerTimeout = patience // the held link is slow, not dead
	sec := s.startSecondary(t)
	var answered bool
	stalled := make(chan struct{})
	r := newRelay(t, sec.Addr(), func(dir direction, h smp.Header) bool {
		switch {
		case dir == toPrimary && h.Op == smp.OpWriteRsp && h.Group == pair.Group && h.ID == pair.CmdReset:
			answered = true
		case answered && dir == toSecondary && h.Group == smp.GroupImage && h.ID == smp.ImageState:
			answered = false
			close(stalled)
			return true
		}
		return false
	})
	pri := s.startPrimary(t, r.Addr())
	c := client.New(dial(t, pri), client.Options{})
	direct := client.New(dial(t, sec), client.Options{})
	ctx := bounded(t)
	status(t, c) // as a host does before it begins

	image := readRef(t, "hashonly_100k_v1.2.3+4.bin")
	const sid = 0xe2e00004
	begin := beginFor(sid, pair.TargetAll, image, hash100k, "1.2.3.4")
	var first, second pair.Status
	if err := command(ctx, c, pair.CmdSession, begin, &first); err != nil {
		t.Fatalf("begin: %v", err)
	}
	if err := command(ctx, c, pair.CmdSession, begin, &second); err != nil {
		t.Fatalf("begin again: %v", err)
	}
	if second.SID != sid || second.Phase != pair.PhaseTransfer {
		t.Errorf("begin again: session %#x in phase %s, want %#x in transfer", second.SID, second.Phase, uint32(sid))
	}
	other := beginFor(sid+1, pair.TargetAll, image, hash100k, "1.2.3.4")
	if err := command(ctx, c, pair.CmdSession, other, nil); !isRC(err, pair.RCBusy) {
		t.Errorf("begin of another session: %v, want %v", err, pair.RCBusy)
	}

	route := &client.Route{Group: pair.Group, ID: pair.CmdUpload, SID: sid}
	if _, err := c.Upload(ctx, image, client.UploadOptions{Route: route}); err != nil {
		t.Fatalf("upload: %v", err)
	}
	waitSession(t, pri.Primary, "both devices ready", inPhase(pair.PhaseReady))
	resetOnce := func(what string) {
		t.Helper()
		var resp pair.ResetResponse
		if err := command(ctx, c, pair.CmdReset, pair.ResetRequest{SID: sid}, &resp); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if resp.Decision != "reset" {
			t.Errorf("%s: decision %q, want reset", what, resp.Decision)
		}
	}
	resetOnce("reset")
	reboots.wait(t)
	select {
	case <-stalled:
	case <-ctx.Done():
		t.Fatal("the primary never read the secondary after the reset")
	}
	waitSession(t, pri.Primary, "the primary's test image", inPhase(pair.PhaseTesting))

	resetOnce("reset again")
	if err := command(ctx, direct, pair.CmdReset, pair.SIDRequest{SID: sid}, nil); err != nil {
		t.Errorf("reset again, straight to the secondary: %v", err)
	}
	settle(t, direct)
	if n := reboots.scheduled.Load(); n != 1 {
		t.Errorf("the secondary rebooted %d times, want 1", n)
	}
	if got := sec.Device.Booted().Swap; got != boot.SwapTest {
		t.Errorf("the secondary's last boot swapped %v, want test", got)
	}

	r.resume()
	waitSession(t, pri.Primary, "the commit", inPhase(pair.PhaseCommitted))
	for _, x := range []*client.Client{c, direct} {
		for _, cmd := range []uint8{pair.CmdReset, pair.CmdCommit} {
			if err := command(ctx, x, cmd, pair.SIDRequest{SID: sid}, nil); err != nil {
				t.Errorf("command %d after the commit: %v", cmd, err)
			}
		}
	}
	settle(t, direct)
	if n := reboots.scheduled.Load(); n != 1 {
		t.Errorf("the secondary rebooted %d times, want 1", n)
	}
	st := status(t, c)
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

// TestBeginReplayedAfterCommit replays the begin of a session that has
// committed: the primary must recognise it and start nothing.
func TestBeginReplayedAfterCommit(t *testing.T) {
	s := newSetup(t, readRef(t, "hashonly_1k_v1.0.0.bin"))
	pri, _ := s.start(t)
	conn := dial(t, pri)
	image := readRef(t, "hashonly_100k_v1.2.3+4.bin")
	res, err := update.Run(bounded(t), options(t, conn, image, pair.TargetAll))
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	c := client.New(conn, client.Options{})
	var st pair.Status
	err = command(bounded(t), c, pair.CmdSession, beginFor(res.SID, pair.TargetAll, image, hash100k, "1.2.3.4"), &st)
	t.Logf("begin replayed after the commit: %v", err)
	if got := pri.Primary.Session(); got.Phase != pair.PhaseCommitted || len(got.Applied) == 0 {
		t.Errorf("after the replay the primary's session is %s, applied %v; want committed as before",
			got.Phase, got.Applied)
	}
	if st := status(t, c); st.Phase != pair.PhaseCommitted {
		t.Errorf("the host reads phase %s, want committed", st.Phase)
	}
}

// isRC reports whether err is the pair group error rc.
func isRC(err error, rc pair.RC) bool {
	got, ok := pair.AsRC(err)
	return ok && got == rc
}
