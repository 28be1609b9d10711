package update

import (
	"context"
	"testing"

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
