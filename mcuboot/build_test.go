package mcuboot

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"testing"
	"testing/cryptotest"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// TestBuildHashOnlyMatchesImgtool rebuilds every hash-only reference image
// from its manifest recipe and expects imgtool's bytes exactly.
func TestBuildHashOnlyMatchesImgtool(t *testing.T) {
	for _, r := range refImages {
		if r.key != "" {
			continue
		}
		t.Run(r.file, func(t *testing.T) {
			got, err := Build(manifestPayload(r.seed, r.n), r.options(nil))
			if err != nil {
				t.Fatal(err)
			}
			if want := readRef(t, r.file); !bytes.Equal(got, want) {
				t.Errorf("Build: %s", firstDiff(got, want))
			}
		})
	}
}

// TestBuildSignedMatchesReference rebuilds the signed reference images with
// a fresh key of the same type. Signatures differ, but the hashed part
// (header, payload, protected TLVs), the hash TLV, the TLV layout and the
// padded trailer must be imgtool's.
func TestBuildSignedMatchesReference(t *testing.T) {
	for i, r := range refImages {
		if r.key == "" {
			continue
		}
		t.Run(r.file, func(t *testing.T) {
			cryptotest.SetGlobalRandom(t, uint64(100+i))
			signer := generateKey(t, r.key)
			got, err := Build(manifestPayload(r.seed, r.n), r.options(signer))
			if err != nil {
				t.Fatal(err)
			}
			want := readRef(t, r.file)
			gotImg, wantImg := mustParse(t, got), mustParse(t, want)

			end := wantImg.Header.hashedEnd()
			if !bytes.Equal(got[:end], want[:end]) {
				t.Errorf("hashed part: %s", firstDiff(got[:end], want[:end]))
			}
			if h := fmt.Sprintf("%x", gotImg.Hash()); h != r.hash {
				t.Errorf("Hash() = %s, want %s", h, r.hash)
			}
			if diff := cmp.Diff(tlvTypes(wantImg.Unprotected), tlvTypes(gotImg.Unprotected)); diff != "" {
				t.Errorf("unprotected TLV types (-want +got):\n%s", diff)
			}
			if len(got) != len(want) && r.pad {
				t.Errorf("padded length %d, want %d", len(got), len(want))
			}
			if r.pad {
				// ECDSA signatures vary in length; compare what follows both images.
				tail := len(want) - max(gotImg.Len(), wantImg.Len())
				if !bytes.Equal(got[len(got)-tail:], want[len(want)-tail:]) {
					t.Errorf("padding and trailer: %s", firstDiff(got[len(got)-tail:], want[len(want)-tail:]))
				}
			}
			if err := gotImg.Verify(signer.Public()); err != nil {
				t.Errorf("Verify(own key): %v", err)
			}
			checkErr(t, "Verify(reference key)", gotImg.Verify(refKey(t, r.key)), ErrSignatureInvalid, "names none")
		})
	}
}

func generateKey(t *testing.T, kind string) crypto.Signer {
	t.Helper()
	var s crypto.Signer
	var err error
	switch kind {
	case "root-rsa-2048":
		s, err = rsa.GenerateKey(rand.Reader, 2048)
	case "rsa-3072":
		s, err = rsa.GenerateKey(rand.Reader, 3072)
	case "root-ec-p256":
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ec-p384":
		s, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "root-ed25519":
		_, s, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("no key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBuildSignedVerifies(t *testing.T) {
	tests := []struct {
		kind     string
		hashType uint16
		hash     crypto.Hash
		sigType  uint16
	}{
		{"root-rsa-2048", TLVSHA256, crypto.SHA256, TLVRSA2048PSS},
		{"rsa-3072", TLVSHA256, crypto.SHA256, TLVRSA3072PSS},
		{"root-ec-p256", TLVSHA256, crypto.SHA256, TLVECDSASig},
		{"ec-p384", TLVSHA384, crypto.SHA384, TLVECDSASig},
		{"root-ed25519", TLVSHA256, crypto.SHA256, TLVEd25519},
	}
	for i, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			cryptotest.SetGlobalRandom(t, uint64(200+i))
			signer, other := generateKey(t, tt.kind), generateKey(t, tt.kind)
			b, err := Build(manifestPayload("build-signed", 3000), BuildOptions{Version: Version{3, 1, 4, 1}, Signer: signer})
			if err != nil {
				t.Fatal(err)
			}
			img := mustParse(t, b)

			kh, err := keyHash(signer.Public(), tt.hash)
			if err != nil {
				t.Fatal(err)
			}
			want := []TLV{{Type: tt.hashType, Value: img.Hash()}, {Type: TLVKeyHash, Value: kh}}
			if diff := cmp.Diff(want, img.Unprotected[:2]); diff != "" || len(img.Unprotected) != 3 || img.Unprotected[2].Type != tt.sigType {
				t.Errorf("unprotected TLVs %v, want %s, KEYHASH, %s (-want +got):\n%s",
					tlvTypes(img.Unprotected), TLVName(tt.hashType), TLVName(tt.sigType), diff)
			}
			if err := img.Verify(signer.Public()); err != nil {
				t.Errorf("Verify(public key): %v", err)
			}
			if err := img.Verify(other.Public(), signer); err != nil {
				t.Errorf("Verify(other, private key): %v", err)
			}
			checkErr(t, "Verify(other key)", img.Verify(other.Public()), ErrSignatureInvalid, "names none")
		})
	}
}

// TestBuildTrailer checks the trailer magic and image_ok position for each
// maximum alignment against smp-mcuboot.md §6.1.
func TestBuildTrailer(t *testing.T) {
	magic8 := unhex(t, "77c295f360d2ef7f3552500f2cb67980")
	magicTail := unhex(t, "2de15d29410b8d77679c110f1f8a")
	tests := []struct {
		align     int
		magic     []byte
		imageOkAt int // offset from the slot end
	}{
		{1, magic8, -24},
		{4, magic8, -24},
		{8, magic8, -24},
		{16, append([]byte{16, 0}, magicTail...), -32},
		{32, append([]byte{32, 0}, magicTail...), -64},
	}
	for _, tt := range tests {
		for _, confirm := range []bool{false, true} {
			b, err := Build([]byte("payload"), BuildOptions{Align: tt.align, SlotSize: 0x10000, Pad: true, Confirm: confirm})
			if err != nil {
				t.Fatal(err)
			}
			n := mustParse(t, b).Len()
			want := bytes.Repeat([]byte{0xff}, 0x10000-n)
			copy(want[len(want)-16:], tt.magic)
			if confirm {
				want[len(want)+tt.imageOkAt] = 0x01
			}
			if !bytes.Equal(b[n:], want) {
				t.Errorf("align %d confirm %v: after the image: %s", tt.align, confirm, firstDiff(b[n:], want))
			}
		}
	}
}

// TestBuildSlotFit checks imgtool's rule: image plus trailer (for align 4:
// 128 sectors * 3 * 4 + 4 * 8 + 16 = 1584 bytes) must fit the slot.
func TestBuildSlotFit(t *testing.T) {
	payload := manifestPayload("s-hash-1k", 1024)
	opts := BuildOptions{Version: Version{1, 0, 0, 0}, Align: 4, SlotSize: 1576 + 1584}
	if _, err := Build(payload, opts); err != nil {
		t.Errorf("exact fit: %v", err)
	}
	opts.SlotSize--
	if _, err := Build(payload, opts); err == nil {
		t.Errorf("one byte short: Build succeeded")
	}
}

func TestBuildOptionErrors(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 5)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]BuildOptions{
		"header size 31":    {HeaderSize: 31},
		"header size 64k":   {HeaderSize: 0x10000},
		"align 3":           {Align: 3},
		"align 64":          {Align: 64},
		"pad without slot":  {Pad: true},
		"confirm no slot":   {Confirm: true},
		"negative slot":     {SlotSize: -1},
		"P-224 signer":      {Signer: p224},
		"slot too small":    {SlotSize: 100},
		"4096 dependencies": {Dependencies: make([]Dependency, 4096)},
	}
	for name, opts := range tests {
		if _, err := Build([]byte{1}, opts); err == nil {
			t.Errorf("%s: Build succeeded", name)
		}
	}
}

// TestBuildParseRoundTrip: whatever Build writes, Parse reads back with the
// same fields, and Verify accepts.
func TestBuildParseRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		payload := rapid.SliceOfN(rapid.Byte(), 0, 2000).Draw(t, "payload")
		v := Version{
			Major: rapid.Uint8().Draw(t, "major"), Minor: rapid.Uint8().Draw(t, "minor"),
			Revision: rapid.Uint16().Draw(t, "revision"), Build: rapid.Uint32().Draw(t, "build"),
		}
		opts := BuildOptions{
			Version:    v,
			HeaderSize: rapid.IntRange(HeaderLen, 0x400).Draw(t, "headerSize"),
			LoadAddr:   rapid.Uint32().Draw(t, "loadAddr"),
			Flags:      rapid.Uint32().Draw(t, "flags"),
		}
		if rapid.Bool().Draw(t, "seccnt") {
			c := rapid.Uint32().Draw(t, "counter")
			opts.SecurityCounter = &c
		}
		for range rapid.IntRange(0, 3).Draw(t, "deps") {
			opts.Dependencies = append(opts.Dependencies, Dependency{ImageID: rapid.Uint8().Draw(t, "id"), Version: v})
		}

		b, err := Build(payload, opts)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		h := img.Header
		if h.Version != v || h.LoadAddr != opts.LoadAddr || h.Flags != opts.Flags || int(h.HeaderSize) != opts.HeaderSize {
			t.Errorf("header %+v does not match options %+v", h, opts)
		}
		if !bytes.Equal(img.Payload(), payload) || img.Len() != len(b) {
			t.Errorf("payload or length changed")
		}
		if diff := cmp.Diff(opts.Dependencies, img.Dependencies()); diff != "" {
			t.Errorf("dependencies (-want +got):\n%s", diff)
		}
		if err := img.Verify(); err != nil {
			t.Errorf("Verify: %v", err)
		}
	})
}

func mustParse(t *testing.T, b []byte) *Image {
	t.Helper()
	img, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func tlvTypes(tlvs []TLV) []string {
	var names []string
	for _, t := range tlvs {
		names = append(names, TLVName(t.Type))
	}
	return names
}

// firstDiff describes where two byte slices first differ.
func firstDiff(got, want []byte) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at offset %#x: got %#02x, want %#02x", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths differ: got %d, want %d", len(got), len(want))
}
