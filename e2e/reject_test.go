package e2e

import (
	"crypto"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/emulator"
	"github.com/fotasync/fotasync/mcuboot"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/update"
	"github.com/google/go-cmp/cmp"
)

// signedV100 is ecp256_1k_v1.0.0_pad.bin without its slot padding: a
// 1.0.0 image signed with root-ec-p256 that fits a slot with its trailer.
func signedV100(t *testing.T) []byte {
	t.Helper()
	img, err := mcuboot.Parse(readRef(t, "ecp256_1k_v1.0.0_pad.bin"))
	if err != nil {
		t.Fatal(err)
	}
	return img.Bytes()
}

// ecKey is the root-ec-p256 test key.
func ecKey(t *testing.T) crypto.PublicKey {
	t.Helper()
	key, err := mcuboot.ParsePublicKeyPEM(readRef(t, filepath.Join("keys", "root-ec-p256.pub.pem")))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestKeyedDeviceRefusesHashOnlyImage: a device that checks signatures is
// never provisioned with an image it could not boot (G2).
func TestKeyedDeviceRefusesHashOnlyImage(t *testing.T) {
	cfg := emulator.PairConfig{Dir: t.TempDir(), Image: readRef(t, "hashonly_1k_v1.0.0.bin"),
		SecondaryDevice: &device.Config{Keys: []crypto.PublicKey{ecKey(t)}}}
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("StartPair panicked instead of returning its error: %v", r)
			}
		}()
		var p *emulator.Pair
		if p, err = emulator.StartPair(cfg); err == nil {
			p.Close()
		}
	}()
	t.Logf("start: %v", err)
	wantError(t, err, "secondary", "provision", mcuboot.ErrSignatureMissing.Error())
}

// TestSecondaryRejectsUnsignedImage gives the secondary a signing key and
// updates the pair with a hash-only image: the secondary refuses it after
// the transfer, the session is aborted, and neither device switches.
func TestSecondaryRejectsUnsignedImage(t *testing.T) {
	// A device that checks signatures refuses to be provisioned with a
	// hash-only image, so both start on the signed 1.0.0 image.
	p, err := emulator.StartPair(emulator.PairConfig{Dir: t.TempDir(), Image: signedV100(t),
		SecondaryDevice: &device.Config{Keys: []crypto.PublicKey{ecKey(t)}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	conn := dial(t, p.Primary)

	_, err = update.Run(bounded(t), options(t, conn, readRef(t, "hashonly_100k_v1.2.3+4.bin"), pair.TargetAll))
	t.Logf("update: %v", err)
	if err == nil || !strings.Contains(err.Error(), "secondary") ||
		!strings.Contains(err.Error(), mcuboot.ErrSignatureMissing.Error()) {
		t.Fatalf("update error = %v, want one naming the secondary and %q", err, mcuboot.ErrSignatureMissing)
	}

	st := status(t, client.New(conn, client.Options{}))
	if st.Phase != pair.PhaseAborted {
		t.Errorf("phase = %s, want aborted", st.Phase)
	}
	if f := st.Failure; f == nil || f.Device != "secondary" || f.Step != "verify" ||
		!strings.Contains(f.Reason, mcuboot.ErrSignatureMissing.Error()) {
		t.Errorf("failure = %+v, want the secondary at verify: %s", f, mcuboot.ErrSignatureMissing)
	}
	want := []smp.ImageSlot{running("1.0.0", hashEC1k), staged("1.2.3.4", hash100k)}
	for role, got := range devices(st) {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s slots (-want +got):\n%s", role, diff)
		}
	}
}
