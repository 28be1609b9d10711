package smp

import (
	"encoding/binary"
	"fmt"
)

// HeaderSize is the length of an SMP header in bytes.
const HeaderSize = 8

// Op is the operation of an SMP message.
type Op uint8

// Operations. A response carries the request's operation plus one.
const (
	OpRead     Op = 0
	OpReadRsp  Op = 1
	OpWrite    Op = 2
	OpWriteRsp Op = 3
)

func (op Op) String() string {
	switch op {
	case OpRead:
		return "read"
	case OpReadRsp:
		return "read-rsp"
	case OpWrite:
		return "write"
	case OpWriteRsp:
		return "write-rsp"
	}
	return fmt.Sprintf("op(%d)", uint8(op))
}

// Response returns the operation a server answers op with.
func (op Op) Response() Op {
	if op == OpRead {
		return OpReadRsp
	}
	return OpWriteRsp
}

// IsResponse reports whether op is a response operation.
func (op Op) IsResponse() bool { return op == OpReadRsp || op == OpWriteRsp }

// Protocol versions carried in bits 4..3 of header byte 0.
const (
	Version1 uint8 = 0 // original protocol: errors as "rc"
	Version2 uint8 = 1 // group errors as "err": {"group", "rc"}
)

// Header is the fixed 8-byte SMP header.
type Header struct {
	Version uint8 // 0 = SMP v1, 1 = SMP v2; 2 and 3 are reserved
	Op      Op
	Flags   uint8
	Len     uint16 // payload length, header excluded
	Group   Group
	Seq     uint8
	ID      uint8 // command within the group
}

// AppendHeader appends the wire form of h to b.
func AppendHeader(b []byte, h Header) []byte {
	b = append(b, (h.Version&3)<<3|uint8(h.Op)&7, h.Flags)
	b = binary.BigEndian.AppendUint16(b, h.Len)
	b = binary.BigEndian.AppendUint16(b, uint16(h.Group))
	return append(b, h.Seq, h.ID)
}

// DecodeHeader reads the header at the start of b.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("smp: header: %d bytes, need %d: %w", len(b), HeaderSize, ErrShortPacket)
	}
	// Bits 7..5 of byte 0 are reserved and must be zero.
	if b[0]&0xe0 != 0 {
		return Header{}, fmt.Errorf("smp: header: reserved bits set in byte 0 (0x%02x): %w", b[0], ErrMalformed)
	}
	return Header{
		Version: b[0] >> 3 & 3,
		Op:      Op(b[0] & 7),
		Flags:   b[1],
		Len:     binary.BigEndian.Uint16(b[2:4]),
		Group:   Group(binary.BigEndian.Uint16(b[4:6])),
		Seq:     b[6],
		ID:      b[7],
	}, nil
}
