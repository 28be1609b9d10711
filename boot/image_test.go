package boot

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// TestImageEndOfRealImages checks the image extent and the test validator
// against the shared images: unpadded files end exactly at their TLV area,
// and the SHA-256 each validates against is the manifest's hash.
func TestImageEndOfRealImages(t *testing.T) {
	cases := []struct {
		file string
		hash string
	}{
		{"hashonly_1k_v1.0.0.bin", "d52fa69716d606f1f87d3526cdc6c2ff13c883189f60f291b3a7414e94956e47"},
		{"hashonly_12345B_v2.0.0.bin", "065239992a4b732094565c9c9ad5fdc1366d1ba1d8de2655555677b7d09c961e"},
		{"hashonly_10k_v1.2.3+4_dep.bin", "7c54e2cee6334da169c539e3634dc417f44d11f65c33538d8bee4e6dc45a5d55"},
		{"ecp256_20k_v2.0.0_seccnt_dep.bin", "73017a4a27b2e651a21f5cbfc66d0a2ef72c52ed415b7bc2e1b89ef4415fbd7d"},
		{"rsa2048_100k_v1.0.0.bin", "badf06260503063bfecd1c4d5f5b422e68e756aef7d89b248a0cdd78b5b10fcd"},
	}
	for _, c := range cases {
		img := readFile(t, c.file)
		end, ok := imageEnd(img)
		if !ok || end != len(img) {
			t.Errorf("%s: imageEnd = %d, %v; want %d, true", c.file, end, ok, len(img))
		}
		if err := validateSHA256(img); err != nil {
			t.Errorf("%s: test validator: %v", c.file, err)
		}
		le := binary.LittleEndian
		signed := int(le.Uint16(img[8:])) + int(le.Uint16(img[10:])) + int(le.Uint32(img[12:]))
		if got := sha256.Sum256(img[:signed]); hex.EncodeToString(got[:]) != c.hash {
			t.Errorf("%s: hash of signed part = %x, manifest says %s", c.file, got, c.hash)
		}
	}
}

func TestImageEndPadded(t *testing.T) {
	img := readFile(t, "ecp256_1k_v1.0.0_pad.bin")
	end, ok := imageEnd(img)
	if !ok || end <= 0x200+1024 || end >= len(img)-48 {
		t.Errorf("padded image: imageEnd = %d, %v; want just past the 1 KiB payload and TLVs", end, ok)
	}
}

func TestImageEndCorrupt(t *testing.T) {
	for _, f := range []string{
		"corrupt/rsa2048_100k_bad_magic.bin",
		"corrupt/rsa2048_100k_truncated_mid_payload.bin",
		"corrupt/rsa2048_100k_truncated_tlv.bin",
	} {
		if end, ok := imageEnd(readFile(t, f)); ok {
			t.Errorf("%s: imageEnd = %d, true; want false", f, end)
		}
	}
	if err := validateSHA256(readFile(t, "corrupt/rsa2048_100k_flipped_payload_byte.bin")); err == nil {
		t.Errorf("flipped payload byte: test validator accepted it")
	}
}

func FuzzImageEnd(f *testing.F) {
	f.Add(synthImage(1024, 1, 1))
	f.Add(make([]byte, 40))
	f.Fuzz(func(t *testing.T, b []byte) {
		end, ok := imageEnd(b)
		if ok && (end < headerLen+4 || end > len(b)) {
			t.Errorf("imageEnd = %d for %d bytes", end, len(b))
		}
	})
}
