package smp

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// FuzzDecode checks that every packet that decodes re-encodes to the same
// bytes, and that no body makes the decoders panic.
func FuzzDecode(f *testing.F) {
	for _, v := range []string{tv1Request, tv2Request, tv2Response, tv3Serial, tv4First, tv5Request,
		tv5Response, tv6V2, tv6MissingV1, tv7Response, tv8Request} {
		b, err := hex.DecodeString(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		again, err := p.Bytes()
		if err != nil {
			t.Fatalf("Bytes after a successful Decode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %x, want %x", again, b)
		}
		_ = StatusError(p.Body)
		var state ImageStateResponse
		if Unmarshal(p.Body, &state) == nil {
			if _, err := MarshalIndefinite(state); err != nil {
				t.Fatalf("MarshalIndefinite of a decoded state: %v", err)
			}
		}
		var up UploadRequest
		_ = Unmarshal(p.Body, &up)
	})
}
