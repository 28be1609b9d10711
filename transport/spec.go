package transport

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/fotasync/fotasync/transport/udp"
)

// DefaultBaud is the serial line rate when a spec names none, in bit/s.
const DefaultBaud = 115200

// Spec is a parsed transport spec. Its text forms are
//
//	udp:HOST[:PORT]                     HOST: a name, an IPv4 address or [IPv6]; PORT: 1337
//	serial:PATH[,baud=N][,gap=DURATION] e.g. serial:/dev/ttyACM0,baud=115200,gap=20ms
type Spec struct {
	// Kind is the transport: "udp" or "serial".
	Kind string
	// Addr is HOST:PORT for udp (the port added if the spec left it out)
	// and the device path for serial.
	Addr string
	// Baud is the serial line rate in bit/s: DefaultBaud unless the spec sets
	// baud. Zero for udp.
	Baud int
	// FrameGap is the serial pause between the frames of one packet, for
	// receivers that drop bursts; zero (the default) means none.
	FrameGap time.Duration
}

// SpecError reports a spec that ParseSpec cannot use.
type SpecError struct {
	Spec   string // the text as given
	Reason string // what is wrong, and what was expected
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("transport: spec %q: %s", e.Spec, e.Reason)
}

// ParseSpec parses a transport spec such as "udp:192.0.2.1:1337" or
// "serial:/dev/ttyACM0,baud=115200". Errors are *SpecError.
func ParseSpec(spec string) (Spec, error) {
	kind, rest, ok := strings.Cut(spec, ":")
	if !ok || kind == "" {
		return Spec{}, &SpecError{spec, "want KIND:ADDRESS, e.g. udp:192.0.2.1:1337 or serial:/dev/ttyACM0"}
	}

	var (
		s      Spec
		reason string
	)
	switch kind {
	case "udp":
		s, reason = parseUDP(rest)
	case "serial":
		s, reason = parseSerial(rest)
	case "ble":
		// BUG(fotasync): BLE has framing (package ble) but no GATT central, so
		// no spec can name a BLE device yet.
		reason = "BLE links are not implemented yet (no GATT central)"
	default:
		reason = fmt.Sprintf("unknown transport %q, want udp or serial", kind)
	}
	if reason != "" {
		return Spec{}, &SpecError{spec, reason}
	}

	return s, nil
}

func parseUDP(addr string) (Spec, string) {
	if !strings.Contains(addr, ":") || strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		addr = net.JoinHostPort(strings.Trim(addr, "[]"), strconv.Itoa(udp.DefaultPort))
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Spec{}, fmt.Sprintf("address %q: want HOST:PORT (%v)", addr, err)
	}
	if host == "" {
		return Spec{}, fmt.Sprintf("address %q: host is empty", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return Spec{}, fmt.Sprintf("port %q: want a number from 0 to 65535", port)
	}

	return Spec{Kind: "udp", Addr: addr}, ""
}

func parseSerial(rest string) (Spec, string) {
	fields := strings.Split(rest, ",")
	s := Spec{Kind: "serial", Addr: fields[0], Baud: DefaultBaud}
	if s.Addr == "" {
		return Spec{}, "device path is empty"
	}
	for _, f := range fields[1:] {
		key, val, _ := strings.Cut(f, "=")
		switch key {
		case "baud":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 {
				return Spec{}, fmt.Sprintf("baud %q: want a positive number", val)
			}
			s.Baud = n
		case "gap":
			d, err := time.ParseDuration(val)
			if err != nil || d < 0 {
				return Spec{}, fmt.Sprintf("gap %q: want a duration such as 20ms", val)
			}
			s.FrameGap = d
		default:
			return Spec{}, fmt.Sprintf("option %q: want baud=N or gap=DURATION", f)
		}
	}

	return s, ""
}
