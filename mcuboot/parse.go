package mcuboot

import (
	"bytes"
	"fmt"
)

// Image is a parsed MCUboot image. Its TLVs and bytes are copies: the input
// to Parse may be reused afterwards.
type Image struct {
	Header      Header
	Protected   []TLV // protected TLV area, in order; nil if none
	Unprotected []TLV // unprotected TLV area, in order

	raw []byte // header through the end of the unprotected TLV area
}

// Parse decodes the image at the start of b. Bytes after the unprotected
// TLV area (slot padding, a trailer) are allowed and ignored. Parse checks
// structure only; Verify checks the hash and signatures. Errors wrap
// ErrBadMagic, ErrTruncated or ErrMalformed.
func Parse(b []byte) (*Image, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	if h.payloadEnd() > uint64(len(b)) {
		return nil, fmt.Errorf("mcuboot: payload: header size %#x + image size %d = %d bytes, input has %d: %w",
			h.HeaderSize, h.ImageSize, h.payloadEnd(), len(b), ErrTruncated)
	}

	img := &Image{Header: h}
	off := h.payloadEnd()
	if h.ProtectedTLVSize != 0 {
		if img.Protected, off, err = parseTLVArea(b, off, ProtectedTLVInfoMagic, "protected TLV area"); err != nil {
			return nil, err
		}
		// The header and the area's info header must agree on its size.
		if off != h.hashedEnd() {
			return nil, fmt.Errorf("mcuboot: protected TLV area: info total %d, header says %d: %w",
				off-h.payloadEnd(), h.ProtectedTLVSize, ErrMalformed)
		}
	}
	if img.Unprotected, off, err = parseTLVArea(b, off, TLVInfoMagic, "unprotected TLV area"); err != nil {
		return nil, err
	}
	img.raw = bytes.Clone(b[:off])
	return img, nil
}

// Len is the image length in bytes: header, payload and both TLV areas.
func (img *Image) Len() int {
	return len(img.raw)
}

// Bytes returns the image through the end of the unprotected TLV area,
// without padding or trailer. The slice is the Image's own; do not modify it.
func (img *Image) Bytes() []byte {
	return img.raw
}

// Payload returns the ImageSize bytes after the header area (still
// encrypted or compressed if the flags say so). Do not modify it.
func (img *Image) Payload() []byte {
	return img.raw[img.Header.HeaderSize:img.Header.payloadEnd()]
}

// Hash returns a copy of the image's hash TLV value (the first SHA256,
// SHA384 or SHA512 TLV of the unprotected area): what an SMP image list
// reports as "hash". It is nil when the image has none. Hash does not
// recompute the digest; Verify does.
func (img *Image) Hash() []byte {
	t, ok := img.hashTLV()
	if !ok {
		return nil
	}
	return bytes.Clone(t.Value)
}

func (img *Image) hashTLV() (TLV, bool) {
	return findTLV(img.Unprotected, TLVSHA256, TLVSHA384, TLVSHA512)
}
