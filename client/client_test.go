package client

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fotasync/fotasync/smp"
)

// TestRetries replays field case B15 against a device that never answers:
// reset, confirm and erase go out once; reads, echo and test (harmless to
// repeat) go out 1 + Retries times, each attempt waiting Timeout.
func TestRetries(t *testing.T) {
	const timeout = time.Second
	tests := []struct {
		name  string
		group smp.Group
		id    uint8
		call  func(ctx context.Context, c *Client) error
		want  int // requests sent with Retries 2
	}{
		{"reset", smp.GroupOS, smp.OSReset, func(ctx context.Context, c *Client) error {
			return c.Reset(ctx, false)
		}, 1},
		{"confirm", smp.GroupImage, smp.ImageState, func(ctx context.Context, c *Client) error {
			_, err := c.ImageConfirm(ctx, nil)
			return err
		}, 1},
		{"erase", smp.GroupImage, smp.ImageErase, func(ctx context.Context, c *Client) error {
			return c.Erase(ctx, nil, 0)
		}, 1},
		{"echo", smp.GroupOS, smp.OSEcho, func(ctx context.Context, c *Client) error {
			_, err := c.Echo(ctx, "hi")
			return err
		}, 3},
		{"state read", smp.GroupImage, smp.ImageState, func(ctx context.Context, c *Client) error {
			_, err := c.ImageState(ctx)
			return err
		}, 3},
		{"test", smp.GroupImage, smp.ImageState, func(ctx context.Context, c *Client) error {
			_, err := c.ImageTest(ctx, make([]byte, 32))
			return err
		}, 3},
		{"params", smp.GroupOS, smp.OSParams, func(ctx context.Context, c *Client) error {
			_, err := c.Params(ctx)
			return err
		}, 3},
		{"info", smp.GroupOS, smp.OSInfo, func(ctx context.Context, c *Client) error {
			_, err := c.Info(ctx, "a")
			return err
		}, 3},
		{"slot info", smp.GroupImage, smp.ImageSlotInfo, func(ctx context.Context, c *Client) error {
			_, err := c.SlotInfo(ctx)
			return err
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, nil)
			c := New(s, Options{Clock: s, Timeout: timeout, Retries: 2})
			if err := tt.call(t.Context(), c); !errors.Is(err, ErrTimeout) {
				t.Fatalf("error = %v, want ErrTimeout", err)
			}
			if got := len(s.sent(tt.group, tt.id)); got != tt.want || len(s.log) != tt.want {
				t.Errorf("sent %d requests (%d packets), want %d", got, len(s.log), tt.want)
			}
			if got, want := s.elapsed(), time.Duration(tt.want)*timeout; got != want {
				t.Errorf("gave up after %v, want %v", got, want)
			}
		})
	}
	t.Run("negative Retries", func(t *testing.T) {
		s := newSim(t, nil)
		c := New(s, Options{Clock: s, Retries: -1})
		if _, err := c.Echo(t.Context(), "hi"); !errors.Is(err, ErrTimeout) {
			t.Fatalf("Echo = %v, want ErrTimeout", err)
		}
		if len(s.log) != 1 {
			t.Errorf("sent %d requests, want 1", len(s.log))
		}
	})
}

// TestLateAnswer: the answer to the first attempt arrives after the client
// has sent the second; it is as good as an answer to the second.
func TestLateAnswer(t *testing.T) {
	const timeout = time.Second
	var s *sim
	s = newSim(t, func(p smp.Packet) []reply {
		if len(s.log) > 1 {
			return nil // only the first attempt is answered
		}
		return []reply{{pkt: respond(p, smp.EchoResponse{R: "hi"}), delay: timeout * 3 / 2}}
	})
	c := New(s, Options{Clock: s, Timeout: timeout})
	got, err := c.Echo(t.Context(), "hi")
	if err != nil || got != "hi" {
		t.Fatalf("Echo = %q, %v; want hi", got, err)
	}
	if n := len(s.sent(smp.GroupOS, smp.OSEcho)); n != 2 || s.elapsed() != timeout*3/2 {
		t.Errorf("sent %d requests, done after %v; want 2 and %v", n, s.elapsed(), timeout*3/2)
	}
}

// TestExplicitErase: an erase that takes 35 s (field case B13) succeeds with a
// long enough timeout, and otherwise fails after one request.
func TestExplicitErase(t *testing.T) {
	for _, timeout := range []time.Duration{40 * time.Second, 0} {
		d := newDevice()
		d.eraseDelay = 35 * time.Second
		s := newSim(t, d.serve)
		c := New(s, Options{Clock: s})
		err := c.Erase(t.Context(), nil, timeout)
		if timeout > 0 && err != nil {
			t.Errorf("Erase with %v: %v", timeout, err)
		}
		if timeout == 0 && !errors.Is(err, ErrTimeout) {
			t.Errorf("Erase with the default timeout = %v, want ErrTimeout", err)
		}
		if n := len(s.sent(smp.GroupImage, smp.ImageErase)); n != 1 || d.erases != 1 {
			t.Errorf("Erase with %v: %d requests, %d erases; want 1 and 1", timeout, n, d.erases)
		}
	}
}

// TestReplyVariants replays field cases B23 and B26: reply headers and error
// shapes that real servers send.
func TestReplyVariants(t *testing.T) {
	params := func(ctx context.Context, c *Client) (any, error) { return c.Params(ctx) }
	echo := func(ctx context.Context, c *Client) (any, error) { return c.Echo(ctx, "hi") }
	state := func(ctx context.Context, c *Client) (any, error) { return c.ImageState(ctx) }
	test := func(ctx context.Context, c *Client) (any, error) { return c.ImageTest(ctx, make([]byte, 32)) }
	paramsBody := mustHex(t, "bf686275665f73697a65190180696275665f636f756e7404ff") // TV3
	echoBody := mustHex(t, "bf61726268 69ff")                                      // TV2 {"r":"hi"}
	tests := []struct {
		name    string
		call    func(context.Context, *Client) (any, error)
		version uint8
		op      smp.Op
		body    []byte
		want    any
		wantErr error
	}{
		{name: "v1 header to a v2 request", call: echo, version: smp.Version1, op: smp.OpWriteRsp,
			body: echoBody, want: "hi"},
		{name: "read answered with op 3", call: params, version: smp.Version2, op: smp.OpWriteRsp,
			body: paramsBody, want: smp.ParamsResponse{BufSize: 384, BufCount: 4}},
		{name: "read answered with op 2", call: params, version: smp.Version2, op: smp.OpWrite,
			body: paramsBody, want: smp.ParamsResponse{BufSize: 384, BufCount: 4}},
		{name: "write answered with op 1", call: echo, version: smp.Version2, op: smp.OpReadRsp,
			body: echoBody, want: "hi"},
		// A write "answered" with op 2 is what an echoing link returns.
		{name: "write answered with op 2", call: echo, version: smp.Version2, op: smp.OpWrite,
			body: echoBody, wantErr: ErrTimeout},
		{name: `"ret" group error`, call: state, version: smp.Version2, op: smp.OpReadRsp,
			body: mustHex(t, "a163726574a26567726f75700162726302"), wantErr: smp.ImageFlashConfigQueryFail},
		{name: `"err" group error`, call: state, version: smp.Version2, op: smp.OpReadRsp,
			body: mustHex(t, "a163657272a26567726f75700162726302"), wantErr: smp.ImageFlashConfigQueryFail},
		{name: "rc 8", call: state, version: smp.Version2, op: smp.OpReadRsp,
			body: mustHex(t, "a162726308"), wantErr: smp.RCNotSupported},
		{name: "rc with reason", call: state, version: smp.Version1, op: smp.OpReadRsp,
			body: mustHex(t, "a262726301637273"+"6e6a666c61736820627573"+"79"), wantErr: smp.RCUnknown},
		{name: "TV6 test of the running image", call: test, version: smp.Version2, op: smp.OpWriteRsp,
			body: mustHex(t, "bf63657272bf6567726f7570016272631821ffff"), wantErr: smp.ImageSettingTestToActiveDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, func(p smp.Packet) []reply {
				if p.Version != smp.Version2 {
					t.Errorf("request version = %d, want %d (SMP v2)", p.Version, smp.Version2)
				}
				return asap(rawReply(p, tt.version, tt.op, tt.body))
			})
			c := New(s, Options{Clock: s, Retries: -1})
			got, err := tt.call(t.Context(), c)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want errors.Is %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReasonKept: an error's reason text reaches the caller.
func TestReasonKept(t *testing.T) {
	s := newSim(t, func(p smp.Packet) []reply {
		return asap(rawReply(p, smp.Version2, smp.OpReadRsp, mustHex(t, "a262726301637273"+"6e6a666c61736820627573"+"79")))
	})
	_, err := New(s, Options{Clock: s}).ImageState(t.Context())
	var re *smp.ReasonError
	if !errors.As(err, &re) || re.Reason != "flash busy" {
		t.Fatalf("error = %v, want a reason %q", err, "flash busy")
	}
}

// TestStaleRepliesIgnored: packets that do not answer the request in flight
// (an earlier sequence number, another command, a request, noise) are
// dropped, and the right answer behind them is taken.
func TestStaleRepliesIgnored(t *testing.T) {
	s := newSim(t, func(p smp.Packet) []reply {
		earlier := p
		earlier.Seq--
		other := p
		other.ID = smp.OSInfo
		return []reply{
			{pkt: respond(earlier, smp.EchoResponse{R: "old"})},
			{pkt: respond(other, smp.InfoResponse{Output: "Zephyr"})},
			{pkt: rawReply(p, smp.Version2, smp.OpRead, mustHex(t, "a0"))},
			{pkt: []byte("noise")},
			{pkt: mustHex(t, "eb00000700000100bf61726268 69ff")}, // reserved bits set
			{pkt: respond(p, smp.EchoResponse{R: "hi"})},
		}
	})
	c := New(s, Options{Clock: s})
	for range 2 { // the second call reads past the first one's leftovers
		got, err := c.Echo(t.Context(), "hi")
		if err != nil || got != "hi" {
			t.Fatalf("Echo = %q, %v; want hi", got, err)
		}
	}
}

// TestParams: the MCUmgr parameters read (TV3), a device without the command
// (rc 8 in a v1 header, as an older firmware answered a v2 request: B26), and
// a buf_size that cannot hold a packet.
func TestParams(t *testing.T) {
	t.Run("TV3", func(t *testing.T) {
		s := newSim(t, func(p smp.Packet) []reply {
			return asap(rawReply(p, smp.Version2, smp.OpReadRsp,
				mustHex(t, "bf686275665f73697a65190180696275665f636f756e7404ff")))
		})
		c := New(s, Options{Clock: s})
		got, err := c.Params(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(smp.ParamsResponse{BufSize: 384, BufCount: 4}, got); diff != "" {
			t.Errorf("Params (-want +got):\n%s", diff)
		}
		if req := withoutSeq(s.log[0].raw); !cmp.Equal(req, mustHex(t, "08 00 00 01 00 00 00 06 a0")) {
			t.Errorf("request = %x, want TV3's request (sequence number blanked)", req)
		}
	})
	t.Run("not supported", func(t *testing.T) {
		d := newDevice()
		d.bufSize = 0
		s := newSim(t, func(p smp.Packet) []reply {
			p.Version = smp.Version1
			return d.serve(p)
		})
		c := New(s, Options{Clock: s})
		for range 2 {
			got, err := c.Params(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(smp.ParamsResponse{BufSize: 384, BufCount: 1}, got); diff != "" {
				t.Errorf("Params (-want +got):\n%s", diff)
			}
		}
		if n := len(s.sent(smp.GroupOS, smp.OSParams)); n != 1 {
			t.Errorf("sent %d params requests, want 1 (cached)", n)
		}
		// The upload uses those defaults: 384-byte packets, one in flight.
		img := testImage(3000, 13)
		if _, err := c.Upload(t.Context(), img, UploadOptions{}); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		chunks := uploadsSent(t, s)
		if len(chunks[0].raw) != 384 || maxInFlight(s) != 1 || !cmp.Equal(d.image, img) {
			t.Errorf("first chunk %d bytes, %d in flight, file held %v; want 384, 1, true",
				len(chunks[0].raw), maxInFlight(s), cmp.Equal(d.image, img))
		}
	})
	t.Run("buf_size too small", func(t *testing.T) {
		d := newDevice()
		d.bufSize = smp.HeaderSize
		s := newSim(t, d.serve)
		if _, err := New(s, Options{Clock: s}).Params(t.Context()); err == nil {
			t.Error("Params with buf_size 8 = nil error")
		}
	})
}

// TestCanceled: a canceled context ends a wait with its error, not a timeout.
func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s := newSim(t, func(smp.Packet) []reply {
		cancel()
		return nil
	})
	_, err := New(s, Options{Clock: s}).Echo(ctx, "hi")
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("Echo = %v, want context.Canceled", err)
	}
}
