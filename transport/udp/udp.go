// Package udp carries SMP over UDP the way Zephyr's MCUmgr UDP transport
// does: one SMP packet per datagram, no framing, replies sent to the
// requester's address and port. There is no retransmission; the SMP client
// times out and retries.
package udp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/fotasync/fotasync/transport/internal/link"
)

// DefaultPort is the port a Zephyr device listens on unless built with
// another CONFIG_MCUMGR_TRANSPORT_UDP_PORT.
const DefaultPort = 1337

// MaxPacket is the largest SMP packet a client sends, in bytes. It is not
// the path MTU minus IP and UDP headers: a Zephyr device receives into a
// buffer of CONFIG_MCUMGR_TRANSPORT_UDP_MTU bytes (default 1500) and handles
// at most its MCUmgr buf_size, so the device's limit is
// min(buf_size, UDP_MTU), and 1500 is the transport's own cap. Larger
// datagrams are fragmented by IP, which Zephyr reassembles only when built to.
const MaxPacket = 1500

// maxDatagram is the largest UDP payload, so that reads never truncate.
const maxDatagram = 65535

// pastDeadline is a read deadline that has already passed; setting it wakes
// a blocked read at once.
var pastDeadline = time.Unix(1, 0)

// readContext runs read, a blocking read on conn, and makes ctx's end wake it
// through conn's read deadline. The deadline callback is waited for, so it
// can never fire into the next read.
func readContext(ctx context.Context, conn *net.UDPConn, read func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		return closedOr(err)
	}

	woke := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		conn.SetReadDeadline(pastDeadline)
		close(woke)
	})
	err := read()
	if !stop() {
		<-woke
	}

	if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil { // only the callback sets deadlines
		return ctx.Err()
	}
	return closedOr(err)
}

// closedOr maps the socket's "use of closed connection" to link.ErrClosed.
func closedOr(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return link.ErrClosed
	}
	return err
}

// wrap prefixes err with the failed step, keeping link.ErrClosed bare.
func wrap(step string, err error) error {
	if err == nil || err == link.ErrClosed {
		return err
	}
	return fmt.Errorf("udp: %s: %w", step, err)
}
