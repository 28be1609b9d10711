package device_test

import (
	"bytes"
	"testing"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/device"
)

// Image state write bodies (reference §3.2).
func testReq(hash []byte) []byte {
	return mapDef(tstr("hash"), bstr(hash), tstr("confirm"), boolc(false))
}

func permReq(hash []byte) []byte {
	return mapDef(tstr("hash"), bstr(hash), tstr("confirm"), boolc(true))
}

var confirmReq = mapDef(tstr("confirm"), boolc(true))

func eraseReq(slot int) []byte { return mapDef(tstr("slot"), uintc(slot)) }

// stagedRig returns a device running the 1k image with the 12345-byte image
// uploaded over SMP into slot 1.
func stagedRig(t *testing.T) *rig {
	r := newRig(t, device.Config{})
	r.provision(img1k)
	r.upload(img12345, 1000)
	return r
}

// reset sends TV8's reset and lets the device reboot after the reply.
func (r *rig) reset() {
	r.t.Helper()
	r.expect(v2Write, groupOS, idReset, mapDef(), imap())
}

// booted checks the swap the last boot carried out.
func (r *rig) booted(want boot.SwapType) {
	r.t.Helper()
	if got := r.dev.Booted().Swap; got != want {
		r.t.Errorf("last boot: swap %v, want %v", got, want)
	}
}

// TestTestSwapConfirm follows the observed sequence of reference §3.1: after
// upload slot 1 has no flags; after test it is pending; after the reset the
// new image runs unconfirmed and the old one is the confirmed fallback; after
// confirm the new image is active and confirmed, and stays.
func TestTestSwapConfirm(t *testing.T) {
	r := stagedRig(t)
	oldHash, newHash := img1k.tlvHash(t), img12345.tlvHash(t)
	r.state(stateRsp(img1k.entry(t, 0, running), img12345.entry(t, 1, idle)))

	r.expect(v2Write, groupImage, idState, testReq(newHash),
		stateRsp(img1k.entry(t, 0, running), img12345.entry(t, 1, tested)))
	// Testing the slot already under test is a no-op.
	r.expect(v2Write, groupImage, idState, testReq(newHash),
		stateRsp(img1k.entry(t, 0, running), img12345.entry(t, 1, tested)))

	// Requests refused while the test is pending.
	r.expect(v2Write, groupImage, idState, testReq(oldHash), imgErr(33))
	r.expect(v2Write, groupImage, idState, testReq(newHash[:31]), imgErr(24))
	r.expect(v2Write, groupImage, idState, testReq(bytes.Repeat([]byte{0x5a}, 32)), imgErr(8))
	r.expect(v2Write, groupImage, idState, mapDef(tstr("confirm"), boolc(false)), imgErr(24))
	r.expect(v2Write, groupImage, idState, confirmReq, imgErr(28))
	r.expect(v2Write, groupImage, idState, permReq(newHash), imgErr(28))
	r.expect(v2Write, groupImage, idErase, eraseReq(0), imgErr(9))
	file := img1k.bytes(t)
	r.expect(v2Write, groupImage, idUpload, firstChunk(len(file), img1k.sha(t), file[:32]), imgErr(9))

	r.reset()
	r.state(stateRsp(img12345.entry(t, 0, trial), img1k.entry(t, 1, fallback)))

	r.expect(v2Write, groupImage, idState, confirmReq,
		stateRsp(img12345.entry(t, 0, running), img1k.entry(t, 1, idle)))
	r.reset()
	r.state(stateRsp(img12345.entry(t, 0, running), img1k.entry(t, 1, idle)))
}

// TestTestErrorVectors replays TV6: testing the running image is
// IMAGE_SETTING_TEST_TO_ACTIVE_DENIED in v2 and plain rc 1 in v1.
func TestTestErrorVectors(t *testing.T) {
	r := stagedRig(t)
	body := testReq(img1k.tlvHash(t))
	tests := []struct {
		b0   byte
		seq  uint8
		want string
	}{
		{v2Write, 0x29, "0b00001400012900bf63657272bf6567726f7570016272631821ffff"},
		{v1Write, 0x2a, "0300000600012a00bf62726301ff"},
	}
	for _, tt := range tests {
		got, _ := r.mux.Answer(t.Context(), packet(tt.b0, groupImage, tt.seq, idState, body))
		if want := unhex(t, tt.want); !equalHex(got, want) {
			t.Errorf("header byte 0 %#x: got %x, want %x", tt.b0, got, want)
		}
	}
}

// TestRevertWithoutConfirm: a test image that is not confirmed before the
// next reset is swapped back out; the old image runs confirmed again. While
// it runs unconfirmed, the fallback can be neither erased nor overwritten.
func TestRevertWithoutConfirm(t *testing.T) {
	r := stagedRig(t)
	oldHash, newHash := img1k.tlvHash(t), img12345.tlvHash(t)
	r.expect(v2Write, groupImage, idState, testReq(newHash),
		stateRsp(img1k.entry(t, 0, running), img12345.entry(t, 1, tested)))
	r.reset()
	r.booted(boot.SwapTest)
	revert := stateRsp(img12345.entry(t, 0, trial), img1k.entry(t, 1, fallback))
	r.state(revert)

	r.expect(v2Write, groupImage, idErase, eraseReq(1), imgErr(9))
	r.expect(v2Write, groupImage, idErase, eraseReq(0), imgErr(9))
	file := img1k.bytes(t)
	r.expect(v2Write, groupImage, idUpload, firstChunk(len(file), img1k.sha(t), file[:32]), imgErr(9))
	r.expect(v2Write, groupImage, idState, testReq(oldHash), imgErr(28))
	r.expect(v2Write, groupImage, idState, testReq(newHash), imgErr(33))
	// Confirming the fallback, which is confirmed already, changes nothing.
	r.expect(v2Write, groupImage, idState, permReq(oldHash), revert)

	r.reset()
	r.booted(boot.SwapRevert)
	r.state(stateRsp(img1k.entry(t, 0, running), img12345.entry(t, 1, idle)))
	r.reset()
	r.booted(boot.SwapNone)
	r.state(stateRsp(img1k.entry(t, 0, running), img12345.entry(t, 1, idle)))
}

// TestPermanent: confirm with the hash of slot 1 marks it pending and
// permanent; after the reset it runs confirmed without any confirm.
func TestPermanent(t *testing.T) {
	r := stagedRig(t)
	newHash := img12345.tlvHash(t)
	pending := stateRsp(img1k.entry(t, 0, running), img12345.entry(t, 1, perm))
	r.expect(v2Write, groupImage, idState, permReq(newHash), pending)
	r.expect(v2Write, groupImage, idState, permReq(newHash), pending) // no-op
	r.expect(v2Write, groupImage, idState, testReq(newHash), imgErr(28))
	r.expect(v2Write, groupImage, idState, confirmReq, imgErr(28))
	file := img1k.bytes(t)
	r.expect(v2Write, groupImage, idUpload, firstChunk(len(file), img1k.sha(t), file[:32]), imgErr(9))

	r.reset()
	r.booted(boot.SwapPerm)
	r.state(stateRsp(img12345.entry(t, 0, running), img1k.entry(t, 1, idle)))
	r.reset()
	r.booted(boot.SwapNone)
	r.state(stateRsp(img12345.entry(t, 0, running), img1k.entry(t, 1, idle)))
}

// TestErasePending: a slot waiting for a test swap may be erased (the 4.4.0
// fixture did so); it then leaves the list and nothing swaps at reset.
func TestErasePending(t *testing.T) {
	r := stagedRig(t)
	r.expect(v2Write, groupImage, idState, testReq(img12345.tlvHash(t)),
		stateRsp(img1k.entry(t, 0, running), img12345.entry(t, 1, tested)))
	r.expect(v2Write, groupImage, idErase, eraseReq(1), imap())
	only := stateRsp(img1k.entry(t, 0, running))
	r.state(only)
	r.reset()
	r.state(only)
	r.expect(v2Write, groupImage, idErase, eraseReq(0), imgErr(9))
}

// TestConfirmEmptyHash: an empty hash counts as no hash, as in Zephyr (a
// zero-length "hash" is ignored): confirm confirms the running image, test
// has nothing to test.
func TestConfirmEmptyHash(t *testing.T) {
	r := stagedRig(t)
	r.expect(v2Write, groupImage, idState, permReq(nil),
		stateRsp(img1k.entry(t, 0, running), img12345.entry(t, 1, idle)))
	r.expect(v2Write, groupImage, idState, testReq(nil), imgErr(24))
}

// TestRestartKeepsFlashNotRAM: a power cycle keeps what is in flash (image
// list, pending mark) and loses the upload session, which lives in RAM.
func TestRestartKeepsFlashNotRAM(t *testing.T) {
	r := newRig(t, device.Config{})
	r.provision(img1k)
	file, sha := img12345.bytes(t), img12345.sha(t)
	r.expect(v2Write, groupImage, idUpload, firstChunk(len(file), sha, file[:64]), offRsp(64))
	r.restart()
	r.expect(v2Write, groupImage, idUpload, chunk(64, file[64:128]), offRsp(0))

	r.upload(img12345, 4000)
	r.expect(v2Write, groupImage, idState, testReq(img12345.tlvHash(t)),
		stateRsp(img1k.entry(t, 0, running), img12345.entry(t, 1, tested)))
	r.restart() // the power-on boot performs the test swap
	r.state(stateRsp(img12345.entry(t, 0, trial), img1k.entry(t, 1, fallback)))
	r.restart() // unconfirmed: reverted
	r.state(stateRsp(img1k.entry(t, 0, running), img12345.entry(t, 1, idle)))
	r.restart()
	r.state(stateRsp(img1k.entry(t, 0, running), img12345.entry(t, 1, idle)))
}

// TestProvision: provisioning fills an empty primary only; a second image
// does not replace the first.
func TestProvision(t *testing.T) {
	r := newRig(t, device.Config{})
	r.state(stateRsp())
	r.provision(img1k)
	r.state(stateRsp(img1k.entry(t, 0, running)))
	r.provision(img12345)
	r.state(stateRsp(img1k.entry(t, 0, running)))
	r.restart()
	r.provision(img12345)
	r.state(stateRsp(img1k.entry(t, 0, running)))
}

// TestSlotInfo checks the slot info answer of reference §3.5 with the
// device's slot size, and the largest image: the slot less its trailer.
func TestSlotInfo(t *testing.T) {
	for _, size := range []int{64 << 10, 128 << 10} {
		r := newRig(t, device.Config{SlotSize: size})
		want := imap(tstr("images"), iarr(imap(
			tstr("image"), uintc(0),
			tstr("slots"), iarr(
				imap(tstr("slot"), uintc(0), tstr("size"), uintc(size)),
				imap(tstr("slot"), uintc(1), tstr("size"), uintc(size), tstr("upload_image_id"), uintc(0))),
			tstr("max_image_size"), uintc(size-trailerLen))))
		r.expect(v2Read, groupImage, idSlotInfo, mapDef(), want)
	}
}
