package pair_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/emulator"
	"github.com/fotasync/fotasync/mcuboot"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
)

// patience bounds every wait for an event; only a failing test waits this
// long.
const patience = 10 * time.Second

// oldHash is the hash TLV of the reference image both devices start on,
// from shared/testdata/mcuboot/MANIFEST.md.
var oldHash = mustHex("d52fa69716d606f1f87d3526cdc6c2ff13c883189f60f291b3a7414e94956e47")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// oldImage is hashonly_1k_v1.0.0.bin, the image both devices run first.
func oldImage(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../shared/testdata/mcuboot", "hashonly_1k_v1.0.0.bin"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newImage is an image of version 1.2.3 around a payload of n seeded bytes,
// and its hash TLV.
func newImage(t *testing.T, n int) (image, hash []byte) {
	t.Helper()
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i*31 + i>>8)
	}
	v, err := mcuboot.ParseVersion("1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	image, err = mcuboot.Build(payload, mcuboot.BuildOptions{Version: v})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mcuboot.Parse(image)
	if err != nil {
		t.Fatal(err)
	}
	return image, img.Hash()
}

// rig is a pair's configuration, kept across restarts of its devices.
type rig struct {
	pri, sec device.Config
	old      []byte
	opts     pair.PrimaryOptions
}

func newRig(t *testing.T, opts pair.PrimaryOptions) *rig {
	return &rig{
		pri:  device.Config{Dir: t.TempDir(), Name: "primary"},
		sec:  device.Config{Dir: t.TempDir(), Name: "secondary"},
		old:  oldImage(t),
		opts: opts,
	}
}

// startSecondary starts (or restarts) the secondary listening on addr, a
// UDP address; port 0 picks a free one. A restart on the same state
// directory is a power cycle: MCUboot runs again.
func (r *rig) startSecondary(t *testing.T, addr string) *emulator.Node {
	t.Helper()
	n, err := emulator.Start(emulator.NodeConfig{Role: emulator.RoleSecondary, Listen: "udp:" + addr,
		Image: r.old, Device: r.sec})
	if err != nil {
		t.Fatalf("start secondary: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// startPrimary starts (or restarts) the primary with its D2D link to peer,
// a UDP address.
func (r *rig) startPrimary(t *testing.T, peer string) *emulator.Node {
	t.Helper()
	n, err := emulator.Start(emulator.NodeConfig{Role: emulator.RolePrimary, Listen: "udp:127.0.0.1:0",
		Peer: "udp:" + peer, Image: r.old, Device: r.pri, Primary: r.opts})
	if err != nil {
		t.Fatalf("start primary: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// stop closes a node as a power-off does; its state stays on disk.
func stop(t *testing.T, n *emulator.Node) {
	t.Helper()
	if err := n.Close(); err != nil {
		t.Fatalf("stop %s: %v", n.Device.Name(), err)
	}
}

// dial opens a host link to a node.
func dial(t *testing.T, n *emulator.Node) transport.Conn {
	t.Helper()
	conn, err := transport.Dial("udp:" + n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// bounded returns a context that ends after patience.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

// beginRequest is the begin of session sid for image to both devices.
func beginRequest(sid uint32, image, hash []byte) pair.BeginRequest {
	sum := sha256.Sum256(image)
	return pair.BeginRequest{SID: sid, Target: pair.TargetAll, Len: uint32(len(image)), SHA: sum[:],
		Hash: hash, Version: "1.2.3"}
}

// command sends a pair group write and decodes its answer into resp.
func command(ctx context.Context, c *client.Client, cmd uint8, body, resp any) error {
	return c.Do(ctx, client.Request{Op: smp.OpWrite, Group: pair.Group, ID: cmd, Body: body,
		Once: cmd == pair.CmdReset || cmd == pair.CmdCommit}, resp)
}

// upload sends image to the primary on the pair route of session sid.
func upload(ctx context.Context, c *client.Client, sid uint32, image []byte,
	progress func(off, total int)) (client.UploadStats, error) {
	route := &client.Route{Group: pair.Group, ID: pair.CmdUpload, SID: sid}
	return c.Upload(ctx, image, client.UploadOptions{Route: route, Progress: progress})
}

// staged begins session sid and uploads image to the primary through c,
// then waits until both devices hold the verified image.
func staged(t *testing.T, c *client.Client, p *pair.Primary, sid uint32, image, hash []byte) {
	t.Helper()
	if err := command(bounded(t), c, pair.CmdSession, beginRequest(sid, image, hash), nil); err != nil {
		t.Fatalf("begin: %v", err)
	}
	if _, err := upload(bounded(t), c, sid, image, nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	waitSession(t, p, "both devices to hold the verified image", inPhase(pair.PhaseReady))
}

// askReset asks the primary for the coordinated reset, which must go ahead.
func askReset(t *testing.T, c *client.Client, sid uint32) {
	t.Helper()
	var resp pair.ResetResponse
	if err := command(bounded(t), c, pair.CmdReset, pair.ResetRequest{SID: sid}, &resp); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if resp.Decision != "reset" {
		t.Fatalf("reset decision = %q, want reset", resp.Decision)
	}
}

// waitSession waits, woken by each change of the primary's session, until
// ok accepts it.
func waitSession(t *testing.T, p *pair.Primary, what string, ok func(pair.Session) bool) pair.Session {
	t.Helper()
	limit := time.NewTimer(patience)
	defer limit.Stop()
	for {
		changed := p.Changed()
		s := p.Session()
		if ok(s) {
			return s
		}
		select {
		case <-changed:
		case <-limit.C:
			t.Fatalf("waiting for %s: session stays %+v", what, s)
		}
	}
}

// inPhase accepts a session in one of phases.
func inPhase(phases ...pair.Phase) func(pair.Session) bool {
	return func(s pair.Session) bool {
		for _, p := range phases {
			if s.Phase == p {
				return true
			}
		}
		return false
	}
}

// eventually polls cond, which reads device state that signals no change,
// until it holds; the bound is patience.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	limit := time.NewTimer(patience)
	defer limit.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-limit.C:
			t.Fatalf("waiting for %s: it never happened", what)
		}
	}
}

// images reads a device's image list.
func images(t *testing.T, n *emulator.Node) []smp.ImageSlot {
	t.Helper()
	list, err := n.Device.Images()
	if err != nil {
		t.Fatalf("%s: image list: %v", n.Device.Name(), err)
	}
	return list
}

// runs reports the hash of the image a device runs and whether it is
// confirmed.
func runs(t *testing.T, n *emulator.Node) (hash []byte, confirmed bool) {
	t.Helper()
	for _, s := range images(t, n) {
		if s.Active {
			return s.Hash, s.Confirmed
		}
	}
	return nil, false
}

// wantSettled checks that a device runs the image with hash, confirmed, with
// nothing pending.
func wantSettled(t *testing.T, n *emulator.Node, hash []byte) {
	t.Helper()
	for _, s := range images(t, n) {
		switch {
		case s.Pending:
			t.Errorf("%s: slot %d is pending: %+v", n.Device.Name(), s.Slot, s)
		case s.Active && !bytes.Equal(s.Hash, hash):
			t.Errorf("%s: runs %x, want %x", n.Device.Name(), s.Hash[:8], hash[:8])
		case s.Active && !s.Confirmed:
			t.Errorf("%s: the running image is not confirmed", n.Device.Name())
		}
	}
	if h, _ := runs(t, n); h == nil {
		t.Errorf("%s: runs nothing", n.Device.Name())
	}
}

// reportBug fails a test whose scenario once exposed the bug id, with the
// bug's description: a regression names what came back.
func reportBug(t *testing.T, id, format string, args ...any) {
	t.Helper()
	t.Fatalf("bug "+id+" is back: "+format, args...)
}
