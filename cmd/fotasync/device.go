package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/emulator"
	"github.com/fotasync/fotasync/pair"
)

func newDevice() *cobra.Command {
	var (
		role, listen, state, imagePath, peer string
		keys                                 []string
		hold, resetDelay                     time.Duration
		slotSize, bufSize                    int
		naive                                bool
	)
	cmd := &cobra.Command{
		Use:   "device --role primary|secondary --listen udp:HOST:PORT --state DIR",
		Short: "Run an emulated device: MCUboot slots in files, SMP OS and image groups, and its pair role",
		Long: `Run an emulated Zephyr device that boots through MCUboot. Its flash lives in
files under --state and survives restarts. It answers SMP's OS and image groups
as a Zephyr device does, so any SMP client can update it alone, and the pair
group of its role. A primary reaches its secondary through --peer.`,
		Example: `  fotasync device --role secondary --listen udp:127.0.0.1:1338 --state /tmp/sec --image app.bin
  fotasync device --role primary --listen udp:127.0.0.1:1337 --state /tmp/pri --image app.bin --peer udp:127.0.0.1:1338`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dev := device.Config{Dir: state, SlotSize: slotSize, BufSize: bufSize, ResetDelay: resetDelay}
			cfg := emulator.NodeConfig{Role: emulator.Role(role), Listen: listen, Peer: peer, Device: dev,
				Primary: pair.PrimaryOptions{Hold: hold, Naive: naive}}
			if cfg.Role != emulator.RolePrimary && cfg.Role != emulator.RoleSecondary {
				return fmt.Errorf("device: --role %q: want primary or secondary", role)
			}
			if peer != "" && cfg.Role != emulator.RolePrimary {
				return fmt.Errorf("device: --peer: only a primary has a secondary")
			}
			switch {
			case bufSize < 128:
				return fmt.Errorf("device: --buf-size %d: want at least 128 bytes (Zephyr's smallest is 128)", bufSize)
			case slotSize <= 0 || slotSize%device.DefaultSectorSize != 0:
				return fmt.Errorf("device: --slot-size %d: want a positive multiple of %d", slotSize, device.DefaultSectorSize)
			case hold < 0 || resetDelay < 0:
				return fmt.Errorf("device: --hold and --reset-delay must not be negative")
			}
			var err error
			if cfg.Device.Keys, err = readKeys(keys); err != nil {
				return err
			}
			if imagePath != "" {
				if cfg.Image, err = os.ReadFile(imagePath); err != nil {
					return fmt.Errorf("device: --image: %w", err)
				}
			}
			n, err := emulator.Start(cfg)
			if err != nil {
				return err
			}
			defer n.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "%s answering SMP on %s (%s), state in %s\n", role, listen, n.Addr(), state)
			select {
			case <-cmd.Context().Done():
			case <-n.Done():
			}
			return n.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "primary or secondary")
	f.StringVar(&listen, "listen", "udp:127.0.0.1:1337", "where to answer SMP: udp:HOST:PORT or serial:DEVICE[,baud=N]")
	f.StringVar(&state, "state", "", "state directory: flash slots and the pair journal")
	f.StringVar(&imagePath, "image", "", "MCUboot image to provision into the primary slot on first start")
	f.StringVar(&peer, "peer", "", "the secondary's address, for a primary: udp:HOST:PORT")
	f.StringSliceVar(&keys, "key", nil, "public key PEM that images must be signed with (repeatable)")
	f.DurationVar(&hold, "hold", 30*time.Second, "how long a primary holds a reset for its secondary")
	f.DurationVar(&resetDelay, "reset-delay", 0, "delay between answering a reset and rebooting")
	f.IntVar(&slotSize, "slot-size", device.DefaultSlotSize, "bytes per image slot")
	f.IntVar(&bufSize, "buf-size", device.DefaultBufSize, "SMP buffer size the device reports")
	f.BoolVar(&naive, "naive", false,
		"primary only: the original note's unsafe flow (resets without waiting), for testing the checker")
	cmd.MarkFlagRequired("role")
	cmd.MarkFlagRequired("state")
	return cmd
}
