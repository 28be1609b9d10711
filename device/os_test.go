package device_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fotasync/fotasync/boot"
	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/smp"
)

// TestEchoVectors replays TV1 (v1 read) and TV2 (v2 write) byte for byte.
func TestEchoVectors(t *testing.T) {
	r := newRig(t, device.Config{})
	tests := []struct{ name, req, want string }{
		{"TV1 v1 read", "0000000900004200a161646568656c6c6f", "0100000a00004200bf61726568656c6c6fff"},
		{"TV2 v2 write", "0a00000600000100a16164626869", "0b00000700000100bf6172626869ff"},
	}
	for _, tt := range tests {
		got, _ := r.mux.Answer(t.Context(), unhex(t, tt.req))
		if want := unhex(t, tt.want); !equalHex(got, want) {
			t.Errorf("%s: got %x, want %x", tt.name, got, want)
		}
	}
}

// TestEchoUndecodable: "d" that is not a text string fails the decode and is
// answered with a bare {"rc":3} (reference §2).
func TestEchoUndecodable(t *testing.T) {
	r := newRig(t, device.Config{})
	r.expect(v2Write, groupOS, idEcho, mapDef(tstr("d"), uintc(1)), rcRsp(3))
	r.expect(v1Write, groupOS, idEcho, mapDef(tstr("d"), bstr([]byte("hi"))), rcRsp(3))
}

// TestParams replays TV3 with the serial and UDP fixtures' buffers and checks
// that the device reports its configured values.
func TestParams(t *testing.T) {
	tests := []struct {
		name       string
		size, cnt  int
		wantSuffix string // TV3 body
	}{
		{"TV3 serial 384/4", 384, 4, "bf686275665f73697a65190180696275665f636f756e7404ff"},
		{"TV3 udp 2048/2", 2048, 2, "bf686275665f73697a65190800696275665f636f756e7402ff"},
		{"defaults 2048/4", 0, 0, "bf686275665f73697a65190800696275665f636f756e7404ff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, device.Config{BufSize: tt.size, BufCount: tt.cnt})
			got, _ := r.mux.Answer(t.Context(), unhex(t, "0800000100000106a0"))
			if want := unhex(t, "0900001900000106"+tt.wantSuffix); !equalHex(got, want) {
				t.Errorf("got %x, want %x", got, want)
			}
		})
	}
}

// TestResetVector replays TV8 and checks that the device reboots only once
// the reply has been sent (when the functions after the reply run).
func TestResetVector(t *testing.T) {
	r := newRig(t, device.Config{})
	r.provision(img1k)
	boots := 0
	r.dev.SetHooks(device.Hooks{AfterBoot: func(boot.Result) { boots++ }})

	got, after := r.mux.Answer(t.Context(), unhex(t, "0a00000100002005a0"))
	if want := unhex(t, "0b00000200002005bfff"); !equalHex(got, want) {
		t.Fatalf("reset reply = %x, want %x", got, want)
	}
	if boots != 0 {
		t.Fatalf("device rebooted before its reply was sent")
	}
	if len(after) != 1 {
		t.Fatalf("%d functions after the reply, want 1 (the reboot)", len(after))
	}
	after[0]()
	if boots != 1 {
		t.Errorf("boots after the reply = %d, want 1", boots)
	}
}

// TestResetRefused: a reset hook may refuse an unforced reset with EBUSY
// (field case B17); nothing reboots then. A forced reset ("force": true, a
// CBOR bool) reaches the hook as forced.
func TestResetRefused(t *testing.T) {
	r := newRig(t, device.Config{})
	r.provision(img1k)
	boots := 0
	var forced []bool
	r.dev.SetHooks(device.Hooks{
		AfterBoot: func(boot.Result) { boots++ },
		BeforeReset: func(force bool) error {
			forced = append(forced, force)
			if !force {
				return smp.RCBusy
			}
			return nil
		},
	})
	r.expect(v2Write, groupOS, idReset, mapDef(), rcRsp(10))
	if boots != 0 {
		t.Fatalf("refused reset rebooted the device")
	}
	r.expect(v2Write, groupOS, idReset, mapDef(tstr("force"), boolc(true)), imap())
	if boots != 1 {
		t.Errorf("boots after a forced reset = %d, want 1", boots)
	}
	if diff := cmp.Diff([]bool{false, true}, forced); diff != "" {
		t.Errorf("force seen by the hook (-want +got):\n%s", diff)
	}
}

// TestInfo checks the format letters of OS info (reference §2): fields come
// in the fixed order s n r v b m p i o, separated by spaces; "s" is the
// default; an unknown letter is INVALID_FORMAT, rc 3 for a v1 client.
func TestInfo(t *testing.T) {
	r := newRig(t, device.Config{Name: "left"})
	format := func(f string) []byte { return mapDef(tstr("format"), tstr(f)) }
	output := func(s string) []byte { return imap(tstr("output"), tstr(s)) }

	r.expect(v2Read, groupOS, idInfo, mapDef(), output("Zephyr"))
	r.expect(v2Read, groupOS, idInfo, nil, output("Zephyr"))
	r.expect(v2Read, groupOS, idInfo, format("s"), output("Zephyr"))
	r.expect(v2Read, groupOS, idInfo, format("n"), output("left"))
	r.expect(v2Read, groupOS, idInfo, format("vs"), output("Zephyr 4.4.0"))
	r.expect(v2Read, groupOS, idInfo, format("ons"), output("Zephyr left Zephyr"))
	r.expect(v2Read, groupOS, idInfo, format("x"), groupErr(groupOS, 2))
	r.expect(v2Read, groupOS, idInfo, format("sx"), groupErr(groupOS, 2))
	r.expect(v1Read, groupOS, idInfo, format("x"), rcRsp(3))

	got, _, _ := r.answer(v2Read, groupOS, idInfo, format("a"))
	var all smp.InfoResponse
	if err := smp.Unmarshal(got[8:], &all); err != nil {
		t.Fatal(err)
	}
	fields := strings.Split(all.Output, " ")
	if len(fields) < 8 || fields[0] != "Zephyr" || fields[1] != "left" || fields[3] != "4.4.0" ||
		fields[len(fields)-1] != "Zephyr" {
		t.Errorf(`format "a" = %q, want "Zephyr left <release> 4.4.0 ... Zephyr"`, all.Output)
	}
}

// TestBootloaderInfo: the bootloader names itself; query "mode" gives the
// MCUboot mode (1, swap with scratch, which the emulator implements); any
// other query yields no answer (err{0,3}).
func TestBootloaderInfo(t *testing.T) {
	r := newRig(t, device.Config{})
	r.expect(v2Read, groupOS, idBootloader, mapDef(), imap(tstr("bootloader"), tstr("MCUboot")))
	r.expect(v2Read, groupOS, idBootloader, mapDef(tstr("query"), tstr("mode")), imap(tstr("mode"), uintc(1)))
	r.expect(v2Read, groupOS, idBootloader, mapDef(tstr("query"), tstr("version")), groupErr(groupOS, 3))
}
