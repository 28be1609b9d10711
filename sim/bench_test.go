package sim

import (
	"testing"
	"time"

	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/transport/memlink"
)

// BenchmarkUpdate measures a whole pair update in virtual time on link
// profiles that look like real links, and reports it against the host
// link's own limit (the image at its bandwidth), against a stop-and-wait
// upload, and against updating the primary alone, all measured in the same
// run:
//
//	go test ./sim -run - -bench Update
//
// vs/op is virtual seconds per update; x-link, x-stop-and-wait and
// x-primary-alone are ratios (lower is better; x-primary-alone near 1 means
// the secondary costs little thanks to the pipelined relay).
func BenchmarkUpdate(b *testing.B) {
	images := testImages(b)
	profiles := []memlink.Profile{memlink.BLE(), memlink.UART(), memlink.LAN()}
	for _, p := range profiles {
		b.Run(p.Name, func(b *testing.B) {
			setup := Setup{Host: p, D2D: p}
			var all, stop, alone time.Duration
			for i := 0; i < b.N; i++ {
				all = updateTime(b, images, setup)
				stop = updateTime(b, images, Setup{Host: p, D2D: p, Window: 1})
				alone = updateTime(b, images, Setup{Host: p, D2D: p, Target: pair.TargetPrimary})
			}
			limit := time.Duration(float64(len(images.New)) / float64(p.Bandwidth) * float64(time.Second))
			b.ReportMetric(all.Seconds(), "vs/op")
			b.ReportMetric(all.Seconds()/limit.Seconds(), "x-link")
			b.ReportMetric(all.Seconds()/stop.Seconds(), "x-stop-and-wait")
			b.ReportMetric(all.Seconds()/alone.Seconds(), "x-primary-alone")
		})
	}
}

func updateTime(b *testing.B, images *Images, setup Setup) time.Duration {
	res := RunSetup(Scenario{Seed: 1}, images, setup)
	// The primary-alone update leaves the pair mixed on purpose; what must
	// hold is that the primary runs the new image, confirmed.
	if end := res.Final[0]; end.Version != "1.2.3.4" || !end.Confirmed {
		b.Fatalf("the primary ends on %+v: %v", end, res.Violations)
	}
	return res.Duration
}
