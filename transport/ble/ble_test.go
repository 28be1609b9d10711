package ble

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/fotasync/fotasync/transport/internal/link"
	"github.com/google/go-cmp/cmp"
)

// Responses from shared/reference/smp-mcuboot.md §7: TV5's image-state
// response (254 bytes), TV2's echo response, TV3's MCUmgr parameters.
var (
	tv5Response = unhex("0b0000f600012b00bf66696d616765739fbf64736c6f74006776657273696f6e65302e302e30646861736858201baa222074cc805faf4e09846d2377886b1e5ef7cfccd9eac1554d82d9aa9d5a68626f6f7461626c65f56770656e64696e67f469636f6e6669726d6564f566616374697665f5697065726d616e656e74f4ffbf64736c6f74016776657273696f6e67312e322e332e3464686173685820f3a3210b8f68e945f0c1c7ed1ad10cd3aa6f63617a0eada429b14f56c8a04c2e68626f6f7461626c65f56770656e64696e67f569636f6e6669726d6564f466616374697665f4697065726d616e656e74f4ffff6b73706c697453746174757300ff")
	tv2Response = unhex("0b 00 00 07 00 00 01 00 bf 61 72 62 68 69 ff")
	tv3Response = unhex("0900001900000106bf686275665f73697a65190180696275665f636f756e7404ff")
)

// state180 is B10's 180-byte image-state response: TV5's header with length
// 172, and the first 172 bytes of TV5's payload.
var state180 = append(unhex("0b 00 00 ac 00 01 2b 00"), tv5Response[8:8+172]...)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func TestFragment(t *testing.T) {
	tests := []struct {
		name   string
		packet []byte
		attMTU int
		sizes  []int
	}{
		{"180 bytes, MTU 23", state180, 23, []int{20, 20, 20, 20, 20, 20, 20, 20, 20}},
		{"254 bytes, MTU 247", tv5Response, 247, []int{244, 10}},
		{"fits one", tv2Response, 247, []int{15}},
		{"exactly one", state180[:20], 23, []int{20}},
		{"MTU below the minimum", state180[:40], 10, []int{20, 20}},
		{"empty", nil, 23, nil},
	}
	for _, tt := range tests {
		pieces := Fragment(tt.packet, tt.attMTU)
		var sizes []int
		for _, p := range pieces {
			sizes = append(sizes, len(p))
		}
		if diff := cmp.Diff(tt.sizes, sizes); diff != "" {
			t.Errorf("%s: piece sizes (-want +got):\n%s", tt.name, diff)
		}
		if got := bytes.Join(pieces, nil); !bytes.Equal(got, tt.packet) {
			t.Errorf("%s: pieces joined = %x, want the packet", tt.name, got)
		}
	}
}

// TestReassembleSplit is B10's first case: a response in 20-byte
// notifications (ATT MTU 23), of which only the first holds the header.
func TestReassembleSplit(t *testing.T) {
	for _, packet := range [][]byte{state180, tv5Response} {
		var r Reassembler
		pieces := Fragment(packet, 23)
		for i, piece := range pieces {
			got, err := r.Add(piece)
			if err != nil {
				t.Fatalf("%d bytes: Add #%d: %v", len(packet), i, err)
			}
			var want [][]byte
			if i == len(pieces)-1 {
				want = [][]byte{packet}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%d bytes: Add #%d (-want +got):\n%s", len(packet), i, diff)
			}
		}
		if r.Pending() != 0 {
			t.Errorf("%d bytes: Pending = %d after the packet, want 0", len(packet), r.Pending())
		}
	}
}

// TestReassembleTruncated is B10's second case: the last notification is 3
// bytes short and nothing follows. The partial packet is never handed on;
// the caller's timeout expires it, and the next response comes through.
func TestReassembleTruncated(t *testing.T) {
	var r Reassembler
	pieces := Fragment(state180, 23)
	last := len(pieces) - 1
	pieces[last] = pieces[last][:len(pieces[last])-3]
	for i, piece := range pieces {
		if got, err := r.Add(piece); got != nil || err != nil {
			t.Fatalf("Add #%d = %d packets, %v; want none", i, len(got), err)
		}
	}
	if r.Pending() != 177 {
		t.Errorf("Pending = %d, want 177", r.Pending())
	}

	err := r.Expire()
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Expire = %v, want ErrIncomplete", err)
	}
	if want := "ble: incomplete packet (177 of 180 bytes)"; err.Error() != want {
		t.Errorf("Expire error %q, want %q", err, want)
	}
	if err := r.Expire(); err != nil || r.Pending() != 0 {
		t.Errorf("second Expire = %v with %d pending, want nil and 0", err, r.Pending())
	}

	got, err := r.Add(tv3Response)
	if err != nil || !cmp.Equal(got, [][]byte{tv3Response}) {
		t.Errorf("Add after Expire = %x, %v; want TV3's response", got, err)
	}
}

// TestReassembleConcatenated is B10's third case, two responses in one
// notification, plus a second response whose header straddles two
// notifications.
func TestReassembleConcatenated(t *testing.T) {
	var r Reassembler
	got, err := r.Add(append(append([]byte(nil), tv2Response...), tv3Response...))
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	if diff := cmp.Diff([][]byte{tv2Response, tv3Response}, got); diff != "" {
		t.Errorf("two in one (-want +got):\n%s", diff)
	}

	stream := append(append([]byte(nil), tv2Response...), tv3Response...)
	cut := len(tv2Response) + 5 // inside TV3's header
	if got, err := r.Add(stream[:cut]); err != nil || !cmp.Equal(got, [][]byte{tv2Response}) {
		t.Errorf("first part = %x, %v; want TV2's response", got, err)
	}
	if got, err := r.Add(stream[cut:]); err != nil || !cmp.Equal(got, [][]byte{tv3Response}) {
		t.Errorf("second part = %x, %v; want TV3's response", got, err)
	}
}

// TestReassembleTooLarge: a header that declares more than the caller's
// limit is refused at once, not collected.
func TestReassembleTooLarge(t *testing.T) {
	r := Reassembler{MaxPacket: 240}
	got, err := r.Add(append(append([]byte(nil), tv2Response...), tv5Response[:20]...))
	if !errors.Is(err, link.ErrTooLarge) {
		t.Fatalf("Add = %v, want ErrTooLarge", err)
	}
	if !cmp.Equal(got, [][]byte{tv2Response}) {
		t.Errorf("packets before the refused header = %x, want TV2's response", got)
	}
	if r.Pending() != 0 {
		t.Errorf("Pending = %d after the refusal, want 0", r.Pending())
	}
}

// FuzzReassembler checks that how a byte stream is cut into notifications
// does not change the packets, and that each packet matches its header.
func FuzzReassembler(f *testing.F) {
	f.Add(append(append([]byte(nil), tv2Response...), tv3Response...), uint8(19))
	f.Add(tv5Response, uint8(0))
	f.Add(state180[:100], uint8(7))
	f.Fuzz(func(t *testing.T, stream []byte, size uint8) {
		var whole Reassembler
		want, err := whole.Add(stream)
		if err != nil {
			t.Fatalf("Add(whole stream): %v", err)
		}

		var cut Reassembler
		var got [][]byte
		n := int(size)%64 + 1
		for start := 0; start < len(stream); start += n {
			packets, err := cut.Add(stream[start:min(start+n, len(stream))])
			if err != nil {
				t.Fatalf("Add(piece): %v", err)
			}
			got = append(got, packets...)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("packets differ with %d-byte notifications (-whole +cut):\n%s", n, diff)
		}
		for _, p := range got {
			if len(p) != 8+int(binary.BigEndian.Uint16(p[2:4])) {
				t.Errorf("packet of %d bytes, header says %d payload bytes", len(p), binary.BigEndian.Uint16(p[2:4]))
			}
		}
		if cut.Pending() != whole.Pending() {
			t.Errorf("Pending = %d cut, %d whole", cut.Pending(), whole.Pending())
		}
	})
}
