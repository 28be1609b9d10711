package pair

import (
	"bytes"
	"fmt"

	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/mcuboot"
	"github.com/fotasync/fotasync/smp"
)

// verifyStaged checks the image a device received for the session: it is in
// the secondary slot, has the session's hash, verifies (hash, and signature
// when the device has keys), and is not older than the running image. It
// returns the image group error and reason of a failure.
func verifyStaged(dev *device.Device, s Session) (smp.ImageRC, error) {
	img, err := dev.StagedImage()
	if err != nil {
		return smp.ImageNoImage, fmt.Errorf("no image in the secondary slot: %w", err)
	}
	if !bytes.Equal(img.Hash(), s.Hash) {
		return smp.ImageHashNotFound, fmt.Errorf("staged image hash %x is not the session's %x", img.Hash(), s.Hash)
	}
	if err := dev.Validate(img); err != nil {
		return smp.ImageInvalidTLV, err
	}
	want, _ := mcuboot.ParseVersion(s.Version)
	if img.Header.Version != want {
		return smp.ImageVersionGetFailed, fmt.Errorf("staged image version %s is not the session's %s",
			img.Header.Version, want)
	}
	if run, ok := dev.Running(); ok && !s.Downgrade && img.Header.Version.Compare(run.Header.Version) < 0 {
		return smp.ImageCurrentVersionIsNewer, fmt.Errorf("image %s is older than the running %s",
			img.Header.Version, run.Header.Version)
	}
	return 0, nil
}
