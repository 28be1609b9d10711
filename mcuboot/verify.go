package mcuboot

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	_ "crypto/sha256" // registers crypto.SHA256
	_ "crypto/sha512" // registers crypto.SHA384 and crypto.SHA512
	"errors"
	"fmt"
	"strings"
)

// pssSaltLen is the RSA-PSS salt length MCUboot requires (bytes).
const pssSaltLen = 32

// digestHashes maps a hash TLV type to its algorithm.
var digestHashes = map[uint16]crypto.Hash{
	TLVSHA256: crypto.SHA256,
	TLVSHA384: crypto.SHA384,
	TLVSHA512: crypto.SHA512,
}

// Verify recomputes the digest over the header, payload and protected TLV
// area and compares it with the hash TLV (ErrNoHash, ErrHashMismatch).
// With keys (public keys, or private keys whose public half is used) it
// also requires a signature TLV that verifies with one of them: RSA-PSS,
// ECDSA or Ed25519 over the digest. ErrSignatureMissing means the image has
// no signature of any given key's type, ErrSignatureInvalid that none
// verifies. The KEYHASH TLV is not needed to pick the key; each is tried.
func (img *Image) Verify(keys ...crypto.PublicKey) error {
	digest, h, err := img.checkDigest()
	if err != nil || len(keys) == 0 {
		return err
	}

	pubs := make([]crypto.PublicKey, len(keys))
	for i, k := range keys {
		pubs[i] = publicKey(k)
		if err := checkKey(pubs[i]); err != nil {
			return fmt.Errorf("mcuboot: verify: key %d: %w", i, err)
		}
	}
	return img.checkSignature(digest, h, pubs)
}

// checkDigest recomputes the image digest and compares it with the hash TLV.
func (img *Image) checkDigest() ([]byte, crypto.Hash, error) {
	t, ok := img.hashTLV()
	if !ok {
		return nil, 0, fmt.Errorf("mcuboot: unprotected TLV area: no SHA256, SHA384 or SHA512 TLV: %w", ErrNoHash)
	}
	h := digestHashes[t.Type]
	d := h.New()
	d.Write(img.raw[:img.Header.hashedEnd()])
	digest := d.Sum(nil)

	if !bytes.Equal(digest, t.Value) {
		return nil, 0, fmt.Errorf("mcuboot: %s TLV: holds %x, image digest is %x: %w",
			TLVName(t.Type), t.Value, digest, ErrHashMismatch)
	}
	return digest, h, nil
}

// checkSignature accepts the image when one signature TLV verifies with one
// of pubs, which checkKey has accepted.
func (img *Image) checkSignature(digest []byte, h crypto.Hash, pubs []crypto.PublicKey) error {
	// BUG(mcuboot): images signed in "pure" mode (SIG_PURE TLV, the
	// signature covering the image rather than its digest) are not verified.
	if _, ok := findTLV(img.Unprotected, TLVSigPure); ok {
		return errors.New("mcuboot: signature: SIG_PURE images are not supported")
	}

	var found []string
	usable := false
	for _, t := range img.Unprotected {
		if !isSignatureType(t.Type) {
			continue
		}
		found = append(found, TLVName(t.Type))
		for _, pub := range pubs {
			if signatureType(pub) != t.Type {
				continue
			}
			usable = true
			if verifySignature(pub, t.Value, digest, h) {
				return nil
			}
		}
	}

	list := strings.Join(found, ", ")
	switch {
	case len(found) == 0:
		return fmt.Errorf("mcuboot: signature: no signature TLV, the image is hash-only: %w", ErrSignatureMissing)
	case !usable:
		return fmt.Errorf("mcuboot: signature: image carries only %s; none of the %d given key(s) is of that type: %w",
			list, len(pubs), ErrSignatureMissing)
	}
	return fmt.Errorf("mcuboot: signature: %s verifies with none of the %d given key(s)%s: %w",
		list, len(pubs), img.keyHashNote(pubs, h), ErrSignatureInvalid)
}

// keyHashNote tells, for an error message, whether the KEYHASH TLV names
// one of pubs (then the signature itself is bad) or none (another key).
func (img *Image) keyHashNote(pubs []crypto.PublicKey, h crypto.Hash) string {
	t, ok := findTLV(img.Unprotected, TLVKeyHash)
	if !ok {
		return ""
	}
	for i, pub := range pubs {
		if kh, err := keyHash(pub, h); err == nil && bytes.Equal(kh, t.Value) {
			return fmt.Sprintf(" (KEYHASH names key %d)", i)
		}
	}
	return fmt.Sprintf(" (KEYHASH %x names none of them)", t.Value)
}

func isSignatureType(t uint16) bool {
	return t == TLVRSA2048PSS || t == TLVRSA3072PSS || t == TLVECDSASig || t == TLVEd25519
}

// signatureType is the signature TLV type for a key checkKey accepted.
func signatureType(pub crypto.PublicKey) uint16 {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() == 3072 {
			return TLVRSA3072PSS
		}
		return TLVRSA2048PSS
	case *ecdsa.PublicKey:
		return TLVECDSASig
	case ed25519.PublicKey:
		return TLVEd25519
	}
	return 0
}

// verifySignature checks sig over digest, which was made with h.
func verifySignature(pub crypto.PublicKey, sig, digest []byte, h crypto.Hash) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPSS(k, h, digest, sig, &rsa.PSSOptions{SaltLength: pssSaltLen}) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, digest, sig)
	case ed25519.PublicKey:
		// imgtool signs the digest as the Ed25519 message.
		return ed25519.Verify(k, digest, sig)
	}
	return false
}
