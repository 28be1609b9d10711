package pair

import (
	"bytes"

	"github.com/fotasync/fotasync/device"
)

// checkpointEvery is how many more durable bytes make a device journal its
// upload offset. Each checkpoint costs a journal write; what falls between
// two is sent again after a reset.
const checkpointEvery = 32 * 1024

// checkpoint journals dev's durable upload offset when it has advanced far
// enough. store saves the session.
func checkpoint(dev *device.Device, s Session, store func(func(*Session)) error) {
	off := uint32(dev.DurableOffset())
	if off >= s.DurableOff+checkpointEvery {
		_ = store(func(s *Session) { s.DurableOff = off })
	}
}

// resumeUpload restores a device's interrupted upload of the session's image
// after a reset, from its journaled offset.
func resumeUpload(dev *device.Device, s Session) {
	if s.DurableOff > 0 && s.DurableOff < s.Len {
		_ = dev.ResumeUpload(int(s.Len), s.SHA, int(s.DurableOff))
	}
}

// stagedIsSession reports whether the staged image is the session's: its
// first chunk carried the session's sha.
func stagedIsSession(s Session, sha []byte) bool {
	return len(sha) > 0 && bytes.Equal(sha, s.SHA)
}
