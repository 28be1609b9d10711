package client

import (
	"errors"
	"testing"

	"github.com/fotasync/fotasync/smp"
)

// FuzzUploadReplies answers every chunk after the first with the same
// arbitrary body. Whatever the body, the upload must end by itself: no panic,
// no endless sending, no wait that nothing ends.
func FuzzUploadReplies(f *testing.F) {
	for _, body := range []string{
		"bf636f6666190136ff",                 // {"off":310}: the device is stuck
		"a1636f666619012c",                   // {"off":300}: behind the chunk
		"a1636f66661903e8",                   // {"off":1000}: the end
		"a0",                                 // {}
		"a1627263" + "03",                    // {"rc":3}
		"a163657272a26567726f75700162726302", // err{1,2}
		"a2636f66661903e8656d61746368f4",     // {"off":1000,"match":false}
		"",
	} {
		f.Add(mustHex(f, body))
	}
	img := testImage(1000, 15)
	f.Fuzz(func(t *testing.T, body []byte) {
		d := newDevice()
		s := newSim(t, func(p smp.Packet) []reply {
			var req smp.UploadRequest
			if p.Group == smp.GroupImage && p.ID == smp.ImageUpload && smp.Unmarshal(p.Body, &req) == nil && req.Off > 0 {
				return asap(rawReply(p, p.Version, smp.OpWriteRsp, body))
			}
			return d.serve(p)
		})
		s.maxSends = 500
		c := New(s, Options{Clock: s})
		_, err := c.Upload(t.Context(), img, UploadOptions{Window: 3})
		if errors.Is(err, errTooManySends) || errors.Is(err, errStuck) {
			t.Fatalf("Upload did not end by itself: %v", err)
		}
	})
}
