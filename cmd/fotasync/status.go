package main

import (
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
			req := client.Request{Op: smp.OpRead, Group: pair.Group, ID: pair.CmdSession}
			if err := client.New(c, client.Options{}).Do(cmd.Context(), req, &st); err != nil {
				return err
			}
			printStatus(cmd.OutOrStdout(), st)
			return nil
		},
	}
	cmd.Flags().StringVar(&conn, "conn", "udp:127.0.0.1:1337", "the primary: udp:HOST:PORT or serial:DEVICE[,baud=N]")
	return cmd
}
