package memlink

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fuzzRun builds a profile from the first bytes of data, sends one packet
// per following pair of bytes (gap in ms, then size and direction) in both
// directions, runs the clock out and returns what the harness saw with the
// send time of each packet by label.
func fuzzRun(t *testing.T, data []byte) (*harness, map[string]time.Duration) {
	var cfg [8]byte
	data = data[copy(cfg[:], data):]
	p := Profile{
		Latency:   time.Duration(cfg[0]) * ms,
		Bandwidth: int(cfg[1]) * 100,
		Loss:      float64(cfg[2]) / 255,
		Duplicate: float64(cfg[3]) / 255,
		Reorder:   float64(cfg[4]) / 255,
		MTU:       int(cfg[5]),
	}
	h := newHarness(t, 3, p, p)
	h.l.Cut(epoch.Add(time.Duration(cfg[6])*ms), epoch.Add(time.Duration(cfg[7])*ms))

	sent := make(map[string]time.Duration)
	at := time.Duration(0)
	for i := 0; i+1 < len(data) && i < 400; i += 2 {
		at += time.Duration(data[i]%8) * ms
		name := fmt.Sprint(i)
		size := max(int(data[i+1]&0x7f), len(name))
		if size > h.l.dirs[ab].p.MTU {
			continue
		}
		sent[name] = at
		if data[i+1]&0x80 == 0 {
			h.send(at, name, size)
		} else {
			h.write(at, name, size)
		}
	}
	h.drain()
	return h, sent
}

// FuzzLink checks, for any profile and sends: every copy is delivered or
// lost, none arrives before its latency has passed, the counts match what
// the ends read, and the same input plays out the same way again.
func FuzzLink(f *testing.F) {
	f.Add([]byte{5, 0, 0, 0, 0, 0, 0, 0, 0, 10, 1, 10})
	f.Add([]byte{5, 100, 80, 80, 80, 0, 3, 9, 0, 100, 1, 0x85, 2, 50, 0, 10, 7, 0x90})
	f.Add([]byte{0, 0, 255, 255, 255, 20, 0, 255, 0, 30, 0, 10, 0, 0x8a})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, sent := fuzzRun(t, data)
		up, down := h.l.Stats()
		for _, d := range []struct {
			name     string
			st       Stats
			arrivals []arrival
		}{{"client to server", up, h.toServer}, {"server to client", down, h.toClient}} {
			if d.st.Sent+d.st.Duplicated != d.st.Delivered+d.st.Lost {
				t.Errorf("%s: %+v: Sent + Duplicated != Delivered + Lost", d.name, d.st)
			}
			bytes := 0
			for _, a := range d.arrivals {
				bytes += a.Len
				if earliest := sent[a.Label] + h.l.dirs[ab].p.Latency; a.At < earliest {
					t.Errorf("%s: packet %s arrived at %v, before %v", d.name, a.Label, a.At, earliest)
				}
			}
			if d.st.Delivered != len(d.arrivals) || d.st.Bytes != bytes {
				t.Errorf("%s: %+v, but read %d packets of %d bytes", d.name, d.st, len(d.arrivals), bytes)
			}
		}

		again, _ := fuzzRun(t, data)
		if diff := cmp.Diff([][]arrival{h.toServer, h.toClient}, [][]arrival{again.toServer, again.toClient}); diff != "" {
			t.Errorf("a replay differs (-first +again):\n%s", diff)
		}
	})
}
