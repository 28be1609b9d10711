package device

import (
	"context"
	"errors"
	"strings"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/server"
	"github.com/fotasync/fotasync/smp"
)

// Register adds the OS and image group commands to m.
func (d *Device) Register(m *server.Mux) {
	m.HandleRead(smp.GroupOS, smp.OSEcho, d.echo)
	m.HandleWrite(smp.GroupOS, smp.OSEcho, d.echo)
	m.HandleWrite(smp.GroupOS, smp.OSReset, d.reset)
	m.HandleRead(smp.GroupOS, smp.OSParams, d.params)
	m.HandleRead(smp.GroupOS, smp.OSInfo, d.info)
	m.HandleRead(smp.GroupOS, smp.OSBootloader, d.bootloaderInfo)
	m.HandleRead(smp.GroupImage, smp.ImageState, d.imageState)
	m.HandleWrite(smp.GroupImage, smp.ImageState, d.imageStateWrite)
	m.HandleWrite(smp.GroupImage, smp.ImageUpload, d.upload)
	m.HandleWrite(smp.GroupImage, smp.ImageErase, d.erase)
	m.HandleRead(smp.GroupImage, smp.ImageSlotInfo, d.slotInfo)
}

func (d *Device) echo(_ context.Context, r *server.Request) (any, error) {
	var req smp.EchoRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	return smp.EchoResponse{R: req.D}, nil
}

// reset answers first and reboots after the reply is sent, as Zephyr does.
// A protocol layer may refuse a reset that is not forced.
func (d *Device) reset(_ context.Context, r *server.Request) (any, error) {
	var req smp.ResetRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	d.mu.Lock()
	guard := d.hooks.BeforeReset
	d.mu.Unlock()
	if guard != nil {
		if err := guard(req.Force); err != nil {
			return nil, err
		}
	}
	r.AfterReply(d.ScheduleReset)
	return nil, nil
}

func (d *Device) params(context.Context, *server.Request) (any, error) {
	return smp.ParamsResponse{BufSize: uint32(d.cfg.BufSize), BufCount: uint32(d.cfg.BufCount)}, nil
}

// info answers OS/application info. Fields come in Zephyr's fixed order
// whatever the order of the format letters.
func (d *Device) info(_ context.Context, r *server.Request) (any, error) {
	var req smp.InfoRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	format := req.Format
	if format == "" {
		format = "s"
	}
	fields := []struct {
		letter byte
		value  string
	}{
		{'s', "Zephyr"}, {'n', d.cfg.Name}, {'r', "fotasync-emulator"}, {'v', "4.4.0"},
		{'m', "emulated"}, {'p', "unknown"}, {'i', "fotasync_emulator"}, {'o', "Zephyr"},
	}
	for i := 0; i < len(format); i++ {
		if c := format[i]; c != 'a' && c != 'b' && !strings.ContainsRune("snrvmpio", rune(c)) {
			return nil, smp.OSInvalidFormat
		}
	}
	var out []string
	for _, f := range fields {
		if strings.IndexByte(format, f.letter) >= 0 || strings.IndexByte(format, 'a') >= 0 {
			out = append(out, f.value)
		}
	}
	return smp.InfoResponse{Output: strings.Join(out, " ")}, nil
}

// bootloaderInfo names the bootloader and, on query "mode", its MCUboot mode.
func (d *Device) bootloaderInfo(_ context.Context, r *server.Request) (any, error) {
	var req struct {
		Query string `cbor:"query"`
	}
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	switch req.Query {
	case "":
		return struct {
			Bootloader string `cbor:"bootloader"`
		}{"MCUboot"}, nil
	case "mode":
		return struct {
			Mode int `cbor:"mode"`
		}{modeSwapScratch}, nil
	}
	return nil, smp.OSQueryYieldsNoAnswer
}

func (d *Device) imageState(context.Context, *server.Request) (any, error) {
	list, err := d.Images()
	if err != nil {
		return nil, smp.ImageFlashReadFailed
	}
	return smp.ImageStateResponse{Images: list}, nil
}

func (d *Device) imageStateWrite(_ context.Context, r *server.Request) (any, error) {
	var req smp.ImageStateRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if err := d.SetState(req.Hash, req.Confirm); err != nil {
		return nil, err
	}
	list, err := d.Images()
	if err != nil {
		return nil, smp.ImageFlashReadFailed
	}
	return smp.ImageStateResponse{Images: list}, nil
}

func (d *Device) upload(_ context.Context, r *server.Request) (any, error) {
	var c Chunk
	if err := r.Decode(&c); err != nil {
		return nil, err
	}
	resp, err := d.Receive(c)
	var rc smp.ImageRC
	if errors.As(err, &rc) && r.Version == smp.Version1 && uploadReasons[rc] != "" {
		return nil, &smp.ReasonError{Err: rc, Reason: uploadReasons[rc]}
	}
	return resp, err
}

// uploadReasons are the "rsn" texts Zephyr's verbose errors attach to upload
// failures (img_mgmt_err_str_*). Only SMP v1 answers carry them; a v2 answer
// is the "err" map alone (reference §7 TV6).
var uploadReasons = map[smp.ImageRC]string{
	smp.ImageInvalidOffset:           "header malformed",
	smp.ImageInvalidImageHeader:      "header malformed",
	smp.ImageInvalidLength:           "header malformed",
	smp.ImageInvalidImageHeaderMagic: "magic mismatch",
	smp.ImageNoFreeSlot:              "no slot",
	smp.ImageInvalidImageTooLarge:    "img too large",
	smp.ImageCurrentVersionIsNewer:   "downgrade",
	smp.ImageInvalidImageDataOverrun: "data overrun",
	smp.ImageFlashEraseFailed:        "fa erase fail",
	smp.ImageFlashWriteFailed:        "fa write fail",
}

func (d *Device) erase(_ context.Context, r *server.Request) (any, error) {
	var req smp.EraseRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	slot := uint32(1)
	if req.Slot != nil {
		slot = *req.Slot
	}
	return nil, d.Erase(slot)
}

func (d *Device) slotInfo(context.Context, *server.Request) (any, error) {
	size, upload, max := uint32(d.cfg.SlotSize), uint32(0), uint32(d.MaxImageSize())
	return smp.SlotInfoResponse{Images: []smp.SlotInfoImage{{
		Image: 0,
		Slots: []smp.SlotInfoSlot{
			{Slot: 0, Size: size},
			{Slot: 1, Size: size, UploadImageID: &upload},
		},
		MaxImageSize: &max,
	}}}, nil
}

// imageError turns a failure of the boot layer into an image group status.
func imageError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, boot.ErrAlreadyPending):
		return smp.ImageAlreadyPending
	}
	return smp.ImageFlashWriteFailed
}
