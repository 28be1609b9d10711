package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
)

func newStatus() *cobra.Command {
	var conn string
	cmd := &cobra.Command{
		Use:   "status --conn udp:HOST:PORT",
		Short: "Show the pair: running and staged images, flags, session phase, last decision and error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := transport.Dial(conn)
			if err != nil {
				return err
			}
			defer c.Close()
			var st pair.Status
			cl := client.New(c, client.Options{})
			req := client.Request{Op: smp.OpRead, Group: pair.Group, ID: pair.CmdSession, Name: "pair status"}
			err = cl.Do(cmd.Context(), req, &st)
			if errors.Is(err, smp.RCNotSupported) {
				// Firmware without the pair group: show the device alone.
				list, err := cl.ImageState(cmd.Context())
				if err != nil {
					return fmt.Errorf("status: %w", err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), "no pair group on this device; its own images:")
				st = pair.Status{Phase: pair.PhaseIdle, Devices: []pair.DeviceStatus{{Role: "device", Reachable: true, Images: list}}}
			} else if err != nil {
				return fmt.Errorf("status: %w", err)
			}
			printStatus(cmd.OutOrStdout(), st)
			return nil
		},
	}
	cmd.Flags().StringVar(&conn, "conn", "udp:127.0.0.1:1337", "the primary: udp:HOST:PORT or serial:DEVICE[,baud=N]")
	return cmd
}
