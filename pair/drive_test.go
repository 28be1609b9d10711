package pair_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/pair"
)

// longWait is a D2D answer timeout that never fires unless a test moves the
// clock that far: on loopback the answers come.
const longWait = time.Hour

// backoff accepts the waits of the primary's own loops: the settle loop's
// backoff (250 ms doubling up to 4 s) and the relay's retry waits (whole
// seconds). A test whose answers come sets its answer timeouts to other
// values, so that a drive never fires one while the answer is on its way;
// a test that loses every answer sets them to one of these.
func backoff(d time.Duration) bool {
	return d <= 4*time.Second && (d%time.Second == 0 || (4*time.Second)%d == 0)
}

// watchedClock is a virtual clock that tells the test when a timer it may
// fire at once is set. Other timers (answer timeouts, the hold) fire only
// when a test advances to them on purpose.
type watchedClock struct {
	*clock.Virtual
	fires func(time.Duration) bool
	set   chan struct{} // a signal per timer that fires accepts

	mu  sync.Mutex
	due []time.Time // deadlines of the timers that fires accepted
}

func newWatchedClock() *watchedClock {
	return &watchedClock{Virtual: clock.NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), fires: backoff,
		set: make(chan struct{}, 1)}
}

func (c *watchedClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	t := c.Virtual.AfterFunc(d, f)
	if c.fires(d) {
		c.mu.Lock()
		c.due = append(c.due, c.Now().Add(d))
		slices.SortFunc(c.due, func(a, b time.Time) int { return a.Compare(b) })
		c.mu.Unlock()
		select {
		case c.set <- struct{}{}:
		default: // a signal is pending already
		}
	}
	return t
}

// step fires the earliest pending timer if fires accepted it, and reports
// whether it did. While an earlier timer of another kind is pending (an
// answer is on its way) it fires nothing.
func (c *watchedClock) step() bool {
	for {
		next, ok := c.Next()
		c.mu.Lock()
		if len(c.due) == 0 || !ok {
			c.due = nil
			c.mu.Unlock()
			return false
		}
		first := c.due[0]
		switch {
		case next.Before(first):
			c.mu.Unlock()
			return false
		case next.After(first): // that timer was stopped
			c.due = c.due[1:]
			c.mu.Unlock()
			continue
		}
		c.due = c.due[1:]
		c.mu.Unlock()
		c.Advance(max(first.Sub(c.Now()), 0))
		return true
	}
}

// drive runs the primary's loops on vc until ok accepts the session: each
// timer that the clock may fire fires as soon as it is the earliest, and
// nothing else moves time. It returns the session, how much virtual time
// passed, and false when ok did not accept it within patience.
func drive(vc *watchedClock, p *pair.Primary, ok func(pair.Session) bool) (pair.Session, time.Duration, bool) {
	start := vc.Now()
	limit := time.NewTimer(patience)
	defer limit.Stop()
	// An answer that arrives stops its timeout without a signal; the tick
	// looks again for a timer that has become the earliest.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		changed := p.Changed()
		s := p.Session()
		if ok(s) {
			return s, vc.Now().Sub(start), true
		}
		if vc.step() {
			continue
		}
		select {
		case <-changed:
		case <-vc.set:
		case <-tick.C:
		case <-limit.C:
			return s, vc.Now().Sub(start), false
		}
	}
}

// settleUntil is drive for a test that cannot go on without ok.
func settleUntil(t *testing.T, vc *watchedClock, p *pair.Primary, what string,
	ok func(pair.Session) bool) (pair.Session, time.Duration) {
	t.Helper()
	s, took, done := drive(vc, p, ok)
	if !done {
		t.Fatalf("waiting for %s: session stays %+v after %v of virtual time", what, s, took)
	}
	return s, took
}
