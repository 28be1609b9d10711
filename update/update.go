// Package update is the host side of a pair update: it checks versions,
// begins a session on the primary, uploads the image with progress, waits
// until both devices are ready, asks for the coordinated reset, reconnects,
// verifies what runs, and commits.
package update

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/mcuboot"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
)

// ErrRejected reports that a device refused the image after verifying it
// (hash, signature, version): running the update again will not help.
var ErrRejected = errors.New("a device rejected the image")

// Options configures an update. Conn, Image and Target are required; the
// zero value of every other field is a usable default.
type Options struct {
	Conn transport.Conn // link to the primary
	// SecondaryConn is the host's own link to the secondary, for RunDirect.
	SecondaryConn transport.Conn
	Image         []byte // the MCUboot image file
	Target        pair.Target
	// AllowDowngrade permits an image older than what a device runs.
	AllowDowngrade bool
	// Hold is how long the primary may hold the reset for the secondary; 0
	// leaves the primary's default (30 s).
	Hold time.Duration
	// ReadyTimeout bounds the wait for both devices to hold the verified
	// image after the upload; 0 means 2 minutes.
	ReadyTimeout time.Duration
	// RebootTimeout bounds the wait for the devices to come back running
	// the new image after the reset (MCUboot may swap for a while, B17); 0
	// means 2 minutes.
	RebootTimeout time.Duration
	// Poll is the interval between status reads while waiting; 0 means
	// 200 ms.
	Poll      time.Duration
	Client    client.Options // SMP client settings for the link to the primary
	Clock     clock.Clock    // nil means the wall clock
	Rand      io.Reader      // session ids; nil means crypto/rand
	OnEvent   func(Event)    // progress and phase reports; nil drops them
	ChunkSize int            // 0 means as large as the primary's buffers allow
	Window    int            // chunks in flight; 0 means the primary's buf_count, 1 is stop-and-wait
}

// Event reports progress. Step names the phase of the update; Device is
// "primary", "secondary" or "" for the pair.
type Event struct {
	Step    string
	Device  string
	Off     int // bytes the device holds (transfer steps)
	Total   int
	Message string
}

// Result is the outcome of a successful update.
type Result struct {
	SID      uint32
	Version  mcuboot.Version
	Target   pair.Target
	Status   pair.Status // the pair's status after the commit
	Resumed  bool        // an earlier session for the same image was continued
	UpToDate bool        // every targeted device already ran the image; nothing was done
}

type run struct {
	o      Options
	c      *client.Client
	img    *mcuboot.Image
	sha    []byte
	clock  clock.Clock
	target pair.Target
	sid    uint32
}

// Run performs the update. Its error names the device, the step and the
// reason of a failure.
func Run(ctx context.Context, o Options) (Result, error) {
	r, err := newRun(o)
	if err != nil {
		return Result{}, err
	}
	return r.run(ctx)
}

func newRun(o Options) (*run, error) {
	if o.Conn == nil {
		return nil, errors.New("update: no connection to the primary")
	}
	img, err := mcuboot.Parse(o.Image)
	if err != nil {
		return nil, fmt.Errorf("update: image: %w", err)
	}
	if err := img.Verify(); err != nil {
		return nil, fmt.Errorf("update: image: %w", err)
	}
	if len(img.Hash()) != sha256.Size {
		return nil, fmt.Errorf("update: image: hash TLV has %d bytes; devices list SHA-256 hashes", len(img.Hash()))
	}
	defaults := []struct {
		field *time.Duration
		value time.Duration
	}{{&o.ReadyTimeout, 2 * time.Minute}, {&o.RebootTimeout, 2 * time.Minute}, {&o.Poll, 200 * time.Millisecond}}
	for _, d := range defaults {
		if *d.field == 0 {
			*d.field = d.value
		}
	}
	if o.Clock == nil {
		o.Clock = clock.Wall
	}
	if o.Client.Clock == nil {
		o.Client.Clock = o.Clock
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	var seq [1]byte
	if _, err := io.ReadFull(o.Rand, seq[:]); err != nil {
		return nil, fmt.Errorf("update: sequence number: %w", err)
	}
	o.Client.Seq = seq[0]
	sum := sha256.Sum256(o.Image)
	return &run{o: o, c: client.New(o.Conn, o.Client), img: img, sha: sum[:], clock: o.Clock, target: o.Target}, nil
}

func (r *run) event(e Event) {
	if r.o.OnEvent != nil {
		r.o.OnEvent(e)
	}
}

func (r *run) run(ctx context.Context) (Result, error) {
	res := Result{Version: r.img.Header.Version}
	st, err := r.prepare(ctx)
	if err != nil {
		return res, err
	}
	res.Target = r.target
	if r.target == 0 {
		res.UpToDate, res.Status = true, st
		return res, nil
	}
	if res.Resumed, err = r.begin(ctx, st); err != nil {
		return res, err
	}
	res.SID = r.sid
	steps := []func(context.Context) error{r.transfer, r.waitReady, r.reset, r.waitTesting, r.commit}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return res, err
		}
	}
	if res.Status, err = r.status(ctx); err != nil {
		return res, fmt.Errorf("update: final status: %w", err)
	}
	return res, nil
}

// status reads the pair's status from the primary.
func (r *run) status(ctx context.Context) (pair.Status, error) {
	var st pair.Status
	err := r.c.Do(ctx, client.Request{Op: smp.OpRead, Group: pair.Group, ID: pair.CmdSession,
		Name: "pair status"}, &st)
	return st, err
}

// newSID draws a session id that is not 0.
func (r *run) newSID() (uint32, error) {
	var b [4]byte
	for {
		if _, err := io.ReadFull(r.o.Rand, b[:]); err != nil {
			return 0, fmt.Errorf("update: session id: %w", err)
		}
		if sid := binary.BigEndian.Uint32(b[:]); sid != 0 {
			return sid, nil
		}
	}
}
