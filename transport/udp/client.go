package udp

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/fotasync/fotasync/transport/internal/link"
)

// Conn is a client link to one SMP server over a connected UDP socket. It
// implements transport.Conn.
type Conn struct {
	conn *net.UDPConn

	recvMu sync.Mutex // guards buf and serialises Recv
	buf    []byte
}

// Dial connects to the SMP server at addr ("HOST:PORT").
func Dial(addr string) (*Conn, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("udp: dial %s: %w", addr, err)
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, fmt.Errorf("udp: dial %s: %w", addr, err)
	}

	return &Conn{conn: conn, buf: make([]byte, maxDatagram)}, nil
}

// Send writes packet as one datagram. ctx is checked before the write; a
// UDP write does not wait for the peer.
func (c *Conn) Send(ctx context.Context, packet []byte) error {
	if len(packet) > MaxPacket {
		return fmt.Errorf("udp: send: packet of %d bytes, limit %d: %w", len(packet), MaxPacket, link.ErrTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return wrap("send", err)
	}

	_, err := c.conn.Write(packet)
	return wrap("send", closedOr(err))
}

// Recv returns the payload of the next datagram from the server. A refused
// earlier datagram (ICMP port unreachable) surfaces here as an error; the
// link stays usable.
func (c *Conn) Recv(ctx context.Context) ([]byte, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()

	var n int
	err := readContext(ctx, c.conn, func() (err error) {
		n, err = c.conn.Read(c.buf)
		return err
	})
	if err != nil {
		return nil, wrap("recv", err)
	}

	return append([]byte(nil), c.buf[:n]...), nil
}

// MaxPacket returns MaxPacket (1500); see there for the device's own limit.
func (c *Conn) MaxPacket() int { return MaxPacket }

// LocalAddr returns the socket's local address.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// Close closes the socket and wakes a pending Recv, which returns
// transport.ErrClosed, as does every later call.
func (c *Conn) Close() error {
	return closedOr(c.conn.Close())
}
