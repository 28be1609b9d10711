package memlink

import (
	"bytes"
	"context"
	"fmt"
	"github.com/fotasync/fotasync/clock"
	"time"

	"github.com/fotasync/fotasync/transport"
)

// direction is one way through the link: its profile, its sending queue
// (as the instant the link is next free) and the receiver's inbox.
type direction struct {
	p     Profile // normalised
	free  time.Time
	inbox [][]byte
	wake  chan struct{} // closed and replaced at each delivery
	stats Stats
}

func newDirection(p Profile) direction {
	return direction{p: p.normal(), wake: make(chan struct{})}
}

// fate is what the link does to one packet.
type fate struct{ lost, duplicated, reordered bool }

// draw takes one packet's three draws from l.rng: loss, duplication,
// reordering, in this order and always all three, whatever the profile and
// whether the link is up, so a packet's fate depends only on the seed and on
// how many packets were sent before it. The caller holds l.mu.
func (l *Link) draw(p Profile) fate {
	var f fate
	f.lost = l.rng.Float64() < p.Loss
	f.duplicated = l.rng.Float64() < p.Duplicate
	f.reordered = l.rng.Float64() < p.Reorder
	return f
}

// transmit queues n bytes on d at now and returns when they arrive.
func (d *direction) transmit(now time.Time, n int) time.Time {
	start := now
	if d.free.After(now) {
		start = d.free
	}
	d.free = start
	if d.p.Bandwidth > 0 {
		d.free = start.Add(time.Duration(int64(n) * int64(time.Second) / int64(d.p.Bandwidth)))
	}
	return d.free.Add(d.p.Latency)
}

// send puts a copy of packet on direction dir at the clock's now and
// schedules its delivery. step names the caller in errors.
func (l *Link) send(ctx context.Context, dir int, step string, packet []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := &l.dirs[dir]
	switch {
	case l.closed:
		return transport.ErrClosed
	case ctx.Err() != nil:
		return ctx.Err()
	case len(packet) > d.p.MTU:
		return fmt.Errorf("memlink: %s: packet of %d bytes, MTU %d: %w",
			step, len(packet), d.p.MTU, transport.ErrTooLarge)
	}

	f := l.draw(d.p)
	d.stats.Sent++
	now := l.clk.Now()
	if l.isDown(now) {
		d.stats.Lost++
		return nil
	}
	at := d.transmit(now, len(packet))
	if f.lost {
		d.stats.Lost++
		return nil
	}
	if f.reordered {
		at = at.Add(d.p.Latency)
	}
	l.schedule(dir, now, at, bytes.Clone(packet))
	if f.duplicated {
		d.stats.Duplicated++
		l.schedule(dir, now, at, bytes.Clone(packet))
	}
	return nil
}

// schedule delivers packet on dir at at. The caller holds l.mu, so the
// timer is recorded before its function can run.
func (l *Link) schedule(dir int, now, at time.Time, packet []byte) {
	id := l.nextID
	l.nextID++
	l.timers[id] = l.clk.AfterFunc(at.Sub(now), func() { l.deliver(dir, id, at, packet) })
}

// deliver puts packet, due at at, into dir's inbox unless the link is down
// then or the inbox is full.
func (l *Link) deliver(dir int, id uint64, at time.Time, packet []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	delete(l.timers, id)
	d := &l.dirs[dir]
	if l.isDown(at) || len(d.inbox) >= InboxSize {
		d.stats.Lost++
		return
	}

	d.inbox = append(d.inbox, packet)
	d.stats.Delivered++
	d.stats.Bytes += len(packet)
	close(d.wake)
	d.wake = make(chan struct{})
}

// receive returns the next packet in dir's inbox, waiting for one until ctx
// ends or the link closes. A packet already waiting is returned even when
// ctx has ended, so a done context polls.
func (l *Link) receive(ctx context.Context, dir int) ([]byte, error) {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return nil, transport.ErrClosed
		}
		d := &l.dirs[dir]
		if len(d.inbox) > 0 {
			p := d.inbox[0]
			d.inbox[0] = nil
			d.inbox = d.inbox[1:]
			l.mu.Unlock()
			return p, nil
		}
		wake := d.wake
		l.mu.Unlock()

		// Under a clock.Scheduler the wait parks, so the simulator can run
		// the goroutine that will deliver.
		if _, err := clock.WaitAny(ctx, l.clk, wake, l.done); err != nil {
			return nil, err
		}
	}
}
