package smp

import (
	"fmt"
	"math"
)

// Packet is one SMP message: its header and its raw CBOR body.
type Packet struct {
	Header
	Body []byte
}

// Decode splits an SMP packet into header and body. The header's length must
// match the bytes that follow it exactly.
func Decode(b []byte) (Packet, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		return Packet{}, err
	}
	body := b[HeaderSize:]
	if len(body) < int(h.Len) {
		return Packet{}, fmt.Errorf("smp: packet: header says %d payload bytes, %d present: %w",
			h.Len, len(body), ErrShortPacket)
	}
	if len(body) > int(h.Len) {
		return Packet{}, fmt.Errorf("smp: packet: %d bytes after the %d-byte payload: %w",
			len(body)-int(h.Len), h.Len, ErrMalformed)
	}
	return Packet{Header: h, Body: body}, nil
}

// Bytes returns the wire form of p, with the header's length set from the body.
func (p Packet) Bytes() ([]byte, error) {
	if len(p.Body) > math.MaxUint16 {
		return nil, fmt.Errorf("smp: packet: body of %d bytes exceeds 65535", len(p.Body))
	}
	p.Len = uint16(len(p.Body))
	return append(AppendHeader(make([]byte, 0, HeaderSize+len(p.Body)), p.Header), p.Body...), nil
}

// Encode builds a packet from h and a body value encoded with definite lengths.
func Encode(h Header, body any) ([]byte, error) {
	b, err := Marshal(body)
	if err != nil {
		return nil, err
	}
	return Packet{Header: h, Body: b}.Bytes()
}

// statusBody holds the keys by which a response reports failure. SMP v1 uses
// "rc" (with an optional "rsn"); SMP v2 uses "err" for group errors and still
// "rc" for errors of the SMP layer. Some nRF Connect SDK releases used "ret".
type statusBody struct {
	RC     *uint64     `cbor:"rc"`
	Reason string      `cbor:"rsn"`
	Err    *groupRCMap `cbor:"err"`
	Ret    *groupRCMap `cbor:"ret"`
}

type groupRCMap struct {
	Group uint16 `cbor:"group"`
	RC    uint16 `cbor:"rc"`
}

// StatusError returns the error a response body reports, or nil for success
// (no "rc", "rc" zero, or a group error with rc zero).
func StatusError(body []byte) error {
	var s statusBody
	if err := Unmarshal(body, &s); err != nil {
		return err
	}
	var err error
	switch {
	case s.Err != nil && s.Err.RC != 0:
		err = groupError(Group(s.Err.Group), s.Err.RC)
	case s.Ret != nil && s.Ret.RC != 0:
		err = groupError(Group(s.Ret.Group), s.Ret.RC)
	case s.RC != nil && *s.RC != 0:
		if *s.RC > math.MaxUint16 {
			return fmt.Errorf("smp: rc %d out of range: %w", *s.RC, ErrMalformed)
		}
		err = RC(*s.RC)
	default:
		return nil
	}
	if s.Reason != "" {
		return &ReasonError{Err: err, Reason: s.Reason}
	}
	return err
}

// ErrorBody returns the response body by which a server reports err to a
// client speaking the given protocol version. SMP v2 clients get group errors
// as "err"; SMP v1 clients get them translated to an rc, as Zephyr does. A
// reason goes along as "rsn" in both versions.
func ErrorBody(version uint8, err error) any {
	type rcBody struct {
		RC     uint16 `cbor:"rc"`
		Reason string `cbor:"rsn,omitempty"`
	}
	type errBody struct {
		Err    groupRCMap `cbor:"err"`
		Reason string     `cbor:"rsn,omitempty"`
	}
	var reason string
	if re, ok := err.(*ReasonError); ok {
		err, reason = re.Err, re.Reason
	}
	var g groupRCMap
	switch e := err.(type) {
	case RC:
		return rcBody{RC: uint16(e), Reason: reason}
	case ImageRC:
		if version == Version1 {
			return rcBody{RC: uint16(e.v1RC()), Reason: reason}
		}
		g = groupRCMap{Group: uint16(GroupImage), RC: uint16(e)}
	case OSRC:
		if version == Version1 {
			return rcBody{RC: uint16(e.v1RC()), Reason: reason}
		}
		g = groupRCMap{Group: uint16(GroupOS), RC: uint16(e)}
	case GroupError:
		if version == Version1 {
			return rcBody{RC: uint16(RCUnknown), Reason: reason}
		}
		g = groupRCMap{Group: uint16(e.Group), RC: e.RC}
	default:
		return rcBody{RC: uint16(RCUnknown), Reason: reason}
	}
	return errBody{Err: g, Reason: reason}
}
