package ble

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/fotasync/fotasync/transport/internal/link"
)

// headerLen is the SMP header; its bytes 2..3 are the payload length.
const headerLen = 8

// ErrIncomplete reports a packet whose pieces stopped before the length its
// header declares.
var ErrIncomplete = errors.New("ble: incomplete packet")

// Reassembler collects notifications into whole SMP packets by the length
// field of each packet's header. Bytes past the end of one packet start the
// next. It keeps no clock: when the caller's wait for the rest of a packet
// runs out, it calls Expire, so a partial packet is reported and dropped,
// never handed on. The zero value is ready to use.
type Reassembler struct {
	// MaxPacket is the largest packet accepted, in bytes, header included.
	// Zero means 8 + 65535, the most a header can declare.
	MaxPacket int

	buf []byte // bytes of packets not yet complete
}

// Add appends one notification and returns the packets it completes, in
// order. A header declaring more than MaxPacket bytes drops everything
// buffered (where the next packet starts is then unknown) and returns an
// error wrapping transport.ErrTooLarge, after the packets completed before
// it.
func (r *Reassembler) Add(notification []byte) ([][]byte, error) {
	r.buf = append(r.buf, notification...)

	var packets [][]byte
	for len(r.buf) >= headerLen {
		total := headerLen + int(binary.BigEndian.Uint16(r.buf[2:4]))
		if limit := r.limit(); total > limit {
			r.buf = r.buf[:0]
			return packets, fmt.Errorf("ble: header declares a packet of %d bytes, limit %d: %w",
				total, limit, link.ErrTooLarge)
		}
		if len(r.buf) < total {
			break
		}
		packets = append(packets, append([]byte(nil), r.buf[:total]...))
		r.buf = append(r.buf[:0], r.buf[total:]...)
	}
	return packets, nil
}

// Pending returns the number of bytes held of a packet not yet complete.
func (r *Reassembler) Pending() int { return len(r.buf) }

// Expire drops a partial packet and reports it with an error wrapping
// ErrIncomplete; with nothing pending it returns nil. Call it when the wait
// for a response ends, before retrying the request.
func (r *Reassembler) Expire() error {
	if len(r.buf) == 0 {
		return nil
	}

	have := fmt.Sprintf("%d bytes, header incomplete", len(r.buf))
	if len(r.buf) >= headerLen {
		have = fmt.Sprintf("%d of %d bytes", len(r.buf), headerLen+int(binary.BigEndian.Uint16(r.buf[2:4])))
	}
	r.buf = r.buf[:0]
	return fmt.Errorf("%w (%s)", ErrIncomplete, have)
}

func (r *Reassembler) limit() int {
	if r.MaxPacket > 0 {
		return r.MaxPacket
	}
	return headerLen + 0xFFFF
}
