package smp

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Byte vectors observed on Zephyr 4.4.0 SMP servers (reference §7).
const (
	tv1Request  = "000000090000420" + "0a16164656" + "8656c6c6f"
	tv2Request  = "0a00000600000100a1616462686" + "9"
	tv2Response = "0b00000700000100bf6172626869ff"
	tv3Request  = "08000001000001" + "06a0"
	tv3Serial   = "0900001900000106bf686275665f73697a65190180696275665f636f756e7404ff"
	tv4First    = "0a00006100011001a565696d61676500636c656e19c21c636f666600637368615820" +
		"aee6324c552f5046711e4c7733bfadb72d4b092d7e9442253bcbcef07a82fbfd" +
		"646461746158203db8f3960000000000020000f4bf000000000000010203000400000000000000"
	tv4FirstRsp = "0b00000800011001bf636f66661820ff"
	tv4NextRsp  = "0b00000800011101bf636f66661840ff"
	tv5Request  = "0a00003100012b00a264686173685820" +
		"f3a3210b8f68e945f0c1c7ed1ad10cd3aa6f63617a0eada429b14f56c8a04c2e67636f6e6669726df4"
	tv5Response = "0b0000f600012b00bf66696d616765739fbf64736c6f74006776657273696f6e65302e302e30" +
		"646861736858201baa222074cc805faf4e09846d2377886b1e5ef7cfccd9eac1554d82d9aa9d5a68626f6f7461626c65f5" +
		"6770656e64696e67f469636f6e6669726d6564f566616374697665f5697065726d616e656e74f4ffbf64736c6f7401" +
		"6776657273696f6e67312e322e332e3464686173685820f3a3210b8f68e945f0c1c7ed1ad10cd3aa6f63617a0eada4" +
		"29b14f56c8a04c2e68626f6f7461626c65f56770656e64696e67f569636f6e6669726d6564f466616374697665f4" +
		"697065726d616e656e74f4ffff6b73706c697453746174757300ff"
	tv6V2        = "0b00001400012900bf63657272bf6567726f7570016272631821ffff"
	tv6V1        = "0300000600012a00bf627263" + "01ff"
	tv6MissingV1 = "0300001b00016b01bf627263036372736e70686561646572206d616c666f726d6564ff"
	tv7Response  = "0900000600000900bf6272630dff"
	tv8Request   = "0a00000100002005a0"
	tv8Response  = "0b00000200002005bfff"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex in test vector: %v", err)
	}
	return b
}

func decodePacket(t *testing.T, s string) Packet {
	t.Helper()
	p, err := Decode(unhex(t, s))
	if err != nil {
		t.Fatalf("Decode(%s): %v", s, err)
	}
	return p
}

func TestHeaderVectors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want Header
	}{
		{"TV1 echo v1 read", tv1Request, Header{Version: Version1, Op: OpRead, Len: 9, Group: GroupOS, Seq: 0x42, ID: OSEcho}},
		{"TV2 echo v2 write", tv2Request, Header{Version: Version2, Op: OpWrite, Len: 6, Group: GroupOS, Seq: 1, ID: OSEcho}},
		{"TV2 response", tv2Response, Header{Version: Version2, Op: OpWriteRsp, Len: 7, Group: GroupOS, Seq: 1, ID: OSEcho}},
		{"TV4 upload", tv4First, Header{Version: Version2, Op: OpWrite, Len: 0x61, Group: GroupImage, Seq: 0x10, ID: ImageUpload}},
		{"TV7 downgraded response", tv7Response, Header{Version: Version2, Op: OpReadRsp, Len: 6, Group: GroupOS, Seq: 9, ID: OSEcho}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := unhex(t, tt.hex)
			got, err := DecodeHeader(raw)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("header mismatch (-want +got):\n%s", diff)
			}
			if enc := AppendHeader(nil, got); !cmp.Equal(enc, raw[:HeaderSize]) {
				t.Errorf("re-encoded header = %x, want %x", enc, raw[:HeaderSize])
			}
		})
	}
}

// TestRequestVectors decodes each observed request into its typed body and
// checks that encoding that body again gives the same bytes.
func TestRequestVectors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		body any
		want any
	}{
		{"TV1 echo", tv1Request, &EchoRequest{}, &EchoRequest{D: "hello"}},
		{"TV2 echo", tv2Request, &EchoRequest{}, &EchoRequest{D: "hi"}},
		{"TV3 params", tv3Request, &Empty{}, &Empty{}},
		{"TV8 reset", tv8Request, &ResetRequest{}, &ResetRequest{}},
		{"TV4 first chunk", tv4First, &UploadRequest{}, &UploadRequest{
			Image: ptr[uint32](0), Len: ptr[uint32](49692), Off: 0,
			SHA:  unhex(t, "aee6324c552f5046711e4c7733bfadb72d4b092d7e9442253bcbcef07a82fbfd"),
			Data: unhex(t, "3db8f3960000000000020000f4bf000000000000010203000400000000000000"),
		}},
		{"TV5 test", tv5Request, &ImageStateRequest{}, &ImageStateRequest{
			Hash: unhex(t, "f3a3210b8f68e945f0c1c7ed1ad10cd3aa6f63617a0eada429b14f56c8a04c2e"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decodePacket(t, tt.hex)
			if err := Unmarshal(p.Body, tt.body); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, tt.body); diff != "" {
				t.Fatalf("body mismatch (-want +got):\n%s", diff)
			}
			got, err := Encode(p.Header, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.hex); !cmp.Equal(got, want) {
				t.Errorf("re-encoded = %x\nwant        %x", got, want)
			}
		})
	}
}

// TestResponseVectors decodes responses that Zephyr sent with indefinite
// lengths and re-encodes them the way a Zephyr server does.
func TestResponseVectors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		body any
		want any
	}{
		{"TV2 echo", tv2Response, &EchoResponse{}, &EchoResponse{R: "hi"}},
		{"TV3 params", tv3Serial, &ParamsResponse{}, &ParamsResponse{BufSize: 384, BufCount: 4}},
		{"TV4 first chunk", tv4FirstRsp, &UploadResponse{}, &UploadResponse{Off: ptr[uint32](32)}},
		{"TV4 next chunk", tv4NextRsp, &UploadResponse{}, &UploadResponse{Off: ptr[uint32](64)}},
		{"TV8 reset", tv8Response, &Empty{}, &Empty{}},
		{"TV5 state", tv5Response, &ImageStateResponse{}, &ImageStateResponse{Images: []ImageSlot{
			{Slot: 0, Version: "0.0.0", Bootable: true, Confirmed: true, Active: true,
				Hash: unhex(t, "1baa222074cc805faf4e09846d2377886b1e5ef7cfccd9eac1554d82d9aa9d5a")},
			{Slot: 1, Version: "1.2.3.4", Bootable: true, Pending: true,
				Hash: unhex(t, "f3a3210b8f68e945f0c1c7ed1ad10cd3aa6f63617a0eada429b14f56c8a04c2e")},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decodePacket(t, tt.hex)
			if err := StatusError(p.Body); err != nil {
				t.Fatalf("StatusError = %v, want nil", err)
			}
			if err := Unmarshal(p.Body, tt.body); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, tt.body); diff != "" {
				t.Fatalf("body mismatch (-want +got):\n%s", diff)
			}
			body, err := MarshalIndefinite(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Packet{Header: p.Header, Body: body}.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.hex); !cmp.Equal(got, want) {
				t.Errorf("re-encoded = %x\nwant        %x", got, want)
			}
		})
	}
}

func TestErrorVectors(t *testing.T) {
	tests := []struct {
		name    string
		hex     string
		want    error
		version uint8
	}{
		{"TV6 test of running image, v2", tv6V2, ImageSettingTestToActiveDenied, Version2},
		{"TV6 same, v1 translation", tv6V1, RCUnknown, Version1},
		{"TV6 missing len, v1 with reason", tv6MissingV1, &ReasonError{Err: RCInvalid, Reason: "header malformed"}, Version1},
		{"TV7 protocol too new", tv7Response, RCProtoTooNew, Version2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decodePacket(t, tt.hex)
			got := StatusError(p.Body)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("StatusError mismatch (-want +got):\n%s", diff)
			}
			body, err := MarshalIndefinite(ErrorBody(tt.version, got))
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.hex)[HeaderSize:]; !cmp.Equal(body, want) {
				t.Errorf("ErrorBody = %x, want %x", body, want)
			}
		})
	}
}

// TestImageErrorToV1 checks the translation Zephyr applies to image errors for
// SMP v1 clients, and that the v2 error for TV6's request becomes TV6's v1 rc.
func TestImageErrorToV1(t *testing.T) {
	tests := []struct {
		in   ImageRC
		want RC
	}{
		{ImageNoImage, RCNoEntry}, {ImageNoTLVs, RCNoEntry}, {ImageNoFreeSlot, RCBadState},
		{ImageInvalidSlot, RCInvalid}, {ImageNoFreeMemory, RCNoMemory}, {ImageInvalidOffset, RCInvalid},
		{ImageInvalidLength, RCInvalid}, {ImageInvalidImageHeader, RCInvalid}, {ImageInvalidImageHeaderMagic, RCUnknown},
		{ImageInvalidHash, RCInvalid}, {ImageCurrentVersionIsNewer, RCBadState}, {ImageAlreadyPending, RCBadState},
		{ImageSettingTestToActiveDenied, RCUnknown}, {ImageFlashWriteFailed, RCUnknown},
	}
	for _, tt := range tests {
		if got := tt.in.v1RC(); got != tt.want {
			t.Errorf("%s.v1RC() = %s, want %s", tt.in.Name(), got.Name(), tt.want.Name())
		}
	}
}

// TestReplyShapes covers the response shapes of field case B23.
func TestReplyShapes(t *testing.T) {
	tests := []struct {
		body string // CBOR, hex
		want error
	}{
		{"a163726574a26567726f7570016272630" + "2", ImageFlashConfigQueryFail}, // {"ret":{"group":1,"rc":2}}
		{"a163657272a26567726f75700162726302", ImageFlashConfigQueryFail},      // {"err":{"group":1,"rc":2}}
		{"a1627263" + "08", RCNotSupported},                                    // {"rc":8}
		{"a262726301637273" + "6e6a666c61736820627573" + "79", &ReasonError{Err: RCUnknown, Reason: "flash busy"}},
		{"a262726300636f66661902" + "00", nil},                                      // {"rc":0,"off":512}
		{"a1636f666619020" + "0", nil},                                              // {"off":512}
		{"a163657272a26567726f75701840627263" + "05", GroupError{Group: 64, RC: 5}}, // user group
	}
	for _, tt := range tests {
		got := StatusError(unhex(t, tt.body))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("StatusError(%s) mismatch (-want +got):\n%s", tt.body, diff)
		}
	}
}

func TestReasonUnwraps(t *testing.T) {
	err := StatusError(unhex(t, "a262726301637273"+"6e6a666c61736820627573"+"79"))
	if !errors.Is(err, RCUnknown) {
		t.Errorf("errors.Is(%v, RCUnknown) = false, want true", err)
	}
	if got, want := err.Error(), `smp: rc 1 EUNKNOWN ("flash busy")`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func ptr[T any](v T) *T { return &v }
