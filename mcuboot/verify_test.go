package mcuboot

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"testing"
	"testing/cryptotest"
)

func TestVerifyReferenceImages(t *testing.T) {
	all := []crypto.PublicKey{refKey(t, "root-ec-p256"), refKey(t, "root-ed25519"), refKey(t, "root-rsa-2048")}
	for _, r := range refImages {
		t.Run(r.file, func(t *testing.T) {
			img, err := Parse(readRef(t, r.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := img.Verify(); err != nil {
				t.Errorf("Verify(): %v", err)
			}
			if r.key == "" {
				checkErr(t, "Verify(keys)", img.Verify(all...), ErrSignatureMissing, "hash-only")
				return
			}

			key := refKey(t, r.key)
			if err := img.Verify(key); err != nil {
				t.Errorf("Verify(%s): %v", r.key, err)
			}
			if err := img.Verify(all...); err != nil {
				t.Errorf("Verify(all three keys): %v", err)
			}
			// imgtool's KEYHASH: SHA-256 of the key as MCUboot embeds it.
			kh, err := keyHash(key, crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := findTLV(img.Unprotected, TLVKeyHash); !ok || fmt.Sprintf("%x", got.Value) != fmt.Sprintf("%x", kh) {
				t.Errorf("KEYHASH TLV = %x, want %x", got.Value, kh)
			}
		})
	}
}

func TestVerifyKeyOfAnotherType(t *testing.T) {
	img, err := Parse(readRef(t, "rsa2048_100k_v1.0.0.bin"))
	if err != nil {
		t.Fatal(err)
	}
	err = img.Verify(refKey(t, "root-ec-p256"), refKey(t, "root-ed25519"))
	checkErr(t, "Verify", err, ErrSignatureMissing, "RSA2048_PSS")
}

func TestVerifyAnotherKeyOfTheSameType(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 1)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	img, err := Parse(readRef(t, "rsa2048_100k_v1.0.0.bin"))
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, "Verify", img.Verify(&other.PublicKey), ErrSignatureInvalid, "names none of them")
}

func TestVerifyDamagedSignature(t *testing.T) {
	b := readRef(t, "ed25519_100k_v2.0.0.bin")
	b[len(b)-1] ^= 0x80 // last byte of the ED25519 TLV, outside the hash
	img, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := img.Verify(); err != nil {
		t.Errorf("Verify(): %v", err)
	}
	checkErr(t, "Verify(key)", img.Verify(refKey(t, "root-ed25519")), ErrSignatureInvalid, "KEYHASH names key 0")
}

func TestVerifyUnsupportedKey(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 2)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	img, err := Parse(readRef(t, "ecp256_300k_v1.2.3+4.bin"))
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, "Verify", img.Verify(&p224.PublicKey), ErrUnsupportedKey, "P-224")
	checkErr(t, "Verify", img.Verify(ed25519.PublicKey(make([]byte, 31))), ErrUnsupportedKey, "31 bytes")
	checkErr(t, "Verify", img.Verify("not a key"), ErrUnsupportedKey, "string")
}

func TestVerifyNoHash(t *testing.T) {
	img, err := Parse(craft(0, area(TLVInfoMagic, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if img.Hash() != nil {
		t.Errorf("Hash() = %x, want nil", img.Hash())
	}
	checkErr(t, "Verify", img.Verify(), ErrNoHash, "no SHA256")
}
