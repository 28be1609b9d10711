package serial

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// TestDecodeTV1Response reads TV1's response frame whole, a byte at a time
// (markers split across reads) and with io.EOF arriving with the last bytes.
func TestDecodeTV1Response(t *testing.T) {
	readers := map[string]io.Reader{
		"whole":         bytes.NewReader(tv1ResponseFrame),
		"byte by byte":  iotest.OneByteReader(bytes.NewReader(tv1ResponseFrame)),
		"EOF with data": iotest.DataErrReader(bytes.NewReader(tv1ResponseFrame)),
	}
	for name, r := range readers {
		dec := NewDecoder(r)
		got, err := dec.Decode()
		if err != nil {
			t.Fatalf("%s: Decode: %v", name, err)
		}
		if diff := cmp.Diff(tv1Response, got); diff != "" {
			t.Errorf("%s: Decode(TV1 response frame) (-want +got):\n%s", name, diff)
		}
		if _, err := dec.Decode(); err != io.EOF {
			t.Errorf("%s: Decode at end: %v, want io.EOF", name, err)
		}
	}
}

// TestDecodeConsole reads frames mixed with shell text, as the shell
// transport and boot logs produce them.
func TestDecodeConsole(t *testing.T) {
	stream := cat(
		"*** Booting Zephyr OS ***\r\n",
		"uart:~$ ", tv1ResponseFrame,
		"[00:00:01.000,000] <inf> app: tick\n",
		"\x04\x14QUJD\n", // a continuation of nothing
		tv1Frame,
	)
	got := decodeAll(t, stream)
	if diff := cmp.Diff([][]byte{tv1Response, tv1Request}, got); diff != "" {
		t.Errorf("packets (-want +got):\n%s", diff)
	}
}

// TestDecodeLiberal covers what other senders emit (B08): one long line,
// base64 cut off a quantum boundary, CRLF line ends, and padding inside the
// text where a sender encoded each frame on its own.
func TestDecodeLiberal(t *testing.T) {
	long := pattern(600)
	text := base64.StdEncoding.EncodeToString(frameBody(long))
	body1 := frameBody(tv1Request) // 21 bytes: split 19 + 2, each encoded alone
	tests := []struct {
		name   string
		stream []byte
		want   []byte
	}{
		{"600-byte packet on one line", cat("\x06\x09", text, "\n"), long},
		{"cut at 127 characters", cat("\x06\x09", text[:127], "\n\x04\x14", text[127:], "\n"), long},
		{"CRLF", bytes.ReplaceAll(tv1ResponseFrame, []byte("\n"), []byte("\r\n")), tv1Response},
		{"padding between frames", cat(
			"\x06\x09", base64.StdEncoding.EncodeToString(body1[:19]), "\n",
			"\x04\x14", base64.StdEncoding.EncodeToString(body1[19:]), "\n"), tv1Request},
	}
	for _, tt := range tests {
		got := decodeAll(t, tt.stream)
		if !cmp.Equal(got, [][]byte{tt.want}) {
			t.Errorf("%s: decoded %d packets, want the one sent", tt.name, len(got))
		}
	}
}

// TestDecodeMissingCRC is B07's malformed variant: the final CRC bytes never
// come although the length field counts them.
func TestDecodeMissingCRC(t *testing.T) {
	cut := frameBody(tv1Request)
	cut = cut[:len(cut)-2]
	frame := cat("\x06\x09", base64.StdEncoding.EncodeToString(cut), "\n")

	t.Run("then a new packet", func(t *testing.T) {
		dec := NewDecoder(bytes.NewReader(cat(frame, tv1ResponseFrame)))
		if _, err := dec.Decode(); !errors.Is(err, ErrIncomplete) {
			t.Fatalf("Decode: %v, want ErrIncomplete", err)
		}
		got, err := dec.Decode()
		if err != nil || !bytes.Equal(got, tv1Response) {
			t.Errorf("Decode after resync = %x, %v; want the TV1 response", got, err)
		}
	})
	t.Run("then the end", func(t *testing.T) {
		dec := NewDecoder(bytes.NewReader(frame))
		_, err := dec.Decode()
		if !errors.Is(err, ErrIncomplete) || !errors.Is(err, io.EOF) {
			t.Fatalf("Decode: %v, want ErrIncomplete and io.EOF", err)
		}
		if want := "serial: incomplete frame (19 of 21 bytes): EOF"; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
		if _, err := dec.Decode(); err != io.EOF {
			t.Errorf("second Decode: %v, want io.EOF", err)
		}
	})
}

func TestDecodeBadCRC(t *testing.T) {
	b := frameBody(tv1Request)
	b[len(b)-1] ^= 0x01
	frame := cat("\x06\x09", base64.StdEncoding.EncodeToString(b), "\n")

	dec := NewDecoder(bytes.NewReader(cat(frame, tv1ResponseFrame)))
	_, err := dec.Decode()
	var crc *CRCError
	if !errors.As(err, &crc) {
		t.Fatalf("Decode: %v, want a *CRCError", err)
	}
	if want := (CRCError{Got: tv1RequestCRC ^ 1, Want: tv1RequestCRC}); *crc != want {
		t.Errorf("CRCError = %+v, want %+v", *crc, want)
	}
	if got, err := dec.Decode(); err != nil || !bytes.Equal(got, tv1Response) {
		t.Errorf("Decode after bad CRC = %x, %v; want the TV1 response", got, err)
	}
}

func TestDecodeMalformed(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
	}{
		{"length field 1", cat("\x06\x09", base64.StdEncoding.EncodeToString([]byte{0, 1, 0, 0}), "\n")},
		{"bad base64", []byte("\x06\x09AB*D\n")},
		{"data past the length", cat("\x06\x09",
			base64.StdEncoding.EncodeToString(append(frameBody(tv1Request), 0, 0, 0)), "\n")},
		{"half a quantum past the length", cat(tv1Frame[:len(tv1Frame)-1], "QU\n")},
	}
	for _, tt := range tests {
		dec := NewDecoder(bytes.NewReader(cat(tt.frame, tv1ResponseFrame)))
		if _, err := dec.Decode(); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: Decode: %v, want ErrFrame", tt.name, err)
			continue
		}
		if got, err := dec.Decode(); err != nil || !bytes.Equal(got, tv1Response) {
			t.Errorf("%s: Decode after it = %x, %v; want the TV1 response", tt.name, got, err)
		}
	}
}

// TestDecodeReaderError checks that a reader's failure between frames comes
// back wrapped and the next Decode reads on.
func TestDecodeReaderError(t *testing.T) {
	boom := errors.New("boom")
	dec := NewDecoder(io.MultiReader(&failOnce{err: boom}, bytes.NewReader(tv1ResponseFrame)))
	if _, err := dec.Decode(); !errors.Is(err, boom) || errors.Is(err, ErrIncomplete) {
		t.Fatalf("Decode: %v, want boom alone", err)
	}
	if got, err := dec.Decode(); err != nil || !bytes.Equal(got, tv1Response) {
		t.Errorf("Decode after the error = %x, %v; want the TV1 response", got, err)
	}
}

// failOnce is a reader whose first Read fails, then reports its end.
type failOnce struct {
	err  error
	done bool
}

func (f *failOnce) Read([]byte) (int, error) {
	if f.done {
		return 0, io.EOF
	}
	f.done = true
	return 0, f.err
}

// FuzzDecode feeds arbitrary streams to the decoder: it must end on io.EOF,
// and every packet it returns must survive Encode and Decode again.
func FuzzDecode(f *testing.F) {
	f.Add(tv1Frame)
	f.Add(tv1ResponseFrame)
	f.Add(cat("noise\r\n", tv1Frame, "\x04\x14AAAA\n", tv1ResponseFrame))
	f.Add([]byte("\x06\x09AAIAAA==\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		dec := NewDecoder(bytes.NewReader(stream))
		for range len(stream) + 1 {
			packet, err := dec.Decode()
			if err == io.EOF {
				return
			}
			if err != nil {
				continue
			}
			frames, err := Encode(packet, 0)
			if err != nil {
				t.Fatalf("Encode of a decoded packet: %v", err)
			}
			again, err := NewDecoder(bytes.NewReader(bytes.Join(frames, nil))).Decode()
			if err != nil || !bytes.Equal(again, packet) {
				t.Fatalf("re-decode = %x, %v; want %x", again, err, packet)
			}
		}
		t.Fatalf("Decode did not reach io.EOF")
	})
}

// frameBody returns the frame body of packet: length field, packet, CRC.
func frameBody(packet []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(packet)+2))
	b = append(b, packet...)
	return binary.BigEndian.AppendUint16(b, CRC16(packet))
}

// cat joins strings and byte slices.
func cat(parts ...any) []byte {
	var b strings.Builder
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		case []byte:
			b.Write(p)
		}
	}
	return []byte(b.String())
}
