package e2e

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/update"
	"github.com/google/go-cmp/cmp"
)

// TestResumeAfterPrimaryRestart cuts an update when the primary holds about
// 70 KiB of the image, restarts the primary, and runs the update again: the
// host continues the same session from the primary's checkpoint (G3), and
// the pair ends on the new image.
func TestResumeAfterPrimaryRestart(t *testing.T) {
	s := newSetup(t, readRef(t, "hashonly_1k_v1.0.0.bin"))
	sec := s.startSecondary(t)
	var restarted atomic.Bool
	relaying := make(chan struct{})
	r := newRelay(t, sec.Addr(), func(dir direction, h smp.Header) bool {
		// The restarted primary relays to the secondary again; it holds the
		// D2D link until it has sent the rest, which needs the host.
		if restarted.Load() && dir == toSecondary && h.Group == smp.GroupImage && h.ID == smp.ImageUpload {
			restarted.Store(false)
			close(relaying)
		}
		return false
	})
	pri := s.startPrimary(t, r.Addr())
	image := readRef(t, "hashonly_100k_v1.2.3+4.bin")

	ctx, cut := context.WithCancel(bounded(t))
	o := options(t, dial(t, pri), image, pair.TargetAll)
	log := o.OnEvent
	o.OnEvent = func(e update.Event) {
		log(e)
		if e.Step == "transfer" && e.Device == "primary" && e.Off > 70<<10 {
			cut()
		}
	}
	if _, err := update.Run(ctx, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("cut update: %v, want it cancelled", err)
	}
	stop(t, pri)
	cp := pri.Primary.Session().DurableOff
	if cp == 0 {
		t.Fatalf("the primary journaled no upload checkpoint")
	}

	restarted.Store(true)
	pri = s.startPrimary(t, r.Addr())
	select {
	case <-relaying:
	case <-bounded(t).Done():
		t.Fatal("the restarted primary does not relay to the secondary")
	}
	o = options(t, dial(t, pri), image, pair.TargetAll)
	resumedAt := -1
	o.OnEvent = func(e update.Event) {
		log(e)
		if resumedAt < 0 && e.Step == "transfer" && e.Device == "primary" {
			resumedAt = e.Off
		}
	}
	res, err := update.Run(bounded(t), o)
	if err != nil {
		t.Fatalf("update after the restart: %v", err)
	}
	if !res.Resumed || res.Status.Phase != pair.PhaseCommitted {
		t.Errorf("update after the restart: resumed %v, phase %s; want true, committed", res.Resumed, res.Status.Phase)
	}
	if resumedAt < int(cp) {
		t.Errorf("the host resent the image from %d, want from the checkpoint at %d or later", resumedAt, cp)
	}
	want := []smp.ImageSlot{running("1.2.3.4", hash100k), staged("1.0.0", hash1k)}
	for role, got := range devices(res.Status) {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s slots (-want +got):\n%s", role, diff)
		}
	}
}
