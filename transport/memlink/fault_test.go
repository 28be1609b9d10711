package memlink

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fotasync/fotasync/clock"
	"github.com/google/go-cmp/cmp"
)

func TestLossExtremes(t *testing.T) {
	tests := []struct {
		loss float64
		want Stats
	}{
		{0, Stats{Sent: 100, Delivered: 100, Bytes: 1000}},
		{1, Stats{Sent: 100, Lost: 100}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("loss ", tt.loss), func(t *testing.T) {
			h := newHarness(t, 1, Profile{Latency: ms, Loss: tt.loss}, Profile{})
			for i := range 100 {
				h.send(time.Duration(i)*ms, fmt.Sprint(i), 10)
			}
			h.drain()
			if ab, _ := h.l.Stats(); ab != tt.want {
				t.Errorf("Stats = %+v, want %+v", ab, tt.want)
			}
			if len(h.toServer) != tt.want.Delivered {
				t.Errorf("server read %d packets, want %d", len(h.toServer), tt.want.Delivered)
			}
		})
	}
}

// fates sends 200 packets over a link with loss 0.3 and returns which of
// them arrived.
func fates(t *testing.T, seed uint64) []bool {
	h := newHarness(t, seed, Profile{Latency: ms, Loss: 0.3}, Profile{})
	for i := range 200 {
		h.send(time.Duration(i)*ms, fmt.Sprint(i), 10)
	}
	h.drain()

	got := make([]bool, 200)
	for _, a := range h.toServer {
		var i int
		fmt.Sscan(a.Label, &i)
		got[i] = true
	}
	return got
}

func TestReplay(t *testing.T) {
	first, again, other := fates(t, 7), fates(t, 7), fates(t, 8)

	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("same seed, different fates (-first +again):\n%s", diff)
	}
	if cmp.Equal(first, other) {
		t.Errorf("seeds 7 and 8 gave the same 200 fates")
	}
	lost := 0
	for _, ok := range first {
		if !ok {
			lost++
		}
	}
	if lost < 30 || lost > 90 { // 60 expected, σ ≈ 6.5
		t.Errorf("lost %d of 200 at loss 0.3", lost)
	}
}

func TestDuplicate(t *testing.T) {
	h := newHarness(t, 1, Profile{Latency: 5 * ms, Duplicate: 1}, Profile{})
	h.send(0, "a", 10)
	h.send(1*ms, "b", 10)
	h.drain()

	want := []arrival{{5 * ms, "a", 10}, {5 * ms, "a", 10}, {6 * ms, "b", 10}, {6 * ms, "b", 10}}
	if diff := cmp.Diff(want, h.toServer); diff != "" {
		t.Errorf("arrivals (-want +got):\n%s", diff)
	}
	ab, _ := h.l.Stats()
	if want := (Stats{Sent: 2, Duplicated: 2, Delivered: 4, Bytes: 40}); ab != want {
		t.Errorf("Stats = %+v, want %+v", ab, want)
	}
}

// scripted returns a harness whose draws come from vals in turn.
func scripted(t *testing.T, p Profile, vals ...uint64) (*harness, *script) {
	src := &script{vals: vals}
	clk := clock.NewVirtual(epoch)
	return &harness{t: t, clk: clk, l: NewLink(clk, rand.New(src), p, Profile{})}, src
}

func TestReorder(t *testing.T) {
	// Draws per packet: loss, duplicate, reorder. Only a's reorder draw hits.
	h, _ := scripted(t, Profile{Latency: 10 * ms, Reorder: 0.5},
		hi, hi, lo,
		hi, hi, hi)
	h.send(0, "a", 10)
	h.send(1*ms, "b", 10)
	h.drain()

	want := []arrival{{11 * ms, "b", 10}, {20 * ms, "a", 10}}
	if diff := cmp.Diff(want, h.toServer); diff != "" {
		t.Errorf("arrivals (-want +got):\n%s", diff)
	}
}

// TestDrawOrder checks that each packet takes exactly three draws, loss
// first, even when the link is down, and a refused packet none.
func TestDrawOrder(t *testing.T) {
	h, src := scripted(t, Profile{MTU: 20, Latency: ms, Loss: 0.5, Duplicate: 0.5},
		lo, lo, hi, // a: lost, so its duplicate draw does not matter
		hi, lo, hi) // b: duplicated
	h.send(0, "a", 10)
	h.send(0, "b", 10)
	h.l.CutNow()
	h.send(0, "c", 10) // sent while down: draws all the same
	if err := h.l.Client().Send(polled, packet("big", 21)); err == nil {
		t.Fatalf("Send(21 bytes) = nil, want an error")
	}
	h.l.Restore()
	h.drain()

	if src.drawn != 9 {
		t.Errorf("drew %d values for 3 packets, want 9", src.drawn)
	}
	want := []arrival{{ms, "b", 10}, {ms, "b", 10}}
	if diff := cmp.Diff(want, h.toServer); diff != "" {
		t.Errorf("arrivals (-want +got):\n%s", diff)
	}
}

func TestCut(t *testing.T) {
	h := newHarness(t, 1, Profile{Latency: 5 * ms}, Profile{Latency: 5 * ms})
	h.l.Cut(epoch.Add(10*ms), epoch.Add(20*ms))
	h.send(0, "before", 10)
	h.send(8*ms, "arrives-in-cut", 10)
	h.write(12*ms, "sent-in-cut", 10)
	h.send(19*ms, "sent-at-end", 10)
	h.send(20*ms, "after", 10)
	h.write(20*ms, "back", 10)
	h.drain()

	want := []arrival{{5 * ms, "before", 10}, {25 * ms, "after", 10}}
	if diff := cmp.Diff(want, h.toServer); diff != "" {
		t.Errorf("server's arrivals (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]arrival{{25 * ms, "back", 10}}, h.toClient); diff != "" {
		t.Errorf("client's arrivals (-want +got):\n%s", diff)
	}
	ab, ba := h.l.Stats()
	if ab.Lost != 2 || ba.Lost != 1 {
		t.Errorf("Lost = %d, %d; want 2, 1", ab.Lost, ba.Lost)
	}
}

func TestCutNow(t *testing.T) {
	h := newHarness(t, 1, Profile{Latency: 5 * ms}, Profile{})
	h.send(0, "in-flight", 10)
	h.until(1 * ms)
	h.l.CutNow()
	h.send(2*ms, "sent-down", 10)
	h.until(10 * ms)
	h.l.Restore()
	h.send(10*ms, "after", 10)
	h.drain()

	if diff := cmp.Diff([]arrival{{15 * ms, "after", 10}}, h.toServer); diff != "" {
		t.Errorf("arrivals (-want +got):\n%s", diff)
	}
}

// TestInboxFull checks that an end holds InboxSize packets and drops the
// rest as a full socket buffer would.
func TestInboxFull(t *testing.T) {
	h := newHarness(t, 1, Profile{Latency: ms}, Profile{})
	c := h.l.Client()
	for i := range InboxSize + 5 {
		if err := c.Send(context.Background(), packet(fmt.Sprint(i), 1)); err != nil {
			t.Fatalf("Send(%d): %v", i, err)
		}
	}
	h.clk.Advance(ms) // deliver without reading
	h.read()

	if len(h.toServer) != InboxSize || h.toServer[InboxSize-1].Label != fmt.Sprint(InboxSize-1) {
		t.Errorf("read %d packets, want the first %d", len(h.toServer), InboxSize)
	}
	if ab, _ := h.l.Stats(); ab.Delivered != InboxSize || ab.Lost != 5 {
		t.Errorf("Stats = %+v, want Delivered %d, Lost 5", ab, InboxSize)
	}
}
