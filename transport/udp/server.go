package udp

import (
	"context"
	"fmt"
	"net"
	"sync"
)

// PacketConn is the server side: a UDP socket that receives SMP packets from
// any client and replies to the sender. It implements transport.PacketConn.
type PacketConn struct {
	conn *net.UDPConn

	readMu sync.Mutex // guards buf and serialises ReadPacket
	buf    []byte
}

// Listen binds a UDP socket to addr ("HOST:PORT"; port 0 picks a free port,
// which LocalAddr then reports).
func Listen(addr string) (*PacketConn, error) {
	laddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("udp: listen %s: %w", addr, err)
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("udp: listen %s: %w", addr, err)
	}

	return &PacketConn{conn: conn, buf: make([]byte, maxDatagram)}, nil
}

// ReadPacket returns the payload of the next datagram and its sender.
func (p *PacketConn) ReadPacket(ctx context.Context) ([]byte, net.Addr, error) {
	p.readMu.Lock()
	defer p.readMu.Unlock()

	var (
		n    int
		from *net.UDPAddr
	)
	err := readContext(ctx, p.conn, func() (err error) {
		n, from, err = p.conn.ReadFromUDP(p.buf)
		return err
	})
	if err != nil {
		return nil, nil, wrap("read", err)
	}

	return append([]byte(nil), p.buf[:n]...), from, nil
}

// WritePacket sends packet as one datagram to to, which must be a
// *net.UDPAddr such as ReadPacket returns. Unlike a client's Send, it does
// not cap the size at MaxPacket: a device answers within its buf_size.
func (p *PacketConn) WritePacket(packet []byte, to net.Addr) error {
	addr, ok := to.(*net.UDPAddr)
	if !ok {
		return fmt.Errorf("udp: write: peer address %v is %T, want *net.UDPAddr", to, to)
	}

	_, err := p.conn.WriteToUDP(packet, addr)
	return wrap("write", closedOr(err))
}

// LocalAddr returns the bound address.
func (p *PacketConn) LocalAddr() net.Addr { return p.conn.LocalAddr() }

// Close closes the socket and wakes a pending ReadPacket, which returns
// transport.ErrClosed, as does every later call.
func (p *PacketConn) Close() error {
	return closedOr(p.conn.Close())
}
