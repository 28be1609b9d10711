package mcuboot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseReferenceImages(t *testing.T) {
	for _, r := range refImages {
		t.Run(r.file, func(t *testing.T) {
			b := readRef(t, r.file)
			if len(b) != r.size {
				t.Fatalf("file size %d, manifest says %d", len(b), r.size)
			}
			img, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}

			want := Header{Magic: HeaderMagic, HeaderSize: 0x200, ImageSize: uint32(r.n), Version: r.version}
			if len(r.deps) > 0 || r.seccnt {
				want.ProtectedTLVSize = img.Header.ProtectedTLVSize // checked through the hash below
			}
			if diff := cmp.Diff(want, img.Header); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if got := fmt.Sprintf("%x", img.Hash()); got != r.hash {
				t.Errorf("Hash() = %s, want %s", got, r.hash)
			}
			if !bytes.Equal(img.Payload(), manifestPayload(r.seed, r.n)) {
				t.Errorf("payload differs from the manifest recipe (seed %q, n %d)", r.seed, r.n)
			}
			if !r.pad && img.Len() != len(b) {
				t.Errorf("Len() = %d, want the file size %d", img.Len(), len(b))
			}
			if !bytes.Equal(img.Bytes(), b[:img.Len()]) {
				t.Errorf("Bytes() is not the file's first Len() bytes")
			}
			if diff := cmp.Diff(r.deps, img.Dependencies()); diff != "" {
				t.Errorf("Dependencies() (-want +got):\n%s", diff)
			}
			c, ok := img.SecurityCounter()
			if ok != r.seccnt || (ok && c != r.version.SecurityCounter()) {
				t.Errorf("SecurityCounter() = %#x, %v; want %#x, %v", c, ok, r.version.SecurityCounter(), r.seccnt)
			}
		})
	}
}

func TestParseRealImage(t *testing.T) {
	b := readShared(t, "real", "Bosco75_TestFota_e10d7d3_app_update.bin")
	img, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}

	// Facts from testdata/real/SOURCES.md.
	want := Header{Magic: HeaderMagic, HeaderSize: 0x200, ImageSize: 384092, Version: Version{1, 0, 0, 0}}
	if diff := cmp.Diff(want, img.Header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if got, want := fmt.Sprintf("%x", img.Hash()), "021c569e30b459c7eb4e4c85c2baf4672b49bc21fa3d28cba36a3d829f036ba6"; got != want {
		t.Errorf("Hash() = %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%x", sha256.Sum256(b)), "233ae8dc3c84999de60eba4e06c544bf69359815d9245f40d2ca217ddf14a8c1"; got != want {
		t.Errorf("file SHA-256 = %s, want %s", got, want)
	}
	if img.Len() != len(b) || len(img.Protected) != 0 {
		t.Errorf("Len() = %d with %d protected TLVs, want %d and none", img.Len(), len(img.Protected), len(b))
	}
	if err := img.Verify(refKey(t, "root-rsa-2048")); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// TestParseTV9Header decodes the header bytes of smp-mcuboot.md TV9.
func TestParseTV9Header(t *testing.T) {
	b := unhex(t, "3db8f396"+"00000000"+"0002"+"0000"+"f4bf0000"+"00000000"+"00"+"00"+"0000"+"00000000"+"00000000")
	h, err := ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Header{Magic: HeaderMagic, HeaderSize: 0x200, ImageSize: 0xbff4}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if !bytes.Equal(h.Bytes(), b) {
		t.Errorf("Bytes() = %x, want %x", h.Bytes(), b)
	}
}

// TestParseCorrupt checks the variants in testdata/mcuboot/corrupt (see
// its VERIFY.md): each is rejected with the sentinel for what is wrong.
func TestParseCorrupt(t *testing.T) {
	key := refKey(t, "root-rsa-2048")
	tests := []struct {
		file     string
		parseErr error  // from Parse; nil when Parse succeeds
		verify   error  // from Verify() and Verify(key) when Parse succeeds
		mention  string // the error message names this
	}{
		{file: "rsa2048_100k_bad_magic.bin", parseErr: ErrBadMagic, mention: "magic 0x00000000"},
		{file: "rsa2048_100k_flipped_payload_byte.bin", verify: ErrHashMismatch, mention: "SHA256 TLV"},
		{file: "rsa2048_100k_truncated_mid_payload.bin", parseErr: ErrTruncated, mention: "payload"},
		{file: "rsa2048_100k_truncated_tlv.bin", parseErr: ErrTruncated, mention: "RSA2048_PSS"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			img, err := Parse(readRef(t, "corrupt/"+tt.file))
			if tt.parseErr != nil {
				checkErr(t, "Parse", err, tt.parseErr, tt.mention)
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkErr(t, "Verify()", img.Verify(), tt.verify, tt.mention)
			checkErr(t, "Verify(key)", img.Verify(key), tt.verify, tt.mention)
		})
	}
}

func checkErr(t *testing.T, what string, err, want error, mention string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s error = %v, want %v", what, err, want)
		return
	}
	if !strings.HasPrefix(err.Error(), "mcuboot: ") || !strings.Contains(err.Error(), mention) {
		t.Errorf("%s error %q: want the mcuboot: prefix and a mention of %q", what, err, mention)
	}
}

// craft returns a hash-only image (header 0x20, 4-byte payload) with the
// given protected and unprotected areas, raw.
func craft(protSize uint16, areas ...[]byte) []byte {
	h := Header{Magic: HeaderMagic, HeaderSize: HeaderLen, ProtectedTLVSize: protSize, ImageSize: 4}
	b := append(h.Bytes(), 1, 2, 3, 4)
	for _, a := range areas {
		b = append(b, a...)
	}
	return b
}

// area encodes a TLV info header with the given magic and total, then recs.
func area(magic, total uint16, recs ...byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, magic)
	b = binary.LittleEndian.AppendUint16(b, total)
	return append(b, recs...)
}

func TestParseMalformed(t *testing.T) {
	sha := append([]byte{0x10, 0, 32, 0}, make([]byte, 32)...)
	badHeader := (Header{Magic: HeaderMagic, HeaderSize: 8}).Bytes()
	legacy := (Header{Magic: HeaderMagicV1, HeaderSize: 0x20}).Bytes()
	tests := []struct {
		name    string
		in      []byte
		want    error
		mention string
	}{
		{"empty", nil, ErrTruncated, "header"},
		{"short header", make([]byte, 31), ErrTruncated, "header"},
		{"legacy magic", legacy, ErrBadMagic, "legacy"},
		{"header size below 32", badHeader, ErrMalformed, "header size 8"},
		{"no TLV area", craft(0), ErrTruncated, "unprotected TLV area"},
		{"wrong info magic", craft(0, area(0x1234, 40, sha...)), ErrMalformed, "info magic 0x1234"},
		{"protected magic where unprotected expected", craft(0, area(ProtectedTLVInfoMagic, 40, sha...)),
			ErrMalformed, "unprotected TLV area"},
		{"total below info header", craft(0, area(TLVInfoMagic, 2)), ErrMalformed, "total 2"},
		{"record crosses area end", craft(0, area(TLVInfoMagic, 39, sha...)), ErrMalformed, "crosses the area end"},
		{"record header crosses area end", craft(0, area(TLVInfoMagic, 6, sha...)), ErrMalformed, "header crosses"},
		{"record cut by input end", craft(0, area(TLVInfoMagic, 40, sha[:20]...)), ErrTruncated, "SHA256"},
		{"SHA256 of 31 bytes", craft(0, area(TLVInfoMagic, 39, append([]byte{0x10, 0, 31, 0}, make([]byte, 31)...)...)),
			ErrMalformed, "has 31 bytes, want 32"},
		{"protected size disagrees", craft(8, area(ProtectedTLVInfoMagic, 4), area(TLVInfoMagic, 40, sha...)),
			ErrMalformed, "header says 8"},
		{"SEC_CNT of 2 bytes", craft(10, area(ProtectedTLVInfoMagic, 10, 0x50, 0, 2, 0, 1, 2), area(TLVInfoMagic, 40, sha...)),
			ErrMalformed, "SEC_CNT"},
		{"payload past input", craft(0)[:34], ErrTruncated, "payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			checkErr(t, "Parse", err, tt.want, tt.mention)
		})
	}
}

func TestParseKeepsNoReferenceToInput(t *testing.T) {
	b := readRef(t, "hashonly_1k_v1.0.0.bin")
	img, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	if err := img.Verify(); err != nil {
		t.Errorf("Verify after overwriting the input: %v", err)
	}
}

func TestTLVName(t *testing.T) {
	for typ, want := range map[uint16]string{TLVSHA256: "SHA256", TLVECDSASig: "ECDSA_SIG", 0x1a0: "0x1a0"} {
		if got := TLVName(typ); got != want {
			t.Errorf("TLVName(%#x) = %q, want %q", typ, got, want)
		}
	}
}
