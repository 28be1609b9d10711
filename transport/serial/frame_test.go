package serial

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/fotasync/fotasync/transport/internal/link"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func TestEncodeTV1(t *testing.T) {
	got, err := Encode(tv1Request, 0)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if diff := cmp.Diff([][]byte{tv1Frame}, got); diff != "" {
		t.Errorf("Encode(TV1 request) (-want +got):\n%s", diff)
	}
}

// TestEncodeLineBoundary covers B07: frames whose body (length field, packet
// and CRC) is 89 to 96 bytes, around the 93 bytes that fill one 124-character
// line. Every size must round-trip and keep its CRC.
func TestEncodeLineBoundary(t *testing.T) {
	for size := 89; size <= 96; size++ {
		packet := pattern(size - 4)
		frames, err := Encode(packet, 0)
		if err != nil {
			t.Fatalf("body %d: Encode: %v", size, err)
		}
		checkFrames(t, frames, DefaultLineLen)

		chars := (size + 2) / 3 * 4
		if want := (chars + 123) / 124; len(frames) != want {
			t.Errorf("body %d: %d frames, want %d", size, len(frames), want)
		}
		if size == 93 && len(frames[0]) != DefaultLineLen {
			t.Errorf("body 93: frame of %d bytes, want exactly %d", len(frames[0]), DefaultLineLen)
		}
		if got := decodeAll(t, bytes.Join(frames, nil)); !cmp.Equal(got, [][]byte{packet}) {
			t.Errorf("body %d: decoded %d packets, want the one encoded", size, len(got))
		}
	}
}

func TestEncodeLineLen(t *testing.T) {
	packet := pattern(300)
	for _, lineLen := range []int{MinLineLen, 8, 10, 11, 64, 128, 1000} {
		frames, err := Encode(packet, lineLen)
		if err != nil {
			t.Fatalf("line %d: Encode: %v", lineLen, err)
		}
		checkFrames(t, frames, lineLen)
		if got := decodeAll(t, bytes.Join(frames, nil)); !cmp.Equal(got, [][]byte{packet}) {
			t.Errorf("line %d: round trip failed", lineLen)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	if _, err := Encode(tv1Request, MinLineLen-1); err == nil {
		t.Errorf("Encode with line length %d: no error", MinLineLen-1)
	}
	if _, err := Encode(make([]byte, MaxPacket+1), 0); !errors.Is(err, link.ErrTooLarge) {
		t.Errorf("Encode of %d bytes: error %v, want ErrTooLarge", MaxPacket+1, err)
	}
	if _, err := Encode(make([]byte, MaxPacket), 0); err != nil {
		t.Errorf("Encode of %d bytes: %v", MaxPacket, err)
	}
}

// TestEncodeRoundTrip is the property of B07: any packet of 1..4096 bytes,
// at any line length, comes back from Decode unchanged, in frames that keep
// the line rules.
func TestEncodeRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		packet := rapid.SliceOfN(rapid.Byte(), 1, 4096).Draw(t, "packet")
		lineLen := rapid.IntRange(MinLineLen, 300).Draw(t, "lineLen")

		frames, err := Encode(packet, lineLen)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		checkFrames(t, frames, lineLen)
		dec := NewDecoder(bytes.NewReader(bytes.Join(frames, nil)))
		got, err := dec.Decode()
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !bytes.Equal(got, packet) {
			t.Fatalf("decoded %x, want %x", got, packet)
		}
	})
}

// checkFrames checks the line rules of B08 on an encoder's output.
func checkFrames(t interface{ Errorf(string, ...any) }, frames [][]byte, lineLen int) {
	if len(frames) == 0 {
		t.Errorf("no frames")
		return
	}
	for i, f := range frames {
		marker := moreMarker
		if i == 0 {
			marker = startMarker
		}
		if len(f) > lineLen {
			t.Errorf("frame %d: %d bytes, limit %d", i, len(f), lineLen)
		}
		if !bytes.HasPrefix(f, marker) || !bytes.HasSuffix(f, []byte("\n")) {
			t.Errorf("frame %d: %q, want marker %x and a newline", i, f, marker)
			continue
		}
		text := f[2 : len(f)-1]
		if len(text)%4 != 0 {
			t.Errorf("frame %d: %d base64 characters, not whole quanta", i, len(text))
		}
		if _, err := base64.StdEncoding.DecodeString(string(text)); err != nil {
			t.Errorf("frame %d does not decode on its own: %v", i, err)
		}
	}
}

// decodeAll decodes every packet of stream, failing on any error but io.EOF.
func decodeAll(t *testing.T, stream []byte) [][]byte {
	t.Helper()
	dec := NewDecoder(bytes.NewReader(stream))
	var packets [][]byte
	for {
		p, err := dec.Decode()
		if err != nil {
			if err != io.EOF {
				t.Errorf("Decode: %v", err)
			}
			return packets
		}
		packets = append(packets, p)
	}
}

// pattern returns n bytes that differ from their neighbours.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

func ExampleEncode() {
	frames, _ := Encode([]byte{0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x42, 0x00,
		0xa1, 0x61, 0x64, 0x65, 'h', 'e', 'l', 'l', 'o'}, 0)
	fmt.Printf("%q\n", frames[0])
	// Output: "\x06\tABMAAAAJAABCAKFhZGVoZWxsb+DN\n"
}
