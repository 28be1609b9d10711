package mcuboot

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Version is an image version as the header stores it (struct image_version):
// major.minor.revision+build.
type Version struct {
	Major    uint8
	Minor    uint8
	Revision uint16
	Build    uint32
}

// versionLen is the encoded size of a Version: u8, u8, u16 LE, u32 LE.
const versionLen = 8

// ParseVersion parses the forms imgtool and Zephyr print: "1", "1.2",
// "1.2.3", "1.2.3+4" (imgtool; missing parts are 0) and "1.2.3.4" (Zephyr's
// SMP image list, build last). Numbers are decimal without leading zeros, as
// imgtool requires.
func ParseVersion(s string) (Version, error) {
	parts, err := splitVersion(s)
	if err != nil {
		return Version{}, err
	}

	var n [4]uint64
	for i, p := range parts {
		f := versionFields[i]
		if n[i], err = parseVersionField(p, f.bits); err != nil {
			return Version{}, fmt.Errorf("mcuboot: version %q: %s: %w", s, f.name, err)
		}
	}
	return Version{Major: uint8(n[0]), Minor: uint8(n[1]), Revision: uint16(n[2]), Build: uint32(n[3])}, nil
}

// versionFields names the parts of a version string and their widths.
var versionFields = [4]struct {
	name string
	bits int
}{{"major", 8}, {"minor", 8}, {"revision", 16}, {"build", 32}}

// splitVersion returns one to four parts: major, minor, revision, build.
func splitVersion(s string) ([]string, error) {
	core, build, hasBuild := strings.Cut(s, "+")
	parts := strings.Split(core, ".")
	if len(parts) > 4 {
		return nil, fmt.Errorf("mcuboot: version %q: more than four parts", s)
	}
	if hasBuild {
		if len(parts) != 3 {
			return nil, fmt.Errorf("mcuboot: version %q: '+build' needs exactly major.minor.revision before it", s)
		}
		parts = append(parts, build)
	}
	return parts, nil
}

// parseVersionField parses one decimal field of at most bits bits.
func parseVersionField(s string, bits int) (uint64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%s does not fit in %d bits", s, bits)
	}
	return n, nil
}

// String returns the imgtool form, "1.2.3+4", or "1.2.3" when Build is 0.
func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Revision)
	if v.Build != 0 {
		s += "+" + strconv.FormatUint(uint64(v.Build), 10)
	}
	return s
}

// SMPString returns the form Zephyr's SMP image list reports: "1.2.3", or
// "1.2.3.4" when Build is not 0.
func (v Version) SMPString() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Revision)
	if v.Build != 0 {
		s += "." + strconv.FormatUint(uint64(v.Build), 10)
	}
	return s
}

// Compare orders versions by major, minor, revision, then build number, and
// returns -1, 0 or +1. (MCUboot itself ignores the build number unless built
// with MCUBOOT_VERSION_CMP_USE_BUILD_NUMBER.)
func (v Version) Compare(o Version) int {
	if c := cmp.Compare(v.Major, o.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Minor, o.Minor); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Revision, o.Revision); c != 0 {
		return c
	}
	return cmp.Compare(v.Build, o.Build)
}

// SecurityCounter returns the value imgtool derives for "-s auto":
// major<<24 | minor<<16 | revision.
func (v Version) SecurityCounter() uint32 {
	return uint32(v.Major)<<24 | uint32(v.Minor)<<16 | uint32(v.Revision)
}

func appendVersion(b []byte, v Version) []byte {
	b = append(b, v.Major, v.Minor)
	b = binary.LittleEndian.AppendUint16(b, v.Revision)
	return binary.LittleEndian.AppendUint32(b, v.Build)
}

// decodeVersion reads a Version from the first versionLen bytes of b.
func decodeVersion(b []byte) Version {
	return Version{
		Major:    b[0],
		Minor:    b[1],
		Revision: binary.LittleEndian.Uint16(b[2:4]),
		Build:    binary.LittleEndian.Uint32(b[4:8]),
	}
}
