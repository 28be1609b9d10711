package serial

import (
	"fmt"
	"io"

	bugst "go.bug.st/serial"
)

// Open opens the serial port at path at baud bit/s, 8N1, for NewConn or
// NewPacketConn.
func Open(path string, baud int) (io.ReadWriteCloser, error) {
	port, err := bugst.Open(path, &bugst.Mode{BaudRate: baud})
	if err != nil {
		return nil, fmt.Errorf("serial: open %s: %w", path, err)
	}
	return port, nil
}
