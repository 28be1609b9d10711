package mcuboot

import "errors"

// Sentinel errors. Every error this package returns wraps at most one of them,
// with a message naming the field or step that failed; test with errors.Is.
var (
	// ErrBadMagic: the header does not start with HeaderMagic.
	ErrBadMagic = errors.New("bad magic")
	// ErrTruncated: a header, payload or TLV record runs past the end of the input.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed: fields disagree with each other or with the format
	// (wrong TLV info magic, area sizes that do not add up, bad TLV lengths).
	ErrMalformed = errors.New("malformed")
	// ErrNoHash: the unprotected TLV area has no SHA256, SHA384 or SHA512 TLV.
	ErrNoHash = errors.New("no hash TLV")
	// ErrHashMismatch: the recomputed digest differs from the hash TLV.
	ErrHashMismatch = errors.New("hash mismatch")
	// ErrSignatureMissing: keys were given but the image carries no signature
	// TLV that any of them could check.
	ErrSignatureMissing = errors.New("signature missing")
	// ErrSignatureInvalid: a signature TLV of a matching algorithm exists but
	// verifies with none of the given keys.
	ErrSignatureInvalid = errors.New("signature invalid")
	// ErrUnsupportedKey: the key is not one MCUboot can use (RSA-2048/3072,
	// ECDSA P-256/P-384, Ed25519).
	ErrUnsupportedKey = errors.New("unsupported key")
)
