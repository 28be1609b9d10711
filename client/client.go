// Package client is an SMP client: it sends requests over a transport, matches
// each response to its request, and retries what is safe to retry.
//
// A Client is single-threaded: one goroutine uses it at a time. It starts no
// goroutines and reads time only from its clock, so the simulator can drive it
// on virtual time.
package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
)

// ErrTimeout reports that a request got no matching response in time, after
// every allowed retry.
var ErrTimeout = errors.New("no response")

// Options configures a Client. The zero value is a usable default.
type Options struct {
	Clock   clock.Clock   // time source; nil means the wall clock
	Timeout time.Duration // wait for one response; 0 means 3 s
	// Retries is how often an idempotent request is sent again after a
	// timeout; 0 means 3, negative means never.
	Retries int
	// Version is the SMP protocol version to speak; 0 means SMP v2. Use
	// VersionV1 to force the original protocol.
	Version ProtocolVersion
	// Seq is the first sequence number. A client that replaces another on
	// the same link should start elsewhere, so that late answers to the old
	// one's requests do not match its own.
	Seq uint8
}

// ProtocolVersion selects the SMP header version a Client sends.
type ProtocolVersion int

// Protocol versions a client may speak.
const (
	VersionDefault ProtocolVersion = iota // SMP v2
	VersionV1
	VersionV2
)

// Client talks to one SMP server over one transport.
type Client struct {
	conn    transport.Conn
	clock   clock.Clock
	timeout time.Duration
	retries int
	version uint8
	seq     uint8
	params  *smp.ParamsResponse // cached MCUmgr parameters, nil until read
}

// New returns a client that uses conn. The client does not own conn.
func New(conn transport.Conn, o Options) *Client {
	c := &Client{conn: conn, clock: o.Clock, timeout: o.Timeout, retries: o.Retries, version: smp.Version2,
		seq: o.Seq}
	if c.clock == nil {
		c.clock = clock.Wall
	}
	if c.timeout == 0 {
		c.timeout = 3 * time.Second
	}
	switch {
	case c.retries == 0:
		c.retries = 3
	case c.retries < 0:
		c.retries = 0
	}
	if o.Version == VersionV1 {
		c.version = smp.Version1
	}
	return c
}

// Request describes one SMP command.
type Request struct {
	Op    smp.Op
	Group smp.Group
	ID    uint8
	Body  any // encoded as CBOR; nil sends an empty map
	// Once marks a command that must not be sent twice (reset, confirm,
	// erase): after a timeout the caller re-reads state instead (field case
	// B15).
	Once    bool
	Timeout time.Duration // 0 means the client's timeout
	Name    string        // names the command in errors; "" means smp.CommandName
}

func (r Request) name() string {
	if r.Name != "" {
		return r.Name
	}
	return smp.CommandName(r.Group, r.ID)
}

// Do sends req and decodes the matching response body into resp (which may be
// nil). A device error is returned as an smp error type (smp.RC, smp.ImageRC,
// smp.OSRC, smp.GroupError), wrapped with the command's name.
func (c *Client) Do(ctx context.Context, req Request, resp any) error {
	body, err := c.roundTrip(ctx, req)
	if err != nil {
		return err
	}
	if err := smp.StatusError(body); err != nil {
		return fmt.Errorf("client: %s: %w", req.name(), err)
	}
	if resp == nil {
		return nil
	}
	if err := smp.Unmarshal(body, resp); err != nil {
		return fmt.Errorf("client: %s: response: %w", req.name(), err)
	}
	return nil
}

// roundTrip sends req, retrying it when allowed, and returns the body of the
// matching response.
func (c *Client) roundTrip(ctx context.Context, req Request) ([]byte, error) {
	attempts := 1
	if !req.Once {
		attempts += c.retries
	}
	timeout := req.Timeout
	if timeout == 0 {
		timeout = c.timeout
	}
	var sent []uint8
	for i := 0; i < attempts; i++ {
		seq, err := c.send(ctx, req)
		if err != nil {
			return nil, err
		}
		sent = append(sent, seq)
		body, err := c.await(ctx, req, sent, timeout)
		if !errors.Is(err, ErrTimeout) {
			return body, err
		}
	}
	return nil, fmt.Errorf("client: %s: %w after %d attempt(s) of %v", req.name(), ErrTimeout, attempts, timeout)
}

// send encodes req with the next sequence number and hands it to the transport.
func (c *Client) send(ctx context.Context, req Request) (uint8, error) {
	body := req.Body
	if body == nil {
		body = smp.Empty{}
	}
	seq := c.seq
	c.seq++
	pkt, err := smp.Encode(smp.Header{Version: c.version, Op: req.Op, Group: req.Group, Seq: seq, ID: req.ID}, body)
	if err != nil {
		return 0, fmt.Errorf("client: %s: %w", req.name(), err)
	}
	if err := c.conn.Send(ctx, pkt); err != nil {
		return 0, fmt.Errorf("client: %s: send: %w", req.name(), err)
	}
	return seq, nil
}

// await waits for the answer to req under any of the sequence numbers in
// seqs: a late answer to an earlier attempt is as good as the latest.
func (c *Client) await(ctx context.Context, req Request, seqs []uint8, timeout time.Duration) ([]byte, error) {
	p, err := c.awaitPacket(ctx, req.Op, req.Group, req.ID, seqs, timeout)
	if err != nil && !errors.Is(err, ErrTimeout) {
		return nil, fmt.Errorf("client: %s: %w", req.name(), err)
	}
	return p.Body, err
}

// awaitPacket reads packets until one answers a request of op, group and id
// sent under one of seqs, or until timeout passes (ErrTimeout). Packets that
// answer nothing pending are dropped.
func (c *Client) awaitPacket(ctx context.Context, op smp.Op, group smp.Group, id uint8, seqs []uint8,
	timeout time.Duration) (smp.Packet, error) {
	wait, cancel := clock.WithTimeout(ctx, c.clock, timeout)
	defer cancel()
	for {
		pkt, err := c.conn.Recv(wait)
		if err != nil {
			if ctx.Err() != nil {
				return smp.Packet{}, ctx.Err()
			}
			if wait.Err() != nil {
				return smp.Packet{}, ErrTimeout
			}
			if errors.Is(err, transport.ErrClosed) {
				return smp.Packet{}, fmt.Errorf("receive: %w", err)
			}
			// A device that is down (UDP: the port is refused while it
			// reboots) is silent, not broken: wait out the timeout.
			if clock.Wait(ctx, c.clock, wait.Done()) != nil {
				return smp.Packet{}, ctx.Err()
			}
			return smp.Packet{}, ErrTimeout
		}
		p, err := smp.Decode(pkt)
		if err != nil {
			continue // not an answer we can use; the transport may carry noise
		}
		if answers(p.Header, op, group, id, seqs) {
			return p, nil
		}
	}
}

// answers reports whether h is a response to a request of op, group and id
// sent with one of seqs. A v1 header in reply to a v2 request and either
// response op are accepted: Zephyr downgrades the version, and some servers
// answer a read with the write-response op. A read answered with op 2, as
// Zephyr's documentation tables show it, is accepted too; a write answered
// with op 2 is not, as that may be the request itself echoed back (field
// cases B23, B26).
func answers(h smp.Header, op smp.Op, group smp.Group, id uint8, seqs []uint8) bool {
	isAnswer := h.Op.IsResponse() || (op == smp.OpRead && h.Op == smp.OpWrite)
	if !isAnswer || h.Group != group || h.ID != id {
		return false
	}
	for _, s := range seqs {
		if h.Seq == s {
			return true
		}
	}
	return false
}
