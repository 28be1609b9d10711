package mcuboot

import (
	"crypto"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// sharedDir holds the shared reference images (see its MANIFEST.md).
const sharedDir = "../../shared/testdata"

// slotSize is the -S value every reference image was signed with.
const slotSize = 0x60000

// manifestPayload regenerates a reference payload: the first n bytes of
// SHA256(seed||u32le(0)) || SHA256(seed||u32le(1)) || ...
func manifestPayload(seed string, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	for i := uint32(0); len(out) < n; i++ {
		h := sha256.New()
		h.Write([]byte(seed))
		h.Write(binary.LittleEndian.AppendUint32(nil, i))
		out = h.Sum(out)
	}
	return out[:n]
}

// refImage is one row of testdata/mcuboot/MANIFEST.md.
type refImage struct {
	file    string
	size    int
	n       int // payload bytes
	seed    string
	version Version
	key     string // key file stem in keys/, "" for hash-only
	align   int
	pad     bool // padded to the slot
	confirm bool
	seccnt  bool         // -s auto
	deps    []Dependency // -d
	hash    string
}

var refImages = []refImage{
	{file: "hashonly_1k_v1.0.0.bin", size: 1576, n: 1024, seed: "s-hash-1k", version: Version{1, 0, 0, 0},
		align: 4, hash: "d52fa69716d606f1f87d3526cdc6c2ff13c883189f60f291b3a7414e94956e47"},
	{file: "hashonly_100k_v1.2.3+4.bin", size: 102952, n: 102400, seed: "s-hash-100k", version: Version{1, 2, 3, 4},
		align: 4, hash: "32228272479c517944477e354fce04e17329a6f1f6c5bdb330ac0260169b0bdd"},
	{file: "hashonly_12345B_v2.0.0.bin", size: 12897, n: 12345, seed: "s-hash-12345", version: Version{2, 0, 0, 0},
		align: 4, hash: "065239992a4b732094565c9c9ad5fdc1366d1ba1d8de2655555677b7d09c961e"},
	{file: "rsa2048_100k_v1.0.0.bin", size: 103248, n: 102400, seed: "s-rsa-100k", version: Version{1, 0, 0, 0},
		key: "root-rsa-2048", align: 4, hash: "badf06260503063bfecd1c4d5f5b422e68e756aef7d89b248a0cdd78b5b10fcd"},
	{file: "ecp256_300k_v1.2.3+4.bin", size: 307863, n: 307200, seed: "s-ec-300k", version: Version{1, 2, 3, 4},
		key: "root-ec-p256", align: 4, hash: "f4c30e3987ac5034f37cc4853827ffc6e824ea7ccca7a49394c578cf9687068b"},
	{file: "ed25519_100k_v2.0.0.bin", size: 103056, n: 102400, seed: "s-ed-100k", version: Version{2, 0, 0, 0},
		key: "root-ed25519", align: 4, hash: "af453e6ca63e7d792538168271be23ff6343e6bcb88901f2e286769701847877"},
	{file: "ecp256_1k_v1.0.0_pad.bin", size: slotSize, n: 1024, seed: "s-ec-1k", version: Version{1, 0, 0, 0},
		key: "root-ec-p256", align: 4, pad: true,
		hash: "bb0e3fec0ebbcfe12e9d435b62e546810b1dd879c95c90c63255408078856cca"},
	{file: "ed25519_4097B_v1.2.3+4_confirm_align8.bin", size: slotSize, n: 4097, seed: "s-ed-4097",
		version: Version{1, 2, 3, 4}, key: "root-ed25519", align: 8, pad: true, confirm: true,
		hash: "6e8fd77590d9897d5b85bf27f924b7481b52e2bd7893dee06f3d054a9a3b5b31"},
	{file: "rsa2048_10k_v2.0.0_test.bin", size: slotSize, n: 10240, seed: "s-rsa-10k", version: Version{2, 0, 0, 0},
		key: "root-rsa-2048", align: 4, pad: true,
		hash: "ec868fe282259a1d72cb15151f73daf7a077655575f55ed87176bb66505a7d2e"},
	{file: "hashonly_10k_v1.2.3+4_dep.bin", size: 10812, n: 10240, seed: "s-hash-dep", version: Version{1, 2, 3, 4},
		align: 4, deps: []Dependency{{ImageID: 1, Version: Version{2, 0, 0, 0}}},
		hash: "7c54e2cee6334da169c539e3634dc417f44d11f65c33538d8bee4e6dc45a5d55"},
	{file: "ecp256_20k_v2.0.0_seccnt_dep.bin", size: 21171, n: 20480, seed: "s-ec-sc", version: Version{2, 0, 0, 0},
		key: "root-ec-p256", align: 4, seccnt: true, deps: []Dependency{{ImageID: 1, Version: Version{1, 2, 3, 4}}},
		hash: "73017a4a27b2e651a21f5cbfc66d0a2ef72c52ed415b7bc2e1b89ef4415fbd7d"},
	{file: "hashonly_100k_v2.0.0_samepayload.bin", size: 102952, n: 102400, seed: "s-hash-100k",
		version: Version{2, 0, 0, 0}, align: 4,
		hash: "866f6f5996e54061342a219ff826f6b6915bed3fe33525758ed62e651e99f96d"},
}

// options returns the BuildOptions that match the row's imgtool command,
// signing with signer.
func (r refImage) options(signer crypto.Signer) BuildOptions {
	o := BuildOptions{
		Version:      r.version,
		HeaderSize:   0x200,
		Align:        r.align,
		SlotSize:     slotSize,
		Pad:          r.pad,
		Confirm:      r.confirm,
		Signer:       signer,
		Dependencies: r.deps,
	}
	if r.seccnt {
		c := r.version.SecurityCounter()
		o.SecurityCounter = &c
	}
	return o
}

func readShared(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{sharedDir}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readRef(t testing.TB, file string) []byte {
	t.Helper()
	return readShared(t, "mcuboot", file)
}

func refKey(t testing.TB, stem string) crypto.PublicKey {
	t.Helper()
	k, err := ParsePublicKeyPEM(readShared(t, "mcuboot", "keys", stem+".pub.pem"))
	if err != nil {
		t.Fatalf("key %s: %v", stem, err)
	}
	return k
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
