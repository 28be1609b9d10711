// Package memlink is an in-memory SMP link between one client and one
// server, with a model of the link in each direction: MTU, latency,
// bandwidth, loss, duplication, reordering and cuts.
//
// Every delay runs on a clock.Clock and every random draw comes from the
// caller's generator, so on a clock.Virtual a run is replayable from its
// seed: the same sends at the same instants meet the same fates. The link
// starts no goroutines; each delivery is a clock.AfterFunc call, which a
// clock.Virtual runs inside Advance on the goroutine that advances it.
package memlink

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/transport"
)

// InboxSize is how many delivered packets each end holds before it reads
// them. A packet that arrives at a full inbox is dropped and counted as
// lost, as a full socket buffer drops a datagram.
const InboxSize = 64

// Directions, as indexes of Link.dirs.
const (
	ab = 0 // client to server
	ba = 1 // server to client
)

// Link is an in-memory link between a client (end A) and a server (end B).
// Its methods may be called from any goroutine.
//
// Closing either end closes the link for both: pending deliveries are
// stopped, a waiting Recv or ReadPacket returns transport.ErrClosed, and so
// does every later call, a second Close included.
type Link struct {
	clk  clock.Clock
	peer Addr // the client end, as the server sees it
	self Addr // the server end

	mu     sync.Mutex
	rng    *rand.Rand // drawn from under mu only
	dirs   [2]direction
	cuts   []window
	down   bool // between CutNow and Restore
	closed bool
	done   chan struct{} // closed by Close
	timers map[uint64]clock.Timer
	nextID uint64
}

// window is a scheduled cut: the link is down from from until just before
// until.
type window struct{ from, until time.Time }

// Stats counts one direction's packets.
//
// Once nothing is in flight, Sent + Duplicated = Delivered + Lost.
type Stats struct {
	Sent       int // packets accepted by Send or WritePacket
	Delivered  int // copies put into the receiver's inbox, duplicates included
	Lost       int // copies dropped: by Loss, by a cut, or at a full inbox
	Duplicated int // extra copies made by Duplicate
	Bytes      int // bytes of the delivered copies
}

// NewLink returns a link on clk whose client-to-server direction follows ab
// and whose server-to-client direction follows ba. Its random draws come
// from rng, which the caller seeds and must not use concurrently with the
// link; nil means a generator seeded with (0, 0).
func NewLink(clk clock.Clock, rng *rand.Rand, ab, ba Profile) *Link {
	if rng == nil {
		rng = rand.New(rand.NewPCG(0, 0))
	}
	name := ab.Name
	if ba.Name != ab.Name {
		name += "/" + ba.Name
	}
	if name == "" {
		name = "memlink"
	}

	l := &Link{
		clk:    clk,
		rng:    rng,
		peer:   Addr(name + ":client"),
		self:   Addr(name + ":server"),
		done:   make(chan struct{}),
		timers: make(map[uint64]clock.Timer),
	}
	l.dirs[0] = newDirection(ab)
	l.dirs[1] = newDirection(ba)
	return l
}

// Client returns end A, the client side of the link.
func (l *Link) Client() transport.Conn { return client{l} }

// Server returns end B, the server side of the link. Its one peer is the
// client, which ReadPacket reports as the same Addr every time.
func (l *Link) Server() transport.PacketConn { return server{l} }

// Cut takes the link down, in both directions, in the virtual-time window
// [from, until). A packet sent while the link is down is lost at once,
// without occupying the link; one that would arrive while it is down is lost
// on arrival. A packet in flight across the whole window still arrives. An
// empty window is ignored.
func (l *Link) Cut(from, until time.Time) {
	if !until.After(from) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cuts = append(l.cuts, window{from, until})
}

// CutNow takes the link down, in both directions, until Restore. Packets in
// flight that would arrive before Restore are lost too.
func (l *Link) CutNow() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = true
}

// Restore ends a CutNow. Windows set with Cut stay in force.
func (l *Link) Restore() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = false
}

// Stats returns the counts of each direction so far.
func (l *Link) Stats() (ab, ba Stats) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dirs[0].stats, l.dirs[1].stats
}

// isDown reports whether the link is down at t. The caller holds l.mu.
func (l *Link) isDown(t time.Time) bool {
	if l.down {
		return true
	}
	for _, w := range l.cuts {
		if !t.Before(w.from) && t.Before(w.until) {
			return true
		}
	}
	return false
}

// close closes the link for both ends: pending deliveries are stopped and
// every waiting read returns transport.ErrClosed.
func (l *Link) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return transport.ErrClosed
	}
	l.closed = true
	close(l.done)
	for id, t := range l.timers {
		t.Stop()
		delete(l.timers, id)
	}
	return nil
}
