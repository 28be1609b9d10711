package sim

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/fotasync/fotasync/clock"
	"github.com/fotasync/fotasync/update"
)

// host is the person at the host: they run the update, and run it again
// after a failure or after their host stopped, up to hostTries times.
type host struct {
	w        *world
	cancel   context.CancelFunc
	runs     int
	done     bool      // a run succeeded
	gaveUp   bool      // every run failed
	last     error     // the last run's error
	finished time.Time // when the last run ended
}

func (h *host) start() {
	h.runs++
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	var seed [32]byte
	seed[0], seed[1] = byte(h.w.sc.Seed), byte(h.runs)
	for i := 2; i < 10; i++ {
		seed[i] = byte(h.w.sc.Seed >> (8 * (i - 2)))
	}
	o := update.Options{Conn: h.w.hostConn, Image: h.w.newImage, Target: h.w.setup.Target, Clock: h.w.clk,
		Rand: rand.NewChaCha8(seed), Window: h.w.setup.Window}
	h.w.logf("host: update run %d", h.runs)
	clock.Go(h.w.clk, func() {
		_, err := update.Run(ctx, o)
		cancel()
		h.last, h.finished = err, h.w.clk.Now()
		if err == nil {
			h.done = true
			h.w.logf("host: update done")
			return
		}
		h.w.logf("host: update failed: %v", err)
		if h.runs >= hostTries || errors.Is(err, update.ErrRejected) {
			h.gaveUp = true
			return
		}
		h.w.clk.AfterFunc(hostPause, h.start)
	})
}

// crash stops the host mid-run; the person runs the update again later.
func (h *host) crash() {
	if h.cancel != nil {
		h.w.logf("host: stops")
		h.cancel()
	}
}

// stop ends the current run for good.
func (h *host) stop() {
	h.runs = hostTries
	if h.cancel != nil {
		h.cancel()
	}
}
