package memlink

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/fotasync/fotasync/clock"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// polled is a context that has already ended: a read with it returns a
// waiting packet, or fails at once.
var polled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// arrival is a packet as read by one end: its label, its length and the
// virtual time since epoch at which it arrived.
type arrival struct {
	At    time.Duration
	Label string
	Len   int
}

// harness is a link on a virtual clock whose ends are read at each instant
// a delivery falls due, so every arrival carries its exact time.
type harness struct {
	t        *testing.T
	clk      *clock.Virtual
	l        *Link
	toServer []arrival
	toClient []arrival
}

func newHarness(t *testing.T, seed uint64, ab, ba Profile) *harness {
	clk := clock.NewVirtual(epoch)
	return &harness{t: t, clk: clk, l: NewLink(clk, rand.New(rand.NewPCG(seed, seed)), ab, ba)}
}

// until advances the clock to epoch+d, one due timer at a time, reading
// both ends after each.
func (h *harness) until(d time.Duration) {
	end := epoch.Add(d)
	for {
		next, ok := h.clk.Next()
		if !ok || next.After(end) {
			break
		}
		h.clk.Advance(next.Sub(h.clk.Now()))
		h.read()
	}
	h.clk.Advance(end.Sub(h.clk.Now()))
}

// drain runs the clock until no timer is pending.
func (h *harness) drain() {
	for {
		next, ok := h.clk.Next()
		if !ok {
			return
		}
		h.until(next.Sub(epoch))
	}
}

// read takes every waiting packet from both ends.
func (h *harness) read() {
	at := h.clk.Now().Sub(epoch)
	for {
		p, err := h.l.Client().Recv(polled)
		if err != nil {
			break
		}
		h.toClient = append(h.toClient, arrival{at, label(p), len(p)})
	}
	for {
		p, _, err := h.l.Server().ReadPacket(polled)
		if err != nil {
			break
		}
		h.toServer = append(h.toServer, arrival{at, label(p), len(p)})
	}
}

// send has the client send a packet labelled name, padded to size bytes,
// at epoch+at.
func (h *harness) send(at time.Duration, name string, size int) {
	h.t.Helper()
	h.until(at)
	if err := h.l.Client().Send(context.Background(), packet(name, size)); err != nil {
		h.t.Fatalf("Send(%s) at %v: %v", name, at, err)
	}
}

// write has the server send a packet labelled name, padded to size bytes,
// at epoch+at.
func (h *harness) write(at time.Duration, name string, size int) {
	h.t.Helper()
	h.until(at)
	srv := h.l.Server()
	if err := srv.WritePacket(packet(name, size), h.l.peer); err != nil {
		h.t.Fatalf("WritePacket(%s) at %v: %v", name, at, err)
	}
}

// packet is name padded with dots to size bytes (at least name).
func packet(name string, size int) []byte {
	return []byte(name + strings.Repeat(".", max(size-len(name), 0)))
}

func label(p []byte) string { return strings.TrimRight(string(p), ".") }

// script is a random source that returns its values in turn, round and
// round, and counts how many it returned.
type script struct {
	vals  []uint64
	drawn int
}

// Draw values as rand.Float64 sees them: lo draws 0, hi draws just below 1.
const (
	lo uint64 = 0
	hi uint64 = 1<<64 - 1
)

func (s *script) Uint64() uint64 {
	v := s.vals[s.drawn%len(s.vals)]
	s.drawn++
	return v
}
