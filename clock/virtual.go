package clock

import (
	"sort"
	"sync"
	"time"
)

// Virtual is a clock that moves only when told to. Timers fire inside
// Advance, in deadline order (ties in the order they were set), on the
// goroutine that calls Advance; so a run on a Virtual clock is replayable.
type Virtual struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers []*virtualTimer
}

// NewVirtual returns a virtual clock that reads start.
func NewVirtual(start time.Time) *Virtual { return &Virtual{now: start} }

type virtualTimer struct {
	c       *Virtual
	at      time.Time
	seq     uint64
	f       func()
	stopped bool
}

// Now returns the virtual time.
func (c *Virtual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f at Now()+d. It fires during a later Advance.
func (c *Virtual) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &virtualTimer{c: c, at: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

// Stop cancels the timer; it reports whether the timer was still pending.
func (t *virtualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.stopped {
		return false
	}
	t.stopped = true
	return true
}

// Advance moves the clock forward by d, firing every timer that falls due,
// each at its own instant.
func (c *Virtual) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		t := c.next(end)
		if t == nil {
			break
		}
		t.f()
	}
	c.mu.Lock()
	c.now = end
	c.mu.Unlock()
}

// Step fires the earliest pending timer alone, moving the clock to its
// deadline, and reports whether there was one.
func (c *Virtual) Step() bool {
	c.mu.Lock()
	c.prune()
	if len(c.timers) == 0 {
		c.mu.Unlock()
		return false
	}
	end := c.timers[0].at
	c.mu.Unlock()
	t := c.next(end)
	if t == nil {
		return false
	}
	t.f()
	return true
}

// Next returns when the earliest pending timer falls due, and false when
// none is pending.
func (c *Virtual) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prune()
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	return c.timers[0].at, true
}

// next removes and returns the earliest timer due by end, with the clock set
// to its deadline.
func (c *Virtual) next(end time.Time) *virtualTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prune()
	if len(c.timers) == 0 || c.timers[0].at.After(end) {
		return nil
	}
	t := c.timers[0]
	c.timers = c.timers[1:]
	t.stopped = true
	if t.at.After(c.now) {
		c.now = t.at
	}
	return t
}

// prune drops stopped timers and sorts the rest. The caller holds c.mu.
func (c *Virtual) prune() {
	live := c.timers[:0]
	for _, t := range c.timers {
		if !t.stopped {
			live = append(live, t)
		}
	}
	c.timers = live
	sort.Slice(c.timers, func(i, j int) bool {
		a, b := c.timers[i], c.timers[j]
		return a.at.Before(b.at) || (a.at.Equal(b.at) && a.seq < b.seq)
	})
}
