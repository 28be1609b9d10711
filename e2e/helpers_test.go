package e2e

import (
	"context"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/emulator"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
	"github.com/fotasync/fotasync/update"
)

// refDir holds the reference MCUboot images (shared/testdata/mcuboot).
const refDir = "../../shared/testdata/mcuboot"

// patience bounds every wait for an event; only a failing test waits this
// long.
const patience = 10 * time.Second

// Image hash TLVs, from the hash column of refDir/MANIFEST.md.
var (
	hash1k    = mustHex("d52fa69716d606f1f87d3526cdc6c2ff13c883189f60f291b3a7414e94956e47") // hashonly_1k_v1.0.0.bin
	hash100k  = mustHex("32228272479c517944477e354fce04e17329a6f1f6c5bdb330ac0260169b0bdd") // hashonly_100k_v1.2.3+4.bin
	hash12345 = mustHex("065239992a4b732094565c9c9ad5fdc1366d1ba1d8de2655555677b7d09c961e") // hashonly_12345B_v2.0.0.bin
	hashSame  = mustHex("866f6f5996e54061342a219ff826f6b6915bed3fe33525758ed62e651e99f96d") // hashonly_100k_v2.0.0_samepayload.bin
	hashEC1k  = mustHex("bb0e3fec0ebbcfe12e9d435b62e546810b1dd879c95c90c63255408078856cca") // ecp256_1k_v1.0.0_pad.bin
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// readRef reads a file of refDir.
func readRef(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// running is slot 0 holding the image that runs, confirmed.
func running(version string, hash []byte) smp.ImageSlot {
	return smp.ImageSlot{Slot: 0, Version: version, Hash: hash, Bootable: true, Active: true, Confirmed: true}
}

// staged is slot 1 holding an image that nothing asks to boot.
func staged(version string, hash []byte) smp.ImageSlot {
	return smp.ImageSlot{Slot: 1, Version: version, Hash: hash, Bootable: true}
}

// setup is a pair's configuration, kept across restarts of its devices.
// Each device has its own state directory.
type setup struct {
	pri, sec device.Config
	image    []byte // provisioned into both devices on their first start
	secImage []byte // provisioned into the secondary instead, when set
	opts     pair.PrimaryOptions
}

func newSetup(t *testing.T, image []byte) *setup {
	return &setup{
		pri:   device.Config{Dir: t.TempDir(), Name: "primary"},
		sec:   device.Config{Dir: t.TempDir(), Name: "secondary"},
		image: image,
	}
}

// startSecondary starts the secondary on a free loopback port.
func (s *setup) startSecondary(t *testing.T) *emulator.Node {
	t.Helper()
	image := s.image
	if s.secImage != nil {
		image = s.secImage
	}
	n, err := emulator.Start(emulator.NodeConfig{Role: emulator.RoleSecondary, Listen: "udp:127.0.0.1:0",
		Image: image, Device: s.sec})
	if err != nil {
		t.Fatalf("start secondary: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// startPrimary starts the primary with its D2D link to peer, a UDP
// address.
func (s *setup) startPrimary(t *testing.T, peer string) *emulator.Node {
	t.Helper()
	n, err := emulator.Start(emulator.NodeConfig{Role: emulator.RolePrimary, Listen: "udp:127.0.0.1:0",
		Peer: "udp:" + peer, Image: s.image, Device: s.pri, Primary: s.opts})
	if err != nil {
		t.Fatalf("start primary: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// start starts the secondary, then the primary linked straight to it.
func (s *setup) start(t *testing.T) (pri, sec *emulator.Node) {
	t.Helper()
	sec = s.startSecondary(t)
	return s.startPrimary(t, sec.Addr()), sec
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

// options is an update of the device behind conn to image, logging its
// events. Session ids come from a seeded source.
func options(t *testing.T, conn transport.Conn, image []byte, target pair.Target) update.Options {
	return update.Options{
		Conn:   conn,
		Image:  image,
		Target: target,
		Poll:   5 * time.Millisecond,
		Rand:   rand.NewChaCha8([32]byte{byte(target), 'e', '2', 'e'}),
		OnEvent: func(e update.Event) {
			t.Logf("event %s %s %d/%d %s", e.Step, e.Device, e.Off, e.Total, e.Message)
		},
	}
}

// bounded returns a context that ends after patience.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

// command sends a pair group write and decodes its answer into resp.
func command(ctx context.Context, c *client.Client, cmd uint8, body, resp any) error {
	return c.Do(ctx, client.Request{Op: smp.OpWrite, Group: pair.Group, ID: cmd, Body: body,
		Once: cmd == pair.CmdReset || cmd == pair.CmdCommit}, resp)
}

// status reads the pair status.
func status(t *testing.T, c *client.Client) pair.Status {
	t.Helper()
	var st pair.Status
	err := c.Do(bounded(t), client.Request{Op: smp.OpRead, Group: pair.Group, ID: pair.CmdSession}, &st)
	if err != nil {
		t.Fatalf("read pair status: %v", err)
	}
	return st
}

// devices returns the image lists of a status, by role.
func devices(st pair.Status) map[string][]smp.ImageSlot {
	m := make(map[string][]smp.ImageSlot)
	for _, d := range st.Devices {
		m[d.Role] = d.Images
	}
	return m
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
