package serial

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fotasync/fotasync/transport/internal/link"
	"github.com/google/go-cmp/cmp"
)

// Each test runs in a synctest bubble over net.Pipe: timeouts use the
// bubble's clock, and the bubble fails the test if a goroutine is left
// behind.

func newPipeConn(t *testing.T, cfg Config) (*Conn, net.Conn) {
	t.Helper()
	ours, peer := net.Pipe()
	c, err := NewConn(ours, cfg)
	if err != nil {
		t.Fatalf("NewConn: %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		peer.Close()
	})
	return c, peer
}

func TestConnTV1(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := newPipeConn(t, Config{})

		go c.Send(t.Context(), tv1Request)
		got := make([]byte, len(tv1Frame))
		if _, err := io.ReadFull(peer, got); err != nil {
			t.Fatalf("peer read: %v", err)
		}
		if diff := cmp.Diff(tv1Frame, got); diff != "" {
			t.Errorf("bytes on the line (-want +got):\n%s", diff)
		}

		go peer.Write(tv1ResponseFrame)
		resp, err := c.Recv(t.Context())
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if diff := cmp.Diff(tv1Response, resp); diff != "" {
			t.Errorf("Recv (-want +got):\n%s", diff)
		}
	})
}

func TestConnRecvTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newPipeConn(t, Config{})

		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		_, err := c.Recv(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrIncomplete) {
			t.Errorf("Recv on a silent line: %v, want DeadlineExceeded alone", err)
		}
	})
}

// TestConnIncomplete is B07 at the link: the CRC never comes, Recv gives up
// at its deadline with "incomplete frame" and the next packet still arrives.
func TestConnIncomplete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := newPipeConn(t, Config{})
		cut := frameBody(tv1Request)
		cut = cut[:len(cut)-2]
		go peer.Write(cat("\x06\x09", base64.StdEncoding.EncodeToString(cut), "\n"))

		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		_, err := c.Recv(ctx)
		if !errors.Is(err, ErrIncomplete) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Recv: %v, want ErrIncomplete and DeadlineExceeded", err)
		}

		go peer.Write(tv1ResponseFrame)
		if got, err := c.Recv(t.Context()); err != nil || !bytes.Equal(got, tv1Response) {
			t.Errorf("Recv after the timeout = %x, %v; want the TV1 response", got, err)
		}
	})
}

// TestConnDropsBadFrames: a frame that fails its CRC is dropped and Recv
// waits on; if nothing good follows, its timeout error names the dropped
// frame.
func TestConnDropsBadFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := newPipeConn(t, Config{})
		bad := frameBody(tv1Response)
		bad[4] ^= 0xFF
		badFrame := cat("\x06\x09", base64.StdEncoding.EncodeToString(bad), "\n")

		go peer.Write(cat(badFrame, tv1ResponseFrame))
		if got, err := c.Recv(t.Context()); err != nil || !bytes.Equal(got, tv1Response) {
			t.Errorf("Recv = %x, %v; want the good frame's packet", got, err)
		}

		go peer.Write(badFrame)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		_, err := c.Recv(ctx)
		var crc *CRCError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &crc) {
			t.Errorf("Recv after a bad frame alone: %v, want DeadlineExceeded and a *CRCError", err)
		}
	})
}

// TestConnFrameGap checks the pause between frames on the bubble's clock.
func TestConnFrameGap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := newPipeConn(t, Config{FrameGap: 20 * time.Millisecond})
		packet := pattern(250) // 254-byte body: 3 frames
		go io.Copy(io.Discard, peer)

		start := time.Now()
		if err := c.Send(t.Context(), packet); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got, want := time.Since(start), 40*time.Millisecond; got != want {
			t.Errorf("Send of 3 frames took %v, want %v", got, want)
		}
	})
}

func TestConnSendContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newPipeConn(t, Config{FrameGap: time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := c.Send(ctx, tv1Request); !errors.Is(err, context.Canceled) {
			t.Errorf("Send with a cancelled context: %v, want Canceled", err)
		}
	})
}

func TestConnClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newPipeConn(t, Config{})
		errc := make(chan error)
		go func() {
			_, err := c.Recv(t.Context())
			errc <- err
		}()
		synctest.Wait() // Recv is blocked

		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-errc; err != link.ErrClosed {
			t.Errorf("pending Recv: %v, want ErrClosed", err)
		}
		if _, err := c.Recv(t.Context()); err != link.ErrClosed {
			t.Errorf("Recv after Close: %v, want ErrClosed", err)
		}
		if err := c.Send(t.Context(), tv1Request); err != link.ErrClosed {
			t.Errorf("Send after Close: %v, want ErrClosed", err)
		}
		if err := c.Close(); err != link.ErrClosed {
			t.Errorf("second Close: %v, want ErrClosed", err)
		}
	})
}

func TestConnPeerGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := newPipeConn(t, Config{})
		peer.Close()
		if _, err := c.Recv(t.Context()); !errors.Is(err, io.EOF) {
			t.Errorf("Recv after the peer closed: %v, want io.EOF", err)
		}
	})
}

func TestNewConnConfig(t *testing.T) {
	for _, cfg := range []Config{{LineLen: MinLineLen - 1}, {FrameGap: -time.Millisecond}} {
		if _, err := NewConn(nil, cfg); err == nil {
			t.Errorf("NewConn(%+v): no error", cfg)
		}
	}
}

// TestPacketLimit uses the boundary observed on a device with buf_size 1024
// (§0 item 3: 1020 bytes pass, 1021 vanish) and B11's buffer of 384.
func TestPacketLimit(t *testing.T) {
	c := &Conn{}
	for bufSize, want := range map[int]int{1024: 1020, 384: 380, 2: 0, 1 << 20: MaxPacket} {
		if got := c.PacketLimit(bufSize); got != want {
			t.Errorf("PacketLimit(%d) = %d, want %d", bufSize, got, want)
		}
	}
}
