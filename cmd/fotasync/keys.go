package main

import (
	"crypto"
	"fmt"
	"os"

	"github.com/fotasync/fotasync/mcuboot"
)

// readKeys loads PEM public keys from files.
func readKeys(paths []string) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		k, err := mcuboot.ParsePublicKeyPEM(b)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", p, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
