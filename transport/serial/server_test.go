package serial

import (
	"bytes"
	"encoding/base64"
	"net"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"
)

// TestPacketConn runs an emulated device's side of a line against a client
// Conn: a request arrives whole, a corrupt frame is dropped without a reply
// as a Zephyr device drops it, and the reply reaches the client.
func TestPacketConn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clientEnd, deviceEnd := net.Pipe()
		client, err := NewConn(clientEnd, Config{})
		if err != nil {
			t.Fatalf("NewConn: %v", err)
		}
		defer client.Close()
		device, err := NewPacketConn(deviceEnd, "/dev/pts/7", Config{})
		if err != nil {
			t.Fatalf("NewPacketConn: %v", err)
		}
		defer device.Close()

		corrupt := frameBody(tv1Request)
		corrupt[5] ^= 0xFF
		go func() {
			clientEnd.Write(cat("\x06\x09", base64.StdEncoding.EncodeToString(corrupt), "\n"))
			client.Send(t.Context(), tv1Request)
		}()
		req, from, err := device.ReadPacket(t.Context())
		if err != nil {
			t.Fatalf("ReadPacket: %v", err)
		}
		if diff := cmp.Diff(tv1Request, req); diff != "" {
			t.Errorf("ReadPacket (-want +got):\n%s", diff)
		}
		if from.Network() != "serial" || from.String() != "/dev/pts/7" || device.LocalAddr() != from {
			t.Errorf("from = %v (%s), local %v; want /dev/pts/7 (serial) for both", from, from.Network(), device.LocalAddr())
		}

		go device.WritePacket(tv1Response, from)
		if got, err := client.Recv(t.Context()); err != nil || !bytes.Equal(got, tv1Response) {
			t.Errorf("client Recv = %x, %v; want the TV1 response", got, err)
		}
	})
}
