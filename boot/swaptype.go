package boot

import "fmt"

// SwapType is what the bootloader does at the next reset. The values are
// MCUboot's codes, which are also the low nibble of the trailer's swap_info.
type SwapType uint8

// Swap types (reference §6.1).
const (
	SwapNone   SwapType = 1    // boot the primary as it is
	SwapTest   SwapType = 2    // swap in the secondary once; revert unless confirmed
	SwapPerm   SwapType = 3    // swap in the secondary for good
	SwapRevert SwapType = 4    // swap the unconfirmed test image back out
	SwapFail   SwapType = 5    // the image to swap in did not validate
	SwapPanic  SwapType = 0xFF // the swap could not be carried out
)

func (t SwapType) String() string {
	switch t {
	case SwapNone:
		return "none"
	case SwapTest:
		return "test"
	case SwapPerm:
		return "perm"
	case SwapRevert:
		return "revert"
	case SwapFail:
		return "fail"
	case SwapPanic:
		return "panic"
	}
	return fmt.Sprintf("SwapType(%d)", uint8(t))
}

// MagicState is the decoded state of a trailer's magic field.
type MagicState uint8

// Magic states. The zero value is an erased field.
const (
	MagicUnset MagicState = iota // all 0xFF
	MagicGood                    // the MCUboot magic for the trailer's alignment
	MagicBad                     // anything else
)

func (m MagicState) String() string {
	switch m {
	case MagicUnset:
		return "unset"
	case MagicGood:
		return "good"
	case MagicBad:
		return "bad"
	}
	return fmt.Sprintf("MagicState(%d)", uint8(m))
}

// Flag is the decoded state of a one-byte trailer flag (image_ok, copy_done).
type Flag uint8

// Flag states. The zero value is an erased field.
const (
	FlagUnset Flag = iota // 0xFF
	FlagSet               // 0x01
	FlagBad               // anything else
)

func (f Flag) String() string {
	switch f {
	case FlagUnset:
		return "unset"
	case FlagSet:
		return "set"
	case FlagBad:
		return "bad"
	}
	return fmt.Sprintf("Flag(%d)", uint8(f))
}

// NextSwap decides the swap for the next reset from the two slots' trailers,
// per the boot_swap_type table of swap-scratch and swap-move (reference
// §6.2): the first matching row wins, and no match means SwapNone.
func NextSwap(primary, secondary Trailer) SwapType {
	switch {
	// Rows 1 and 2: the secondary was marked; image_ok tells test from permanent.
	case secondary.Magic == MagicGood && secondary.ImageOK == FlagUnset:
		return SwapTest
	case secondary.Magic == MagicGood && secondary.ImageOK == FlagSet:
		return SwapPerm
	// Row 3: a swapped-in image ran and was never confirmed.
	case primary.Magic == MagicGood && primary.ImageOK == FlagUnset && primary.CopyDone == FlagSet:
		return SwapRevert
	}
	return SwapNone
}
