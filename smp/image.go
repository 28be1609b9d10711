package smp

// ImageSlot is one entry of the image state list (image command 0). Missing
// booleans decode as false and a missing "image" as 0.
type ImageSlot struct {
	Image     uint32 `cbor:"image,omitempty"` // present only on multi-image devices
	Slot      uint32 `cbor:"slot"`
	Version   string `cbor:"version"` // "1.2.3", with ".build" when build is not 0
	Hash      []byte `cbor:"hash"`    // the image's SHA-256 TLV, not the file's SHA-256
	Bootable  bool   `cbor:"bootable"`
	Pending   bool   `cbor:"pending"`
	Confirmed bool   `cbor:"confirmed"`
	Active    bool   `cbor:"active"`
	Permanent bool   `cbor:"permanent"`
}

// ImageStateResponse answers an image state read or write.
type ImageStateResponse struct {
	Images      []ImageSlot `cbor:"images"`
	SplitStatus int         `cbor:"splitStatus"`
}

// ImageStateRequest is the body of an image state write. Confirm false with a
// hash marks that image for a test boot; Confirm true without a hash confirms
// the running image; Confirm true with a hash makes that image permanent.
type ImageStateRequest struct {
	Hash    []byte `cbor:"hash,omitempty"` // 32 bytes; Zephyr rejects a text string
	Confirm bool   `cbor:"confirm"`
}

// UploadRequest is the body of image command 1 (upload). Image, Len, SHA and
// Upgrade belong to the first chunk (Off 0) only.
type UploadRequest struct {
	Image   *uint32 `cbor:"image,omitempty"`
	Len     *uint32 `cbor:"len,omitempty"` // total length of the file
	Off     uint32  `cbor:"off"`
	SHA     []byte  `cbor:"sha,omitempty"` // SHA-256 of the whole file, up to 32 bytes
	Data    []byte  `cbor:"data"`
	Upgrade *bool   `cbor:"upgrade,omitempty"`
}

// UploadResponse answers an upload chunk. Off is the next offset the device
// expects; a response without it is an error.
type UploadResponse struct {
	Off   *uint32 `cbor:"off"`
	Match *bool   `cbor:"match,omitempty"` // on the last chunk, when the device checks the file hash
}

// EraseRequest is the body of image command 5 (erase).
type EraseRequest struct {
	Slot *uint32 `cbor:"slot,omitempty"` // default: the slot that is not running
}

// SlotInfoResponse answers image command 6 (slot info).
type SlotInfoResponse struct {
	Images []SlotInfoImage `cbor:"images"`
}

// SlotInfoImage describes the slots of one image.
type SlotInfoImage struct {
	Image        uint32         `cbor:"image"`
	Slots        []SlotInfoSlot `cbor:"slots"`
	MaxImageSize *uint32        `cbor:"max_image_size,omitempty"`
}

// SlotInfoSlot describes one slot.
type SlotInfoSlot struct {
	Slot          uint32  `cbor:"slot"`
	Size          uint32  `cbor:"size"`
	UploadImageID *uint32 `cbor:"upload_image_id,omitempty"`
}
