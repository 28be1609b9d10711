package mcuboot

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParsePublicKeyPEM returns the first key in PEM data. It reads PUBLIC KEY
// (PKIX) and RSA PUBLIC KEY (PKCS #1) blocks, and returns the public half of
// a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block; other blocks (EC
// PARAMETERS) are skipped. The key must be one MCUboot verifies: RSA-2048,
// RSA-3072, ECDSA P-256, ECDSA P-384 or Ed25519.
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	block, err := keyBlock(data)
	if err != nil {
		return nil, err
	}

	var pub crypto.PublicKey
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		var s crypto.Signer
		if s, err = parsePrivateBlock(block); err == nil {
			pub = s.Public()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("mcuboot: key: %s block: %w", block.Type, err)
	}
	if err := checkKey(pub); err != nil {
		return nil, fmt.Errorf("mcuboot: key: %w", err)
	}
	return pub, nil
}

// ParsePrivateKeyPEM returns the signing key in PEM data: PRIVATE KEY
// (PKCS #8, what imgtool keygen writes), RSA PRIVATE KEY (PKCS #1) or EC
// PRIVATE KEY (SEC 1). Encrypted keys are not supported. The key must be of
// a type ParsePublicKeyPEM accepts.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	block, err := keyBlock(data)
	if err != nil {
		return nil, err
	}
	s, err := parsePrivateBlock(block)
	if err != nil {
		return nil, fmt.Errorf("mcuboot: key: %s block: %w", block.Type, err)
	}
	if err := checkKey(s.Public()); err != nil {
		return nil, fmt.Errorf("mcuboot: key: %w", err)
	}
	return s, nil
}

// keyBlock returns the first PEM block that holds a key.
func keyBlock(data []byte) (*pem.Block, error) {
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil, errors.New("mcuboot: key: no PEM key block found")
		}
		switch block.Type {
		case "PUBLIC KEY", "RSA PUBLIC KEY", "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			return block, nil
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("mcuboot: key: encrypted private keys are not supported")
		}
	}
}

func parsePrivateBlock(block *pem.Block) (crypto.Signer, error) {
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, errors.New("not a private key")
	}
	if err != nil {
		return nil, err
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%T cannot sign: %w", key, ErrUnsupportedKey)
	}
	return s, nil
}

// checkKey accepts the public key types and sizes MCUboot verifies. Its
// errors name the key but carry no package prefix; callers add context.
func checkKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits != 2048 && bits != 3072 {
			return fmt.Errorf("RSA-%d, want RSA-2048 or RSA-3072: %w", bits, ErrUnsupportedKey)
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return fmt.Errorf("ECDSA curve %s, want P-256 or P-384: %w", k.Params().Name, ErrUnsupportedKey)
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("Ed25519 key of %d bytes: %w", len(k), ErrUnsupportedKey)
		}
	default:
		return fmt.Errorf("type %T: %w", pub, ErrUnsupportedKey)
	}
	return nil
}

// publicKey returns k, or its public half when k is a private key.
func publicKey(k crypto.PublicKey) crypto.PublicKey {
	if s, ok := k.(crypto.Signer); ok {
		return s.Public()
	}
	return k
}

// keyHash is the KEYHASH TLV value imgtool writes for pub: the image's
// hash algorithm over the key as MCUboot embeds it (PKCS #1 for RSA, PKIX
// SubjectPublicKeyInfo for ECDSA and Ed25519).
func keyHash(pub crypto.PublicKey, h crypto.Hash) ([]byte, error) {
	var der []byte
	var err error
	if k, ok := pub.(*rsa.PublicKey); ok {
		der = x509.MarshalPKCS1PublicKey(k)
	} else if der, err = x509.MarshalPKIXPublicKey(pub); err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	d := h.New()
	d.Write(der)
	return d.Sum(nil), nil
}
