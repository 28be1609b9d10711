package main

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/emulator"
	"github.com/fotasync/fotasync/mcuboot"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
	"github.com/fotasync/fotasync/update"
)

func newDemo() *cobra.Command {
	var (
		dir  string
		keep bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Update an emulated pair on loopback from 1.0.0 to 1.2.3+4, showing each phase",
		Long: `Start an emulated primary and secondary on 127.0.0.1, build two signed images
(1.0.0, which both devices run, and 1.2.3+4), and update the pair with target
all. Nothing is needed but this program.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				d, err := os.MkdirTemp("", "fotasync-demo-")
				if err != nil {
					return err
				}
				dir = d
				if !keep {
					defer os.RemoveAll(d)
				}
			}
			return runDemo(cmd, dir)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "state directory for the two devices (default: a temporary one)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary state directory")
	return cmd
}

func runDemo(cmd *cobra.Command, dir string) error {
	out := cmd.OutOrStdout()
	key := demoKey()
	old, err := demoImage("1.0.0", 48*1024, key)
	if err != nil {
		return err
	}
	img, err := demoImage("1.2.3+4", 160*1024, key)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "fotasync demo: an emulated primary + secondary pair on 127.0.0.1\n")
	fmt.Fprintf(out, "  state        %s\n", dir)
	fmt.Fprintf(out, "  images       1.0.0 (%d bytes) and 1.2.3+4 (%d bytes), signed with an Ed25519 demo key\n",
		len(old), len(img))

	cfg := device.Config{Keys: []crypto.PublicKey{key.Public()}, ResetDelay: 100 * time.Millisecond}
	p, err := emulator.StartPair(emulator.PairConfig{Dir: dir, Image: old, Device: cfg})
	if err != nil {
		return err
	}
	defer p.Close()
	fmt.Fprintf(out, "  primary      udp:%s\n  secondary    udp:%s (the host reaches it only through the primary)\n\n",
		p.Primary.Addr(), p.Secondary.Addr())

	conn, err := transport.Dial("udp:" + p.Primary.Addr())
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(out, "$ fotasync update app-1.2.3+4.bin --conn udp:%s --target all\n", p.Primary.Addr())
	prog := newProgress(out)
	res, err := update.Run(cmd.Context(), update.Options{Conn: conn, Image: img, Target: pair.TargetAll,
		OnEvent: prog.event})
	prog.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n$ fotasync status --conn udp:%s\n", p.Primary.Addr())
	printStatus(out, res.Status)
	return demoSummary(out, res.Status, img)
}

// demoSummary checks and states the outcome in one line.
func demoSummary(out io.Writer, st pair.Status, img []byte) error {
	parsed, err := mcuboot.Parse(img)
	if err != nil {
		return err
	}
	for _, d := range st.Devices {
		run, ok := runningImage(d)
		if !ok || run.Version != parsed.Header.Version.SMPString() || !run.Confirmed {
			return fmt.Errorf("demo: %s does not run %s confirmed", d.Role, parsed.Header.Version)
		}
	}
	fmt.Fprintf(out, "\nboth devices run %s, confirmed.\n", parsed.Header.Version)
	return nil
}

func runningImage(d pair.DeviceStatus) (smp.ImageSlot, bool) {
	for _, s := range d.Images {
		if s.Active {
			return s, true
		}
	}
	return smp.ImageSlot{}, false
}

// demoKey is a fixed Ed25519 key, so the demo's images are the same every
// run. It signs nothing but demo images.
func demoKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("fotasync demo signing key"))
	return ed25519.NewKeyFromSeed(seed[:])
}

// demoImage builds a signed image with a payload derived from its version.
func demoImage(version string, size int, key crypto.Signer) ([]byte, error) {
	v, err := mcuboot.ParseVersion(version)
	if err != nil {
		return nil, err
	}
	payload := make([]byte, 0, size+sha256.Size)
	block := sha256.Sum256([]byte("fotasync demo firmware " + version))
	for len(payload) < size {
		payload = append(payload, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return mcuboot.Build(payload[:size], mcuboot.BuildOptions{Version: v, Signer: key})
}
