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

// settle makes sure a node has served everything sent to it before, with
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

// TestReplays sends each state-changing command of a session twice, as a
// host or primary does after a reconnect: a second begin answers the same
// session, a second reset or commit, to the primary or straight to the
// secondary, changes nothing, and the secondary boots once.
func TestReplays(t *testing.T) {
	s := newSetup(t, readRef(t, "hashonly_1k_v1.0.0.bin"))
	reboots := newRebootClock()
	s.sec.Clock, s.sec.ResetDelay = reboots, time.Millisecond
	pri, sec := s.start(t)
	c := client.New(dial(t, pri), client.Options{})
	direct := client.New(dial(t, sec), client.Options{})
	ctx := bounded(t)

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

	// The host finishes the session it finds, up to the commit.
	res, err := update.Run(ctx, options(t, dial(t, pri), image, pair.TargetAll))
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if !res.Resumed || res.SID != sid {
		t.Errorf("update: resumed %v, session %#x; want true, %#x", res.Resumed, res.SID, uint32(sid))
	}
	reboots.wait(t)

	// Replays of the reset and the commit, to the primary and, as the
	// primary would send them again, to the secondary.
	var decision pair.ResetResponse
	if err := command(ctx, c, pair.CmdReset, pair.ResetRequest{SID: sid}, &decision); err != nil {
		t.Errorf("reset again: %v", err)
	}
	for _, x := range []*client.Client{c, direct} {
		for _, cmd := range []uint8{pair.CmdReset, pair.CmdCommit} {
			if err := command(ctx, x, cmd, pair.SIDRequest{SID: sid}, nil); err != nil {
				t.Errorf("command %d again: %v", cmd, err)
			}
		}
	}
	settle(t, direct)
	if n := reboots.scheduled.Load(); n != 1 {
		t.Errorf("the secondary rebooted %d times, want 1", n)
	}
	if got := sec.Device.Booted().Swap; got != boot.SwapTest {
		t.Errorf("the secondary's last boot swapped %v, want test (a second reset reverts)", got)
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

// isRC reports whether err is the pair group error rc.
func isRC(err error, rc pair.RC) bool {
	got, ok := pair.AsRC(err)
	return ok && got == rc
}
