// Package sim runs an emulated pair and its host in virtual time, injects
// faults (power cuts, link cuts, lost packets, a host that stops), and checks
// that the pair ends as the design promises (G1-G5). Every run is replayed
// exactly from its scenario: the scheduler runs one goroutine at a time, and
// every random draw comes from the scenario's seed.
package sim

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/flash"
	"github.com/fotasync/fotasync/mcuboot"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/server"
	"github.com/fotasync/fotasync/transport"
	"github.com/fotasync/fotasync/transport/memlink"
)

// Setup is what a run is made of besides its faults: link models, the host's
// upload window, the update's target. Its zero value is DefaultSetup.
type Setup struct {
	Host, D2D memlink.Profile
	Window    int         // the host's chunks in flight; 0 means the primary's buf_count
	Target    pair.Target // 0 means all
}

// DefaultSetup: the host reaches the primary over BLE; the D2D link is a
// slower radio link of the pair's own.
var DefaultSetup = Setup{
	Host: memlink.BLE(),
	D2D:  memlink.Profile{Name: "d2d", Latency: 10 * time.Millisecond, Bandwidth: 8000},
}

// epoch is where virtual time starts.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Timing of the simulated world, in virtual time.
const (
	downTime   = 3 * time.Second  // a device without power stays off this long
	hostPause  = 10 * time.Second // a host that stopped or failed runs again after this
	hostTries  = 6                // runs of the update, the first included
	runLimit   = 30 * time.Minute // a run must be quiet by then (G4)
	resetDelay = 50 * time.Millisecond
)

// node is one simulated device across its power cycles.
type node struct {
	name     string
	cfg      device.Config
	serve    transport.PacketConn // where it answers SMP
	links    []*memlink.Link      // links it is on, cut while it is off
	d2d      transport.Conn       // the primary's link to the secondary
	dev      *device.Device
	primary  *pair.Primary
	second   *pair.Secondary
	cancel   context.CancelFunc
	old      []*device.Device // earlier power cycles, closed at the end
	off      bool
	restarts int
	bootErr  error // a boot that failed: the device is bricked (G2)
}

// world is one run: a pair, its links, its host and the scheduler.
type world struct {
	sc       Scenario
	setup    Setup
	clk      *clock.Sim
	dir      string
	rng      *rand.Rand
	oldImage []byte
	newImage []byte
	newHash  []byte
	hostLink *memlink.Link
	d2dLink  *memlink.Link
	hostConn *countingConn
	d2dConn  *countingConn
	nodes    [2]*node // primary, secondary
	host     host
	log      []string
}

func (w *world) logf(format string, args ...any) {
	w.log = append(w.log, fmt.Sprintf("%8.3fs ", w.clk.Now().Sub(epoch).Seconds())+fmt.Sprintf(format, args...))
}

func newWorld(sc Scenario, images *Images, setup Setup) (*world, error) {
	dir, err := os.MkdirTemp(scratchDir(), "fotasync-sim-")
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	w := &world{sc: sc, clk: clock.NewSim(epoch), dir: dir, rng: rand.New(rand.NewPCG(sc.Seed, 0x5eed)),
		oldImage: images.Old, newImage: images.New}
	img, err := mcuboot.Parse(images.New)
	if err != nil {
		return nil, fmt.Errorf("sim: new image: %w", err)
	}
	w.newHash = img.Hash()
	if setup == (Setup{}) {
		setup = DefaultSetup
	}
	if setup.Target == 0 {
		setup.Target = pair.TargetAll
	}
	w.setup = setup
	w.hostLink = memlink.NewLink(w.clk, rand.New(rand.NewPCG(sc.Seed, 1)), setup.Host, setup.Host)
	w.d2dLink = memlink.NewLink(w.clk, rand.New(rand.NewPCG(sc.Seed, 2)), setup.D2D, setup.D2D)
	w.hostConn = &countingConn{Conn: w.hostLink.Client(), w: w, link: LinkHost}
	w.d2dConn = &countingConn{Conn: w.d2dLink.Client(), w: w, link: LinkD2D}
	base := device.Config{SlotSize: 64 * 1024, SectorSize: 4096, WriteAlign: 4, BufSize: 512, BufCount: 4,
		ResetDelay: resetDelay, Clock: w.clk}
	pri, sec := base, base
	pri.Name, pri.Dir = "primary", filepath.Join(dir, "primary")
	sec.Name, sec.Dir = "secondary", filepath.Join(dir, "secondary")
	if sc.SecondaryRejects {
		sec.Keys = images.Keys
	}
	w.nodes[0] = &node{name: "primary", cfg: pri, serve: w.hostLink.Server(), links: []*memlink.Link{w.hostLink, w.d2dLink},
		d2d: w.d2dConn}
	w.nodes[1] = &node{name: "secondary", cfg: sec, serve: w.d2dLink.Server(), links: []*memlink.Link{w.d2dLink}}
	return w, nil
}

// scratchDir is where runs keep their flash files: memory-backed when the
// machine has it, so that a campaign's fsyncs cost nothing.
func scratchDir() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

// powerOn starts a node from its files: MCUboot runs, the pair role reads
// its journal, and the node serves SMP. pc, when set, will cut its power.
func (w *world) powerOn(n *node, pc *flash.PowerCut, provision []byte) {
	cfg := n.cfg
	cfg.PowerCut = pc
	dev, err := device.Open(cfg)
	if err == nil && provision != nil {
		err = dev.Provision(provision)
	}
	if err != nil {
		n.bootErr = err
		w.logf("%s: does not boot: %v", n.name, err)
		return
	}
	mux := server.NewMux()
	dev.Register(mux)
	if n.d2d != nil {
		n.primary, err = pair.NewPrimary(dev, n.d2d, pair.PrimaryOptions{Clock: w.clk, Naive: w.sc.Naive})
		if err == nil {
			n.primary.Register(mux)
		}
	} else {
		n.second, err = pair.NewSecondary(dev)
		if err == nil {
			n.second.Register(mux)
		}
	}
	if err != nil {
		n.bootErr = err
		w.logf("%s: pair role: %v", n.name, err)
		return
	}
	n.dev, n.off = dev, false
	for _, l := range n.links {
		l.Restore()
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	clock.Go(w.clk, func() { _ = server.Serve(ctx, n.serve, mux) })
	if n.primary != nil {
		w.observe(ctx, n.primary)
	}
	if pc != nil {
		pc.OnCut(func() { w.clk.AfterFunc(0, func() { w.powerOff(n) }) })
	}
	run, _ := dev.Running()
	version := "none"
	if run != nil {
		version = run.Header.Version.String()
	}
	w.logf("%s: on, runs %s", n.name, version)
}

// observe logs every change of the primary's session: phase, device
// states, decisions. The log is the run's transcript.
func (w *world) observe(ctx context.Context, p *pair.Primary) {
	clock.Go(w.clk, func() {
		var last string
		for {
			changed := p.Changed()
			s := p.Session()
			line := fmt.Sprintf("primary: session %s, primary %s, secondary %s", s.Phase, orNone(s.Primary),
				orNone(s.Secondary))
			if s.Decision != "" {
				line += ": " + s.Decision
			}
			if line != last {
				w.logf("%s", line)
				last = line
			}
			if clock.Wait(ctx, w.clk, changed) != nil {
				return
			}
		}
	})
}

// powerOff takes a node off its links, stops what it runs, and schedules its
// next power-on.
func (w *world) powerOff(n *node) {
	if n.off || n.dev == nil {
		return
	}
	w.logf("%s: power lost", n.name)
	n.off = true
	n.cancel()
	if n.primary != nil {
		n.primary.Stop()
	}
	for _, l := range n.links {
		l.CutNow()
	}
	n.old = append(n.old, n.dev)
	n.dev, n.primary, n.second = nil, nil, nil
	n.restarts++
	w.clk.AfterFunc(downTime, func() { w.powerOn(n, nil, nil) })
}

// close ends every goroutine of the run and removes its files.
func (w *world) close() {
	for _, n := range w.nodes {
		if n.cancel != nil {
			n.cancel()
		}
		if n.primary != nil {
			n.primary.Stop()
		}
	}
	w.host.stop()
	w.hostLink.Server().Close()
	w.d2dLink.Server().Close()
	w.clk.Run(w.clk.Now().Add(24 * time.Hour))
	for _, n := range w.nodes {
		if n.dev != nil {
			n.dev.Close()
		}
		for _, d := range n.old {
			d.Close()
		}
	}
	os.RemoveAll(w.dir)
}

// Images are the firmware of a run: what the pair runs, what it gets.
type Images struct {
	Old, New []byte
	Keys     []crypto.PublicKey // the old image's key, which the new one lacks (SecondaryRejects)
}

// BuildImages makes the images every run uses: the old one signed with an
// Ed25519 key, the new one hash-only, so that a secondary that insists on the
// key boots the old image and rejects the new (SecondaryRejects).
func BuildImages() (*Images, error) {
	seed := sha256.Sum256([]byte("fotasync sim: the key of the old firmware"))
	key := ed25519.NewKeyFromSeed(seed[:])
	old, err := buildImage("1.0.0", 6*1024, key)
	if err != nil {
		return nil, err
	}
	img, err := buildImage("1.2.3+4", 12*1024, nil)
	if err != nil {
		return nil, err
	}
	return &Images{Old: old, New: img, Keys: []crypto.PublicKey{key.Public()}}, nil
}

func buildImage(version string, size int, key crypto.Signer) ([]byte, error) {
	v, err := mcuboot.ParseVersion(version)
	if err != nil {
		return nil, err
	}
	payload := make([]byte, size)
	block := sha256.Sum256([]byte("fotasync sim firmware " + version))
	for i := 0; i < size; i += len(block) {
		copy(payload[i:], block[:])
		block = sha256.Sum256(block[:])
	}
	o := mcuboot.BuildOptions{Version: v}
	if key != nil {
		o.Signer = key
	}
	return mcuboot.Build(payload, o)
}

func orNone(s pair.DeviceState) string {
	if s == pair.StateNone {
		return "-"
	}
	return string(s)
}
