package memlink

import (
	"context"
	"fmt"
	"net"
)

// Addr names one end of a link: "NAME:client" or "NAME:server", where NAME
// is the profiles' Name (both, joined by "/", when they differ) or
// "memlink".
type Addr string

// Network returns "memlink".
func (a Addr) Network() string { return "memlink" }

func (a Addr) String() string { return string(a) }

// client is end A. It implements transport.Conn.
type client struct{ l *Link }

// Send puts packet on the link toward the server. It never waits: packets
// queue behind each other on the link without limit. It returns
// transport.ErrTooLarge above the client-to-server MTU, ctx's error when
// ctx has ended, and transport.ErrClosed after Close.
func (c client) Send(ctx context.Context, packet []byte) error {
	return c.l.send(ctx, ab, "send", packet)
}

// Recv returns the next packet from the server, waiting until one arrives,
// ctx ends (ctx's error) or the link closes (transport.ErrClosed). A packet
// already waiting is returned even when ctx has ended.
func (c client) Recv(ctx context.Context) ([]byte, error) {
	return c.l.receive(ctx, ba)
}

// MaxPacket returns the client-to-server MTU.
func (c client) MaxPacket() int { return c.l.dirs[ab].p.MTU }

// Close closes the link for both ends; see Link.
func (c client) Close() error { return c.l.close() }

// server is end B. It implements transport.PacketConn.
type server struct{ l *Link }

// ReadPacket returns the next packet from the client, waiting as Recv does.
// from is always the client's Addr.
func (s server) ReadPacket(ctx context.Context) ([]byte, net.Addr, error) {
	p, err := s.l.receive(ctx, ab)
	if err != nil {
		return nil, nil, err
	}
	return p, s.l.peer, nil
}

// WritePacket puts packet on the link toward the client, which to must name
// (as ReadPacket reports it). It never waits, and returns
// transport.ErrTooLarge above the server-to-client MTU.
func (s server) WritePacket(packet []byte, to net.Addr) error {
	if a, ok := to.(Addr); !ok || a != s.l.peer {
		return fmt.Errorf("memlink: write: peer %v is not this link's client %v", to, s.l.peer)
	}
	return s.l.send(context.Background(), ba, "write", packet)
}

// LocalAddr returns the server's Addr.
func (s server) LocalAddr() net.Addr { return s.l.self }

// Close closes the link for both ends; see Link.
func (s server) Close() error { return s.l.close() }
