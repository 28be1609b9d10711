package mcuboot

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// TLV info magics: each TLV area starts with {u16 magic, u16 total}, where
// total counts the 4-byte info header too.
const (
	TLVInfoMagic          = 0x6907 // unprotected area, outside the hash
	ProtectedTLVInfoMagic = 0x6908 // protected area, covered by the hash
)

// TLV types (image.h IMAGE_TLV_*).
const (
	TLVKeyHash         = 0x01 // hash of the signing public key
	TLVPubKey          = 0x02 // the signing public key itself
	TLVSHA256          = 0x10 // image digest, SHA-256
	TLVSHA384          = 0x11 // image digest, SHA-384
	TLVSHA512          = 0x12 // image digest, SHA-512
	TLVRSA2048PSS      = 0x20 // RSA-2048 PSS signature of the digest
	TLVECDSA224        = 0x21 // dropped from MCUboot
	TLVECDSASig        = 0x22 // ECDSA P-256/P-384 signature of the digest, DER
	TLVRSA3072PSS      = 0x23 // RSA-3072 PSS signature of the digest
	TLVEd25519         = 0x24 // Ed25519 signature with the digest as message
	TLVSigPure         = 0x25 // the signature covers the image, not the digest
	TLVEncRSA2048      = 0x30 // AES key wrapped with RSA-OAEP
	TLVEncKW           = 0x31 // AES key wrapped with AES-KW
	TLVEncEC256        = 0x32 // AES key via ECIES-P256
	TLVEncX25519       = 0x33 // AES key via ECIES-X25519
	TLVEncX25519SHA512 = 0x34 // AES key via ECIES-X25519, HMAC-SHA512
	TLVDependency      = 0x40 // protected; see Dependency
	TLVSecurityCounter = 0x50 // protected; u32 LE
	TLVBootRecord      = 0x60 // protected; CBOR boot record
	TLVDecompSize      = 0x70
	TLVDecompSHA       = 0x71
	TLVDecompSignature = 0x72
	TLVCompDecSize     = 0x73
	TLVUUIDVendor      = 0x74
	TLVUUIDClass       = 0x75
)

// TLV encoding sizes in bytes.
const (
	tlvInfoLen         = 4      // {u16 magic, u16 total}
	tlvRecordHeaderLen = 4      // {u16 type, u16 len}
	maxTLVAreaLen      = 0xffff // total is a u16
)

// TLV is one record of a TLV area: {u16 type, u16 len, value}, little-endian.
type TLV struct {
	Type  uint16
	Value []byte
}

var tlvNames = map[uint16]string{
	TLVKeyHash: "KEYHASH", TLVPubKey: "PUBKEY",
	TLVSHA256: "SHA256", TLVSHA384: "SHA384", TLVSHA512: "SHA512",
	TLVRSA2048PSS: "RSA2048_PSS", TLVECDSA224: "ECDSA224", TLVECDSASig: "ECDSA_SIG",
	TLVRSA3072PSS: "RSA3072_PSS", TLVEd25519: "ED25519", TLVSigPure: "SIG_PURE",
	TLVEncRSA2048: "ENC_RSA2048", TLVEncKW: "ENC_KW", TLVEncEC256: "ENC_EC256",
	TLVEncX25519: "ENC_X25519", TLVEncX25519SHA512: "ENC_X25519_SHA512",
	TLVDependency: "DEPENDENCY", TLVSecurityCounter: "SEC_CNT", TLVBootRecord: "BOOT_RECORD",
	TLVDecompSize: "DECOMP_SIZE", TLVDecompSHA: "DECOMP_SHA", TLVDecompSignature: "DECOMP_SIGNATURE",
	TLVCompDecSize: "COMP_DEC_SIZE", TLVUUIDVendor: "UUID_VID", TLVUUIDClass: "UUID_CID",
}

// TLVName returns the name image.h gives a TLV type without its IMAGE_TLV_
// prefix ("SHA256", "ECDSA_SIG"), or the number in hex when unknown.
func TLVName(t uint16) string {
	if n, ok := tlvNames[t]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", t)
}

// tlvValueLen fixes the value length of the types whose size the format
// defines; 0 means any length.
var tlvValueLen = map[uint16]int{
	TLVSHA256: 32, TLVSHA384: 48, TLVSHA512: 64,
	TLVDependency: dependencyLen, TLVSecurityCounter: 4,
}

// parseTLVArea reads the TLV area at off, whose info header must carry
// magic. It returns the records (values copied) and the offset just past
// the area. Offsets are uint64 so that no header value can overflow them.
func parseTLVArea(b []byte, off uint64, magic uint16, area string) ([]TLV, uint64, error) {
	n := uint64(len(b))
	if off+tlvInfoLen > n {
		return nil, 0, fmt.Errorf("mcuboot: %s: info header at offset %#x needs %d bytes, input ends at %#x: %w",
			area, off, tlvInfoLen, n, ErrTruncated)
	}
	gotMagic := binary.LittleEndian.Uint16(b[off:])
	total := uint64(binary.LittleEndian.Uint16(b[off+2:]))
	if gotMagic != magic {
		return nil, 0, fmt.Errorf("mcuboot: %s: info magic %#04x at offset %#x, want %#04x: %w",
			area, gotMagic, off, magic, ErrMalformed)
	}
	if total < tlvInfoLen {
		return nil, 0, fmt.Errorf("mcuboot: %s: total %d is smaller than its info header: %w", area, total, ErrMalformed)
	}

	end := off + total
	var tlvs []TLV
	for p := off + tlvInfoLen; p < end; {
		t, next, err := parseTLVRecord(b, p, end, len(tlvs), area)
		if err != nil {
			return nil, 0, err
		}
		tlvs = append(tlvs, t)
		p = next
	}
	return tlvs, end, nil
}

// parseTLVRecord reads record number i at p inside an area ending at end.
func parseTLVRecord(b []byte, p, end uint64, i int, area string) (TLV, uint64, error) {
	n := uint64(len(b))
	// Records must tile the area exactly; a record header may not straddle its end.
	if p+tlvRecordHeaderLen > end {
		return TLV{}, 0, fmt.Errorf("mcuboot: %s: record %d at offset %#x: header crosses the area end %#x: %w",
			area, i, p, end, ErrMalformed)
	}
	if p+tlvRecordHeaderLen > n {
		return TLV{}, 0, fmt.Errorf("mcuboot: %s: record %d at offset %#x: header past the end of the input (%d bytes): %w",
			area, i, p, n, ErrTruncated)
	}
	typ := binary.LittleEndian.Uint16(b[p:])
	vlen := uint64(binary.LittleEndian.Uint16(b[p+2:]))
	vEnd := p + tlvRecordHeaderLen + vlen
	name := TLVName(typ)
	if vEnd > end {
		return TLV{}, 0, fmt.Errorf("mcuboot: %s: record %d (%s, %d bytes) at offset %#x crosses the area end %#x: %w",
			area, i, name, vlen, p, end, ErrMalformed)
	}
	if vEnd > n {
		return TLV{}, 0, fmt.Errorf("mcuboot: %s: record %d (%s, %d bytes) at offset %#x is cut %d bytes short by the end of the input: %w",
			area, i, name, vlen, p, vEnd-n, ErrTruncated)
	}
	if want, ok := tlvValueLen[typ]; ok && uint64(want) != vlen {
		return TLV{}, 0, fmt.Errorf("mcuboot: %s: record %d (%s) has %d bytes, want %d: %w",
			area, i, name, vlen, want, ErrMalformed)
	}
	return TLV{Type: typ, Value: bytes.Clone(b[p+tlvRecordHeaderLen : vEnd])}, vEnd, nil
}

// tlvAreaLen is the encoded size of an area holding tlvs, info header included.
func tlvAreaLen(tlvs []TLV) int {
	n := tlvInfoLen
	for _, t := range tlvs {
		n += tlvRecordHeaderLen + len(t.Value)
	}
	return n
}

// appendTLVArea encodes an area; the caller has checked that it fits in
// maxTLVAreaLen and that each value fits in a u16.
func appendTLVArea(b []byte, magic uint16, tlvs []TLV) []byte {
	le := binary.LittleEndian
	b = le.AppendUint16(b, magic)
	b = le.AppendUint16(b, uint16(tlvAreaLen(tlvs)))
	for _, t := range tlvs {
		b = le.AppendUint16(b, t.Type)
		b = le.AppendUint16(b, uint16(len(t.Value)))
		b = append(b, t.Value...)
	}
	return b
}

// findTLV returns the first record whose type is one of types.
func findTLV(tlvs []TLV, types ...uint16) (TLV, bool) {
	for _, t := range tlvs {
		for _, want := range types {
			if t.Type == want {
				return t, true
			}
		}
	}
	return TLV{}, false
}
