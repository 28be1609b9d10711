package mcuboot

import (
	"flag"
	"os"
	"testing"
)

// TestMain fixes rapid's seed unless one is given with -rapid.seed, so that
// every run checks the same cases.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("rapid.seed"); f != nil && f.Value.String() == "0" {
		if err := f.Value.Set("1"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
