package mcuboot

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"testing/cryptotest"
)

func TestParsePublicKeyPEMReferenceKeys(t *testing.T) {
	if k, ok := refKey(t, "root-rsa-2048").(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
		t.Errorf("root-rsa-2048: got %T, want a 2048-bit *rsa.PublicKey", k)
	}
	if k, ok := refKey(t, "root-ec-p256").(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("root-ec-p256: got %T, want a P-256 *ecdsa.PublicKey", k)
	}
	if _, ok := refKey(t, "root-ed25519").(ed25519.PublicKey); !ok {
		t.Errorf("root-ed25519: want an ed25519.PublicKey")
	}
}

func TestParseKeyPEMForms(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 3)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ek)
	if err != nil {
		t.Fatal(err)
	}
	_, edk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(edk)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		pem  []byte
		pub  interface{ Equal(crypto.PublicKey) bool }
	}{
		{"PKCS1 public", pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rk.PublicKey)), &rk.PublicKey},
		{"PKCS1 private", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)), &rk.PublicKey},
		{"SEC1 after EC PARAMETERS", append(pemBlock("EC PARAMETERS", []byte{6, 5, 0x2b, 0x81, 4, 0, 0x22}),
			pemBlock("EC PRIVATE KEY", ecDER)...), &ek.PublicKey},
		{"PKCS8 Ed25519", pemBlock("PRIVATE KEY", pkcs8), edk.Public().(ed25519.PublicKey)},
	}
	for _, tt := range tests {
		pub, err := ParsePublicKeyPEM(tt.pem)
		if err != nil {
			t.Errorf("%s: ParsePublicKeyPEM: %v", tt.name, err)
		} else if !tt.pub.Equal(pub) {
			t.Errorf("%s: ParsePublicKeyPEM returned another key", tt.name)
		}
	}
	for _, tt := range tests[1:] {
		s, err := ParsePrivateKeyPEM(tt.pem)
		if err != nil {
			t.Errorf("%s: ParsePrivateKeyPEM: %v", tt.name, err)
		} else if !tt.pub.Equal(s.Public()) {
			t.Errorf("%s: ParsePrivateKeyPEM returned another key", tt.name)
		}
	}
}

func TestParseKeyPEMErrors(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 4)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePublicKeyPEM(pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&small.PublicKey))); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("RSA-1024: error = %v, want ErrUnsupportedKey", err)
	}
	for name, in := range map[string][]byte{
		"no PEM":        []byte("hello"),
		"garbage DER":   pemBlock("PUBLIC KEY", []byte{1, 2, 3}),
		"encrypted":     pemBlock("ENCRYPTED PRIVATE KEY", []byte{1}),
		"only a cert":   pemBlock("CERTIFICATE", []byte{1}),
		"public as key": pemBlock("PUBLIC KEY", nil),
	} {
		if _, err := ParsePublicKeyPEM(in); err == nil {
			t.Errorf("%s: ParsePublicKeyPEM succeeded", name)
		}
		if _, err := ParsePrivateKeyPEM(in); err == nil {
			t.Errorf("%s: ParsePrivateKeyPEM succeeded", name)
		}
	}
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
