package update

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	devicecfg "github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/emulator"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/transport"
)

// Manifest hashes (../shared/testdata/mcuboot/MANIFEST.md) of the images the
// direct update moves from and to.
const (
	hash1k   = "d52fa69716d606f1f87d3526cdc6c2ff13c883189f60f291b3a7414e94956e47"
	hash100k = "32228272479c517944477e354fce04e17329a6f1f6c5bdb330ac0260169b0bdd"
)

// TestDirectMode updates two devices that have no pair group (two plain
// emulated devices) with the host as coordinator, and checks what each
// runs afterwards against the manifest.
func TestDirectMode(t *testing.T) {
	shared := filepath.Join("..", "..", "shared", "testdata", "mcuboot")
	old, img := readFile(t, filepath.Join(shared, "hashonly_1k_v1.0.0.bin")),
		readFile(t, filepath.Join(shared, "hashonly_100k_v1.2.3+4.bin"))
	dir := t.TempDir()
	var (
		conns []transport.Conn
		nodes []*emulator.Node
	)
	for _, name := range []string{"primary", "secondary"} {
		n, err := emulator.Start(emulator.NodeConfig{Role: emulator.RoleSecondary, Listen: "udp:127.0.0.1:0",
			Image: old, Device: devicecfg.Config{Dir: filepath.Join(dir, name), Name: name}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		c, err := transport.Dial("udp:" + n.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns, nodes = append(conns, c), append(nodes, n)
	}
	var steps []string
	res, err := RunDirect(context.Background(), Options{Conn: conns[0], SecondaryConn: conns[1], Image: img,
		Target: pair.TargetAll, OnEvent: func(e Event) {
			if e.Step != "transfer" && e.Step != "prepare" {
				steps = append(steps, e.Step+" "+e.Device)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Target != pair.TargetAll || res.UpToDate {
		t.Errorf("result target %v, up to date %v; want all, false", res.Target, res.UpToDate)
	}
	// The secondary resets first; both are confirmed at the end.
	want := []string{"ready ", "reset secondary", "reset primary", "verify ", "commit "}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	for _, n := range nodes {
		list, err := n.Device.Images()
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(list))
		for i, s := range list {
			got[i] = slotLine(s.Slot, s.Version, s.Hash, s.Active, s.Confirmed, s.Pending)
		}
		want := []string{
			slotLine(0, "1.2.3.4", unhex(t, hash100k), true, true, false),
			slotLine(1, "1.0.0", unhex(t, hash1k), false, false, false),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s slots (-want +got):\n%s", n.Device.Name(), diff)
		}
	}
}
