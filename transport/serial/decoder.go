package serial

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxLine caps the bytes kept of one line. The frame of the largest packet,
// on one line, is 2 + 87384 + 1 bytes; the rest of a longer line is dropped,
// which fails its frame.
const maxLine = 1 << 17

var (
	// ErrIncomplete reports a frame that ended before the length its length
	// field declares: a new packet began, or the stream failed or ended.
	ErrIncomplete = errors.New("serial: incomplete frame")
	// ErrFrame reports a frame that cannot be decoded: bad base64, a length
	// field below 2, or more data than the length field declares.
	ErrFrame = errors.New("serial: malformed frame")
)

// CRCError reports a frame whose CRC does not match its packet.
type CRCError struct {
	Got  uint16 // the CRC the frame carries
	Want uint16 // the CRC computed over the frame's packet
}

func (e *CRCError) Error() string {
	return fmt.Sprintf("serial: frame CRC %#04x, packet's CRC is %#04x", e.Got, e.Want)
}

// Decoder reads packets from a console byte stream. It is liberal in what it
// accepts: console text between frames is skipped, a frame starts at the
// first 06 09 on a line, lines of any length are taken (up to a frame of the
// largest packet), base64 may be cut anywhere between frames, and lines may
// end in "\r\n".
//
// An error about one frame (ErrFrame, ErrIncomplete, *CRCError) drops that
// frame only; the next Decode resynchronises on the next 06 09.
type Decoder struct {
	r       io.Reader
	buf     [512]byte
	rest    []byte // read, not yet scanned
	readErr error  // the reader's error that came with rest, due after it
	line    []byte // the current line, without its newline
	ready   bool   // line is complete and not yet taken
	body    body   // the packet being collected
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r}
}

// Decode returns the next packet whose frame passes the length and CRC
// checks. When the stream ends between frames it returns io.EOF. When the
// reader fails (or ends) inside a frame, the error wraps both ErrIncomplete
// and the reader's error, and the partial frame is dropped.
func (d *Decoder) Decode() ([]byte, error) {
	for {
		if !d.ready {
			if err := d.readLine(); err != nil {
				return nil, d.fail(err)
			}
		}
		if packet, done, err := d.take(); done || err != nil {
			return packet, err
		}
	}
}

// readLine collects bytes up to the next newline into d.line.
func (d *Decoder) readLine() error {
	for {
		if i := bytes.IndexByte(d.rest, '\n'); i >= 0 {
			d.appendLine(d.rest[:i])
			d.rest = d.rest[i+1:]
			d.ready = true
			return nil
		}
		d.appendLine(d.rest)
		d.rest = nil
		if err := d.fill(); err != nil {
			return err
		}
	}
}

func (d *Decoder) appendLine(b []byte) {
	room := maxLine - len(d.line)
	d.line = append(d.line, b[:min(len(b), room)]...)
}

// fill reads the next bytes into rest. An error that arrives with bytes is
// held back until those bytes have been scanned.
func (d *Decoder) fill() error {
	if err := d.readErr; err != nil {
		d.readErr = nil
		return err
	}
	n, err := d.r.Read(d.buf[:])
	d.rest = d.buf[:n]
	if n > 0 {
		d.readErr = err
		return nil
	}
	return err
}

// take hands the complete line to the frame it belongs to, if any.
func (d *Decoder) take() (packet []byte, done bool, err error) {
	kind, text := splitMarker(d.line)
	if kind == frameStart && d.body.open {
		// A new packet starts before the last one reached its length: report
		// the loss and keep this line for the next call.
		return nil, false, d.body.drop(nil)
	}
	defer d.clearLine()

	switch {
	case kind == frameStart:
		d.body.open = true
	case kind == frameMore && d.body.open:
	default:
		return nil, false, nil // console text, or a continuation of nothing
	}
	return d.body.add(text)
}

func (d *Decoder) clearLine() {
	d.line = d.line[:0]
	d.ready = false
}

// fail turns a reader error into Decode's error, dropping a partial frame.
func (d *Decoder) fail(err error) error {
	partial := d.body.open || bytes.Contains(d.line, startMarker)
	d.clearLine()
	switch {
	case partial:
		return d.body.drop(err)
	case err == io.EOF:
		return io.EOF
	default:
		return fmt.Errorf("serial: read: %w", err)
	}
}

type markerKind int

const (
	noMarker markerKind = iota
	frameStart
	frameMore
)

// splitMarker finds the first frame marker in line and returns the text
// after it. Base64 never contains a marker byte, so a marker anywhere on the
// line counts: console text may precede it.
func splitMarker(line []byte) (markerKind, []byte) {
	for i := 0; i+1 < len(line); i++ {
		switch {
		case line[i] == startMarker[0] && line[i+1] == startMarker[1]:
			return frameStart, line[i+2:]
		case line[i] == moreMarker[0] && line[i+1] == moreMarker[1]:
			return frameMore, line[i+2:]
		}
	}
	return noMarker, nil
}
