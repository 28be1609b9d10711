package flash

import (
	"math/rand/v2"
	"sync"
)

// PowerCut is a fault plan shared by all areas of one device. It numbers the
// write and erase operations that reach the flash of any of its areas (and
// the other durable writes that call Step), starting at 0. Operation At is torn: a write lands only a prefix of its
// bytes and an erase only a prefix of its sectors, the prefix length being
// drawn from Seed and the operation index (from none to all). That operation
// and every later read, write or erase on any area of the plan then fail with
// ErrPowerLost. Opening the files again (without the plan, or with a new one)
// models the device's next power-up.
//
// Operations rejected before they reach the flash (misaligned, out of range,
// not erased) are not counted. A plan is safe for concurrent use.
//
// NB: the torn operation leaves whole bytes and whole sectors; real NOR can
// also leave single bytes or sectors with only some bits changed.
type PowerCut struct {
	mu   sync.Mutex
	at   int
	seed uint64
	ops  int
	lost bool
	cut  func() // OnCut's callback
}

// NewPowerCut returns a plan that cuts power during operation at (0-based).
// A negative at never cuts, which lets a test count a run's operations with
// Ops before enumerating every cut point.
func NewPowerCut(at int, seed uint64) *PowerCut {
	return &PowerCut{at: at, seed: seed}
}

// Open opens an area as Open does, powered through p.
func (p *PowerCut) Open(path string, g Geometry) (*Area, error) {
	return open(path, g, p)
}

// Ops returns how many operations reached the flash so far, the torn one included.
func (p *PowerCut) Ops() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ops
}

// Lost reports whether power has been cut.
func (p *PowerCut) Lost() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lost
}

// OnCut registers f to run once power is cut, on the goroutine of the torn
// operation or of Cut, after the plan has recorded the cut. A simulator uses
// it to take the device off its links.
func (p *PowerCut) OnCut(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = f
}

// Cut cuts power now, between operations: nothing is torn, and every later
// operation fails.
func (p *PowerCut) Cut() {
	p.mu.Lock()
	first, f := !p.lost, p.cut
	p.lost = true
	p.mu.Unlock()
	if first && f != nil {
		f()
	}
}

// Step counts one operation that is not a flash write, such as a file
// replaced atomically: at the cut it does not happen at all. It returns
// ErrPowerLost from the cut on. A nil plan never cuts.
func (p *PowerCut) Step() error {
	_, err := p.begin(1)
	return err
}

// alive returns ErrPowerLost once power has been cut. A nil plan is always alive.
func (p *PowerCut) alive() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lost {
		return ErrPowerLost
	}
	return nil
}

// begin counts one operation of units bytes or sectors and returns how many
// of them land, with ErrPowerLost when this is the operation to tear.
func (p *PowerCut) begin(units int) (int, error) {
	if p == nil {
		return units, nil
	}
	p.mu.Lock()
	if p.lost {
		p.mu.Unlock()
		return 0, ErrPowerLost
	}
	index := p.ops
	p.ops++
	if index != p.at {
		p.mu.Unlock()
		return units, nil
	}
	p.lost = true
	f := p.cut
	p.mu.Unlock()
	if f != nil {
		f()
	}
	r := rand.New(rand.NewPCG(p.seed, uint64(index)))
	return r.IntN(units + 1), ErrPowerLost
}
