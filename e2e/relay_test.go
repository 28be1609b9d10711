package e2e

import (
	"bytes"
	"net"
	"sync"
	"testing"

	"github.com/fotasync/fotasync/smp"
)

// direction is the way a datagram crosses the relay.
type direction int

const (
	toSecondary direction = iota
	toPrimary
)

// datagram is one packet in the relay's queue.
type datagram struct {
	dir     direction
	b       []byte
	watched bool // watch has seen it
}

// relay carries the D2D link between the primary and the secondary over two
// UDP sockets and lets a test hold it: while paused, datagrams queue in
// arrival order, and resume sends them on. Nothing is lost, so the
// devices see a slow link, never a lossy one.
type relay struct {
	front *net.UDPConn // the primary dials this
	back  *net.UDPConn // connected to the secondary

	mu      sync.Mutex
	primary *net.UDPAddr // the primary's socket, from its latest datagram (it may restart)
	paused  bool
	queue   []datagram
	// watch sees every datagram, once, just before it is sent on; true
	// pauses the relay with the datagram held. It runs with the relay's
	// lock held, so it must not call the relay.
	watch func(dir direction, h smp.Header) bool
	wg    sync.WaitGroup
}

// newRelay starts a relay to the secondary at addr. watch may be nil.
func newRelay(t *testing.T, addr string, watch func(direction, smp.Header) bool) *relay {
	t.Helper()
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp", nil, to)
	if err != nil {
		front.Close()
		t.Fatal(err)
	}
	r := &relay{front: front, back: back, watch: watch}
	r.wg.Add(2)
	go r.pump(toSecondary, front)
	go r.pump(toPrimary, back)
	t.Cleanup(r.close)
	return r
}

// Addr is where the primary's D2D link should point.
func (r *relay) Addr() string { return r.front.LocalAddr().String() }

func (r *relay) pump(dir direction, from *net.UDPConn) {
	defer r.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, addr, err := from.ReadFromUDP(buf)
		if err != nil {
			return // closed
		}
		r.mu.Lock()
		if dir == toSecondary {
			r.primary = addr
		}
		r.queue = append(r.queue, datagram{dir: dir, b: bytes.Clone(buf[:n])})
		r.flushLocked()
		r.mu.Unlock()
	}
}

// flushLocked sends queued datagrams in order until the queue is empty or
// the relay pauses. The caller holds r.mu.
func (r *relay) flushLocked() {
	for !r.paused && len(r.queue) > 0 {
		d := &r.queue[0]
		if !d.watched {
			d.watched = true
			if h, err := smp.DecodeHeader(d.b); err == nil && r.watch != nil && r.watch(d.dir, h) {
				r.paused = true
				return
			}
		}
		// A failed write on loopback is a lost datagram, as on a real link;
		// the devices' timeouts cover it.
		if d.dir == toSecondary {
			_, _ = r.back.Write(d.b)
		} else if r.primary != nil {
			_, _ = r.front.WriteToUDP(d.b, r.primary)
		}
		r.queue = r.queue[1:]
	}
}

// resume sends what the relay holds and carries on forwarding.
func (r *relay) resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paused = false
	r.flushLocked()
}

func (r *relay) close() {
	r.front.Close()
	r.back.Close()
	r.wg.Wait()
}
