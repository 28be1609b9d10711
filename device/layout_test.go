package device_test

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// A small CBOR writer for the layouts of the reference (§2, §3, §7): requests
// use definite lengths as a client sends them, responses use Zephyr's
// indefinite-length maps and arrays (0xBF/0x9F ... 0xFF).

// head is a CBOR initial byte with its argument in the shortest form.
func head(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n < 1<<8:
		return []byte{m | 24, byte(n)}
	case n < 1<<16:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n < 1<<32:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}

func uintc(n int) []byte   { return head(0, uint64(n)) }
func bstr(b []byte) []byte { return append(head(2, uint64(len(b))), b...) }
func tstr(s string) []byte { return append(head(3, uint64(len(s))), s...) }

func boolc(v bool) []byte {
	if v {
		return []byte{0xf5}
	}
	return []byte{0xf4}
}

// mapDef is a definite-length map of alternating keys and values.
func mapDef(kv ...[]byte) []byte {
	return append(head(5, uint64(len(kv)/2)), bytes.Join(kv, nil)...)
}

// imap and iarr are indefinite-length maps and arrays.
func imap(kv ...[]byte) []byte { return append(append([]byte{0xbf}, bytes.Join(kv, nil)...), 0xff) }
func iarr(items ...[]byte) []byte {
	return append(append([]byte{0x9f}, bytes.Join(items, nil)...), 0xff)
}

// firstChunk is TV4's first upload request: image 0, len, off 0, sha, data.
func firstChunk(total int, sha, data []byte) []byte {
	return mapDef(tstr("image"), uintc(0), tstr("len"), uintc(total), tstr("off"), uintc(0),
		tstr("sha"), bstr(sha), tstr("data"), bstr(data))
}

// chunk is TV4's later upload request: off and data.
func chunk(off int, data []byte) []byte {
	return mapDef(tstr("off"), uintc(off), tstr("data"), bstr(data))
}

func offRsp(off int) []byte { return imap(tstr("off"), uintc(off)) }

func offMatchRsp(off int, match bool) []byte {
	return imap(tstr("off"), uintc(off), tstr("match"), boolc(match))
}

// groupErr is an SMP v2 group error: {"err": {"group": g, "rc": rc}}.
func groupErr(group, rc int) []byte {
	return imap(tstr("err"), imap(tstr("group"), uintc(group), tstr("rc"), uintc(rc)))
}

func imgErr(rc int) []byte { return groupErr(groupImage, rc) }

// rcRsp is an SMP-level error: {"rc": rc}.
func rcRsp(rc int) []byte { return imap(tstr("rc"), uintc(rc)) }

// flags of one image list entry (reference §3.1).
type flags struct{ pending, confirmed, active, permanent bool }

var (
	running  = flags{confirmed: true, active: true}
	idle     = flags{}
	tested   = flags{pending: true}
	perm     = flags{pending: true, permanent: true}
	fallback = flags{confirmed: true}
	trial    = flags{active: true} // a test image that runs unconfirmed
)

// slotEntry is one image list entry in Zephyr's key order (reference §3.1,
// TV5) for a bootable image.
func slotEntry(slot int, version string, hash []byte, f flags) []byte {
	return imap(tstr("slot"), uintc(slot), tstr("version"), tstr(version), tstr("hash"), bstr(hash),
		tstr("bootable"), boolc(true), tstr("pending"), boolc(f.pending),
		tstr("confirmed"), boolc(f.confirmed), tstr("active"), boolc(f.active),
		tstr("permanent"), boolc(f.permanent))
}

// stateRsp is the image state response: the list, then splitStatus 0.
func stateRsp(entries ...[]byte) []byte {
	return imap(tstr("images"), iarr(entries...), tstr("splitStatus"), uintc(0))
}

// entry is slotEntry for a reference image.
func (r refImage) entry(t *testing.T, slot int, f flags) []byte {
	return slotEntry(slot, r.version, r.tlvHash(t), f)
}

// TestLayoutMatchesReference checks the writer above against the reference's
// byte vectors, so that expectations built with it are the reference layout.
func TestLayoutMatchesReference(t *testing.T) {
	tv4SHA := unhex(t, "aee6324c552f5046711e4c7733bfadb72d4b092d7e9442253bcbcef07a82fbfd")
	tv4Data := unhex(t, "3db8f3960000000000020000f4bf000000000000010203000400000000000000")
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"TV4 first chunk", packet(v2Write, groupImage, 0x10, idUpload, firstChunk(49692, tv4SHA, tv4Data)),
			"0a00006100011001a565696d61676500636c656e19c21c636f666600637368615820" +
				"aee6324c552f5046711e4c7733bfadb72d4b092d7e9442253bcbcef07a82fbfd" +
				"646461746158203db8f3960000000000020000f4bf000000000000010203000400000000000000"},
		{"TV4 first response", packet(0x0b, groupImage, 0x10, idUpload, offRsp(32)), "0b00000800011001bf636f66661820ff"},
		{"TV4 next chunk header", packet(v2Write, groupImage, 0x11, idUpload, chunk(32, make([]byte, 32)))[:16],
			"0a00002e00011101a2636f6666182064"},
		{"TV6 test of the running image", packet(0x0b, groupImage, 0x29, idState, imgErr(33)),
			"0b00001400012900bf63657272bf6567726f7570016272631821ffff"},
		{"TV6 missing len", imgErr(21), "bf63657272bf6567726f75700162726315ffff"},
		{"TV7 unknown command", rcRsp(8), "bf62726308ff"},
		{"TV5 test request", mapDef(tstr("hash"), bstr(unhex(t, "f3a3210b8f68e945f0c1c7ed1ad10cd3aa6f63617a0eada429b14f56c8a04c2e")),
			tstr("confirm"), boolc(false)),
			"a264686173685820f3a3210b8f68e945f0c1c7ed1ad10cd3aa6f63617a0eada429b14f56c8a04c2e67636f6e6669726df4"},
		{"TV5 response", packet(0x0b, groupImage, 0x2b, idState, stateRsp(
			slotEntry(0, "0.0.0", unhex(t, "1baa222074cc805faf4e09846d2377886b1e5ef7cfccd9eac1554d82d9aa9d5a"), running),
			slotEntry(1, "1.2.3.4", unhex(t, "f3a3210b8f68e945f0c1c7ed1ad10cd3aa6f63617a0eada429b14f56c8a04c2e"), tested))),
			"0b0000f600012b00bf66696d616765739fbf64736c6f74006776657273696f6e65302e302e30" +
				"646861736858201baa222074cc805faf4e09846d2377886b1e5ef7cfccd9eac1554d82d9aa9d5a68626f6f7461626c65f5" +
				"6770656e64696e67f469636f6e6669726d6564f566616374697665f5697065726d616e656e74f4ffbf64736c6f7401" +
				"6776657273696f6e67312e322e332e3464686173685820f3a3210b8f68e945f0c1c7ed1ad10cd3aa6f63617a0eada4" +
				"29b14f56c8a04c2e68626f6f7461626c65f56770656e64696e67f569636f6e6669726d6564f466616374697665f4" +
				"697065726d616e656e74f4ffff6b73706c697453746174757300ff"},
	}
	for _, tt := range tests {
		if want := unhex(t, tt.want); !equalHex(tt.got, want) {
			t.Errorf("%s:\n got %x\nwant %x", tt.name, tt.got, want)
		}
	}
}
