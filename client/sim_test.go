package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
)

// sim is a virtual clock and an in-memory link to a scripted SMP server, both
// driven by the client's own goroutine. Time moves only while the client
// waits in Recv with nothing to read: it jumps to the next due reply or timer.
// "No response" is therefore a timer firing, at once and deterministically,
// and a wait that nothing can end is an error instead of a hang.
type sim struct {
	t         testing.TB
	now       time.Time
	serve     func(req smp.Packet) []reply // the server; nil answers nothing
	maxPacket int                          // MaxPacket of the link
	maxSends  int                          // Send fails after this many packets; a loop guard
	pending   []delivery                   // replies not yet read, in due order
	timers    []*simTimer
	log       []event // every packet sent and every packet read, in order
	sends     int     // packets sent
}

// reply is one packet a scripted server sends, delay after the request.
type reply struct {
	pkt   []byte
	delay time.Duration
}

type delivery struct {
	at  time.Time
	pkt []byte
}

// event is a packet in the log: sent by the client, or read by it.
type event struct {
	sent bool
	raw  []byte
	pkt  smp.Packet
}

type simTimer struct {
	s  *sim
	at time.Time
	f  func()
}

var (
	errStuck        = errors.New("sim: Recv would wait forever: no reply and no timer pending")
	errTooManySends = errors.New("sim: too many packets sent; the client loops")
)

var simEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newSim(t testing.TB, serve func(smp.Packet) []reply) *sim {
	return &sim{t: t, now: simEpoch, serve: serve, maxPacket: 2048, maxSends: 100000}
}

// Now implements clock.Clock.
func (s *sim) Now() time.Time { return s.now }

// AfterFunc implements clock.Clock. The function runs in the goroutine that
// waits in Recv when the virtual time reaches it.
func (s *sim) AfterFunc(d time.Duration, f func()) clock.Timer {
	t := &simTimer{s: s, at: s.now.Add(d), f: f}
	s.timers = append(s.timers, t)
	return t
}

func (t *simTimer) Stop() bool {
	i := slices.Index(t.s.timers, t)
	if i < 0 {
		return false
	}
	t.s.timers = slices.Delete(t.s.timers, i, i+1)
	return true
}

// Send hands the packet to the server and queues its replies.
func (s *sim) Send(_ context.Context, raw []byte) error {
	if len(raw) > s.maxPacket {
		return transport.ErrTooLarge
	}
	if s.sends >= s.maxSends {
		return errTooManySends
	}
	s.sends++
	p, err := smp.Decode(raw)
	if err != nil {
		s.t.Errorf("client sent an undecodable packet %x: %v", raw, err)
		return err
	}
	s.log = append(s.log, event{sent: true, raw: slices.Clone(raw), pkt: p})
	if s.serve == nil {
		return nil
	}
	for _, r := range s.serve(p) {
		d := delivery{at: s.now.Add(r.delay), pkt: r.pkt}
		i := len(s.pending)
		for i > 0 && s.pending[i-1].at.After(d.at) {
			i--
		}
		s.pending = slices.Insert(s.pending, i, d)
	}
	return nil
}

// Recv returns the next due reply, moving the virtual time forward as far as
// needed. A reply and a timer due at the same instant: the reply comes first.
func (s *sim) Recv(ctx context.Context) ([]byte, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(s.pending) > 0 && !s.pending[0].at.After(s.now) {
			d := s.pending[0]
			s.pending = s.pending[1:]
			p, _ := smp.Decode(d.pkt) // noise is logged as it is read
			s.log = append(s.log, event{raw: d.pkt, pkt: p})
			return d.pkt, nil
		}
		t := s.nextTimer()
		switch {
		case len(s.pending) > 0 && (t == nil || !s.pending[0].at.After(t.at)):
			s.now = s.pending[0].at
		case t != nil:
			s.now = t.at
			t.Stop()
			t.f()
		default:
			return nil, errStuck
		}
	}
}

func (s *sim) nextTimer() *simTimer {
	var next *simTimer
	for _, t := range s.timers {
		if next == nil || t.at.Before(next.at) {
			next = t
		}
	}
	return next
}

func (s *sim) MaxPacket() int { return s.maxPacket }
func (s *sim) Close() error   { return nil }

// sent returns the packets the client sent for group and id.
func (s *sim) sent(group smp.Group, id uint8) []event {
	var out []event
	for _, e := range s.log {
		if e.sent && e.pkt.Group == group && e.pkt.ID == id {
			out = append(out, e)
		}
	}
	return out
}

// elapsed is the virtual time since the sim began.
func (s *sim) elapsed() time.Duration { return s.now.Sub(simEpoch) }

// serialSim is a sim whose link, like the serial transport, keeps 4 bytes of
// the device's buffer for itself (reference §3.4: buf_size − 4).
type serialSim struct{ *sim }

func (s serialSim) PacketLimit(bufSize int) int { return bufSize - 4 }

// respond builds the reply to req with body, as a Zephyr server does: same
// version, group, sequence and id, response op, indefinite-length CBOR.
func respond(req smp.Packet, body any) []byte {
	b, err := smp.MarshalIndefinite(body)
	if err != nil {
		panic(fmt.Sprintf("respond: %v", err)) // test bodies are static
	}
	return rawReply(req, req.Version, req.Op.Response(), b)
}

// rawReply builds a reply to req with the given version, op and CBOR body.
func rawReply(req smp.Packet, version uint8, op smp.Op, body []byte) []byte {
	h := req.Header
	h.Version, h.Op, h.Flags = version, op, 0
	b, err := smp.Packet{Header: h, Body: body}.Bytes()
	if err != nil {
		panic(fmt.Sprintf("rawReply: %v", err))
	}
	return b
}

// asap wraps a packet as a reply without delay.
func asap(pkt []byte) []reply { return []reply{{pkt: pkt}} }
