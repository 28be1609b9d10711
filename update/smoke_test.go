package update

import (
	"context"
	"testing"

	devicecfg "github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/emulator"
	"github.com/fotasync/fotasync/mcuboot"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/transport"
)

func build(t *testing.T, v string, n int) []byte {
	t.Helper()
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	ver, _ := mcuboot.ParseVersion(v)
	b, err := mcuboot.Build(payload, mcuboot.BuildOptions{Version: ver})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSmoke(t *testing.T) {
	old, img := build(t, "1.0.0", 30000), build(t, "1.2.3+4", 50000)
	p, err := emulator.StartPair(emulator.PairConfig{Dir: t.TempDir(), Image: old})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	conn, err := transport.Dial("udp:" + p.Primary.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	res, err := Run(context.Background(), Options{Conn: conn, Image: img, Target: pair.TargetAll,
		OnEvent: func(e Event) { t.Logf("%+v", e) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res.Status)
}

func TestDirectSmoke(t *testing.T) {
	old, img := build(t, "1.0.0", 30000), build(t, "1.2.3+4", 50000)
	dir := t.TempDir()
	var conns []transport.Conn
	for _, name := range []string{"a", "b"} {
		n, err := emulator.Start(emulator.NodeConfig{Role: emulator.RoleSecondary, Listen: "udp:127.0.0.1:0",
			Image: old, Device: devicecfg.Config{Dir: dir + "/" + name}})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		c, err := transport.Dial("udp:" + n.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	_, err := RunDirect(context.Background(), Options{Conn: conns[0], SecondaryConn: conns[1], Image: img,
		Target: pair.TargetAll, OnEvent: func(e Event) { t.Logf("%+v", e) }})
	if err != nil {
		t.Fatal(err)
	}
}
