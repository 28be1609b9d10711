package pair_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
)

// toSecondary and toPrimary are the two ways across the D2D relay.
const (
	toSecondary = true
	toPrimary   = false
)

// relayed is one datagram crossing the relay.
type relayed struct {
	down bool // to the secondary
	pkt  smp.Packet
	raw  []byte
}

// relay carries the D2D link between the primary and the secondary over
// UDP and lets a test hold it. While held, datagrams queue in arrival order;
// release sends them on, drop forgets them. Nothing is lost otherwise, so
// the devices see a slow link, never a lossy one. Either device may restart
// behind it: a restarted primary is found from its first datagram, and a
// secondary restarted on the same address is reached again.
type relay struct {
	front *net.UDPConn // the primary dials this
	back  *net.UDPConn // connected to the secondary

	mu      sync.Mutex
	primary *net.UDPAddr
	held    bool
	queue   []relayed
	// hold sees every datagram once, before it is sent on, with the
	// relay's lock held; true holds the link from that datagram on.
	hold func(d relayed) bool
	// seen records every datagram sent on.
	seen []relayed
	wg   sync.WaitGroup
}

// newRelay starts a relay to the secondary at addr. hold may be nil.
func newRelay(t *testing.T, addr string, hold func(relayed) bool) *relay {
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
	r := &relay{front: front, back: back, hold: hold}
	r.wg.Add(2)
	go r.pump(toSecondary, front)
	go r.pump(toPrimary, back)
	t.Cleanup(r.close)
	return r
}

// Addr is where the primary's D2D link points.
func (r *relay) Addr() string { return r.front.LocalAddr().String() }

func (r *relay) pump(down bool, from *net.UDPConn) {
	defer r.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, addr, err := from.ReadFromUDP(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue // a refused datagram while the secondary restarts
		}
		raw := bytes.Clone(buf[:n])
		p, err := smp.Decode(raw)
		if err != nil {
			continue
		}
		r.mu.Lock()
		if down {
			r.primary = addr
		}
		d := relayed{down: down, pkt: p, raw: raw}
		if !r.held && r.hold != nil && r.hold(d) {
			r.held = true
		}
		r.queue = append(r.queue, d)
		r.flushLocked()
		r.mu.Unlock()
	}
}

// flushLocked sends the queue unless the link is held. The caller holds
// r.mu.
func (r *relay) flushLocked() {
	for !r.held && len(r.queue) > 0 {
		d := r.queue[0]
		r.queue = r.queue[1:]
		r.seen = append(r.seen, d)
		// A failed write on loopback is a lost datagram, as on a real
		// link; the devices' timeouts cover it.
		if d.down {
			_, _ = r.back.Write(d.raw)
		} else if r.primary != nil {
			_, _ = r.front.WriteToUDP(d.raw, r.primary)
		}
	}
}

// release sends what the relay holds and carries on forwarding. hold may
// hold the link again later.
func (r *relay) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held = false
	r.flushLocked()
}

// drop forgets what the relay holds; it stays held.
func (r *relay) drop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queue = nil
}

// extract takes the held datagrams that match out of the queue, to be
// delivered later with inject: a datagram delayed on the link.
func (r *relay) extract(match func(relayed) bool) []relayed {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out, keep []relayed
	for _, d := range r.queue {
		if match(d) {
			out = append(out, d)
		} else {
			keep = append(keep, d)
		}
	}
	r.queue = keep
	return out
}

// inject delivers a datagram now, whether or not the link is held.
func (r *relay) inject(d relayed) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, d)
	if d.down {
		_, _ = r.back.Write(d.raw)
	} else if r.primary != nil {
		_, _ = r.front.WriteToUDP(d.raw, r.primary)
	}
}

// mark returns how many datagrams have been sent on so far, for since.
func (r *relay) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// since returns the datagrams sent on after mark.
func (r *relay) since(mark int) []relayed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]relayed(nil), r.seen[mark:]...)
}

func (r *relay) close() {
	r.front.Close()
	r.back.Close()
	r.wg.Wait()
}

// isUpload reports whether d is an image upload chunk to the secondary.
func isUpload(d relayed) bool {
	return d.down && d.pkt.Op == smp.OpWrite && d.pkt.Group == smp.GroupImage && d.pkt.ID == smp.ImageUpload
}

// is reports whether d is a pair group packet of command id, a request
// (down) or an answer (up).
func is(d relayed, down bool, id uint8) bool {
	return d.down == down && d.pkt.Group == pair.Group && d.pkt.ID == id
}

// chunkOf decodes an upload chunk's offset and data length.
func chunkOf(p smp.Packet) (off, n int, ok bool) {
	var c struct {
		Off  uint32 `cbor:"off"`
		Data []byte `cbor:"data"`
	}
	if smp.Unmarshal(p.Body, &c) != nil {
		return 0, 0, false
	}
	return int(c.Off), len(c.Data), true
}

// tap is a host link that records the pair upload chunks it carries and
// the offsets the primary answers them with.
type tap struct {
	transport.Conn

	mu      sync.Mutex
	offs    []int // offset of each chunk sent
	data    int   // data bytes sent, re-sent chunks included
	answers []int // the primary's "off" in each answer, in arrival order
}

func (c *tap) Send(ctx context.Context, pkt []byte) error {
	if p, err := smp.Decode(pkt); err == nil && p.Op == smp.OpWrite && p.Group == pair.Group &&
		p.ID == pair.CmdUpload {
		if off, n, ok := chunkOf(p); ok {
			c.mu.Lock()
			c.offs = append(c.offs, off)
			c.data += n
			c.mu.Unlock()
		}
	}
	return c.Conn.Send(ctx, pkt)
}

func (c *tap) Recv(ctx context.Context) ([]byte, error) {
	pkt, err := c.Conn.Recv(ctx)
	if err != nil {
		return pkt, err
	}
	p, derr := smp.Decode(pkt)
	if derr == nil && p.Op == smp.OpWriteRsp && p.Group == pair.Group && p.ID == pair.CmdUpload {
		var resp smp.UploadResponse
		if smp.Unmarshal(p.Body, &resp) == nil && resp.Off != nil {
			c.mu.Lock()
			c.answers = append(c.answers, int(*resp.Off))
			c.mu.Unlock()
		}
	}
	return pkt, nil
}

// record returns what the tap saw.
func (c *tap) record() (offs []int, data int, answers []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.offs...), c.data, append([]int(nil), c.answers...)
}

// once holds the link at the first datagram that match accepts, and closes
// at then.
func once(match func(relayed) bool, at chan<- struct{}) func(relayed) bool {
	done := false
	return func(d relayed) bool {
		if done || !match(d) {
			return false
		}
		done = true
		close(at)
		return true
	}
}
