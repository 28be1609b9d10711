package smp

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Limits on decoded bodies. An SMP body never needs more; anything beyond is
// hostile or corrupt and is rejected before it allocates.
const (
	maxNesting  = 16
	maxArrayLen = 256
	maxMapPairs = 256
)

var (
	// decMode accepts what Zephyr sends: definite and indefinite lengths,
	// unknown keys (ignored), and missing fields (left at their zero value).
	decMode = mustDecMode(cbor.DecOptions{
		MaxNestedLevels:  maxNesting,
		MaxArrayElements: maxArrayLen,
		MaxMapPairs:      maxMapPairs,
		IndefLength:      cbor.IndefLengthAllowed,
		DupMapKey:        cbor.DupMapKeyQuiet,
	})
	// encMode writes definite lengths in struct field order, as a client does.
	encMode = mustEncMode(cbor.EncOptions{Sort: cbor.SortNone})
)

func mustDecMode(o cbor.DecOptions) cbor.DecMode {
	m, err := o.DecMode()
	if err != nil {
		panic(err) // static options; a failure is a programming error
	}
	return m
}

func mustEncMode(o cbor.EncOptions) cbor.EncMode {
	m, err := o.EncMode()
	if err != nil {
		panic(err) // static options; a failure is a programming error
	}
	return m
}

// Marshal encodes v as a CBOR body with definite lengths.
func Marshal(v any) ([]byte, error) {
	b, err := encMode.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("smp: encode body: %w", err)
	}
	return b, nil
}

// Unmarshal decodes a CBOR body into v. An empty body decodes as an empty map.
func Unmarshal(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := decMode.Unmarshal(body, v); err != nil {
		return fmt.Errorf("smp: decode body: %w", err)
	}
	return nil
}

// MarshalIndefinite encodes v as Zephyr's zcbor encoder does: every map and
// array with indefinite length (0xBF/0x9F ... 0xFF).
func MarshalIndefinite(v any) ([]byte, error) {
	b, err := Marshal(v)
	if err != nil {
		return nil, err
	}
	out, rest, err := appendIndefinite(make([]byte, 0, len(b)+8), b)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("smp: encode body: re-encoding indefinite lengths failed")
	}
	return out, nil
}

// appendIndefinite copies one well-formed CBOR item from b to out, turning
// definite-length maps and arrays into indefinite ones, and returns what
// follows the item.
func appendIndefinite(out, b []byte) ([]byte, []byte, error) {
	if len(b) == 0 {
		return nil, nil, ErrMalformed
	}
	major, info := b[0]>>5, b[0]&0x1f
	arg, head, err := cborArgument(b)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case (major == 4 || major == 5) && info != 31:
		items := arg
		out = append(out, major<<5|31)
		if major == 5 {
			items *= 2
		}
		rest := b[head:]
		for i := uint64(0); i < items; i++ {
			if out, rest, err = appendIndefinite(out, rest); err != nil {
				return nil, nil, err
			}
		}
		return append(out, 0xff), rest, nil
	case major == 2 || major == 3:
		end := uint64(head) + arg
		if info == 31 || end > uint64(len(b)) {
			return nil, nil, ErrMalformed // never produced by Marshal
		}
		return append(out, b[:end]...), b[end:], nil
	case major == 6:
		return appendIndefinite(append(out, b[:head]...), b[head:])
	}
	return append(out, b[:head]...), b[head:], nil
}

// cborArgument decodes the argument of the initial byte of b and returns it
// with the length of the head.
func cborArgument(b []byte) (uint64, int, error) {
	info := b[0] & 0x1f
	var n int
	switch {
	case info < 24, info == 31:
		return uint64(info), 1, nil
	case info == 24:
		n = 1
	case info == 25:
		n = 2
	case info == 26:
		n = 4
	case info == 27:
		n = 8
	default:
		return 0, 0, ErrMalformed
	}
	if len(b) < 1+n {
		return 0, 0, ErrMalformed
	}
	var v uint64
	for _, c := range b[1 : 1+n] {
		v = v<<8 | uint64(c)
	}
	return v, 1 + n, nil
}
