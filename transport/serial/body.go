package serial

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// body collects the decoded body of one packet across its frames:
// len16_BE(len(packet)+2) ‖ packet ‖ CRC16_BE(packet).
type body struct {
	open bool   // a start frame was seen and the body is not complete
	data []byte // decoded so far
	quad []byte // base64 characters of an unfinished quantum
}

// add decodes one frame's text. It returns the packet when the body reaches
// the length its length field declares.
func (b *body) add(text []byte) (packet []byte, done bool, err error) {
	text = bytes.TrimRight(text, "\r")
	for _, c := range text {
		b.quad = append(b.quad, c)
		if len(b.quad) < 4 {
			continue
		}
		if err := b.decodeQuad(); err != nil {
			return nil, false, err
		}
	}
	return b.complete()
}

// decodeQuad decodes one base64 quantum; padding may end any quantum, since
// a sender may encode each frame on its own.
func (b *body) decodeQuad() error {
	var out [3]byte
	n, err := base64.StdEncoding.Decode(out[:], b.quad)
	if err != nil {
		quad := string(b.quad)
		b.reset()
		return fmt.Errorf("%w: bad base64 %q", ErrFrame, quad)
	}
	b.data = append(b.data, out[:n]...)
	b.quad = b.quad[:0]
	return nil
}

// complete checks the body against its length field and, once it is all
// there, against its CRC.
func (b *body) complete() (packet []byte, done bool, err error) {
	if len(b.data) < 2 {
		return nil, false, nil
	}
	field := int(binary.BigEndian.Uint16(b.data))
	want := 2 + field
	switch {
	case field < 2: // the field counts the CRC, so it is at least 2
		b.reset()
		return nil, false, fmt.Errorf("%w: length field %d below 2", ErrFrame, field)
	case len(b.data) < want:
		return nil, false, nil
	case len(b.data) > want || len(b.quad) > 0:
		b.reset()
		return nil, false, fmt.Errorf("%w: data beyond the %d bytes of the length field", ErrFrame, field)
	}

	defer b.reset()
	packet, crc := b.data[2:want-2], b.data[want-2:want]
	if CRC16(b.data[2:want]) != 0 { // CRC over packet ‖ CRC is 0 when they match
		return nil, false, &CRCError{Got: binary.BigEndian.Uint16(crc), Want: CRC16(packet)}
	}
	return bytes.Clone(packet), true, nil
}

// drop abandons a partial body and describes it, wrapping cause when the
// stream failed.
func (b *body) drop(cause error) error {
	have := "length field not yet received"
	if len(b.data) >= 2 {
		have = fmt.Sprintf("%d of %d bytes", len(b.data), 2+int(binary.BigEndian.Uint16(b.data)))
	}
	b.reset()

	if cause != nil {
		return fmt.Errorf("%w (%s): %w", ErrIncomplete, have, cause)
	}
	return fmt.Errorf("%w (%s)", ErrIncomplete, have)
}

func (b *body) reset() {
	b.open = false
	b.data = b.data[:0]
	b.quad = b.quad[:0]
}
