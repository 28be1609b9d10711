package transport

import (
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/fotasync/fotasync/transport/serial"
	"github.com/google/go-cmp/cmp"
)

// TV2 of shared/reference/smp-mcuboot.md §7: echo "hi", SMP v2, over UDP.
var (
	tv2Request  = unhex("0a 00 00 06 00 00 01 00 a1 61 64 62 68 69")
	tv2Response = unhex("0b 00 00 07 00 00 01 00 bf 61 72 62 68 69 ff")
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// TestDialListenUDP runs TV2 through Listen and Dial over loopback; the
// listener exists before the dial.
func TestDialListenUDP(t *testing.T) {
	server, err := Listen("udp:127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	defer server.Close()
	client, err := Dial("udp:" + server.LocalAddr().String())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer client.Close()

	if err := client.Send(t.Context(), tv2Request); err != nil {
		t.Fatalf("Send: %v", err)
	}
	req, from, err := server.ReadPacket(t.Context())
	if err != nil || !cmp.Equal(req, tv2Request) {
		t.Fatalf("ReadPacket = %x, %v; want TV2's request", req, err)
	}
	if err := server.WritePacket(tv2Response, from); err != nil {
		t.Fatalf("WritePacket: %v", err)
	}
	if got, err := client.Recv(t.Context()); err != nil || !cmp.Equal(got, tv2Response) {
		t.Errorf("Recv = %x, %v; want TV2's response", got, err)
	}

	client.Close()
	if _, err := client.Recv(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Recv after Close: %v, want transport.ErrClosed", err)
	}
}

func TestDialErrors(t *testing.T) {
	tests := []struct {
		spec string
		want string // a part of the message
	}{
		{"udp:127.0.0.1:0", "port 0 can only be listened on"},
		{"nope", "transport: spec"},
		{"serial:/nonexistent/tty", "serial: open /nonexistent/tty"},
	}
	for _, tt := range tests {
		c, err := Dial(tt.spec)
		if err == nil || c != nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Dial(%q) = %v, %v; want no Conn and an error with %q", tt.spec, c, err, tt.want)
		}
	}
	if pc, err := Listen("serial:/nonexistent/tty"); err == nil || pc != nil {
		t.Errorf("Listen of a missing port = %v, %v; want an error", pc, err)
	}
}

func TestPacketLimit(t *testing.T) {
	udpConn, err := Dial("udp:127.0.0.1:1337")
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer udpConn.Close()
	ours, peer := net.Pipe()
	defer peer.Close()
	serialConn, err := serial.NewConn(ours, serial.Config{})
	if err != nil {
		t.Fatalf("serial.NewConn: %v", err)
	}
	defer serialConn.Close()

	tests := []struct {
		name    string
		conn    Conn
		bufSize int
		want    int
	}{
		{"UDP, Zephyr UDP default buf_size", udpConn, 2048, 1500},
		{"UDP, small buffer", udpConn, 384, 384},
		{"UDP, unknown", udpConn, 0, 1500},
		{"serial, buf_size 384 (B11)", serialConn, 384, 380},
		{"serial, buf_size 1024", serialConn, 1024, 1020},
		{"serial, unknown", serialConn, 0, serial.MaxPacket},
	}
	for _, tt := range tests {
		if got := PacketLimit(tt.conn, tt.bufSize); got != tt.want {
			t.Errorf("%s: PacketLimit = %d, want %d", tt.name, got, tt.want)
		}
	}
}
