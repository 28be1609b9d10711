package e2e

import (
	"testing"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/emulator"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/google/go-cmp/cmp"
)

// TestSecondaryRebootsAfterDelay gives the secondary Zephyr's reset delay
// (CONFIG_MCUMGR_GRP_OS_RESET_MS; the device answers the reset and reboots
// later), on a virtual clock shared with the primary. Right after its own
// reboot the primary finds the secondary still on its old image, with the
// new one pending: it must wait for the secondary to come back, not decide
// that its switch failed. Then the pair commits and both run the new image
// (G1).
func TestSecondaryRebootsAfterDelay(t *testing.T) {
	const resetDelay = time.Second
	// Watch the short timers: the secondary's reboot and the primary's
	// waits between settle steps. D2D answers get an hour: none times out.
	vc := newWatchedClock(func(d time.Duration) bool { return d < 30*time.Second })
	s := newSetup(t, readRef(t, "hashonly_1k_v1.0.0.bin"))
	s.sec.Clock, s.sec.ResetDelay = vc, resetDelay
	s.opts = pair.PrimaryOptions{Clock: vc, PeerTimeout: time.Hour, CommitTimeout: time.Hour}
	pri, sec := s.start(t)
	c := client.New(dial(t, pri), client.Options{})
	ctx := bounded(t)
	status(t, c)

	image := readRef(t, "hashonly_100k_v1.2.3+4.bin")
	const sid = 0xe2e00005
	if err := command(ctx, c, pair.CmdSession, beginFor(sid, pair.TargetAll, image, hash100k, "1.2.3.4"), nil); err != nil {
		t.Fatalf("begin: %v", err)
	}
	route := &client.Route{Group: pair.Group, ID: pair.CmdUpload, SID: sid}
	if _, err := c.Upload(ctx, image, client.UploadOptions{Route: route}); err != nil {
		t.Fatalf("upload: %v", err)
	}
	waitSession(t, pri.Primary, "both devices ready", inPhase(pair.PhaseReady))
	if err := command(ctx, c, pair.CmdReset, pair.ResetRequest{SID: sid}, nil); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if d := vc.next(t, "the secondary's reboot"); d != resetDelay {
		t.Fatalf("first short timer %v, want the secondary's reset delay %v", d, resetDelay)
	}

	// Either the primary waits (a settle timer) or it ends the session.
wait:
	for {
		changed := pri.Primary.Changed()
		if st := pri.Primary.Session(); st.Phase.Finished() {
			t.Errorf("the primary ended the session as %s before the secondary rebooted: %s (%v)",
				st.Phase, st.Decision, st.Failure)
			break
		}
		select {
		case <-changed:
		case <-vc.set:
			break wait
		case <-ctx.Done():
			t.Fatal("the primary neither waits nor decides")
		}
	}

	vc.Advance(resetDelay)
	for !pri.Primary.Session().Phase.Finished() {
		changed := pri.Primary.Changed()
		select {
		case <-changed:
		case d := <-vc.set:
			vc.Advance(d)
		case <-ctx.Done():
			t.Fatalf("the pair does not settle: %+v", journalOf(pri.Primary.Session()))
		}
	}
	if st := pri.Primary.Session(); st.Phase != pair.PhaseCommitted {
		t.Errorf("session ended %s: %s (%v); want committed", st.Phase, st.Decision, st.Failure)
	}
	want := []smp.ImageSlot{running("1.2.3.4", hash100k), staged("1.0.0", hash1k)}
	var runs []smp.ImageSlot
	for _, n := range []*emulator.Node{pri, sec} {
		got, err := n.Device.Images()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s slots (-want +got):\n%s", n.Device.Name(), diff)
		}
		for _, im := range got {
			if im.Active {
				runs = append(runs, im)
			}
		}
	}
	if len(runs) != 2 || runs[0].Version != runs[1].Version || !runs[0].Confirmed || !runs[1].Confirmed {
		t.Errorf("G1: the pair ends mismatched or unconfirmed: running %+v", runs)
	}
}
