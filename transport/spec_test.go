package transport

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		spec string
		want Spec
	}{
		{"udp:192.0.2.1:1337", Spec{Kind: "udp", Addr: "192.0.2.1:1337"}},
		{"udp:[::1]:1337", Spec{Kind: "udp", Addr: "[::1]:1337"}},
		{"udp:device.local:0", Spec{Kind: "udp", Addr: "device.local:0"}},
		{"udp:192.0.2.1", Spec{Kind: "udp", Addr: "192.0.2.1:1337"}},
		{"udp:[2001:db8::1]", Spec{Kind: "udp", Addr: "[2001:db8::1]:1337"}},
		{"serial:/dev/ttyACM0", Spec{Kind: "serial", Addr: "/dev/ttyACM0", Baud: DefaultBaud}},
		{"serial:/dev/ttyUSB1,baud=1000000", Spec{Kind: "serial", Addr: "/dev/ttyUSB1", Baud: 1000000}},
		{"serial:/dev/pts/3,gap=20ms,baud=9600",
			Spec{Kind: "serial", Addr: "/dev/pts/3", Baud: 9600, FrameGap: 20 * time.Millisecond}},
	}
	for _, tt := range tests {
		got, err := ParseSpec(tt.spec)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", tt.spec, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseSpec(%q) (-want +got):\n%s", tt.spec, diff)
		}
	}
}

func TestParseSpecErrors(t *testing.T) {
	tests := []struct {
		spec   string
		reason string // a part of the message that tells what is wrong
	}{
		{"", "want KIND:ADDRESS"},
		{"/dev/ttyACM0", "want KIND:ADDRESS"},
		{":1337", "want KIND:ADDRESS"},
		{"tcp:host:1", `unknown transport "tcp"`},
		{"ble:AA:BB:CC:DD:EE:FF", "not implemented"},
		{"udp:2001:db8::1", "want HOST:PORT"},
		{"udp:", "host is empty"},
		{"udp::1337", "host is empty"},
		{"udp:host:99999", `port "99999"`},
		{"udp:host:smp", `port "smp"`},
		{"serial:", "device path is empty"},
		{"serial:,baud=9600", "device path is empty"},
		{"serial:/dev/ttyACM0,baud=fast", `baud "fast"`},
		{"serial:/dev/ttyACM0,baud=0", `baud "0"`},
		{"serial:/dev/ttyACM0,gap=-1ms", `gap "-1ms"`},
		{"serial:/dev/ttyACM0,parity=even", `option "parity=even"`},
	}
	for _, tt := range tests {
		_, err := ParseSpec(tt.spec)
		var se *SpecError
		if !errors.As(err, &se) {
			t.Errorf("ParseSpec(%q) = %v, want a *SpecError", tt.spec, err)
			continue
		}
		if se.Spec != tt.spec || !strings.Contains(err.Error(), tt.reason) ||
			!strings.HasPrefix(err.Error(), "transport: spec ") {
			t.Errorf("ParseSpec(%q) error %q, want it to name the spec and %q", tt.spec, err, tt.reason)
		}
	}
}

// FuzzParseSpec: any text either parses to a usable spec or fails with a
// *SpecError.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"udp:192.0.2.1:1337", "udp:[::1]", "serial:/dev/ttyACM0,baud=9600,gap=20ms", "ble:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSpec(spec)
		var se *SpecError
		switch {
		case err != nil && !errors.As(err, &se):
			t.Fatalf("ParseSpec(%q) error %v is not a *SpecError", spec, err)
		case err != nil:
		case s.Kind != "udp" && s.Kind != "serial", s.Addr == "":
			t.Fatalf("ParseSpec(%q) = %+v, want a kind and an address", spec, s)
		case s.Kind == "serial" && s.Baud <= 0:
			t.Fatalf("ParseSpec(%q) = %+v, want a positive baud rate", spec, s)
		}
	})
}
