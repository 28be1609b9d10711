package client

import (
	"context"
	"fmt"

	"github.com/fotasync/fotasync/smp"
)

// Exchange sends a whole SMP packet built elsewhere (a proxy relaying it)
// and returns the packet that answers it, matched on its group, command and
// sequence number. It is not retried: the caller cannot know whether the
// command is safe to repeat.
func (c *Client) Exchange(ctx context.Context, packet []byte) ([]byte, error) {
	p, err := smp.Decode(packet)
	if err != nil {
		return nil, fmt.Errorf("client: exchange: %w", err)
	}
	if p.Op.IsResponse() {
		return nil, fmt.Errorf("client: exchange: packet is a response (%s)", p.Op)
	}
	if err := c.conn.Send(ctx, packet); err != nil {
		return nil, fmt.Errorf("client: exchange: send: %w", err)
	}
	resp, err := c.awaitPacket(ctx, p.Op, p.Group, p.ID, []uint8{p.Seq}, c.timeout)
	if err != nil {
		return nil, fmt.Errorf("client: exchange: %s command %d: %w", p.Group, p.ID, err)
	}
	return resp.Bytes()
}
