package mcuboot

import (
	"encoding/binary"
	"fmt"
)

// Header magic values (ih_magic).
const (
	// HeaderMagic starts every current MCUboot image (bytes 3d b8 f3 96).
	HeaderMagic = 0x96f3b83d
	// HeaderMagicV1 marks the legacy v1 format, which this package rejects.
	HeaderMagicV1 = 0x96f3b83c
)

// Header sizes in bytes.
const (
	// HeaderLen is the size of the encoded header fields.
	HeaderLen = 32
	// DefaultHeaderSize is the header area Zephyr builds reserve (imgtool -H 0x200).
	DefaultHeaderSize = 0x200
)

// Header flags (ih_flags).
const (
	FlagPIC                uint32 = 0x01  // position independent; MCUboot does not support it
	FlagEncryptedAES128    uint32 = 0x04  // payload encrypted with AES-128-CTR
	FlagEncryptedAES256    uint32 = 0x08  // payload encrypted with AES-256-CTR
	FlagNonBootable        uint32 = 0x10  // split image, not bootable by itself
	FlagRAMLoad            uint32 = 0x20  // copied to LoadAddr in RAM before running
	FlagROMFixed           uint32 = 0x100 // linked for the flash address in LoadAddr
	FlagCompressedLZMA1    uint32 = 0x200
	FlagCompressedLZMA2    uint32 = 0x400
	FlagCompressedARMThumb uint32 = 0x800 // LZMA2 with the ARM Thumb filter
)

// Header is the 32-byte image header (struct image_header), little-endian:
//
//	off size field
//	  0    4 ih_magic
//	  4    4 ih_load_addr
//	  8    2 ih_hdr_size           header area incl. padding
//	 10    2 ih_protect_tlv_size   protected TLV area incl. its info header; 0 if none
//	 12    4 ih_img_size           payload size, header excluded
//	 16    4 ih_flags
//	 20    8 ih_ver                see Version
//	 28    4 _pad1                 written as 0, ignored when read
type Header struct {
	Magic            uint32
	LoadAddr         uint32
	HeaderSize       uint16
	ProtectedTLVSize uint16
	ImageSize        uint32
	Flags            uint32
	Version          Version
}

// ParseHeader decodes the header at the start of b, which needs only the
// first HeaderLen bytes, and checks the magic and the header size.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, fmt.Errorf("mcuboot: header: need %d bytes, have %d: %w", HeaderLen, len(b), ErrTruncated)
	}
	le := binary.LittleEndian
	h := Header{
		Magic:            le.Uint32(b[0:4]),
		LoadAddr:         le.Uint32(b[4:8]),
		HeaderSize:       le.Uint16(b[8:10]),
		ProtectedTLVSize: le.Uint16(b[10:12]),
		ImageSize:        le.Uint32(b[12:16]),
		Flags:            le.Uint32(b[16:20]),
		Version:          decodeVersion(b[20:28]),
	}

	switch h.Magic {
	case HeaderMagic:
	case HeaderMagicV1:
		return Header{}, fmt.Errorf("mcuboot: header: magic %#08x is the legacy v1 format: %w", h.Magic, ErrBadMagic)
	default:
		return Header{}, fmt.Errorf("mcuboot: header: magic %#08x is not an MCUboot image: %w", h.Magic, ErrBadMagic)
	}
	// The header area holds at least the header fields.
	if h.HeaderSize < HeaderLen {
		return Header{}, fmt.Errorf("mcuboot: header: header size %d is below %d: %w", h.HeaderSize, HeaderLen, ErrMalformed)
	}
	return h, nil
}

// Bytes encodes the header as HeaderLen bytes, _pad1 zero.
func (h Header) Bytes() []byte {
	return h.append(make([]byte, 0, HeaderLen))
}

func (h Header) append(b []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, h.Magic)
	b = le.AppendUint32(b, h.LoadAddr)
	b = le.AppendUint16(b, h.HeaderSize)
	b = le.AppendUint16(b, h.ProtectedTLVSize)
	b = le.AppendUint32(b, h.ImageSize)
	b = le.AppendUint32(b, h.Flags)
	b = appendVersion(b, h.Version)
	return le.AppendUint32(b, 0)
}

// payloadEnd is the offset just past the payload.
func (h Header) payloadEnd() uint64 {
	return uint64(h.HeaderSize) + uint64(h.ImageSize)
}

// hashedEnd is the offset just past the protected TLV area: the hash covers
// [0, hashedEnd).
func (h Header) hashedEnd() uint64 {
	return h.payloadEnd() + uint64(h.ProtectedTLVSize)
}
