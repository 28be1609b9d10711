// Package pair is fotasync's pair protocol: an SMP group through which a host
// updates a primary device and, through it, a secondary device that only the
// primary can reach. docs/protocol.md specifies the group byte for byte.
//
// The primary proxies and coordinates (Primary), the secondary verifies and
// reports (Secondary); both keep a durable journal of the session.
package pair

import (
	"fmt"

	"github.com/fotasync/fotasync/smp"
)

// Group is the SMP group number of the pair protocol, the first number
// MCUmgr leaves to applications.
const Group smp.Group = 64

// Commands of the pair group.
const (
	CmdSession = 0 // read: status; write: begin a session
	CmdUpload  = 1 // write: one image chunk for the session
	CmdReset   = 2 // write: coordinated reset into the test images
	CmdCommit  = 3 // write: confirm the pair after the reset
	CmdAbort   = 4 // write: end the session without switching
	CmdForward = 5 // write: carry a raw SMP packet to the secondary
	CmdReport  = 6 // write, primary to secondary: verify the staged image and report
)

// CommandName names a pair command for messages: "pair reset".
func CommandName(cmd uint8) string {
	names := [...]string{"pair session", "pair upload", "pair reset", "pair commit", "pair abort",
		"pair forward", "pair report"}
	if int(cmd) < len(names) {
		return names[cmd]
	}
	return fmt.Sprintf("pair command %d", cmd)
}

// Target says which devices a session updates. It is a bit set.
type Target uint8

// Targets.
const (
	TargetPrimary   Target = 1
	TargetSecondary Target = 2
	TargetAll              = TargetPrimary | TargetSecondary
)

// ParseTarget reads "primary", "secondary" or "all".
func ParseTarget(s string) (Target, error) {
	switch s {
	case "primary":
		return TargetPrimary, nil
	case "secondary":
		return TargetSecondary, nil
	case "all":
		return TargetAll, nil
	}
	return 0, fmt.Errorf("pair: target %q: want primary, secondary or all", s)
}

func (t Target) String() string {
	switch t {
	case TargetPrimary:
		return "primary"
	case TargetSecondary:
		return "secondary"
	case TargetAll:
		return "all"
	}
	return fmt.Sprintf("target(%d)", uint8(t))
}

// Has reports whether t includes every device of u.
func (t Target) Has(u Target) bool { return t&u == u }

func (t Target) valid() bool { return t >= TargetPrimary && t <= TargetAll }

// Phase is where a session stands. It is sent as text.
type Phase string

// Session phases, in the order of a successful update.
const (
	PhaseIdle      Phase = "idle"      // no session
	PhaseTransfer  Phase = "transfer"  // chunks flow host → primary → secondary
	PhaseReady     Phase = "ready"     // every targeted device holds the verified image
	PhaseHeld      Phase = "held"      // a reset was asked for; waiting for the secondary
	PhaseSwitching Phase = "switching" // images marked for test; devices resetting
	PhaseTesting   Phase = "testing"   // devices run the test images, unconfirmed
	PhaseCommitted Phase = "committed" // both confirmed: the update is done
	PhaseAborted   Phase = "aborted"   // ended without switching; old images run
	PhaseReverted  Phase = "reverted"  // switched, then rolled back to the old images
)

// Finished reports whether the session has ended.
func (p Phase) Finished() bool {
	return p == PhaseIdle || p == PhaseCommitted || p == PhaseAborted || p == PhaseReverted
}

// DeviceState is one device's part in a session.
type DeviceState string

// Device states.
const (
	StateNone      DeviceState = ""          // not targeted
	StateReceiving DeviceState = "receiving" // image arriving
	StateVerified  DeviceState = "verified"  // staged image complete, hash and signature good
	StateFailed    DeviceState = "failed"    // the device rejected the image or could not be reached
	StateSwitched  DeviceState = "switched"  // marked for test and reset
	StateTesting   DeviceState = "testing"   // running the new image, unconfirmed
	StateConfirmed DeviceState = "confirmed" // running the new image, confirmed
)

// BeginRequest starts a session (CmdSession write). The primary forwards
// the same body to the secondary when the session targets it.
type BeginRequest struct {
	SID     uint32 `cbor:"sid"`     // session id chosen by the host, not 0
	Target  Target `cbor:"target"`  // 1 primary, 2 secondary, 3 all
	Len     uint32 `cbor:"len"`     // image file length in bytes
	SHA     []byte `cbor:"sha"`     // SHA-256 of the image file (32 bytes)
	Hash    []byte `cbor:"hash"`    // the image's SHA-256 TLV (32 bytes)
	Version string `cbor:"version"` // the image's version, "1.2.3" or "1.2.3.4"
	// Downgrade allows an image older than the one a device runs.
	Downgrade bool `cbor:"downgrade,omitempty"`
}

// SIDRequest is the body of the commands that name only the session.
type SIDRequest struct {
	SID uint32 `cbor:"sid"`
}

// UploadRequest carries one chunk of the session's image (CmdUpload).
type UploadRequest struct {
	SID  uint32 `cbor:"sid"`
	Off  uint32 `cbor:"off"`
	Data []byte `cbor:"data"`
}

// ResetRequest asks for the coordinated reset (CmdReset). The primary waits
// up to HoldMS for the secondary to be ready before it decides.
type ResetRequest struct {
	SID    uint32 `cbor:"sid"`
	HoldMS uint32 `cbor:"hold_ms,omitempty"` // 0 means 30000
}

// ResetResponse says what the primary decided.
type ResetResponse struct {
	Decision string `cbor:"decision"` // "reset" now, or "held" until the secondary is ready
}

// ForwardRequest carries a whole SMP packet for the secondary (CmdForward).
type ForwardRequest struct {
	Packet []byte `cbor:"packet"`
}

// ForwardResponse carries the secondary's answer.
type ForwardResponse struct {
	Packet []byte `cbor:"packet"`
}

// Report is the secondary's completion report (the answer to CmdReport).
type Report struct {
	SID    uint32      `cbor:"sid"`
	State  DeviceState `cbor:"state"` // verified or failed
	Hash   []byte      `cbor:"hash,omitempty"`
	Code   uint16      `cbor:"code,omitempty"` // an image group error code when failed
	Reason string      `cbor:"reason,omitempty"`
}

// Status is the pair's state as the host sees it (CmdSession read).
type Status struct {
	SID      uint32         `cbor:"sid"`
	Target   Target         `cbor:"target"`
	Phase    Phase          `cbor:"phase"`
	Version  string         `cbor:"version,omitempty"`
	Hash     []byte         `cbor:"hash,omitempty"`
	Devices  []DeviceStatus `cbor:"devices"`
	Decision string         `cbor:"decision,omitempty"` // the last decision and its reason
	Failure  *Failure       `cbor:"failure,omitempty"`
}

// DeviceStatus is one device's view in Status.
type DeviceStatus struct {
	Role      string          `cbor:"role"` // "primary" or "secondary"
	State     DeviceState     `cbor:"state"`
	Off       uint32          `cbor:"off"` // bytes the device holds of the session's image
	Len       uint32          `cbor:"len"`
	Reachable bool            `cbor:"reachable"`
	Images    []smp.ImageSlot `cbor:"images"`
}

// StepVerify is the Failure step of a device that checked the image and
// refused it: running the update again will not change its mind.
const StepVerify = "verify"

// Failure is the last error of a session: which device, at which step, why.
type Failure struct {
	Device string `cbor:"device"`
	Step   string `cbor:"step"`
	Reason string `cbor:"reason"`
}

func (f *Failure) Error() string {
	return fmt.Sprintf("%s: %s: %s", f.Device, f.Step, f.Reason)
}

// devicesOf names the devices of t for messages.
func devicesOf(t Target) string {
	switch t {
	case TargetPrimary:
		return "the primary"
	case TargetSecondary:
		return "the secondary"
	}
	return "both devices"
}
