package memlink

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fotasync/fotasync/transport"
	"github.com/google/go-cmp/cmp"
)

const ms = time.Millisecond

type sendAt struct {
	at   time.Duration
	name string
	size int
}

// TestDeliveryTiming checks arrival instants against the profile's formula:
// start = max(link free, sent), done = start + len/Bandwidth,
// arrival = done + Latency.
func TestDeliveryTiming(t *testing.T) {
	tests := []struct {
		name  string
		p     Profile
		sends []sendAt
		want  []arrival
	}{
		{"latency only", Profile{Latency: 5 * ms},
			[]sendAt{{0, "a", 1000}, {1 * ms, "b", 10}},
			[]arrival{{5 * ms, "a", 1000}, {6 * ms, "b", 10}}},
		{"1000 bytes at 10000 B/s", Profile{Latency: 5 * ms, Bandwidth: 10000},
			[]sendAt{{0, "a", 1000}},
			[]arrival{{105 * ms, "a", 1000}}},
		{"queued behind the one before", Profile{Latency: 5 * ms, Bandwidth: 10000},
			[]sendAt{{0, "a", 1000}, {0, "b", 1000}, {50 * ms, "c", 1000}},
			[]arrival{{105 * ms, "a", 1000}, {205 * ms, "b", 1000}, {305 * ms, "c", 1000}}},
		{"idle link starts at once", Profile{Latency: 5 * ms, Bandwidth: 10000},
			[]sendAt{{0, "a", 1000}, {400 * ms, "b", 500}},
			[]arrival{{105 * ms, "a", 1000}, {455 * ms, "b", 500}}},
		{"perfect link", Profile{},
			[]sendAt{{0, "a", 100}, {0, "b", 100}},
			[]arrival{{0, "a", 100}, {0, "b", 100}}},
		{"fraction of a nanosecond rounds down", Profile{Bandwidth: 3},
			[]sendAt{{0, "a", 1}},
			[]arrival{{333333333, "a", 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 1, tt.p, Profile{})
			for _, s := range tt.sends {
				h.send(s.at, s.name, s.size)
			}
			h.drain()
			if diff := cmp.Diff(tt.want, h.toServer); diff != "" {
				t.Errorf("arrivals (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMTU(t *testing.T) {
	h := newHarness(t, 1, Profile{MTU: 100}, Profile{MTU: 50})
	c, s := h.l.Client(), h.l.Server()
	ctx := context.Background()

	if got := c.MaxPacket(); got != 100 {
		t.Errorf("MaxPacket() = %d, want 100", got)
	}
	if err := c.Send(ctx, packet("ok", 100)); err != nil {
		t.Errorf("Send(100 bytes) = %v, want nil", err)
	}
	if err := c.Send(ctx, packet("big", 101)); !errors.Is(err, transport.ErrTooLarge) {
		t.Errorf("Send(101 bytes) = %v, want ErrTooLarge", err)
	}
	if err := s.WritePacket(packet("big", 51), h.l.peer); !errors.Is(err, transport.ErrTooLarge) {
		t.Errorf("WritePacket(51 bytes) = %v, want ErrTooLarge", err)
	}

	ab, ba := h.l.Stats()
	if ab.Sent != 1 || ba.Sent != 0 {
		t.Errorf("Sent = %d, %d; want 1, 0 (refused packets are not sent)", ab.Sent, ba.Sent)
	}
}

func TestDefaultMTU(t *testing.T) {
	h := newHarness(t, 1, Profile{}, Profile{})
	c := h.l.Client()

	if got := c.MaxPacket(); got != MaxMTU {
		t.Errorf("MaxPacket() = %d, want %d", got, MaxMTU)
	}
	if err := c.Send(context.Background(), make([]byte, MaxMTU)); err != nil {
		t.Errorf("Send(MaxMTU bytes) = %v, want nil", err)
	}
	if err := c.Send(context.Background(), make([]byte, MaxMTU+1)); !errors.Is(err, transport.ErrTooLarge) {
		t.Errorf("Send(MaxMTU+1 bytes) = %v, want ErrTooLarge", err)
	}
}

func TestAddresses(t *testing.T) {
	h := newHarness(t, 1, LAN(), LAN())
	s := h.l.Server()
	if err := h.l.Client().Send(context.Background(), []byte("a")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	h.clk.Advance(time.Second)
	_, from, err := s.ReadPacket(polled)
	if err != nil {
		t.Fatalf("ReadPacket: %v", err)
	}

	got := []string{from.Network(), from.String(), s.LocalAddr().String()}
	if diff := cmp.Diff([]string{"memlink", "lan:client", "lan:server"}, got); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	if err := s.WritePacket([]byte("x"), Addr("other:client")); err == nil {
		t.Errorf("WritePacket to a stranger = nil, want an error")
	}
	if err := s.WritePacket([]byte("x"), from); err != nil {
		t.Errorf("WritePacket to the client = %v, want nil", err)
	}
}

// TestDirections checks that each direction has its own profile, queue and
// counts: a slow, lossy uplink neither delays nor drops the downlink.
func TestDirections(t *testing.T) {
	h := newHarness(t, 1, Profile{Latency: 5 * ms, Bandwidth: 1000, Loss: 1}, Profile{Latency: 1 * ms})
	h.send(0, "up", 1000)
	h.write(0, "down", 1000)
	h.drain()

	if len(h.toServer) != 0 {
		t.Errorf("server got %v, want nothing on a link with loss 1", h.toServer)
	}
	if diff := cmp.Diff([]arrival{{1 * ms, "down", 1000}}, h.toClient); diff != "" {
		t.Errorf("client's arrivals (-want +got):\n%s", diff)
	}
	ab, ba := h.l.Stats()
	want := [2]Stats{{Sent: 1, Lost: 1}, {Sent: 1, Delivered: 1, Bytes: 1000}}
	if diff := cmp.Diff(want, [2]Stats{ab, ba}); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

// TestRecvContext checks that a Recv waiting for a packet returns ctx's
// error when ctx ends. The Recv waits in a goroutine, since only another
// goroutine can end its context.
func TestRecvContext(t *testing.T) {
	h := newHarness(t, 1, Profile{}, Profile{})
	if _, err := h.l.Client().Recv(polled); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv(ended ctx) = %v, want context.Canceled", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := h.l.Client().Recv(ctx)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Recv after cancel = %v, want context.Canceled", err)
	}

	go func() {
		_, _, err := h.l.Server().ReadPacket(ctx)
		errc <- err
	}()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("ReadPacket after cancel = %v, want context.Canceled", err)
	}
}

// TestClose checks that closing one end wakes a waiting Recv on the other,
// stops pending deliveries and fails every later call.
func TestClose(t *testing.T) {
	h := newHarness(t, 1, Profile{Latency: 5 * ms}, Profile{Latency: 5 * ms})
	h.send(0, "a", 10)
	h.write(0, "b", 10)

	errc := make(chan error)
	go func() {
		_, err := h.l.Client().Recv(context.Background())
		errc <- err
	}()
	if err := h.l.Server().Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := <-errc; !errors.Is(err, transport.ErrClosed) {
		t.Errorf("waiting Recv = %v, want ErrClosed", err)
	}
	if next, ok := h.clk.Next(); ok {
		t.Errorf("a timer is still pending at %v after Close", next)
	}

	ctx := context.Background()
	c, s := h.l.Client(), h.l.Server()
	_, recvErr := c.Recv(ctx)
	_, _, readErr := s.ReadPacket(ctx)
	errs := map[string]error{
		"Send":         c.Send(ctx, []byte("x")),
		"Recv":         recvErr,
		"WritePacket":  s.WritePacket([]byte("x"), h.l.peer),
		"ReadPacket":   readErr,
		"client.Close": c.Close(),
		"server.Close": s.Close(),
	}
	for name, err := range errs {
		if !errors.Is(err, transport.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func TestSendEndedContext(t *testing.T) {
	h := newHarness(t, 1, Profile{}, Profile{})
	if err := h.l.Client().Send(polled, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send(ended ctx) = %v, want context.Canceled", err)
	}
	if ab, _ := h.l.Stats(); ab.Sent != 0 {
		t.Errorf("Sent = %d, want 0", ab.Sent)
	}
}
