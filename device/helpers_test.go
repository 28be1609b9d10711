package device_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/server"
)

// Reference images (shared/testdata/mcuboot) and their values from its
// MANIFEST.md: file size, SMP version text (build shown only when not 0) and
// the SHA256 TLV that an image list reports as "hash".
type refImage struct {
	file    string
	size    int
	version string
	hash    string
}

var (
	img1k = refImage{"hashonly_1k_v1.0.0.bin", 1576, "1.0.0",
		"d52fa69716d606f1f87d3526cdc6c2ff13c883189f60f291b3a7414e94956e47"}
	img12345 = refImage{"hashonly_12345B_v2.0.0.bin", 12897, "2.0.0",
		"065239992a4b732094565c9c9ad5fdc1366d1ba1d8de2655555677b7d09c961e"}
	img100k = refImage{"hashonly_100k_v1.2.3+4.bin", 102952, "1.2.3.4",
		"32228272479c517944477e354fce04e17329a6f1f6c5bdb330ac0260169b0bdd"}
)

// trailerLen is the MCUboot trailer with BOOT_MAX_ALIGN 8 (reference §6.1):
// swap_size, swap_info, copy_done and image_ok of 8 bytes each, then the
// 16-byte magic. An image may use the rest of a slot.
const trailerLen = 48

// Header byte 0 of requests: (version << 3) | op (reference §1.1).
const (
	v1Read  = 0x00
	v1Write = 0x02
	v2Read  = 0x08
	v2Write = 0x0a
)

// Groups and commands (reference §1.3, §2, §3).
const (
	groupOS    = 0
	groupImage = 1

	idEcho       = 0
	idReset      = 5
	idParams     = 6
	idInfo       = 7
	idBootloader = 8
	idState      = 0
	idUpload     = 1
	idErase      = 5
	idSlotInfo   = 6
)

func (r refImage) bytes(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "testdata", "mcuboot", r.file))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != r.size {
		t.Fatalf("%s: %d bytes, MANIFEST.md says %d", r.file, len(b), r.size)
	}
	return b
}

// sha is the upload "sha": SHA-256 of the whole file (reference §3.3).
func (r refImage) sha(t testing.TB) []byte {
	sum := sha256.Sum256(r.bytes(t))
	return sum[:]
}

func (r refImage) tlvHash(t testing.TB) []byte { return unhex(t, r.hash) }

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// rig is one emulated device answering raw SMP packets through a Mux.
type rig struct {
	t   testing.TB
	cfg device.Config
	dev *device.Device
	mux *server.Mux
	seq uint8
}

// newRig opens a device in a fresh directory (unless cfg names one) and
// registers its commands. Slots default to 64 KiB to keep tests fast.
func newRig(t testing.TB, cfg device.Config) *rig {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.SlotSize == 0 {
		cfg.SlotSize = 64 << 10
	}
	r := &rig{t: t, cfg: cfg, seq: 0x40}
	r.open()
	t.Cleanup(func() { r.close() })
	return r
}

func (r *rig) open() {
	r.t.Helper()
	dev, err := device.Open(r.cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.dev, r.mux = dev, server.NewMux()
	dev.Register(r.mux)
}

// close closes the device's flash; a rig closed twice closes once.
func (r *rig) close() {
	if r.dev == nil {
		return
	}
	if err := r.dev.Close(); err != nil {
		r.t.Error(err)
	}
	r.dev = nil
}

// restart closes the device and opens the same directory again, as a power
// cycle does.
func (r *rig) restart() {
	r.t.Helper()
	r.close()
	r.open()
}

// provision writes ref into the empty primary slot.
func (r *rig) provision(ref refImage) {
	r.t.Helper()
	if err := r.dev.Provision(ref.bytes(r.t)); err != nil {
		r.t.Fatal(err)
	}
}

// answer sends one request with the next sequence number and returns the
// response and the functions to run once it is sent.
func (r *rig) answer(b0 byte, group uint16, id byte, body []byte) (resp []byte, seq uint8, after []func()) {
	r.seq++
	resp, after = r.mux.Answer(r.t.Context(), packet(b0, group, r.seq, id, body))
	return resp, r.seq, after
}

// expect sends a request, runs what follows the reply, and checks the whole
// response packet: byte 0 = request byte 0 + 1 (op+1, same version), the
// length, group, echoed sequence number and command, then want as the body.
func (r *rig) expect(b0 byte, group uint16, id byte, body, want []byte) {
	r.t.Helper()
	got, seq, after := r.answer(b0, group, id, body)
	for _, f := range after {
		f()
	}
	if w := packet(b0+1, group, seq, id, want); !equalHex(got, w) {
		r.t.Fatalf("request %x\n got %x\nwant %x", packet(b0, group, seq, id, body), got, w)
	}
}

// state reads the image list and checks it.
func (r *rig) state(want []byte) {
	r.t.Helper()
	r.expect(v2Read, groupImage, idState, mapDef(), want)
}

// upload sends data from off 0 in chunks of n bytes (the first carrying len
// and sha) and checks every reply, the last with "match": true.
func (r *rig) upload(ref refImage, n int) {
	r.t.Helper()
	file := ref.bytes(r.t)
	r.expect(v2Write, groupImage, idUpload, firstChunk(len(file), ref.sha(r.t), file[:n]), offRsp(n))
	for off := n; off < len(file); off += n {
		end := min(off+n, len(file))
		want := offRsp(end)
		if end == len(file) {
			want = offMatchRsp(end, true)
		}
		r.expect(v2Write, groupImage, idUpload, chunk(off, file[off:end]), want)
	}
}

// staged reads n bytes of the secondary slot.
func (r *rig) staged(n int) []byte {
	r.t.Helper()
	b := make([]byte, n)
	if _, err := r.dev.ReadStaged(b, 0); err != nil {
		r.t.Fatal(err)
	}
	return b
}

func equalHex(a, b []byte) bool { return bytes.Equal(a, b) }

// packet builds an SMP packet (reference §1.1): byte 0, flags 0, length,
// group, sequence number and command id, big-endian, then the body.
func packet(b0 byte, group uint16, seq uint8, id byte, body []byte) []byte {
	p := []byte{b0, 0}
	p = binary.BigEndian.AppendUint16(p, uint16(len(body)))
	p = binary.BigEndian.AppendUint16(p, group)
	p = append(p, seq, id)
	return append(p, body...)
}
