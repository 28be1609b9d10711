package mcuboot

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"math"
	"slices"
)

// BuildOptions are the imgtool sign options Build supports. The zero value
// builds a hash-only image with a 0x200-byte header, version 0.0.0.
type BuildOptions struct {
	// Version goes into the header (imgtool -v).
	Version Version
	// HeaderSize is the header area in bytes (imgtool -H with --pad-header);
	// the bytes after the 32-byte header are 0xff. 0 means 0x200; otherwise
	// 32..0xffff.
	HeaderSize int
	// Align is the flash write size in bytes (imgtool --align): 1, 2, 4, 8,
	// 16 or 32; 0 means 8. It sizes the trailer, so it matters only with
	// SlotSize; above 8 it also selects the alternative trailer magic.
	Align int
	// SlotSize is the slot size in bytes (imgtool -S). When set, the image
	// plus the trailer imgtool reserves must fit. 0 means no limit and no
	// padding.
	SlotSize int
	// Pad fills the slot to SlotSize with 0xff and writes the trailer
	// magic at its end (imgtool --pad; --test gives the same bytes).
	Pad bool
	// Confirm also sets image_ok in the trailer (imgtool --confirm); it
	// implies Pad.
	Confirm bool
	// Signer signs the image: RSA-2048/3072 (PSS), ECDSA P-256/P-384 or
	// Ed25519, with a KEYHASH TLV. A P-384 key selects a SHA384 digest,
	// every other key SHA256. nil builds a hash-only image.
	Signer crypto.Signer
	// LoadAddr goes into the header (ih_load_addr); 0 for XIP images.
	LoadAddr uint32
	// Flags go into the header unchanged (Flag* constants). Build does not
	// encrypt or compress the payload.
	Flags uint32
	// SecurityCounter, when not nil, adds a protected SEC_CNT TLV
	// (imgtool -s; Version.SecurityCounter gives "-s auto").
	SecurityCounter *uint32
	// Dependencies add protected DEPENDENCY TLVs in order (imgtool -d).
	Dependencies []Dependency
}

// Build wraps payload into an MCUboot image, byte for byte what imgtool
// 2.4 writes for the same options (signatures aside: RSA-PSS and ECDSA are
// randomized). Without Pad the result ends after the unprotected TLV area.
func Build(payload []byte, opts BuildOptions) ([]byte, error) {
	o, err := opts.normalize(len(payload))
	if err != nil {
		return nil, err
	}
	prot, err := o.protectedArea()
	if err != nil {
		return nil, err
	}

	h := Header{
		Magic:            HeaderMagic,
		LoadAddr:         o.LoadAddr,
		HeaderSize:       uint16(o.HeaderSize),
		ProtectedTLVSize: uint16(len(prot)),
		ImageSize:        uint32(len(payload)),
		Flags:            o.Flags,
		Version:          o.Version,
	}
	out := make([]byte, 0, max(o.SlotSize, o.HeaderSize+len(payload)+len(prot)+1024))
	out = h.append(out)
	out = append(out, bytes.Repeat([]byte{erasedByte}, o.HeaderSize-HeaderLen)...)
	out = append(out, payload...)
	out = append(out, prot...)

	unprot, err := o.unprotectedTLVs(out)
	if err != nil {
		return nil, err
	}
	out = appendTLVArea(out, TLVInfoMagic, unprot)
	return o.fitSlot(out)
}

// normalize fills in defaults and checks the options against the format.
func (o BuildOptions) normalize(payloadLen int) (BuildOptions, error) {
	if o.HeaderSize == 0 {
		o.HeaderSize = DefaultHeaderSize
	}
	if o.Align == 0 {
		o.Align = defaultMaxAlign
	}
	o.Pad = o.Pad || o.Confirm

	switch {
	case o.HeaderSize < HeaderLen || o.HeaderSize > math.MaxUint16:
		return o, fmt.Errorf("mcuboot: build: header size %d outside %d..%d", o.HeaderSize, HeaderLen, math.MaxUint16)
	case uint64(payloadLen) > math.MaxUint32:
		return o, fmt.Errorf("mcuboot: build: payload of %d bytes does not fit the u32 image size", payloadLen)
	case !slices.Contains([]int{1, 2, 4, 8, 16, 32}, o.Align):
		return o, fmt.Errorf("mcuboot: build: align %d is not 1, 2, 4, 8, 16 or 32", o.Align)
	case o.SlotSize < 0:
		return o, fmt.Errorf("mcuboot: build: negative slot size %d", o.SlotSize)
	case o.Pad && o.SlotSize == 0:
		return o, fmt.Errorf("mcuboot: build: padding (Pad or Confirm) needs a slot size")
	}
	if o.Signer != nil {
		if err := checkKey(o.Signer.Public()); err != nil {
			return o, fmt.Errorf("mcuboot: build: signer: %w", err)
		}
	}
	return o, nil
}

// protectedArea encodes the protected TLVs in imgtool's order (SEC_CNT,
// then DEPENDENCY), or returns nil when there are none.
func (o BuildOptions) protectedArea() ([]byte, error) {
	var tlvs []TLV
	if o.SecurityCounter != nil {
		tlvs = append(tlvs, securityCounterTLV(*o.SecurityCounter))
	}
	for _, d := range o.Dependencies {
		tlvs = append(tlvs, d.tlv())
	}
	if len(tlvs) == 0 {
		return nil, nil
	}
	if n := tlvAreaLen(tlvs); n > maxTLVAreaLen {
		return nil, fmt.Errorf("mcuboot: build: protected TLV area of %d bytes exceeds %d", n, maxTLVAreaLen)
	}
	return appendTLVArea(nil, ProtectedTLVInfoMagic, tlvs), nil
}

// unprotectedTLVs hashes hashed (header, payload, protected area) and
// returns the hash TLV, then KEYHASH and the signature when signing.
func (o BuildOptions) unprotectedTLVs(hashed []byte) ([]TLV, error) {
	hashType, h := o.digestHash()
	d := h.New()
	d.Write(hashed)
	digest := d.Sum(nil)
	tlvs := []TLV{{Type: hashType, Value: digest}}
	if o.Signer == nil {
		return tlvs, nil
	}

	pub := o.Signer.Public()
	kh, err := keyHash(pub, h)
	if err != nil {
		return nil, fmt.Errorf("mcuboot: build: KEYHASH: %w", err)
	}
	sig, err := sign(o.Signer, digest, h)
	if err != nil {
		return nil, fmt.Errorf("mcuboot: build: sign: %w", err)
	}
	return append(tlvs, TLV{Type: TLVKeyHash, Value: kh}, TLV{Type: signatureType(pub), Value: sig}), nil
}

// digestHash picks the image hash as imgtool does by default: SHA-384 for
// a P-384 key, SHA-256 otherwise.
func (o BuildOptions) digestHash() (uint16, crypto.Hash) {
	if o.Signer != nil {
		if k, ok := o.Signer.Public().(*ecdsa.PublicKey); ok && k.Curve == elliptic.P384() {
			return TLVSHA384, crypto.SHA384
		}
	}
	return TLVSHA256, crypto.SHA256
}

// sign signs the image digest the way MCUboot verifies it.
func sign(s crypto.Signer, digest []byte, h crypto.Hash) ([]byte, error) {
	var opts crypto.SignerOpts
	switch s.Public().(type) {
	case *rsa.PublicKey:
		opts = &rsa.PSSOptions{SaltLength: pssSaltLen, Hash: h}
	case *ecdsa.PublicKey:
		opts = h // the signature comes out ASN.1 DER, as imgtool writes it
	default:
		opts = crypto.Hash(0) // Ed25519 signs the digest itself as the message
	}
	return s.Sign(rand.Reader, digest, opts)
}

// fitSlot checks the image against the slot and pads it when asked.
func (o BuildOptions) fitSlot(img []byte) ([]byte, error) {
	if o.SlotSize == 0 {
		return img, nil
	}
	if ts := trailerSize(o.Align); len(img)+ts > o.SlotSize {
		return nil, fmt.Errorf("mcuboot: build: image (%d bytes) + trailer (%d bytes) exceeds slot size %d",
			len(img), ts, o.SlotSize)
	}
	if !o.Pad {
		return img, nil
	}
	return appendTrailer(img, o.SlotSize, o.Align, o.Confirm), nil
}
