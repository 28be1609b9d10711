package serial

import (
	"context"
	"io"
	"net"
)

// Addr names a serial line; it is both ends' address on a PacketConn.
type Addr string

// Network returns "serial".
func (a Addr) Network() string { return "serial" }

func (a Addr) String() string { return string(a) }

// PacketConn is the server side of a serial line: an emulated device reads
// requests from the one peer at the other end and writes replies back. It
// implements transport.PacketConn.
type PacketConn struct {
	conn *Conn
	addr Addr
}

// NewPacketConn starts the server side of a line over rw, named name (for
// example its device path). rw and cfg are as for NewConn.
func NewPacketConn(rw io.ReadWriteCloser, name string, cfg Config) (*PacketConn, error) {
	c, err := NewConn(rw, cfg)
	if err != nil {
		return nil, err
	}
	return &PacketConn{conn: c, addr: Addr(name)}, nil
}

// ReadPacket returns the next request, with the line's Addr as its sender.
// Like Conn.Recv, it drops frames that fail their checks.
func (p *PacketConn) ReadPacket(ctx context.Context) ([]byte, net.Addr, error) {
	packet, err := p.conn.Recv(ctx)
	if err != nil {
		return nil, nil, err
	}
	return packet, p.addr, nil
}

// WritePacket writes a reply. The line has a single peer, so to is not
// consulted.
func (p *PacketConn) WritePacket(packet []byte, to net.Addr) error {
	return p.conn.Send(context.Background(), packet)
}

// LocalAddr returns the line's Addr.
func (p *PacketConn) LocalAddr() net.Addr { return p.addr }

// Close closes the line as Conn.Close does.
func (p *PacketConn) Close() error { return p.conn.Close() }
