package boot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/fotasync/fotasync/flash"
)

const testdata = "../../shared/testdata/mcuboot/"

// slotGeo is a small slot: 8 sectors of 4 KiB, programmed in 8-byte units.
var slotGeo = flash.Geometry{Size: 8 * 4096, SectorSize: 4096, WriteAlign: 8}

// tempDir returns a new directory for device files. It prefers tmpfs
// (/dev/shm), where the fsync after every flash operation costs nothing, so
// that tests enumerating thousands of power cuts stay fast; results do not
// depend on where the files live.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "boottest")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// statusGeo is the default status area: one 4 KiB sector.
var statusGeo = flash.Geometry{Size: 4096, SectorSize: 4096, WriteAlign: 8}

// openLoader opens a device's four areas in dir, through pc when it is not nil.
func openLoader(t *testing.T, dir string, slot flash.Geometry, pc *flash.PowerCut) *Loader {
	t.Helper()
	return openLoaderWith(t, dir, slot, statusGeo, pc)
}

// openLoaderWith is openLoader with a status area of the given geometry.
func openLoaderWith(t *testing.T, dir string, slot, status flash.Geometry, pc *flash.PowerCut) *Loader {
	t.Helper()
	open := flash.Open
	if pc != nil {
		open = pc.Open
	}
	areas := make([]*flash.Area, 4)
	scratch := flash.Geometry{Size: slot.SectorSize, SectorSize: slot.SectorSize, WriteAlign: 8}
	geos := []flash.Geometry{slot, slot, scratch, status}
	for i, name := range []string{"primary.bin", "secondary.bin", "scratch.bin", "status.bin"} {
		a, err := open(filepath.Join(dir, name), geos[i])
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		t.Cleanup(func() { a.Close() })
		areas[i] = a
	}
	return &Loader{
		Slots:    Slots{Primary: areas[0], Secondary: areas[1]},
		Scratch:  areas[2],
		Status:   areas[3],
		Validate: validateSHA256,
	}
}

// closeLoader closes the loader's areas, as a reset does.
func closeLoader(l *Loader) {
	for _, a := range []*flash.Area{l.Primary, l.Secondary, l.Scratch, l.Status} {
		a.Close()
	}
}

// validateSHA256 is a test validator for hash-only images: the SHA-256 TLV
// of the unprotected area must match header, body and protected TLVs.
func validateSHA256(slot []byte) error {
	end, ok := imageEnd(slot)
	if !ok {
		return errors.New("test validator: no image")
	}
	le := binary.LittleEndian
	signed := int(le.Uint16(slot[8:])) + int(le.Uint32(slot[12:])) + int(le.Uint16(slot[10:]))
	digest := sha256.Sum256(slot[:signed])
	for off := signed + 4; off+4 <= end; {
		typ, n := le.Uint16(slot[off:]), int(le.Uint16(slot[off+2:]))
		if typ == 0x10 && n == 32 && off+4+n <= end {
			if !bytes.Equal(slot[off+4:off+4+n], digest[:]) {
				return errors.New("test validator: hash mismatch")
			}
			return nil
		}
		off += 4 + n
	}
	return errors.New("test validator: no SHA-256 TLV")
}

// readFile reads a shared test image.
func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testdata + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// synthImage builds a hash-only image of total bytes (header 0x200, seeded
// body, one SHA-256 TLV), versioned by major.
func synthImage(total int, major byte, seed uint64) []byte {
	const hdr, tlvs = 0x200, 4 + 4 + 32
	img := make([]byte, total)
	le := binary.LittleEndian
	le.PutUint32(img, imageMagic)
	le.PutUint16(img[8:], hdr)
	le.PutUint32(img[12:], uint32(total-hdr-tlvs))
	img[20] = major
	r := rand.New(rand.NewPCG(seed, 0))
	for i := hdr; i < total-tlvs; i++ {
		img[i] = byte(r.Uint32())
	}
	info := img[total-tlvs:]
	le.PutUint16(info, tlvInfoMagic)
	le.PutUint16(info[2:], tlvs)
	le.PutUint16(info[4:], 0x10)
	le.PutUint16(info[6:], 32)
	digest := sha256.Sum256(img[:total-tlvs])
	copy(info[8:], digest[:])
	return img
}

// install writes an image at the start of a slot, padded to the write alignment.
func install(t *testing.T, a *flash.Area, img []byte) {
	t.Helper()
	w := a.Geometry().WriteAlign
	padded := append(bytes.Clone(img), bytes.Repeat([]byte{0xFF}, (w-len(img)%w)%w)...)
	if _, err := a.WriteAt(padded, 0); err != nil {
		t.Fatalf("install in %s: %v", a.Name(), err)
	}
}

// slotHas reports whether a slot starts with img.
func slotHas(t *testing.T, a *flash.Area, img []byte) bool {
	t.Helper()
	b := make([]byte, len(img))
	if _, err := a.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(b, img)
}

// tail returns the last n bytes of a slot.
func tail(t *testing.T, a *flash.Area, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := a.ReadAt(b, a.Size()-int64(n)); err != nil {
		t.Fatal(err)
	}
	return b
}

func mustBoot(t *testing.T, l *Loader) Result {
	t.Helper()
	res, err := l.Boot()
	if err != nil {
		t.Fatalf("Boot: %v", err)
	}
	return res
}
