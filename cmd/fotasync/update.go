package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/transport"
	"github.com/fotasync/fotasync/update"
)

func newUpdate() *cobra.Command {
	var (
		conn, target  string
		mode, secConn string
		downgrade     bool
		hold          time.Duration
		timeout       time.Duration
	)
	cmd := &cobra.Command{
		Use:   "update IMAGE --conn udp:HOST:PORT --target all|primary|secondary",
		Short: "Update the pair through its primary: check, upload, wait for both, reset, verify, confirm",
		Long: `Update a device pair through its primary. fotasync reads both devices, refuses
a downgrade unless allowed, begins a pair session, uploads the image (the
primary relays it to the secondary as it arrives), waits until every targeted
device holds the verified image, asks the primary for the coordinated reset
(the secondary resets first), waits for both to come back running the new
image, and confirms them. Run it again after any interruption: it continues
the session for the same image.`,
		Example: `  fotasync update app.bin --conn udp:127.0.0.1:1337 --target all
  fotasync update app.bin --mode direct --conn udp:10.0.0.2:1337 --secondary-conn udp:10.0.0.3:1337`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := pair.ParseTarget(target)
			if err != nil {
				return fmt.Errorf("update: --target: %w", err)
			}
			if timeout <= 0 || hold < 0 {
				return fmt.Errorf("update: --timeout and --hold must not be negative (--timeout above 0)")
			}
			image, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("update: %w", err)
			}
			c, err := transport.Dial(conn)
			if err != nil {
				return err
			}
			defer c.Close()
			out := cmd.OutOrStdout()
			p := newProgress(out)
			o := update.Options{Conn: c, Image: image, Target: t, AllowDowngrade: downgrade, Hold: hold,
				RebootTimeout: timeout, ReadyTimeout: timeout, OnEvent: p.event}
			run := update.Run
			switch mode {
			case "pair":
				if secConn != "" {
					return fmt.Errorf("update: --secondary-conn goes with --mode direct")
				}
			case "direct":
				if secConn != "" {
					if o.SecondaryConn, err = transport.Dial(secConn); err != nil {
						return err
					}
					defer o.SecondaryConn.Close()
				}
				run = update.RunDirect
			default:
				return fmt.Errorf("update: --mode %q: want pair or direct", mode)
			}
			res, err := run(cmd.Context(), o)
			p.finish()
			if err != nil {
				return err
			}
			if res.UpToDate {
				fmt.Fprintf(out, "up to date: every targeted device already runs %s\n", res.Version)
			} else {
				fmt.Fprintf(out, "updated: %s now %s %s, confirmed\n", targetNames(res.Target), runVerb(res.Target), res.Version)
			}
			if mode == "pair" {
				printStatus(out, res.Status)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&conn, "conn", "udp:127.0.0.1:1337", "the primary: udp:HOST:PORT or serial:DEVICE[,baud=N]")
	f.StringVar(&target, "target", "all", "devices to update: all, primary or secondary")
	f.StringVar(&mode, "mode", "pair", "pair: through the primary's pair group; direct: the host coordinates with standard SMP")
	f.StringVar(&secConn, "secondary-conn", "", "direct mode: the host's own link to the secondary")
	f.BoolVar(&downgrade, "allow-downgrade", false, "allow an image older than what a device runs")
	f.DurationVar(&hold, "hold", 0, "how long the primary may hold the reset for the secondary (0: its default, 30s)")
	f.DurationVar(&timeout, "timeout", 2*time.Minute, "limit for waiting on the devices (ready, reboot)")
	return cmd
}

// progress prints update events: a line per step, and for each transfer a
// bar on a terminal or a line at every quarter elsewhere (logs, pipes).
type progress struct {
	out      io.Writer
	terminal bool
	bars     map[string]*progressbar.ProgressBar
	quarter  map[string]int
}

func newProgress(out io.Writer) *progress {
	f, ok := out.(*os.File)
	return &progress{out: out, terminal: ok && term.IsTerminal(int(f.Fd())),
		bars: make(map[string]*progressbar.ProgressBar), quarter: make(map[string]int)}
}

func (p *progress) event(e update.Event) {
	if e.Step == "transfer" && e.Total > 0 {
		p.transfer(e)
		return
	}
	p.line(e.Step, deviceMessage(e))
}

func (p *progress) transfer(e update.Event) {
	if !p.terminal {
		q := 4 * e.Off / e.Total
		if prev, ok := p.quarter[e.Device]; !ok || q > prev {
			p.quarter[e.Device] = q
			p.line("transfer", fmt.Sprintf("%s: %d of %d bytes (%d%%)", e.Device, e.Off, e.Total, 100*e.Off/e.Total))
		}
		return
	}
	bar, ok := p.bars[e.Device]
	if !ok {
		p.line("transfer", "to the "+e.Device)
		bar = progressbar.NewOptions(e.Total, progressbar.OptionSetWriter(p.out),
			progressbar.OptionSetDescription(fmt.Sprintf("  %-9s", e.Device)),
			progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowCount(), progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.out) }))
		p.bars[e.Device] = bar
	}
	_ = bar.Set(e.Off)
}

func (p *progress) line(step, msg string) {
	fmt.Fprintf(p.out, "%-9s %s\n", step, msg)
}

// finish ends any bar left open, so later output starts on a new line.
func (p *progress) finish() {
	for _, bar := range p.bars {
		if !bar.IsFinished() {
			_ = bar.Exit()
			fmt.Fprintln(p.out)
		}
	}
}

func deviceMessage(e update.Event) string {
	if e.Device == "" {
		return e.Message
	}
	return e.Device + ": " + e.Message
}

func targetNames(t pair.Target) string {
	switch t {
	case pair.TargetPrimary:
		return "the primary"
	case pair.TargetSecondary:
		return "the secondary"
	}
	return "both devices"
}

func runVerb(t pair.Target) string {
	if t == pair.TargetAll {
		return "run"
	}
	return "runs"
}
