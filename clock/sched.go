package clock

import (
	"context"
	"reflect"
)

// Scheduler is a Clock that also runs the goroutines of the code that uses
// it, one at a time, and moves time only when none of them can run: the
// simulator. Code that starts goroutines or waits does it through Go, Wait,
// WaitAny, Block and Lock, which fall back to plain goroutines and channels
// on any other Clock.
type Scheduler interface {
	Clock
	// Go starts f as a goroutine under the scheduler.
	Go(f func())
	// Park gives up the run until ready reports true. Only a goroutine
	// started by Go may park.
	Park(ready func() bool)
}

// Go starts f: under a Scheduler as one of its goroutines, otherwise as a
// plain goroutine.
func Go(c Clock, f func()) {
	if s, ok := c.(Scheduler); ok {
		s.Go(f)
		return
	}
	go f()
}

// Block parks the calling goroutine until ready reports true when c is a
// Scheduler, and returns at once otherwise: the caller's own select or
// channel operation then blocks as usual. ready must only read state.
func Block(c Clock, ready func() bool) {
	if s, ok := c.(Scheduler); ok {
		s.Park(ready)
	}
}

// Wait waits until ch is closed or ctx is done. ch must be a signal that is
// closed, never sent on.
func Wait(ctx context.Context, c Clock, ch <-chan struct{}) error {
	_, err := WaitAny(ctx, c, ch)
	return err
}

// WaitAny waits until one of chans is closed, and returns its index, or
// until ctx is done. The channels must be signals that are closed, never sent
// on.
func WaitAny(ctx context.Context, c Clock, chans ...<-chan struct{}) (int, error) {
	Block(c, func() bool { return ctx.Err() != nil || firstClosed(chans) >= 0 })
	cases := make([]reflect.SelectCase, 0, len(chans)+1)
	for _, ch := range chans {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
	}
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
	i, _, _ := reflect.Select(cases)
	if i == len(chans) {
		return -1, ctx.Err()
	}
	return i, nil
}

// firstClosed returns the index of the first closed channel, or -1.
func firstClosed(chans []<-chan struct{}) int {
	for i, ch := range chans {
		select {
		case <-ch:
			return i
		default:
		}
	}
	return -1
}

// Lock is a mutex that may be held while its holder waits: under a
// Scheduler a goroutine waiting for it parks instead of stalling the run.
// The zero value is not usable; use NewLock.
type Lock struct {
	ch chan struct{}
}

// NewLock returns an unlocked Lock.
func NewLock() *Lock { return &Lock{ch: make(chan struct{}, 1)} }

// Lock acquires l, waiting for it on c.
func (l *Lock) Lock(c Clock) {
	Block(c, func() bool { return len(l.ch) == 0 })
	l.ch <- struct{}{}
}

// TryLock acquires l if it is free and reports whether it did.
func (l *Lock) TryLock() bool {
	select {
	case l.ch <- struct{}{}:
		return true
	default:
		return false
	}
}

// Unlock releases l.
func (l *Lock) Unlock() { <-l.ch }
