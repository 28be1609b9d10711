package mcuboot

import "encoding/binary"

// Dependency is a DEPENDENCY TLV: the image requires image ImageID at
// Version or later. Encoded as {u8 image_id, u8 pad, u16 pad, image_version}.
type Dependency struct {
	ImageID uint8
	Version Version
}

// dependencyLen is the encoded size of a DEPENDENCY value.
const dependencyLen = 4 + versionLen

func (d Dependency) tlv() TLV {
	v := append([]byte{d.ImageID, 0, 0, 0}, appendVersion(nil, d.Version)...)
	return TLV{Type: TLVDependency, Value: v}
}

// Dependencies returns the DEPENDENCY TLVs of the protected area in order.
func (img *Image) Dependencies() []Dependency {
	var deps []Dependency
	for _, t := range img.Protected {
		if t.Type == TLVDependency {
			// Parse checked the value length.
			deps = append(deps, Dependency{ImageID: t.Value[0], Version: decodeVersion(t.Value[4:])})
		}
	}
	return deps
}

func securityCounterTLV(c uint32) TLV {
	return TLV{Type: TLVSecurityCounter, Value: binary.LittleEndian.AppendUint32(nil, c)}
}

// SecurityCounter returns the SEC_CNT value of the protected area, if any.
func (img *Image) SecurityCounter() (uint32, bool) {
	t, ok := findTLV(img.Protected, TLVSecurityCounter)
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint32(t.Value), true
}
