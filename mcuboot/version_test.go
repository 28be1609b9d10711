package mcuboot

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in       string
		want     Version
		str, smp string
	}{
		{"1.2.3", Version{1, 2, 3, 0}, "1.2.3", "1.2.3"},
		{"1.2.3+4", Version{1, 2, 3, 4}, "1.2.3+4", "1.2.3.4"},
		{"1.2.3.4", Version{1, 2, 3, 4}, "1.2.3+4", "1.2.3.4"},
		{"1.2.3+0", Version{1, 2, 3, 0}, "1.2.3", "1.2.3"},
		{"2", Version{2, 0, 0, 0}, "2.0.0", "2.0.0"},
		{"0.7", Version{0, 7, 0, 0}, "0.7.0", "0.7.0"},
		{"255.255.65535+4294967295", Version{255, 255, 65535, 4294967295},
			"255.255.65535+4294967295", "255.255.65535.4294967295"},
	}
	for _, tt := range tests {
		got, err := ParseVersion(tt.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseVersion(%q) (-want +got):\n%s", tt.in, diff)
		}
		if got.String() != tt.str || got.SMPString() != tt.smp {
			t.Errorf("%q: String() = %q, SMPString() = %q; want %q, %q", tt.in, got.String(), got.SMPString(), tt.str, tt.smp)
		}
	}
}

func TestParseVersionErrors(t *testing.T) {
	tests := []struct{ in, mention string }{
		{"", "major"},
		{"1.", "minor"},
		{"1..3", "minor"},
		{"256.0.0", "major"},
		{"1.256.0", "minor"},
		{"1.2.65536", "revision"},
		{"1.2.3+4294967296", "build"},
		{"1.2+3", "'+build'"},
		{"1.2.3.4.5", "four"},
		{"1.2.3.4+5", "'+build'"},
		{"01.2.3", "leading zero"},
		{"1.2.3+", "build"},
		{"1.2.3+4+5", "build"},
		{"v1.2.3", "major"},
		{"1.-2.3", "minor"},
		{" 1.2.3", "major"},
	}
	for _, tt := range tests {
		_, err := ParseVersion(tt.in)
		if err == nil || !strings.HasPrefix(err.Error(), "mcuboot: version ") || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ParseVersion(%q) error = %v, want one mentioning %q", tt.in, err, tt.mention)
		}
	}
}

func TestVersionCompare(t *testing.T) {
	ordered := []string{"0.0.0", "0.0.0+1", "0.0.1", "0.1.0", "0.255.65535+9", "1.0.0", "1.0.0+4", "1.2.3", "2.0.0"}
	for i, a := range ordered {
		for j, b := range ordered {
			va, _ := ParseVersion(a)
			vb, _ := ParseVersion(b)
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := va.Compare(vb); got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

// TestVersionSecurityCounter checks imgtool's "-s auto" value against the
// SEC_CNT TLV of ecp256_20k_v2.0.0_seccnt_dep.bin (bytes 00 00 00 02).
func TestVersionSecurityCounter(t *testing.T) {
	if got := (Version{2, 0, 0, 0}).SecurityCounter(); got != 0x02000000 {
		t.Errorf("2.0.0 security counter = %#x, want 0x02000000", got)
	}
	if got := (Version{1, 2, 3, 4}).SecurityCounter(); got != 0x01020003 {
		t.Errorf("1.2.3+4 security counter = %#x, want 0x01020003", got)
	}
}
