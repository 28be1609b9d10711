package clock

import (
	"fmt"
	"sync"
	"time"
)

// Sim is a Scheduler on virtual time. Exactly one of its goroutines runs at
// any moment; when the running one parks or ends, Run resumes the first
// parked goroutine that is ready, in the order they parked; when none is
// ready it fires the next timer. Given the same inputs, a run is therefore
// the same run every time.
type Sim struct {
	v      *Virtual
	mu     sync.Mutex
	queue  []*simRoutine // started or parked, in order
	yield  chan struct{} // the running goroutine hands the run back
	active *simRoutine
}

type simRoutine struct {
	ready  func() bool
	resume chan struct{}
}

// NewSim returns a scheduler whose clock reads start.
func NewSim(start time.Time) *Sim {
	return &Sim{v: NewVirtual(start), yield: make(chan struct{})}
}

// Now returns the virtual time.
func (s *Sim) Now() time.Time { return s.v.Now() }

// AfterFunc runs f at Now()+d, on the scheduler, between goroutine runs. f
// must not park.
func (s *Sim) AfterFunc(d time.Duration, f func()) Timer { return s.v.AfterFunc(d, f) }

// Go queues f to run as a scheduled goroutine.
func (s *Sim) Go(f func()) {
	r := &simRoutine{ready: func() bool { return true }, resume: make(chan struct{})}
	s.mu.Lock()
	s.queue = append(s.queue, r)
	s.mu.Unlock()
	go func() {
		<-r.resume
		defer func() { s.yield <- struct{}{} }()
		f()
	}()
}

// Park gives up the run until ready reports true.
func (s *Sim) Park(ready func() bool) {
	if ready() {
		return
	}
	s.mu.Lock()
	r := s.active
	if r == nil {
		s.mu.Unlock()
		panic("clock: Park called outside a goroutine started by Sim.Go")
	}
	r.ready = ready
	s.queue = append(s.queue, r)
	s.mu.Unlock()
	s.yield <- struct{}{}
	<-r.resume
}

// Run runs goroutines and fires timers until nothing is ready and no timer
// falls due by until. It reports whether timers remain pending.
func (s *Sim) Run(until time.Time) bool {
	for {
		if r := s.next(); r != nil {
			s.mu.Lock()
			s.active = r
			s.mu.Unlock()
			r.resume <- struct{}{}
			s.awaitYield()
			s.mu.Lock()
			s.active = nil
			s.mu.Unlock()
			continue
		}
		at, ok := s.v.Next()
		if !ok || at.After(until) {
			return ok
		}
		s.v.Step()
	}
}

// hangLimit is how long, in real time, one goroutine may run without
// parking before Run declares it blocked outside the scheduler: a bug in
// the code under simulation (a plain channel or mutex wait), which would
// otherwise hang the run for ever.
const hangLimit = time.Minute

func (s *Sim) awaitYield() {
	t := time.NewTimer(hangLimit)
	defer t.Stop()
	select {
	case <-s.yield:
	case <-t.C:
		panic(fmt.Sprintf("clock: a simulated goroutine ran %v of real time without parking; "+
			"it waits on something the scheduler does not know", hangLimit))
	}
}

// next removes and returns the first queued goroutine that is ready.
func (s *Sim) next() *simRoutine {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.queue {
		if r.ready() {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			return r
		}
	}
	return nil
}
