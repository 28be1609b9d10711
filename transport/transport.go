// Package transport moves whole SMP packets between a client and an SMP
// server (an MCUmgr device or our emulation of one).
//
// An SMP packet is the 8-byte SMP header followed by its payload; header
// bytes 2..3 hold the payload length. Each transport frames packets its own
// way: package udp sends one packet per datagram, package serial uses the
// console framing (base64, CRC-16, 127-byte lines), and package ble splits
// packets into GATT notifications. Dial and Listen pick one from a spec.
package transport

import (
	"context"
	"net"

	"github.com/fotasync/fotasync/transport/internal/link"
)

// ErrClosed is returned by every operation on a Conn or PacketConn after its
// Close.
var ErrClosed = link.ErrClosed

// ErrTooLarge is returned by Send for a packet above the link's MaxPacket.
var ErrTooLarge = link.ErrTooLarge

// Conn is a client's link to one SMP server. It carries whole SMP packets.
//
// Send and Recv may be called from different goroutines; concurrent calls of
// the same method are serialised.
type Conn interface {
	// Send writes one packet. It returns ErrTooLarge for a packet above
	// MaxPacket.
	Send(ctx context.Context, packet []byte) error
	// Recv returns the next whole packet. Packets whose framing is damaged
	// are dropped, not returned; when ctx ends first, Recv returns an error
	// wrapping ctx's error (and, where a transport says so, what it
	// dropped). After Close it returns ErrClosed.
	Recv(ctx context.Context) ([]byte, error)
	// MaxPacket is the largest SMP packet the link itself carries, before
	// any limit of the server's buffers (see PacketLimit). Each transport
	// documents its value.
	MaxPacket() int
	// Close ends the link and unblocks a pending Recv.
	Close() error
}

// PacketConn is the server side: packets arrive from a peer, replies go back
// to that peer.
type PacketConn interface {
	// ReadPacket returns the next packet and the peer that sent it.
	ReadPacket(ctx context.Context) (packet []byte, from net.Addr, err error)
	// WritePacket sends a packet to a peer, normally one ReadPacket named.
	WritePacket(packet []byte, to net.Addr) error
	// LocalAddr names the local end.
	LocalAddr() net.Addr
	// Close ends the link and unblocks a pending ReadPacket.
	Close() error
}

// PacketLimit returns the largest SMP packet c can deliver to a server whose
// MCUmgr parameters report bufSize (buf_size, SMP header included). It is the
// one place where a transport's own overhead in the server's buffer is
// counted: the serial transport stores its length field and CRC there too,
// so its limit is bufSize − 4, while UDP and BLE (with reassembly) allow
// bufSize. A bufSize of zero or less means unknown, and the result is
// c.MaxPacket().
func PacketLimit(c Conn, bufSize int) int {
	if bufSize <= 0 {
		return c.MaxPacket()
	}
	if l, ok := c.(interface{ PacketLimit(bufSize int) int }); ok {
		return l.PacketLimit(bufSize)
	}

	return min(c.MaxPacket(), bufSize)
}

// MaxInFlight returns how many requests c may have unanswered at once when
// the caller does not say: a transport that cannot pipeline says so with a
// MaxInFlight method; the others allow the server's buffer count, bufCount.
func MaxInFlight(c Conn, bufCount int) int {
	if l, ok := c.(interface{ MaxInFlight() int }); ok {
		return max(1, min(bufCount, l.MaxInFlight()))
	}
	return max(1, bufCount)
}
