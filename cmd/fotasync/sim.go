package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/fotasync/fotasync/sim"
)

func newSim() *cobra.Command {
	var (
		exhaustive, naive, asJSON bool
		random, workers           int
		seed                      uint64
		replay                    string
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run fault campaigns on an emulated pair in virtual time and check G1-G5",
		Long: `Run an emulated primary, secondary and host in virtual time, inject faults,
and check that the pair ends as the design promises: the same version on both,
confirmed (G1); a verified bootable image on each (G2); every wait bounded (G4);
the status readable at the end (G5). Bytes sent again after faults (G3) are
reported.

A campaign first runs the happy path and records its trace: the requests on
each link and the flash operations of each device. --exhaustive then puts one
fault at every step of that trace, for every kind (power cut, link cut, lost
request, host stop) and every device and link; --random N adds N runs with one
to three random faults each. Every run is determined by its spec, which the
report prints for each violation: replay it with --replay.

--naive runs the pair with the flow of the original design note: the primary
resets into its new image as soon as its own copy is verified, and resets
after the hold time even if the secondary failed. The checker must find
mismatched pairs there. Its runs are slower (the host keeps retrying), so
start with --exhaustive=false --random 20.`,
		Example: `  fotasync sim                          # exhaustive + 1000 random runs
  fotasync sim --random 5000 --seed 7 --json
  fotasync sim --naive                  # the original note's flow: violations expected
  fotasync sim --replay 'seed=4;power:secondary@40;cut:host@12'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if random < 0 {
				return fmt.Errorf("sim: --random %d: want a count of 0 or more", random)
			}
			if workers < 0 {
				return fmt.Errorf("sim: --workers %d: want 0 (one per CPU) or more", workers)
			}
			images, err := sim.BuildImages()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if cmd.Flags().Changed("replay") {
				if strings.TrimSpace(replay) == "" {
					return fmt.Errorf("sim: --replay: the spec is empty; want e.g. 'seed=4;power:secondary@40'")
				}
				sc, err := sim.ParseScenario(replay)
				if err != nil {
					return err
				}
				return printReplay(out, sim.Run(sc, images))
			}
			if !exhaustive && random == 0 {
				return fmt.Errorf("sim: nothing to run: --exhaustive=false and --random 0")
			}
			r := sim.Campaign(sim.CampaignConfig{Exhaustive: exhaustive, Random: random, Seed: seed,
				Naive: naive, Workers: workers}, images)
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else {
				printReport(out, r, naive)
			}
			if len(r.Violations) > 0 && !naive {
				return fmt.Errorf("sim: %d of %d runs broke a guarantee", len(r.Violations), r.Scenarios)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&exhaustive, "exhaustive", true, "one fault at every step of the happy-path trace")
	f.IntVar(&random, "random", 1000, "runs with one to three random faults")
	f.Uint64Var(&seed, "seed", 1, "seed of the campaign")
	f.BoolVar(&naive, "naive", false, "run against the original note's flow (the checker must find violations)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&replay, "replay", "", "run one scenario from its spec and print its transcript")
	f.IntVar(&workers, "workers", 0, "runs at once (0: one per CPU)")
	return cmd
}

func printReport(out io.Writer, r sim.Report, naive bool) {
	flow := "fotasync"
	if naive {
		flow = "the naive flow"
	}
	fmt.Fprintf(out, "%d scenarios against %s in %.1fs\n", r.Scenarios, flow, r.Elapsed.Seconds())
	fmt.Fprintf(out, "happy path: %d host requests, %d D2D requests, %d/%d flash operations (primary/secondary)\n\n",
		r.Trace.HostRequests, r.Trace.D2DRequests, r.Trace.FlashOps[0], r.Trace.FlashOps[1])
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tTARGET\tINJECTED")
	for _, kind := range sim.SortedKeys(r.Faults) {
		for _, target := range sim.SortedKeys(r.Faults[kind]) {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", kind, target, r.Faults[kind][target])
		}
	}
	fmt.Fprintln(tw, "\t\t")
	fmt.Fprintln(tw, "OUTCOME\t\tRUNS")
	for _, o := range sim.SortedKeys(r.Outcomes) {
		fmt.Fprintf(tw, "%s\t\t%d\n", o, r.Outcomes[o])
	}
	tw.Flush()
	fmt.Fprintf(out, "\nmost bytes sent to the primary beyond the happy path: %d\n", r.ResentMax)
	fmt.Fprintf(out, "violations: %d\n", len(r.Violations))
	for i, v := range r.Violations {
		if i == 20 {
			fmt.Fprintf(out, "  ... and %d more (--json lists them all)\n", len(r.Violations)-i)
			break
		}
		texts := make([]string, len(v.Violations))
		for j, x := range v.Violations {
			texts[j] = x.String()
		}
		fmt.Fprintf(out, "  %s\n    replay: fotasync sim --replay '%s'\n", strings.Join(texts, "; "), v.Replay)
	}
}

func printReplay(out io.Writer, res sim.Result) error {
	fmt.Fprintf(out, "scenario %s\n", res.Scenario)
	for _, line := range res.Log {
		fmt.Fprintln(out, line)
	}
	fmt.Fprintf(out, "outcome: %s\n", res.Outcome)
	for _, v := range res.Violations {
		fmt.Fprintf(out, "violation %s\n", v)
	}
	if len(res.Violations) > 0 && !res.Scenario.Naive {
		return fmt.Errorf("sim: the run broke %d guarantee(s)", len(res.Violations))
	}
	return nil
}
