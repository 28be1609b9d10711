package e2e

import (
	"testing"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/emulator"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/google/go-cmp/cmp"
)

// journal is what the tests check of a device's pair journal.
type journal struct {
	SID       uint32
	Target    pair.Target
	Phase     pair.Phase
	Version   string
	Primary   pair.DeviceState
	Secondary pair.DeviceState
	Applied   []string
}

func journalOf(s pair.Session) journal {
	return journal{SID: s.SID, Target: s.Target, Phase: s.Phase, Version: s.Version,
		Primary: s.Primary, Secondary: s.Secondary, Applied: s.Applied}
}

// powerOn opens a stopped device's state directory, as a power-on does,
// with the pair role's journal loaded, and returns its image list and
// journal. The boot must find nothing to swap: the update left the device
// settled.
func powerOn(t *testing.T, cfg device.Config, role emulator.Role) ([]smp.ImageSlot, journal) {
	t.Helper()
	dev, err := device.Open(cfg)
	if err != nil {
		t.Fatalf("power on %s: %v", role, err)
	}
	defer dev.Close()
	if got := dev.Booted().Swap; got != boot.SwapNone {
		t.Errorf("power on %s: boot swap = %v, want none", role, got)
	}
	list, err := dev.Images()
	if err != nil {
		t.Fatalf("%s: images: %v", role, err)
	}
	var s pair.Session
	switch role {
	case emulator.RolePrimary:
		p, err := pair.NewPrimary(dev, nil, pair.PrimaryOptions{})
		if err != nil {
			t.Fatalf("primary journal: %v", err)
		}
		s = p.Session()
		p.Close()
	default:
		x, err := pair.NewSecondary(dev)
		if err != nil {
			t.Fatalf("secondary journal: %v", err)
		}
		s = x.Session()
	}
	return list, journalOf(s)
}

// stored is what one device should hold after a step.
type stored struct {
	images  []smp.ImageSlot
	journal journal
}

// checkStored powers each stopped device on and compares its slots and
// journal with want.
func checkStored(t *testing.T, step string, s *setup, wantPri, wantSec stored) {
	t.Helper()
	for _, d := range []struct {
		role emulator.Role
		cfg  device.Config
		want stored
	}{{emulator.RolePrimary, s.pri, wantPri}, {emulator.RoleSecondary, s.sec, wantSec}} {
		images, j := powerOn(t, d.cfg, d.role)
		if diff := cmp.Diff(d.want.images, images); diff != "" {
			t.Errorf("%s: %s slots (-want +got):\n%s", step, d.role, diff)
		}
		if diff := cmp.Diff(d.want.journal, j); diff != "" {
			t.Errorf("%s: %s journal (-want +got):\n%s", step, d.role, diff)
		}
	}
}
