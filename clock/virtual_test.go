package clock

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestVirtualFiresInDeadlineOrder(t *testing.T) {
	c := NewVirtual(epoch)
	var got []string
	c.AfterFunc(3*time.Second, func() { got = append(got, "3s") })
	c.AfterFunc(time.Second, func() { got = append(got, "1s-a") })
	c.AfterFunc(time.Second, func() { got = append(got, "1s-b") })
	stopped := c.AfterFunc(2*time.Second, func() { got = append(got, "2s") })
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer = false, want true")
	}
	c.Advance(2 * time.Second)
	if diff := cmp.Diff([]string{"1s-a", "1s-b"}, got); diff != "" {
		t.Fatalf("after 2s (-want +got):\n%s", diff)
	}
	c.Advance(time.Second)
	if diff := cmp.Diff([]string{"1s-a", "1s-b", "3s"}, got); diff != "" {
		t.Fatalf("after 3s (-want +got):\n%s", diff)
	}
	if want := epoch.Add(3 * time.Second); !c.Now().Equal(want) {
		t.Errorf("Now() = %v, want %v", c.Now(), want)
	}
}

func TestVirtualTimerSeesItsOwnInstant(t *testing.T) {
	c := NewVirtual(epoch)
	var at time.Time
	c.AfterFunc(1500*time.Millisecond, func() { at = c.Now() })
	c.Advance(10 * time.Second)
	if want := epoch.Add(1500 * time.Millisecond); !at.Equal(want) {
		t.Errorf("timer ran at %v, want %v", at, want)
	}
}

func TestWithTimeoutOnVirtualClock(t *testing.T) {
	c := NewVirtual(epoch)
	ctx, cancel := WithTimeout(context.Background(), c, time.Second)
	defer cancel()
	c.Advance(999 * time.Millisecond)
	if ctx.Err() != nil {
		t.Fatalf("context ended before its timeout: %v", ctx.Err())
	}
	c.Advance(time.Millisecond)
	if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Errorf("cause = %v, want DeadlineExceeded", context.Cause(ctx))
	}
}
