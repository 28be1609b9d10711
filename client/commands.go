package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fotasync/fotasync/smp"
)

// defaultBufSize is what a Zephyr device uses when it cannot say
// (CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE default).
const defaultBufSize = 384

// Echo asks the device to return text.
func (c *Client) Echo(ctx context.Context, text string) (string, error) {
	var resp smp.EchoResponse
	err := c.Do(ctx, Request{Op: smp.OpWrite, Group: smp.GroupOS, ID: smp.OSEcho, Body: smp.EchoRequest{D: text}}, &resp)
	return resp.R, err
}

// Reset asks the device to reboot. It is never sent twice: after a lost
// response the device may already be rebooting (field case B15).
func (c *Client) Reset(ctx context.Context, force bool) error {
	return c.Do(ctx, Request{Op: smp.OpWrite, Group: smp.GroupOS, ID: smp.OSReset,
		Body: smp.ResetRequest{Force: force}, Once: true}, nil)
}

// Params reads the device's SMP buffer size and count. A device without the
// command gets Zephyr's defaults. The answer is cached.
func (c *Client) Params(ctx context.Context) (smp.ParamsResponse, error) {
	if c.params != nil {
		return *c.params, nil
	}
	var resp smp.ParamsResponse
	err := c.Do(ctx, Request{Op: smp.OpRead, Group: smp.GroupOS, ID: smp.OSParams}, &resp)
	switch {
	case errors.Is(err, smp.RCNotSupported):
		resp = smp.ParamsResponse{BufSize: defaultBufSize, BufCount: 1}
	case err != nil:
		return resp, err
	case resp.BufSize <= smp.HeaderSize:
		return resp, fmt.Errorf("client: mcumgr params: buf_size %d is too small", resp.BufSize)
	}
	c.params = &resp
	return resp, nil
}

// Info reads the OS/application info string for format letters.
func (c *Client) Info(ctx context.Context, format string) (string, error) {
	var resp smp.InfoResponse
	err := c.Do(ctx, Request{Op: smp.OpRead, Group: smp.GroupOS, ID: smp.OSInfo, Body: smp.InfoRequest{Format: format}}, &resp)
	return resp.Output, err
}

// ImageState reads the image slots.
func (c *Client) ImageState(ctx context.Context) ([]smp.ImageSlot, error) {
	var resp smp.ImageStateResponse
	err := c.Do(ctx, Request{Op: smp.OpRead, Group: smp.GroupImage, ID: smp.ImageState}, &resp)
	return resp.Images, err
}

// ImageTest marks the image with hash (its SHA-256 TLV) for a test boot.
// Testing the same image again is harmless, so a lost response is retried.
func (c *Client) ImageTest(ctx context.Context, hash []byte) ([]smp.ImageSlot, error) {
	var resp smp.ImageStateResponse
	err := c.Do(ctx, Request{Op: smp.OpWrite, Group: smp.GroupImage, ID: smp.ImageState,
		Body: smp.ImageStateRequest{Hash: hash}}, &resp)
	return resp.Images, err
}

// ImageConfirm confirms the running image (hash nil) or makes the image with
// hash permanent. It is never sent twice; after a timeout, read the state.
func (c *Client) ImageConfirm(ctx context.Context, hash []byte) ([]smp.ImageSlot, error) {
	var resp smp.ImageStateResponse
	err := c.Do(ctx, Request{Op: smp.OpWrite, Group: smp.GroupImage, ID: smp.ImageState,
		Body: smp.ImageStateRequest{Hash: hash, Confirm: true}, Once: true}, &resp)
	return resp.Images, err
}

// Erase erases a slot; nil means the slot that is not running. Erasing takes
// as long as a first upload chunk, so it gets that timeout.
func (c *Client) Erase(ctx context.Context, slot *uint32, timeout time.Duration) error {
	return c.Do(ctx, Request{Op: smp.OpWrite, Group: smp.GroupImage, ID: smp.ImageErase,
		Body: smp.EraseRequest{Slot: slot}, Once: true, Timeout: timeout}, nil)
}

// SlotInfo reads the slot sizes.
func (c *Client) SlotInfo(ctx context.Context) ([]smp.SlotInfoImage, error) {
	var resp smp.SlotInfoResponse
	err := c.Do(ctx, Request{Op: smp.OpRead, Group: smp.GroupImage, ID: smp.ImageSlotInfo}, &resp)
	return resp.Images, err
}
