// Command fotasync updates a primary/secondary device pair over MCUmgr SMP,
// emulates such devices, and inspects and builds MCUboot images.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "fotasync: interrupted; run the same update again to resume it")
		} else {
			fmt.Fprintln(os.Stderr, "fotasync:", err)
		}
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "fotasync",
		Short: "Safe firmware updates for primary/secondary device pairs (MCUmgr SMP, MCUboot)",
		Long: `fotasync updates a pair of devices - a primary that the host reaches and a
secondary that only the primary reaches - so that both end on the same,
confirmed firmware. It speaks MCUmgr SMP, reads and builds MCUboot images,
and emulates both devices for testing.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDemo(), newDevice(), newUpdate(), newStatus(), newImage(), newSim())
	return root
}
