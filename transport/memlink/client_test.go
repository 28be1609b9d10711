package memlink_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
	"github.com/fotasync/fotasync/transport/memlink"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// polled is a context that has already ended: a read with it returns a
// waiting packet, or fails at once.
var polled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// stepper hands control between a client's goroutine and the test's. When
// the client would wait in Recv, it signals idle and waits for resume,
// during which the test advances the clock. So the client and the clock
// never run at once, and each run of a test is the same.
type stepper struct {
	transport.Conn
	idle   chan struct{}
	resume chan struct{}
}

func (s *stepper) Recv(ctx context.Context) ([]byte, error) {
	for {
		p, err := s.Conn.Recv(polled)
		if !errors.Is(err, context.Canceled) {
			return p, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.idle <- struct{}{}
		<-s.resume
	}
}

// serveEcho answers every waiting echo request on pc; other packets are
// dropped.
func serveEcho(t *testing.T, pc transport.PacketConn) {
	for {
		raw, from, err := pc.ReadPacket(polled)
		if err != nil {
			return
		}
		p, err := smp.Decode(raw)
		var req smp.EchoRequest
		if err != nil || p.Group != smp.GroupOS || p.ID != smp.OSEcho || smp.Unmarshal(p.Body, &req) != nil {
			continue
		}
		h := p.Header
		h.Op = h.Op.Response()
		resp, err := smp.Encode(h, smp.EchoResponse{R: req.D})
		if err != nil {
			t.Fatalf("encode echo response: %v", err)
		}
		if err := pc.WritePacket(resp, from); err != nil {
			t.Errorf("WritePacket: %v", err)
		}
	}
}

// TestClientEcho runs an SMP client's echo over a link on virtual time. The
// client blocks in Recv, so it runs in its own goroutine, the one goroutine
// these tests start for a link; the test advances the clock 1 ms at a time
// while the client waits, and answers requests between steps.
func TestClientEcho(t *testing.T) {
	plain := memlink.Profile{Latency: 5 * time.Millisecond}
	tests := []struct {
		name   string
		ab, ba memlink.Profile
		cut    time.Duration // the link is down for this long from the start
		want   time.Duration // when the echo returns; 0: do not check
	}{
		{name: "one round trip", ab: plain, ba: plain, want: 10 * time.Millisecond},
		{name: "first request lost, retried after 3 s", ab: plain, ba: plain, cut: time.Millisecond,
			want: 3*time.Second + 10*time.Millisecond},
		{name: "BLE", ab: memlink.BLE(), ba: memlink.BLE()},
		{name: "UART", ab: memlink.UART(), ba: memlink.UART()},
		{name: "LAN", ab: memlink.LAN(), ba: memlink.LAN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewVirtual(epoch)
			l := memlink.NewLink(clk, rand.New(rand.NewPCG(1, 2)), tt.ab, tt.ba)
			l.Cut(epoch, epoch.Add(tt.cut))
			got, took, err := echo(t, clk, l, "hello")
			if err != nil || got != "hello" {
				t.Fatalf("Echo(hello) = %q, %v; want hello", got, err)
			}
			if tt.want != 0 && took != tt.want {
				t.Errorf("Echo took %v, want %v", took, tt.want)
			}
		})
	}
}

// echo runs an echo of text from a client on l's client end, serving it on
// l's server end, and returns the answer and the virtual time it took.
func echo(t *testing.T, clk *clock.Virtual, l *memlink.Link, text string) (string, time.Duration, error) {
	t.Helper()
	conn := &stepper{Conn: l.Client(), idle: make(chan struct{}), resume: make(chan struct{})}
	c := client.New(conn, client.Options{Clock: clk})
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		got, err := c.Echo(context.Background(), text)
		done <- result{got, err}
	}()

	const bound = 20000 // steps of 1 ms: past every retry of the client
	for range bound {
		select {
		case r := <-done:
			return r.text, clk.Now().Sub(epoch), r.err
		case <-conn.idle:
		}
		clk.Advance(time.Millisecond)
		serveEcho(t, l.Server())
		conn.resume <- struct{}{}
	}

	l.Client().Close() // the client's next read fails, so its goroutine ends
	for {
		select {
		case r := <-done:
			t.Fatalf("Echo did not return within %d ms of virtual time (then: %q, %v)", bound, r.text, r.err)
		case <-conn.idle:
			conn.resume <- struct{}{}
		}
	}
}
