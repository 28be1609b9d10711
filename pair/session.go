package pair

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/fotasync/fotasync/mcuboot"
	"github.com/fotasync/fotasync/smp"
)

// check validates a begin request's fields.
func (r BeginRequest) check() error {
	switch {
	case r.SID == 0:
		return withReason(RCBadRequest, "sid must not be 0")
	case !r.Target.valid():
		return withReason(RCBadRequest, "target %d is not 1 (primary), 2 (secondary) or 3 (all)", r.Target)
	case r.Len < mcuboot.HeaderLen:
		return withReason(RCBadRequest, "len %d is shorter than an image header", r.Len)
	case len(r.SHA) != sha256.Size:
		return withReason(RCBadRequest, "sha has %d bytes, want 32", len(r.SHA))
	case len(r.Hash) != sha256.Size:
		return withReason(RCBadRequest, "hash has %d bytes, want 32", len(r.Hash))
	}
	if _, err := mcuboot.ParseVersion(r.Version); err != nil {
		return withReason(RCBadRequest, "version: %v", err)
	}
	return nil
}

// same reports whether r begins the session s already holds: a replayed
// begin after a reconnect.
func (r BeginRequest) same(s Session) bool {
	return r.SID == s.SID && r.Target == s.Target && r.Len == s.Len &&
		bytes.Equal(r.SHA, s.SHA) && bytes.Equal(r.Hash, s.Hash) && r.Version == s.Version
}

// running returns the image state entry of the running slot.
func running(list []smp.ImageSlot) (smp.ImageSlot, bool) {
	for _, s := range list {
		if s.Active {
			return s, true
		}
	}
	return smp.ImageSlot{}, false
}

// sessionName describes the session a device holds, for messages.
func sessionName(s Session) string {
	if s.SID == 0 {
		return "it has none"
	}
	return fmt.Sprintf("it holds %08x, %s", s.SID, s.Phase)
}
