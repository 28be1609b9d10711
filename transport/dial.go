package transport

import (
	"io"
	"net"

	"github.com/fotasync/fotasync/transport/serial"
	"github.com/fotasync/fotasync/transport/udp"
)

// Dial opens a client link to the SMP server that spec names (see Spec).
// A udp spec needs a port other than 0; a serial spec opens the port at its
// baud rate.
func Dial(spec string) (Conn, error) {
	s, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}

	var c Conn
	switch s.Kind {
	case "udp":
		if _, port, _ := net.SplitHostPort(s.Addr); port == "0" {
			return nil, &SpecError{spec, "port 0 can only be listened on"}
		}
		c, err = udp.Dial(s.Addr)
	default: // serial: ParseSpec knows no other kind
		c, err = onSerial(s, serial.NewConn)
	}
	if err != nil {
		return nil, err // not c: a nil *udp.Conn is a non-nil Conn
	}
	return c, nil
}

// Listen opens the server side of a link that spec names: a UDP socket bound
// to HOST:PORT (port 0 picks a free one), or a serial port whose one peer is
// whatever sits on the other end of the line.
func Listen(spec string) (PacketConn, error) {
	s, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}

	var pc PacketConn
	switch s.Kind {
	case "udp":
		pc, err = udp.Listen(s.Addr)
	default: // serial: ParseSpec knows no other kind
		pc, err = onSerial(s, func(rw io.ReadWriteCloser, cfg serial.Config) (*serial.PacketConn, error) {
			return serial.NewPacketConn(rw, s.Addr, cfg)
		})
	}
	if err != nil {
		return nil, err
	}
	return pc, nil
}

// onSerial opens the serial port s names and starts a link on it with
// start, closing the port if start fails.
func onSerial[L any](s Spec, start func(io.ReadWriteCloser, serial.Config) (L, error)) (L, error) {
	var none L
	port, err := serial.Open(s.Addr, s.Baud)
	if err != nil {
		return none, err
	}
	l, err := start(port, serial.Config{FrameGap: s.FrameGap})
	if err != nil {
		port.Close()
		return none, err
	}
	return l, nil
}
