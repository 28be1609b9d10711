package pair

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/smp"
)

// peer is the primary's end of the D2D link. The SMP client it wraps
// handles one exchange at a time, so every use takes the lock; a transfer
// holds it for as long as it runs.
type peer struct {
	mu sync.Mutex
	c  *client.Client

	cacheMu   sync.Mutex
	lastState []smp.ImageSlot // the secondary's image list when last read
	reachable bool
}

// do sends a pair group command to the secondary.
func (x *peer) do(ctx context.Context, cmd uint8, body, resp any) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	once := cmd == CmdReset || cmd == CmdCommit
	return x.c.Do(ctx, client.Request{Op: smp.OpWrite, Group: Group, ID: cmd, Body: body, Once: once}, resp)
}

// images reads the secondary's image list. While the link is busy with a
// transfer it answers the list last read.
func (x *peer) images(ctx context.Context) ([]smp.ImageSlot, bool) {
	if x.mu.TryLock() {
		list, err := x.c.ImageState(ctx)
		x.mu.Unlock()
		x.cacheMu.Lock()
		x.reachable = err == nil
		if err == nil {
			x.lastState = list
		}
		x.cacheMu.Unlock()
	}
	x.cacheMu.Lock()
	defer x.cacheMu.Unlock()
	return x.lastState, x.reachable
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
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.c.UploadFrom(ctx, src, o)
}

// chunk sends one image upload chunk, for a session that targets the
// secondary alone.
func (x *peer) chunk(ctx context.Context, req smp.UploadRequest, timeout time.Duration) (smp.UploadResponse, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var resp smp.UploadResponse
	err := x.c.Do(ctx, client.Request{Op: smp.OpWrite, Group: smp.GroupImage, ID: smp.ImageUpload, Body: req,
		Timeout: timeout}, &resp)
	return resp, err
}

// state reads the secondary's image list, waiting for the link.
func (x *peer) state(ctx context.Context) ([]smp.ImageSlot, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.c.ImageState(ctx)
}

// reset resets the secondary with a plain SMP reset.
func (x *peer) reset(ctx context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.c.Reset(ctx, true)
}

// permanent makes the image with hash permanent on the secondary and resets
// it: the roll forward after the commit point.
func (x *peer) permanent(ctx context.Context, hash []byte) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, err := x.c.ImageConfirm(ctx, hash); err != nil {
		return fmt.Errorf("secondary: make permanent: %w", err)
	}
	if err := x.c.Reset(ctx, true); err != nil {
		return fmt.Errorf("secondary: reset: %w", err)
	}
	return nil
}
