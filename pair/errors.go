package pair

import (
	"errors"
	"fmt"

	"github.com/fotasync/fotasync/smp"
)

// RC is a pair group error code, reported by SMP v2 as
// "err": {"group": 64, "rc": n}.
type RC uint16

// Pair group error codes.
const (
	RCUnknown    RC = 1  // an unexpected failure; see the reason
	RCBadSession RC = 2  // the sid is not the session in progress
	RCBusy       RC = 3  // another session is in progress
	RCBadRequest RC = 4  // a field is missing or out of range
	RCBadState   RC = 5  // the command does not fit the session's phase
	RCPeerDown   RC = 6  // the secondary does not answer
	RCPeerFailed RC = 7  // the secondary rejected the image
	RCNotReady   RC = 8  // a device does not hold the verified image
	RCMismatch   RC = 9  // a device does not run the session's image
	RCNoPeer     RC = 10 // the session targets the secondary but there is none
)

var rcNames = [...]string{"OK", "UNKNOWN", "BAD_SESSION", "BUSY", "BAD_REQUEST", "BAD_STATE",
	"PEER_DOWN", "PEER_FAILED", "NOT_READY", "MISMATCH", "NO_PEER"}

// Name is the code's name, e.g. "PEER_FAILED".
func (rc RC) Name() string {
	if int(rc) < len(rcNames) {
		return rcNames[rc]
	}
	return fmt.Sprintf("pair error %d", uint16(rc))
}

func (rc RC) Error() string { return fmt.Sprintf("pair: error %d %s", uint16(rc), rc.Name()) }

// GroupRC lets a server encode rc as a group error.
func (rc RC) GroupRC() (smp.Group, uint16) { return Group, uint16(rc) }

// AsRC finds a pair group error in err, as a client decoded it.
func AsRC(err error) (RC, bool) {
	var rc RC
	if errors.As(err, &rc) {
		return rc, true
	}
	var g smp.GroupError
	if errors.As(err, &g) && g.Group == Group {
		return RC(g.RC), true
	}
	return 0, false
}

// withReason attaches a reason to a status, sent as "rsn" to SMP v1 clients.
func withReason(err error, format string, args ...any) error {
	return &smp.ReasonError{Err: err, Reason: fmt.Sprintf(format, args...)}
}
