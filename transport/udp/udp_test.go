package udp

import (
	"context"
	"encoding/hex"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fotasync/fotasync/transport/internal/link"
	"github.com/google/go-cmp/cmp"
)

// TV2 of shared/reference/smp-mcuboot.md §7: echo "hi", SMP v2 write, over
// the UDP fixture.
var (
	tv2Request  = unhex("0a 00 00 06 00 00 01 00 a1 61 64 62 68 69")
	tv2Response = unhex("0b 00 00 07 00 00 01 00 bf 61 72 62 68 69 ff")
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// pair listens on a free loopback port and dials it; the listener exists
// before the dial, so no packet can be sent into nothing.
func pair(t *testing.T) (*Conn, *PacketConn) {
	t.Helper()
	noLeak(t)
	server, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { server.Close() })
	client, err := Dial(server.LocalAddr().String())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return client, server
}

// noLeak fails t if goroutines outlive it. Exiting goroutines may still be
// counted for a moment, so it yields before it decides.
func noLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		for range 1000 {
			if runtime.NumGoroutine() <= before {
				return
			}
			runtime.Gosched()
		}
		t.Errorf("%d goroutines left, had %d", runtime.NumGoroutine(), before)
	})
}

func TestRoundTrip(t *testing.T) {
	client, server := pair(t)

	if err := client.Send(t.Context(), tv2Request); err != nil {
		t.Fatalf("Send: %v", err)
	}
	req, from, err := server.ReadPacket(t.Context())
	if err != nil {
		t.Fatalf("ReadPacket: %v", err)
	}
	if diff := cmp.Diff(tv2Request, req); diff != "" {
		t.Errorf("ReadPacket (-want +got):\n%s", diff)
	}
	if from.String() != client.LocalAddr().String() {
		t.Errorf("ReadPacket from %v, want the client %v", from, client.LocalAddr())
	}

	if err := server.WritePacket(tv2Response, from); err != nil {
		t.Fatalf("WritePacket: %v", err)
	}
	resp, err := client.Recv(t.Context())
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	if diff := cmp.Diff(tv2Response, resp); diff != "" {
		t.Errorf("Recv (-want +got):\n%s", diff)
	}
}

func TestMaxPacket(t *testing.T) {
	client, server := pair(t)

	big := make([]byte, MaxPacket+1)
	if err := client.Send(t.Context(), big); !errors.Is(err, link.ErrTooLarge) {
		t.Errorf("Send of %d bytes: %v, want ErrTooLarge", len(big), err)
	}
	if err := client.Send(t.Context(), big[:MaxPacket]); err != nil {
		t.Fatalf("Send of %d bytes: %v", MaxPacket, err)
	}
	got, _, err := server.ReadPacket(t.Context())
	if err != nil || len(got) != MaxPacket {
		t.Errorf("ReadPacket = %d bytes, %v; want %d", len(got), err, MaxPacket)
	}
}

// TestRecvContext ends Recv's context in each way, and checks that the
// socket then still delivers: a stale wake-up must not hit the next read.
func TestRecvContext(t *testing.T) {
	client, server := pair(t)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, stop := context.WithDeadline(t.Context(), time.Unix(0, 0))
	defer stop()

	if _, err := client.Recv(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv(cancelled) = %v, want Canceled", err)
	}
	if _, err := client.Recv(expired); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Recv(expired) = %v, want DeadlineExceeded", err)
	}
	if _, _, err := server.ReadPacket(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadPacket(cancelled) = %v, want Canceled", err)
	}

	ctx, cancelWait := context.WithCancel(t.Context())
	errc := make(chan error)
	go func() {
		_, err := client.Recv(ctx)
		errc <- err
	}()
	cancelWait()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Recv cancelled while waiting = %v, want Canceled", err)
	}

	if err := server.WritePacket(tv2Response, client.LocalAddr()); err != nil {
		t.Fatalf("WritePacket: %v", err)
	}
	if got, err := client.Recv(t.Context()); err != nil || !cmp.Equal(got, tv2Response) {
		t.Errorf("Recv after the cancellations = %x, %v; want TV2's response", got, err)
	}
}

func TestClose(t *testing.T) {
	client, server := pair(t)

	errc := make(chan error)
	go func() {
		_, err := client.Recv(t.Context())
		errc <- err
	}()
	go func() {
		_, _, err := server.ReadPacket(t.Context())
		errc <- err
	}()
	if err := client.Close(); err != nil {
		t.Errorf("client Close: %v", err)
	}
	if err := server.Close(); err != nil {
		t.Errorf("server Close: %v", err)
	}
	for range 2 {
		if err := <-errc; err != link.ErrClosed {
			t.Errorf("pending read: %v, want ErrClosed", err)
		}
	}

	if err := client.Send(t.Context(), tv2Request); err != link.ErrClosed {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
	if err := server.WritePacket(tv2Response, client.LocalAddr()); err != link.ErrClosed {
		t.Errorf("WritePacket after Close: %v, want ErrClosed", err)
	}
	if err := client.Close(); err != link.ErrClosed {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
}

func TestWritePacketAddr(t *testing.T) {
	_, server := pair(t)
	if err := server.WritePacket(tv2Response, &net.TCPAddr{}); err == nil {
		t.Errorf("WritePacket to a TCP address: no error")
	}
}

func TestDialErrors(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "127.0.0.1:http-nope", "[::1"} {
		if _, err := Dial(addr); err == nil || !strings.HasPrefix(err.Error(), "udp: dial") {
			t.Errorf("Dial(%q) = %v, want a udp: dial error", addr, err)
		}
	}
	if _, err := Listen("127.0.0.1"); err == nil {
		t.Errorf("Listen without a port: no error")
	}
}
