// Package boot implements MCUboot's slot trailer, its swap-type decision and
// a swap-scratch boot emulation over flash areas.
//
// # Trailer
//
// Each slot ends in MCUboot's trailer (reference §6.1); see Trailer. The
// image-state operations an SMP server needs (SetPending, Confirm, Flags) work
// on it directly, and NextSwap turns the two trailers into the swap the next
// reset performs (reference §6.2).
//
// # Swap
//
// Loader.Boot exchanges the two slots sector by sector through a scratch
// area. Slot sector i moves in three steps: secondary to scratch, primary to
// secondary, scratch to primary; each step erases its destination sector
// first and copies the bytes below the trailer offset. A step's source is not
// touched before the step is recorded as done, so redoing a torn step is
// always safe. A last step erases the secondary trailer and writes the
// primary one (copy_done, and image_ok after a permanent swap or a revert).
//
// Unlike MCUboot, which keeps swap status inside the slot trailers, the
// progress lives in a dedicated status area, the journal:
//
//	offset 0   header, 32 bytes, padded with 0xFF to a multiple of the
//	           area's write alignment W:
//	             0  "FSWP"
//	             4  version (1)
//	             5  swap type (2 test, 3 perm, 4 revert)
//	             6  0x0000
//	             8  slot sector size, u32 LE
//	            12  sectors swapped (from slot sector 0), u32 LE
//	            16  swap size in bytes, u32 LE (copied to swap_size)
//	            20  eight zero bytes
//	            28  CRC-32 (IEEE) of bytes 0..27, u32 LE
//	then       one W-byte entry per step: 3 per sector, then 1 for the
//	           trailers. A done entry is written as zero bytes; any
//	           programmed byte counts as done.
//
// A swap starts by erasing the journal's sectors, sector 0 first, and then
// writing the header; nothing in the slots changes before the header is
// complete, and a torn or erased header means no swap is under way. Each
// entry is written only after its step's writes returned, so a trace of an
// entry proves the step complete. At reset, a journal whose header is valid
// and whose last entry is not done is finished before anything else; a
// finished journal stays until the next swap erases it.
//
// The swap covers the sectors holding either image (header, body and TLVs,
// read from the image header), or every sector up to the trailer when a slot
// holds no parsable image. An image may not reach into the trailer.
package boot
