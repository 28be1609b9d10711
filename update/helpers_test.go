package update

import (
	"encoding/hex"
	"fmt"
	"os"
	"testing"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func slotLine(slot uint32, version string, hash []byte, active, confirmed, pending bool) string {
	return fmt.Sprintf("slot %d %s %x active=%v confirmed=%v pending=%v", slot, version, hash, active, confirmed, pending)
}
