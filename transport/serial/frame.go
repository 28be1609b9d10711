// Package serial carries SMP over a UART with the MCUmgr console framing
// ("SMP over console"), as Zephyr's UART and shell transports and MCUboot's
// serial recovery speak it.
//
// A packet travels as
//
//	body  = len16_BE(len(packet)+2) ‖ packet ‖ CRC16_BE(packet)
//	text  = base64 (standard alphabet, '=' padding) of body
//	frame = marker ‖ up to 124 characters of text ‖ '\n'
//
// The first frame's marker is 06 09 and each continuation's is 04 14. A frame
// is at most 127 bytes counting marker and newline (Zephyr's
// MCUMGR_SERIAL_MAX_FRAME; its receive line buffer is 128 bytes). The device
// decodes each frame's base64 on its own, so text is cut only at multiples of
// four characters.
//
// The largest packet a Zephyr device accepts over serial is its MCUmgr
// buf_size − 4: the length field and the CRC share its buffer (a 1021-byte
// packet to a device with buf_size 1024 is dropped without a reply). See
// Conn.PacketLimit.
package serial

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"github.com/fotasync/fotasync/transport/internal/link"
)

const (
	// DefaultLineLen is the longest frame written by default, in bytes,
	// counting marker and newline.
	DefaultLineLen = 127
	// MinLineLen is the shortest usable line: a marker, one base64 quantum
	// and a newline.
	MinLineLen = 2 + 4 + 1
	// MaxPacket is the largest packet the framing can describe: the 16-bit
	// length field counts the packet and its 2-byte CRC.
	MaxPacket = 0xFFFF - 2
)

var (
	startMarker = []byte{0x06, 0x09} // first frame of a packet
	moreMarker  = []byte{0x04, 0x14} // continuation frame
)

// Encode frames packet for the console. Each frame is at most lineLen bytes
// including its marker and trailing newline; zero means DefaultLineLen.
func Encode(packet []byte, lineLen int) ([][]byte, error) {
	if lineLen == 0 {
		lineLen = DefaultLineLen
	}
	if lineLen < MinLineLen {
		return nil, fmt.Errorf("serial: line length %d below %d", lineLen, MinLineLen)
	}
	if len(packet) > MaxPacket {
		return nil, fmt.Errorf("serial: packet of %d bytes, limit %d: %w", len(packet), MaxPacket, link.ErrTooLarge)
	}

	body := make([]byte, 0, 2+len(packet)+2)
	body = binary.BigEndian.AppendUint16(body, uint16(len(packet)+2))
	body = append(body, packet...)
	body = binary.BigEndian.AppendUint16(body, CRC16(packet))
	text := base64.StdEncoding.EncodeToString(body)

	// Whole base64 quanta per frame, so each frame decodes on its own.
	per := (lineLen - len(startMarker) - 1) / 4 * 4
	frames := make([][]byte, 0, (len(text)+per-1)/per)
	for start := 0; start < len(text); start += per {
		marker := moreMarker
		if start == 0 {
			marker = startMarker
		}
		chunk := text[start:min(start+per, len(text))]

		frame := make([]byte, 0, len(marker)+len(chunk)+1)
		frame = append(frame, marker...)
		frame = append(frame, chunk...)
		frames = append(frames, append(frame, '\n'))
	}

	return frames, nil
}
