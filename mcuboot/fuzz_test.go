package mcuboot

import (
	"bytes"
	"testing"
)

// FuzzParse feeds Parse arbitrary bytes. Parse must not panic; what it
// accepts must re-encode to the same bytes (header fields, both TLV areas),
// and Verify must not panic either. The seeds are the reference images
// with their payload cut to 16 bytes, so that the fuzzer works on small
// inputs that still carry every kind of TLV area.
func FuzzParse(f *testing.F) {
	for _, r := range refImages {
		f.Add(shrinkPayload(f, readRef(f, r.file), 16))
	}
	f.Add(craft(0, area(TLVInfoMagic, 40, append([]byte{0x10, 0, 32, 0}, make([]byte, 32)...)...)))

	ecKey := refKey(f, "root-ec-p256")
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := Parse(b)
		if err != nil {
			return
		}
		if img.Len() > len(b) || !bytes.Equal(img.Bytes(), b[:img.Len()]) {
			t.Fatalf("Bytes() is not a prefix of the input")
		}
		if got := img.Header.Bytes(); !bytes.Equal(got[:28], b[:28]) {
			t.Fatalf("header re-encodes to %x, input %x", got[:28], b[:28])
		}
		if !bytes.Equal(reencode(img), img.Bytes()[img.Header.payloadEnd():]) {
			t.Fatalf("TLV areas do not re-encode to the input bytes")
		}
		again, err := Parse(img.Bytes())
		if err != nil || again.Len() != img.Len() {
			t.Fatalf("Parse(Bytes()) = %v, length %d; want the same image", err, again.Len())
		}
		_ = img.Verify()
		_ = img.Verify(ecKey)
		_ = img.Dependencies()
		_, _ = img.SecurityCounter()
	})
}

// shrinkPayload keeps the header and TLV areas of image b but only n bytes
// of its payload (the hash no longer matches).
func shrinkPayload(t testing.TB, b []byte, n int) []byte {
	t.Helper()
	img, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	h := img.Header
	h.ImageSize = uint32(n)
	out := append(h.Bytes(), b[HeaderLen:int(img.Header.HeaderSize)+n]...)
	return append(out, b[img.Header.payloadEnd():img.Len()]...)
}

func reencode(img *Image) []byte {
	var b []byte
	if img.Header.ProtectedTLVSize != 0 {
		b = appendTLVArea(b, ProtectedTLVInfoMagic, img.Protected)
	}
	return appendTLVArea(b, TLVInfoMagic, img.Unprotected)
}
