package emulator

import (
	"fmt"
	"path/filepath"

	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/pair"
)

// PairConfig describes an emulated pair on UDP loopback.
type PairConfig struct {
	Dir     string // state directories go to Dir/primary and Dir/secondary
	Image   []byte // provisioned into both devices on first start
	Device  device.Config
	Primary pair.PrimaryOptions
	// SecondaryDevice, when not nil, replaces Device for the secondary (keys,
	// buffers); its Dir is set by StartPair.
	SecondaryDevice *device.Config
}

// Pair is a running emulated pair.
type Pair struct {
	Primary, Secondary *Node
}

// StartPair starts the secondary, then the primary linked to it, each on a
// free UDP port of 127.0.0.1.
func StartPair(cfg PairConfig) (*Pair, error) {
	sec := cfg.Device
	if cfg.SecondaryDevice != nil {
		sec = *cfg.SecondaryDevice
	}
	sec.Dir = filepath.Join(cfg.Dir, "secondary")
	s, err := Start(NodeConfig{Role: RoleSecondary, Listen: "udp:127.0.0.1:0", Image: cfg.Image, Device: sec})
	if err != nil {
		return nil, err
	}
	pri := cfg.Device
	pri.Dir = filepath.Join(cfg.Dir, "primary")
	p, err := Start(NodeConfig{Role: RolePrimary, Listen: "udp:127.0.0.1:0", Peer: "udp:" + s.Addr(),
		Image: cfg.Image, Device: pri, Primary: cfg.Primary})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("emulator: %w", err)
	}
	return &Pair{Primary: p, Secondary: s}, nil
}

// Close stops both devices, the primary first.
func (p *Pair) Close() error {
	err := p.Primary.Close()
	if serr := p.Secondary.Close(); err == nil {
		err = serr
	}
	return err
}
