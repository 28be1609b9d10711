package pair

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/smp"
)

// peer is the primary's end of the D2D link. The SMP client it wraps
// handles one exchange at a time, so every use takes the lock; a transfer
// holds it for as long as it runs.
type peer struct {
	mu    *clock.Lock
	clock clock.Clock
	c     *client.Client

	cacheMu      sync.Mutex
	lastState    []smp.ImageSlot // the secondary's image list when last read
	reachable    bool
	transferring bool // an upload holds the link
}

func (x *peer) setTransferring(on bool) {
	x.cacheMu.Lock()
	defer x.cacheMu.Unlock()
	x.transferring = on
}

func newPeer(c *client.Client, clk clock.Clock) *peer {
	return &peer{mu: clock.NewLock(), clock: clk, c: c}
}

// do sends a pair group command to the secondary.
func (x *peer) do(ctx context.Context, cmd uint8, body, resp any) error {
	x.mu.Lock(x.clock)
	defer x.mu.Unlock()
	once := cmd == CmdReset || cmd == CmdCommit
	err := x.c.Do(ctx, client.Request{Op: smp.OpWrite, Group: Group, ID: cmd, Body: body, Once: once,
		Name: CommandName(cmd)}, resp)
	if cmd != CmdReset {
		x.refresh(ctx) // a device that resets answers nothing for a while
	}
	return err
}

// images reads the secondary's image list. While a transfer holds the link
// it answers the list read when the transfer began: the secondary is
// reachable, since it is being talked to.
func (x *peer) images(ctx context.Context) ([]smp.ImageSlot, bool) {
	// Never wait for the link: the caller answers the host (G5), and what
	// holds the link may itself wait for the host. Every exchange refreshes
	// the list when it ends, so the list is at most one exchange old.
	if x.mu.TryLock() {
		x.refresh(ctx)
		x.mu.Unlock()
	}
	x.cacheMu.Lock()
	defer x.cacheMu.Unlock()
	return x.lastState, x.reachable
}

// alive records that the secondary just answered.
func (x *peer) alive() {
	x.cacheMu.Lock()
	defer x.cacheMu.Unlock()
	x.reachable = true
}

// refresh reads the image list into the cache. The caller holds x.mu.
func (x *peer) refresh(ctx context.Context) {
	list, err := x.c.ImageState(ctx)
	x.cacheMu.Lock()
	defer x.cacheMu.Unlock()
	x.reachable = err == nil
	if err == nil {
		x.lastState = list
	}
}

// exchange carries a raw packet; a busy link answers EBUSY at once.
func (x *peer) exchange(ctx context.Context, pkt []byte) ([]byte, error) {
	if !x.mu.TryLock() {
		return nil, withReason(smp.RCBusy, "the D2D link is busy with a transfer")
	}
	defer x.mu.Unlock()
	return x.c.Exchange(ctx, pkt)
}

// upload sends a growing source to the secondary's image group.
func (x *peer) upload(ctx context.Context, src client.Source, o client.UploadOptions) (client.UploadStats, error) {
	x.mu.Lock(x.clock)
	defer x.mu.Unlock()
	x.refresh(ctx)
	x.setTransferring(true)
	defer x.setTransferring(false)
	return x.c.UploadFrom(ctx, src, o)
}

// chunk sends one image upload chunk, for a session that targets the
// secondary alone.
func (x *peer) chunk(ctx context.Context, req smp.UploadRequest, timeout time.Duration) (smp.UploadResponse, error) {
	x.mu.Lock(x.clock)
	defer x.mu.Unlock()
	var resp smp.UploadResponse
	err := x.c.Do(ctx, client.Request{Op: smp.OpWrite, Group: smp.GroupImage, ID: smp.ImageUpload, Body: req,
		Timeout: timeout}, &resp)
	return resp, err
}

// state reads the secondary's image list, waiting for the link.
func (x *peer) state(ctx context.Context) ([]smp.ImageSlot, error) {
	x.mu.Lock(x.clock)
	defer x.mu.Unlock()
	return x.c.ImageState(ctx)
}

// reset resets the secondary with a plain SMP reset.
func (x *peer) reset(ctx context.Context) error {
	x.mu.Lock(x.clock)
	defer x.mu.Unlock()
	return x.c.Reset(ctx, true)
}

// permanent makes the image with hash permanent on the secondary and resets
// it: the roll forward after the commit point.
func (x *peer) permanent(ctx context.Context, hash []byte) error {
	x.mu.Lock(x.clock)
	defer x.mu.Unlock()
	if _, err := x.c.ImageConfirm(ctx, hash); err != nil {
		return fmt.Errorf("secondary: make permanent: %w", err)
	}
	if err := x.c.Reset(ctx, true); err != nil {
		return fmt.Errorf("secondary: reset: %w", err)
	}
	return nil
}

// erase erases the secondary's other slot, which takes back a test mark.
func (x *peer) erase(ctx context.Context) error {
	x.mu.Lock(x.clock)
	defer x.mu.Unlock()
	if err := x.c.Erase(ctx, nil, firstChunkTimeout); err != nil {
		return fmt.Errorf("secondary: erase: %w", err)
	}
	return nil
}
