package smp

import (
	"errors"
	"fmt"
)

// Decoding failures of the wire format itself.
var (
	ErrShortPacket = errors.New("smp: packet shorter than its header says")
	ErrMalformed   = errors.New("smp: malformed packet")
)

// RC is an MCUmgr result code (mcumgr_err_t), the "rc" of a response. It is
// an error; RCOK is never returned as one.
type RC uint16

// MCUmgr result codes, as in Zephyr's mgmt_defines.h.
const (
	RCOK            RC = 0
	RCUnknown       RC = 1
	RCNoMemory      RC = 2
	RCInvalid       RC = 3
	RCTimeout       RC = 4
	RCNoEntry       RC = 5
	RCBadState      RC = 6
	RCMessageSize   RC = 7
	RCNotSupported  RC = 8
	RCCorrupt       RC = 9
	RCBusy          RC = 10
	RCAccessDenied  RC = 11
	RCProtoTooOld   RC = 12
	RCProtoTooNew   RC = 13
	RCPerUserOffset RC = 256
)

var rcNames = [...]string{
	"EOK", "EUNKNOWN", "ENOMEM", "EINVAL", "ETIMEOUT", "ENOENT", "EBADSTATE", "EMSGSIZE",
	"ENOTSUP", "ECORRUPT", "EBUSY", "EACCESSDENIED", "UNSUPPORTED_TOO_OLD", "UNSUPPORTED_TOO_NEW",
}

// Name is the code's name in Zephyr's headers, e.g. "EBUSY".
func (rc RC) Name() string {
	if int(rc) < len(rcNames) {
		return rcNames[rc]
	}
	if rc >= RCPerUserOffset {
		return fmt.Sprintf("EPERUSER+%d", rc-RCPerUserOffset)
	}
	return fmt.Sprintf("rc %d", uint16(rc))
}

func (rc RC) Error() string { return fmt.Sprintf("smp: rc %d %s", uint16(rc), rc.Name()) }

// ImageRC is an image group error (IMG_MGMT_ERR_*), reported by SMP v2 as
// "err": {"group": 1, "rc": n}.
type ImageRC uint16

// Image group error codes, as in Zephyr's img_mgmt.h.
const (
	ImageOK                        ImageRC = 0
	ImageUnknown                   ImageRC = 1
	ImageFlashConfigQueryFail      ImageRC = 2
	ImageNoImage                   ImageRC = 3
	ImageNoTLVs                    ImageRC = 4
	ImageInvalidTLV                ImageRC = 5
	ImageTLVMultipleHashesFound    ImageRC = 6
	ImageTLVInvalidSize            ImageRC = 7
	ImageHashNotFound              ImageRC = 8
	ImageNoFreeSlot                ImageRC = 9
	ImageFlashOpenFailed           ImageRC = 10
	ImageFlashReadFailed           ImageRC = 11
	ImageFlashWriteFailed          ImageRC = 12
	ImageFlashEraseFailed          ImageRC = 13
	ImageInvalidSlot               ImageRC = 14
	ImageNoFreeMemory              ImageRC = 15
	ImageFlashContextAlreadySet    ImageRC = 16
	ImageFlashContextNotSet        ImageRC = 17
	ImageFlashAreaDeviceNull       ImageRC = 18
	ImageInvalidPageOffset         ImageRC = 19
	ImageInvalidOffset             ImageRC = 20
	ImageInvalidLength             ImageRC = 21
	ImageInvalidImageHeader        ImageRC = 22
	ImageInvalidImageHeaderMagic   ImageRC = 23
	ImageInvalidHash               ImageRC = 24
	ImageInvalidFlashAddress       ImageRC = 25
	ImageVersionGetFailed          ImageRC = 26
	ImageCurrentVersionIsNewer     ImageRC = 27
	ImageAlreadyPending            ImageRC = 28
	ImageInvalidImageVectorTable   ImageRC = 29
	ImageInvalidImageTooLarge      ImageRC = 30
	ImageInvalidImageDataOverrun   ImageRC = 31
	ImageConfirmationDenied        ImageRC = 32
	ImageSettingTestToActiveDenied ImageRC = 33
	ImageActiveSlotNotKnown        ImageRC = 34
)

var imageRCNames = [...]string{
	"OK", "UNKNOWN", "FLASH_CONFIG_QUERY_FAIL", "NO_IMAGE", "NO_TLVS", "INVALID_TLV",
	"TLV_MULTIPLE_HASHES_FOUND", "TLV_INVALID_SIZE", "HASH_NOT_FOUND", "NO_FREE_SLOT",
	"FLASH_OPEN_FAILED", "FLASH_READ_FAILED", "FLASH_WRITE_FAILED", "FLASH_ERASE_FAILED",
	"INVALID_SLOT", "NO_FREE_MEMORY", "FLASH_CONTEXT_ALREADY_SET", "FLASH_CONTEXT_NOT_SET",
	"FLASH_AREA_DEVICE_NULL", "INVALID_PAGE_OFFSET", "INVALID_OFFSET", "INVALID_LENGTH",
	"INVALID_IMAGE_HEADER", "INVALID_IMAGE_HEADER_MAGIC", "INVALID_HASH", "INVALID_FLASH_ADDRESS",
	"VERSION_GET_FAILED", "CURRENT_VERSION_IS_NEWER", "IMAGE_ALREADY_PENDING",
	"INVALID_IMAGE_VECTOR_TABLE", "INVALID_IMAGE_TOO_LARGE", "INVALID_IMAGE_DATA_OVERRUN",
	"IMAGE_CONFIRMATION_DENIED", "IMAGE_SETTING_TEST_TO_ACTIVE_DENIED", "ACTIVE_SLOT_NOT_KNOWN",
}

// Name is the code's name without its IMG_MGMT_ERR_ prefix.
func (rc ImageRC) Name() string {
	if int(rc) < len(imageRCNames) {
		return imageRCNames[rc]
	}
	return fmt.Sprintf("image error %d", uint16(rc))
}

func (rc ImageRC) Error() string {
	return fmt.Sprintf("smp: image error %d %s", uint16(rc), rc.Name())
}

// v1RC is what a Zephyr server reports for rc when the client speaks SMP v1
// (img_mgmt_translate_error_code).
func (rc ImageRC) v1RC() RC {
	switch rc {
	case ImageNoImage, ImageNoTLVs:
		return RCNoEntry
	case ImageNoFreeSlot, ImageCurrentVersionIsNewer, ImageAlreadyPending:
		return RCBadState
	case ImageInvalidSlot, ImageInvalidPageOffset, ImageInvalidOffset, ImageInvalidLength,
		ImageInvalidImageHeader, ImageInvalidHash, ImageInvalidFlashAddress:
		return RCInvalid
	case ImageNoFreeMemory:
		return RCNoMemory
	}
	return RCUnknown
}

// OSRC is an OS group error (OS_MGMT_ERR_*).
type OSRC uint16

// OS group error codes, as in Zephyr's os_mgmt.h.
const (
	OSOK                         OSRC = 0
	OSUnknown                    OSRC = 1
	OSInvalidFormat              OSRC = 2
	OSQueryYieldsNoAnswer        OSRC = 3
	OSRTCNotSet                  OSRC = 4
	OSRTCCommandFailed           OSRC = 5
	OSQueryResponseValueNotValid OSRC = 6
	OSHeapStatsFetchFailed       OSRC = 7
)

var osRCNames = [...]string{
	"OK", "UNKNOWN", "INVALID_FORMAT", "QUERY_YIELDS_NO_ANSWER", "RTC_NOT_SET",
	"RTC_COMMAND_FAILED", "QUERY_RESPONSE_VALUE_NOT_VALID", "HEAP_STATS_FETCH_FAILED",
}

// Name is the code's name without its OS_MGMT_ERR_ prefix.
func (rc OSRC) Name() string {
	if int(rc) < len(osRCNames) {
		return osRCNames[rc]
	}
	return fmt.Sprintf("os error %d", uint16(rc))
}

func (rc OSRC) Error() string { return fmt.Sprintf("smp: os error %d %s", uint16(rc), rc.Name()) }

// v1RC is what a Zephyr server reports for rc to an SMP v1 client.
func (rc OSRC) v1RC() RC {
	switch rc {
	case OSInvalidFormat:
		return RCInvalid
	case OSQueryYieldsNoAnswer, OSRTCNotSet, OSQueryResponseValueNotValid:
		return RCNoEntry
	}
	return RCUnknown
}

// GroupError is an error of a group this package has no names for, such as an
// application group.
type GroupError struct {
	Group Group
	RC    uint16
}

func (e GroupError) Error() string {
	return fmt.Sprintf("smp: %s error %d", e.Group, e.RC)
}

// ReasonError is a device error that came with a reason text ("rsn"), which
// Zephyr adds when built with verbose errors.
type ReasonError struct {
	Err    error // an RC, ImageRC, OSRC or GroupError
	Reason string
}

func (e *ReasonError) Error() string { return fmt.Sprintf("%v (%q)", e.Err, e.Reason) }
func (e *ReasonError) Unwrap() error { return e.Err }

// groupError returns the typed error for rc reported by group.
func groupError(group Group, rc uint16) error {
	switch group {
	case GroupOS:
		return OSRC(rc)
	case GroupImage:
		return ImageRC(rc)
	}
	return GroupError{Group: group, RC: rc}
}
