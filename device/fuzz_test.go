package device_test

import (
	"testing"

	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/smp"
)

// FuzzImageCommands sends arbitrary bodies to the upload, state write and
// erase commands of one device. Every request gets one reply whose body is a
// map reporting either success ("off" for an upload) or an error; the device
// never stops answering.
func FuzzImageCommands(f *testing.F) {
	file := img1k.bytes(f)
	seeds := []struct {
		id   byte
		body []byte
	}{
		{idUpload, firstChunk(len(file), img1k.sha(f), file[:64])},
		{idUpload, chunk(64, file[64:128])},
		{idUpload, mapDef(tstr("off"), uintc(0), tstr("data"), bstr(file[:31]))},
		{idState, testReq(img1k.tlvHash(f))},
		{idState, confirmReq},
		{idErase, eraseReq(1)},
		{idUpload, []byte{0xbf, 0x63, 'o', 'f', 'f', 0x00, 0xff}},
	}
	for _, s := range seeds {
		f.Add(s.id, s.body)
	}
	r := newRig(f, device.Config{})
	r.provision(img12345)
	f.Fuzz(func(t *testing.T, id byte, body []byte) {
		id = []byte{idState, idUpload, idErase}[id%3]
		got, after := r.mux.Answer(t.Context(), packet(v2Write, groupImage, 1, id, body))
		if len(after) != 0 {
			t.Fatalf("image command %d asked for work after its reply", id)
		}
		p, err := smp.Decode(got)
		if err != nil {
			t.Fatalf("reply %x: %v", got, err)
		}
		var reply struct {
			Off *uint32        `cbor:"off"`
			Err map[string]any `cbor:"err"`
			RC  *int           `cbor:"rc"`
		}
		if err := smp.Unmarshal(p.Body, &reply); err != nil {
			t.Fatalf("reply body %x: %v", p.Body, err)
		}
		failed := reply.Err != nil || reply.RC != nil
		if id == idUpload && (reply.Off != nil) == failed {
			t.Fatalf("upload reply %x has neither off nor an error, or both", p.Body)
		}
	})
}
