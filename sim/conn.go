package sim

import (
	"context"

	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
)

// countingConn is a client's end of a link that numbers the requests sent
// on it, the steps that faults on links are placed at.
type countingConn struct {
	transport.Conn
	w           *world
	link        string
	sent        int
	uploadBytes int // bytes of upload requests (pair group, upload command)
}

func (c *countingConn) Send(ctx context.Context, packet []byte) error {
	step := c.sent
	c.sent++
	for _, f := range c.w.sc.Faults {
		if f.Step != step || f.Target != c.link {
			continue
		}
		switch f.Kind {
		case KindLoss:
			c.w.logf("fault: %s request %d lost", c.link, step)
			return nil
		case KindCut:
			c.w.logf("fault: %s link down for %v", c.link, cutTime)
			c.w.linkOf(c.link).Cut(c.w.clk.Now(), c.w.clk.Now().Add(cutTime))
		case KindHost:
			c.w.logf("fault: host stops before request %d", step)
			c.w.host.crash()
			return ctx.Err()
		}
	}
	if h, err := smp.DecodeHeader(packet); err == nil && h.Group == pair.Group && h.ID == pair.CmdUpload {
		c.uploadBytes += len(packet)
	}
	return c.Conn.Send(ctx, packet)
}
