package serial

import (
	"encoding/hex"
	"flag"
	"os"
	"strings"
	"testing"
)

// Byte vectors from shared/reference/smp-mcuboot.md §7, TV1 (echo "hello",
// SMP v1, seq 0x42, over the serial fixture).
var (
	tv1Request  = unhex("00 00 00 09 00 00 42 00 a1 61 64 65 68 65 6c 6c 6f")
	tv1Frame    = unhex("060941424d414141414a41414243414b46685a47566f5a577873622b444e0a")
	tv1Response = unhex("01 00 00 0a 00 00 42 00 bf 61 72 65 68 65 6c 6c 6f ff")
	// tv1ResponseFrame is 06 09, the base64 text, 0a.
	tv1ResponseFrame = []byte("\x06\x09ABQBAAAKAABCAL9hcmVoZWxsb/8t1w==\n")
)

const (
	tv1RequestCRC  = 0xE0CD
	tv1ResponseCRC = 0x2DD7
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// TestMain fixes rapid's seed unless one is given (-rapid.seed or
// RAPID_SEED), so that every run checks the same cases.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("rapid.seed"); f != nil && f.Value.String() == "0" {
		f.Value.Set("20240607")
	}
	os.Exit(m.Run())
}
