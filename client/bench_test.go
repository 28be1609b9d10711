package client

import (
	"fmt"
	"testing"
	"time"

	"github.com/fotasync/fotasync/smp"
)

// link puts a fixed one-way latency between the client and a device that
// handles one request at a time, each taking service. Replies are delayed
// accordingly on the sim's virtual clock.
type link struct {
	s               *sim
	oneWay, service time.Duration
	busy            time.Time // when the device is done with what it has
	next            func(smp.Packet) []reply
}

func (l *link) serve(p smp.Packet) []reply {
	start := l.s.now.Add(l.oneWay)
	if l.busy.After(start) {
		start = l.busy
	}
	l.busy = start.Add(l.service)
	out := l.next(p)
	for i := range out {
		out[i].delay += l.busy.Sub(l.s.now) + l.oneWay
	}
	return out
}

// BenchmarkUpload uploads a 100 KiB image over a link with 10 ms one-way
// latency to a device that takes 2 ms per chunk, stop-and-wait and with 4
// chunks in flight. Besides wall time it reports the virtual time the upload
// took, the frames and the bytes it put on the wire.
func BenchmarkUpload(b *testing.B) {
	img := testImage(100*1024, 14)
	for _, window := range []int{1, 4} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			b.SetBytes(int64(len(img)))
			var virtual time.Duration
			var frames, wire int
			for b.Loop() {
				d := newDevice()
				s := newSim(b, nil)
				l := &link{s: s, oneWay: 10 * time.Millisecond, service: 2 * time.Millisecond, next: d.serve}
				s.serve = l.serve
				c := New(s, Options{Clock: s})
				if _, err := c.Upload(b.Context(), img, UploadOptions{Window: window}); err != nil {
					b.Fatal(err)
				}
				virtual += s.elapsed()
				for _, e := range s.log {
					if e.sent {
						frames++
						wire += len(e.raw)
					}
				}
			}
			n := float64(b.N)
			b.ReportMetric(virtual.Seconds()/n, "virtual-s/op")
			b.ReportMetric(float64(frames)/n, "frames/op")
			b.ReportMetric(float64(wire)/n, "wire-B/op")
		})
	}
}
