package serial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/fotasync/fotasync/transport/internal/link"
)

// overhead is what the framing adds to a packet inside a device's MCUmgr
// buffer: the 2-byte length field and the 2-byte CRC.
const overhead = 4

// Config sets how a serial link frames packets. The zero value matches
// Zephyr's defaults.
type Config struct {
	// LineLen is the longest frame written, in bytes, counting the 2-byte
	// marker and the newline. Zero means DefaultLineLen (127); values from 1
	// to MinLineLen−1 are rejected.
	LineLen int
	// FrameGap is the pause between two frames of one packet, for receivers
	// that drop bursts (newtmgr waits 20ms; Zephyr's native_sim UART drops
	// more than two frames sent back to back). Zero means no pause.
	FrameGap time.Duration
}

func (c Config) check() error {
	if c.LineLen != 0 && c.LineLen < MinLineLen {
		return fmt.Errorf("serial: config: line length %d below %d", c.LineLen, MinLineLen)
	}
	if c.FrameGap < 0 {
		return fmt.Errorf("serial: config: frame gap %v is negative", c.FrameGap)
	}
	return nil
}

// Conn is a client link to one SMP server over a serial line (or any byte
// stream). It implements transport.Conn.
type Conn struct {
	rw  io.ReadWriteCloser
	cfg Config

	sendMu sync.Mutex // keeps the frames of one packet together
	recvMu sync.Mutex // serialises Recv, which owns in and dec
	in     *stream
	dec    *Decoder

	closed    chan struct{}
	closeOnce sync.Once
}

// NewConn starts a link over rw. It starts one goroutine that reads rw;
// Close stops it by closing rw, so rw.Close must wake a pending rw.Read, as
// it does for the ports Open returns and for net.Pipe.
func NewConn(rw io.ReadWriteCloser, cfg Config) (*Conn, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}

	c := &Conn{rw: rw, cfg: cfg, closed: make(chan struct{})}
	c.in = newStream(rw, c.closed)
	c.dec = NewDecoder(c.in)
	return c, nil
}

// Send frames packet and writes its frames, pausing FrameGap between them.
// ctx is checked before each frame; a write that blocks is not interrupted.
// A Send cut short by ctx leaves a partial packet on the line, which the
// receiver drops when the next packet starts.
func (c *Conn) Send(ctx context.Context, packet []byte) error {
	frames, err := Encode(packet, c.cfg.LineLen)
	if err != nil {
		return err
	}

	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	for i, frame := range frames {
		if i > 0 && c.cfg.FrameGap > 0 {
			if err := c.pause(ctx); err != nil {
				return err
			}
		}
		if err := c.write(ctx, frame); err != nil {
			return err
		}
	}
	return nil
}

func (c *Conn) write(ctx context.Context, frame []byte) error {
	if c.isClosed() {
		return link.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("serial: send: %w", err)
	}
	if _, err := c.rw.Write(frame); err != nil {
		if c.isClosed() {
			return link.ErrClosed
		}
		return fmt.Errorf("serial: send: %w", err)
	}
	return nil
}

func (c *Conn) pause(ctx context.Context) error {
	t := time.NewTimer(c.cfg.FrameGap)
	defer t.Stop()

	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("serial: send: %w", ctx.Err())
	case <-c.closed:
		return link.ErrClosed
	}
}

// Recv returns the next packet that passes its frame checks. Frames that
// fail them are dropped, as a Zephyr device drops them; when ctx ends, its
// error also wraps the last dropped frame's error (ErrFrame, *CRCError,
// ErrIncomplete). When ctx ends while a frame is partly received, the error
// wraps both ErrIncomplete and ctx's error, and the partial frame is dropped.
func (c *Conn) Recv(ctx context.Context) ([]byte, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()

	c.in.ctx = ctx
	var dropped error // the last frame that failed its checks
	for {
		packet, err := c.dec.Decode()
		switch {
		case c.isClosed():
			return nil, link.ErrClosed
		case err == nil:
			return packet, nil
		case isFrameError(err) && ctx.Err() == nil:
			dropped = err
		case isFrameError(err) && !errors.Is(err, ctx.Err()): // a frame failed as ctx ended
			return nil, withDropped(fmt.Errorf("serial: recv: %w", ctx.Err()), err)
		case err == io.EOF:
			return nil, withDropped(fmt.Errorf("serial: recv: line closed by peer: %w", err), dropped)
		default:
			return nil, withDropped(err, dropped)
		}
	}
}

// isFrameError reports an error about one dropped frame, after which the
// line goes on. A read failure that cut a frame short also matches; the
// failure itself is sticky and comes back from the next Decode.
func isFrameError(err error) bool {
	var crc *CRCError
	return errors.Is(err, ErrFrame) || errors.Is(err, ErrIncomplete) || errors.As(err, &crc)
}

// withDropped adds the last dropped frame to the error that ends a Recv.
func withDropped(err, dropped error) error {
	if dropped == nil || err == link.ErrClosed {
		return err
	}
	return fmt.Errorf("%w (dropped before it: %w)", err, dropped)
}

// MaxPacket returns MaxPacket (65533), the framing's own limit. A Zephyr
// device takes at most its buf_size − 4; see PacketLimit.
func (c *Conn) MaxPacket() int { return MaxPacket }

// PacketLimit returns the largest packet a device with MCUmgr buffers of
// bufSize bytes accepts over serial: bufSize − 4, since the length field and
// the CRC share its buffer.
func (c *Conn) PacketLimit(bufSize int) int {
	return max(0, min(MaxPacket, bufSize-overhead))
}

// MaxInFlight is 1: a Zephyr UART takes one request at a time into its line
// buffer, and frames of a second request sent before the first is answered
// are lost (seen on Zephyr 4.4's QEMU serial fixture).
func (c *Conn) MaxInFlight() int { return 1 }

// Close closes the line, waits for the reading goroutine to exit and wakes a
// pending Recv or Send pause, which return transport.ErrClosed, as does every
// later call. The first Close returns the line's Close error.
func (c *Conn) Close() error {
	err := link.ErrClosed
	c.closeOnce.Do(func() {
		close(c.closed)
		err = c.rw.Close()
		<-c.in.done
	})
	return err
}

func (c *Conn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}
