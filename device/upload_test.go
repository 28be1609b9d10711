package device_test

import (
	"bytes"
	"testing"

	"github.com/fotasync/fotasync/device"
)

// uploadSlot holds the 100 KiB reference image with room to spare.
const uploadSlot = 128 << 10

// TestUploadSession replays TV4's sequence with a real reference image, then
// completes the upload: the reply "off" is the next byte wanted, a wrong
// offset is answered with success and the expected offset, an identical first
// chunk resumes, a first chunk without sha restarts on an erased slot.
func TestUploadSession(t *testing.T) {
	r := newRig(t, device.Config{SlotSize: uploadSlot})
	ref := img100k
	file, sha := ref.bytes(t), ref.sha(t)
	first := firstChunk(len(file), sha, file[:32])

	r.expect(v2Write, groupImage, idUpload, first, offRsp(32))
	r.expect(v2Write, groupImage, idUpload, chunk(32, file[32:64]), offRsp(64))
	r.expect(v2Write, groupImage, idUpload, chunk(200, file[200:232]), offRsp(64)) // dropped
	if got := r.staged(96)[64:]; !bytes.Equal(got, bytes.Repeat([]byte{0xff}, 32)) {
		t.Fatalf("data of the wrong-offset chunk reached flash: %x", got)
	}
	r.expect(v2Write, groupImage, idUpload, first, offRsp(64)) // resume: data ignored
	if got := r.staged(64); !bytes.Equal(got, file[:64]) {
		t.Fatalf("after resume, slot starts %x, want the file's first 64 bytes", got)
	}

	// Restart without sha: a new session on a re-erased slot.
	noSHA := mapDef(tstr("image"), uintc(0), tstr("len"), uintc(len(file)), tstr("off"), uintc(0),
		tstr("data"), bstr(file[:32]))
	r.expect(v2Write, groupImage, idUpload, noSHA, offRsp(32))
	if got, want := r.staged(64), append(bytes.Clone(file[:32]), bytes.Repeat([]byte{0xff}, 32)...); !bytes.Equal(got, want) {
		t.Fatalf("after restart, slot starts %x, want %x", got, want)
	}
	// The same later chunk in a v1 header gets a v1 reply (TV4).
	r.expect(v1Write, groupImage, idUpload, chunk(32, file[32:64]), offRsp(64))

	// The first chunk with sha again: the stored session has no sha, so it
	// starts over, and completing it checks the file against sha.
	r.expect(v2Write, groupImage, idUpload, first, offRsp(32))
	const n = 2000
	for off := 32; off < len(file); off += n {
		end := min(off+n, len(file))
		want := offRsp(end)
		if end == len(file) {
			want = offMatchRsp(end, true)
		}
		r.expect(v2Write, groupImage, idUpload, chunk(off, file[off:end]), want)
	}
	if got := r.staged(len(file)); !bytes.Equal(got, file) {
		t.Fatal("secondary slot does not hold the uploaded file")
	}
	// The completed session is over: a later chunk is told to start at 0.
	r.expect(v2Write, groupImage, idUpload, chunk(64, file[64:96]), offRsp(0))
}

// TestUploadErrors checks the first-chunk checks in Zephyr's order
// (reference §3.3, §1.7) and that every error ends the session: a later chunk
// is told to start at 0, and the same first chunk starts over.
func TestUploadErrors(t *testing.T) {
	ref := img12345
	file, sha := ref.bytes(t), ref.sha(t)
	limit := 64 << 10 // the slot: reference §3.3, len ≤ slot size (a padded image fills it)
	k := func(key string, v []byte) [2][]byte { return [2][]byte{tstr(key), v} }
	req := func(fields ...[2][]byte) []byte {
		var kv [][]byte
		for _, f := range fields {
			kv = append(kv, f[0], f[1])
		}
		return mapDef(kv...)
	}
	off0, data := k("off", uintc(0)), k("data", bstr(file[:32]))
	length, withSHA := k("len", uintc(len(file))), k("sha", bstr(sha))
	tests := []struct {
		name string
		body []byte
		rc   int
	}{
		{"missing len", req(off0, withSHA, data), 21},
		{"missing off", req(length, withSHA, data), 20},
		{"zeroed header", req(length, off0, withSHA, k("data", bstr(make([]byte, 32)))), 23},
		{"first chunk of 31 bytes", req(length, off0, withSHA, k("data", bstr(file[:31]))), 22},
		{"sha of 33 bytes", req(length, off0, k("sha", bstr(append(bytes.Clone(sha), 0))), data), 24},
		// Without sha: the same sha would resume the session before these checks.
		{"image 1", req(k("image", uintc(1)), length, off0, data), 9},
		{"len beyond the slot (B04)", req(k("len", uintc(limit+1)), off0, data), 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, device.Config{})
			r.expect(v2Write, groupImage, idUpload, firstChunk(len(file), sha, file[:32]), offRsp(32))
			r.expect(v2Write, groupImage, idUpload, tt.body, imgErr(tt.rc))
			r.expect(v2Write, groupImage, idUpload, chunk(32, file[32:64]), offRsp(0))
			r.expect(v2Write, groupImage, idUpload, firstChunk(len(file), sha, file[:32]), offRsp(32))
		})
	}
}

// TestUploadLenAtSlotLimit: a file that fills the slot, trailer included, is
// accepted; one byte more is refused with an answer, not silence (B04).
func TestUploadLenAtSlotLimit(t *testing.T) {
	r := newRig(t, device.Config{})
	file := img12345.bytes(t)
	limit := 64 << 10 // the slot: reference §3.3, len ≤ slot size (a padded image fills it)
	r.expect(v2Write, groupImage, idUpload, firstChunk(limit, nil, file[:32]), offRsp(32))
	r.expect(v2Write, groupImage, idUpload, firstChunk(limit+1, nil, file[:32]), imgErr(30))
}

// TestUploadOverrun: a later chunk running past len is INVALID_IMAGE_DATA_OVERRUN
// and ends the session (reference §3.3).
func TestUploadOverrun(t *testing.T) {
	r := newRig(t, device.Config{})
	ref := img1k
	file, sha := ref.bytes(t), ref.sha(t)
	r.expect(v2Write, groupImage, idUpload, firstChunk(len(file), sha, file[:32]), offRsp(32))
	r.expect(v2Write, groupImage, idUpload, chunk(32, append(bytes.Clone(file[32:]), 0)), imgErr(31))
	r.expect(v2Write, groupImage, idUpload, chunk(32, file[32:64]), offRsp(0))
}

// TestUploadErrorV1 replays TV6's missing-len case with a v1 header: the
// translated rc with the verbose reason.
func TestUploadErrorV1(t *testing.T) {
	r := newRig(t, device.Config{})
	file := img12345.bytes(t)
	body := mapDef(tstr("image"), uintc(0), tstr("off"), uintc(0), tstr("sha"), bstr(img12345.sha(t)),
		tstr("data"), bstr(file[:32]))
	got, _ := r.mux.Answer(t.Context(), packet(v1Write, groupImage, 0x6b, idUpload, body))
	want := unhex(t, "0300001b00016b01bf627263036372736e70686561646572206d616c666f726d6564ff")
	if !equalHex(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
}

// TestUploadWrongSHA: a complete upload whose sha is not the file's ends
// with "match": false.
func TestUploadWrongSHA(t *testing.T) {
	r := newRig(t, device.Config{})
	file := img1k.bytes(t)
	r.expect(v2Write, groupImage, idUpload, firstChunk(len(file), img12345.sha(t), file[:512]), offRsp(512))
	r.expect(v2Write, groupImage, idUpload, chunk(512, file[512:]), offMatchRsp(len(file), false))
}

// TestEraseEndsSession: after an erase, the same first chunk starts from 0
// on an erased slot instead of resuming into it (field case B02).
func TestEraseEndsSession(t *testing.T) {
	r := newRig(t, device.Config{})
	ref := img12345
	file, sha := ref.bytes(t), ref.sha(t)
	r.expect(v2Write, groupImage, idUpload, firstChunk(len(file), sha, file[:32]), offRsp(32))
	r.expect(v2Write, groupImage, idUpload, chunk(32, file[32:64]), offRsp(64))

	r.expect(v2Write, groupImage, idErase, mapDef(tstr("slot"), uintc(1)), imap())
	if got := r.staged(64); !bytes.Equal(got, bytes.Repeat([]byte{0xff}, 64)) {
		t.Fatalf("slot after erase starts %x, want erased", got)
	}
	r.expect(v2Write, groupImage, idUpload, firstChunk(len(file), sha, file[:32]), offRsp(32))
	r.expect(v2Write, groupImage, idUpload, chunk(32, file[32:64]), offRsp(64))

	// Erase without "slot" erases the slot that is not running.
	r.expect(v2Write, groupImage, idErase, mapDef(), imap())
	r.expect(v2Write, groupImage, idUpload, chunk(64, file[64:96]), offRsp(0))
	if got := r.staged(64); !bytes.Equal(got, bytes.Repeat([]byte{0xff}, 64)) {
		t.Fatalf("slot after default erase starts %x, want erased", got)
	}
}

// TestUploadPartialWriteBlock: with 8-byte flash writes, the bytes past the
// last whole block wait in RAM and are written when a later chunk completes
// the block, so odd chunk sizes still stage the exact file.
func TestUploadPartialWriteBlock(t *testing.T) {
	r := newRig(t, device.Config{WriteAlign: 8})
	ref := img12345
	file, sha := ref.bytes(t), ref.sha(t)
	erased := func(b []byte) bool { return bytes.Equal(b, bytes.Repeat([]byte{0xff}, len(b))) }

	r.expect(v2Write, groupImage, idUpload, firstChunk(len(file), sha, file[:37]), offRsp(37))
	if n, _ := r.dev.Staged(); n != 32 {
		t.Errorf("staged after 37 bytes = %d, want 32", n)
	}
	if got := r.staged(40); !bytes.Equal(got[:32], file[:32]) || !erased(got[32:]) {
		t.Fatalf("flash after 37 bytes = %x, want 32 file bytes then erased", got)
	}
	r.expect(v2Write, groupImage, idUpload, chunk(37, file[37:50]), offRsp(50))
	if n, _ := r.dev.Staged(); n != 48 {
		t.Errorf("staged after 50 bytes = %d, want 48", n)
	}
	if got := r.staged(56); !bytes.Equal(got[:48], file[:48]) || !erased(got[48:]) {
		t.Fatalf("flash after 50 bytes = %x, want 48 file bytes then erased", got)
	}
	sizes := []int{101, 7, 1, 999, 333, 3}
	for off, i := 50, 0; off < len(file); i++ {
		end := min(off+sizes[i%len(sizes)], len(file))
		want := offRsp(end)
		if end == len(file) {
			want = offMatchRsp(end, true)
		}
		r.expect(v2Write, groupImage, idUpload, chunk(off, file[off:end]), want)
		off = end
	}
	if got := r.staged(len(file) + 7); !bytes.Equal(got[:len(file)], file) || !erased(got[len(file):]) {
		t.Fatal("secondary slot does not hold exactly the uploaded file")
	}
}
