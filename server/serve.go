package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/fotasync/fotasync/transport"
)

// Serve answers the packets that arrive on pc, one at a time and in order,
// as Zephyr's SMP work queue does, until ctx ends (nil) or pc fails.
func Serve(ctx context.Context, pc transport.PacketConn, m *Mux) error {
	for {
		pkt, from, err := pc.ReadPacket(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, transport.ErrClosed) {
				return nil
			}
			return fmt.Errorf("server: receive: %w", err)
		}
		resp, after := m.Answer(ctx, pkt)
		if resp != nil {
			// A reply that cannot be sent is lost as on a real link; the
			// client's timeout covers it.
			_ = pc.WritePacket(resp, from)
		}
		for _, f := range after {
			f()
		}
	}
}
