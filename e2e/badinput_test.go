package e2e

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fotasync/fotasync/client"
	"github.com/fotasync/fotasync/mcuboot"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
	"github.com/fotasync/fotasync/transport"
	"github.com/fotasync/fotasync/update"
	"github.com/google/go-cmp/cmp"
)

// wantError checks that err is set and mentions every part.
func wantError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

// untouched checks that the pair has no session and that each device
// still holds exactly want.
func untouched(t *testing.T, conn transport.Conn, want []smp.ImageSlot) {
	t.Helper()
	st := status(t, client.New(conn, client.Options{}))
	if st.Phase != pair.PhaseIdle {
		t.Errorf("phase = %s, want idle", st.Phase)
	}
	for role, got := range devices(st) {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s slots (-want +got):\n%s", role, diff)
		}
	}
}

// TestBadImageFiles refuses damaged image files before anything is sent.
func TestBadImageFiles(t *testing.T) {
	s := newSetup(t, readRef(t, "hashonly_1k_v1.0.0.bin"))
	pri, _ := s.start(t)
	conn := dial(t, pri)
	for _, tc := range []struct {
		file     string
		sentinel error
		mention  string
	}{
		{"rsa2048_100k_bad_magic.bin", mcuboot.ErrBadMagic, "magic"},
		{"rsa2048_100k_flipped_payload_byte.bin", mcuboot.ErrHashMismatch, "hash"},
		{"rsa2048_100k_truncated_mid_payload.bin", mcuboot.ErrTruncated, "payload"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := update.Run(bounded(t), options(t, conn, readRef(t, "corrupt/"+tc.file), pair.TargetAll))
			t.Logf("update: %v", err)
			wantError(t, err, "update: image", tc.mention)
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v is not %v", err, tc.sentinel)
			}
		})
	}
	untouched(t, conn, []smp.ImageSlot{running("1.0.0", hash1k)})
}

// TestDowngradeRefused offers 1.2.3+4 to a pair at 2.0.0: refused in
// prepare, naming the first device that would go back.
func TestDowngradeRefused(t *testing.T) {
	s := newSetup(t, readRef(t, "hashonly_12345B_v2.0.0.bin"))
	pri, _ := s.start(t)
	conn := dial(t, pri)
	for _, tc := range []struct {
		target pair.Target
		device string
	}{{pair.TargetAll, "primary"}, {pair.TargetPrimary, "primary"}, {pair.TargetSecondary, "secondary"}} {
		t.Run(tc.target.String(), func(t *testing.T) {
			o := options(t, conn, readRef(t, "hashonly_100k_v1.2.3+4.bin"), tc.target)
			_, err := update.Run(bounded(t), o)
			t.Logf("update: %v", err)
			wantError(t, err, "prepare", tc.device, "2.0.0", "downgrade")
		})
	}
	untouched(t, conn, []smp.ImageSlot{running("2.0.0", hash12345)})
}

// smallSlot is a slot of 16 sectors: the 1 KiB image fits, the 100 KiB one
// does not.
const smallSlot = 16 * 4096

// TestImageTooLargeForPrimary refuses an image larger than the primary's
// slot in prepare.
func TestImageTooLargeForPrimary(t *testing.T) {
	s := newSetup(t, readRef(t, "hashonly_1k_v1.0.0.bin"))
	s.pri.SlotSize = smallSlot
	pri, _ := s.start(t)
	conn := dial(t, pri)
	_, err := update.Run(bounded(t), options(t, conn, readRef(t, "hashonly_100k_v1.2.3+4.bin"), pair.TargetAll))
	t.Logf("update: %v", err)
	wantError(t, err, "prepare", "primary", "does not fit")
	untouched(t, conn, []smp.ImageSlot{running("1.0.0", hash1k)})
}

// TestImageTooLargeForSecondary gives only the secondary a small slot. The
// design's prepare checks both devices' slot sizes before any byte moves;
// the update is cut at the first transfer event to see whether it did.
func TestImageTooLargeForSecondary(t *testing.T) {
	s := newSetup(t, readRef(t, "hashonly_1k_v1.0.0.bin"))
	s.sec.SlotSize = smallSlot
	pri, _ := s.start(t)
	conn := dial(t, pri)
	ctx, cut := context.WithCancel(bounded(t))
	defer cut()
	o := options(t, conn, readRef(t, "hashonly_100k_v1.2.3+4.bin"), pair.TargetAll)
	log := o.OnEvent
	o.OnEvent = func(e update.Event) {
		log(e)
		if e.Step == "transfer" {
			cut()
		}
	}
	_, err := update.Run(ctx, o)
	t.Logf("update: %v", err)
	if errors.Is(err, context.Canceled) {
		t.Fatal("the image moved before the secondary's slot size was checked")
	}
	wantError(t, err, "secondary", "does not fit")
}

// TestDeadPrimary updates through a UDP port nobody listens on: the update
// fails in prepare, within its client timeout.
func TestDeadPrimary(t *testing.T) {
	l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := l.LocalAddr().String()
	l.Close()
	conn, err := transport.Dial("udp:" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	o := options(t, conn, readRef(t, "hashonly_1k_v1.0.0.bin"), pair.TargetAll)
	o.Client = client.Options{Timeout: 200 * time.Millisecond, Retries: -1}
	ctx := bounded(t)
	_, err = update.Run(ctx, o)
	t.Logf("update: %v", err)
	if ctx.Err() != nil {
		t.Fatalf("the update outlived its bound: %v", err)
	}
	wantError(t, err, "prepare", "primary")
}

// TestUnknownPairCommand sends commands the pair group does not have:
// ENOTSUP, as for any unhandled SMP command.
func TestUnknownPairCommand(t *testing.T) {
	s := newSetup(t, readRef(t, "hashonly_1k_v1.0.0.bin"))
	pri, sec := s.start(t)
	for _, tc := range []struct {
		name string
		c    *client.Client
		req  client.Request
	}{
		{"primary write 42", client.New(dial(t, pri), client.Options{}),
			client.Request{Op: smp.OpWrite, Group: pair.Group, ID: 42}},
		{"primary read upload", client.New(dial(t, pri), client.Options{}),
			client.Request{Op: smp.OpRead, Group: pair.Group, ID: pair.CmdUpload}},
		{"secondary forward", client.New(dial(t, sec), client.Options{}),
			client.Request{Op: smp.OpWrite, Group: pair.Group, ID: pair.CmdForward}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Do(bounded(t), tc.req, nil)
			t.Logf("do: %v", err)
			if !errors.Is(err, smp.RCNotSupported) {
				t.Errorf("error %v, want %v", err, smp.RCNotSupported)
			}
			wantError(t, err, "group 64", "ENOTSUP")
		})
	}
}
