// Package emulator runs emulated devices as SMP servers: one device with its
// pair role on a listener, or a whole primary/secondary pair on loopback.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/server"
	"github.com/fotasync/fotasync/transport"
)

// Role is a device's part in the pair.
type Role string

// Roles.
const (
	RolePrimary   Role = "primary"
	RoleSecondary Role = "secondary"
)

// NodeConfig describes one emulated device and where it listens.
type NodeConfig struct {
	Role   Role
	Listen string // transport spec, e.g. "udp:127.0.0.1:1337" (port 0 picks one)
	// Peer is the transport spec of the secondary, for a primary; "" means
	// a primary without a secondary.
	Peer    string
	Image   []byte // provisioned into the primary slot on first start; nil means none
	Device  device.Config
	Primary pair.PrimaryOptions
}

// Node is a running emulated device.
type Node struct {
	Device    *device.Device
	Primary   *pair.Primary   // nil for a secondary
	Secondary *pair.Secondary // nil for a primary
	conn      transport.PacketConn
	link      transport.Conn
	cancel    context.CancelFunc
	done      chan struct{}
	serveErr  error
	closeOnce sync.Once
}

// Start opens the device, provisions it, attaches its pair role and serves
// SMP on the listener until Close.
func Start(cfg NodeConfig) (*Node, error) {
	if cfg.Device.Name == "" {
		cfg.Device.Name = string(cfg.Role)
	}
	dev, err := device.Open(cfg.Device)
	if err != nil {
		return nil, err
	}
	n := &Node{Device: dev, done: make(chan struct{})}
	if err := n.start(cfg); err != nil {
		n.release()
		return nil, err
	}
	return n, nil
}

// start provisions the device, attaches its role and starts serving.
func (n *Node) start(cfg NodeConfig) error {
	dev := n.Device
	if cfg.Image != nil {
		if err := dev.Provision(cfg.Image); err != nil {
			return err
		}
	}
	mux := server.NewMux()
	dev.Register(mux)
	if err := n.attach(cfg, mux); err != nil {
		return err
	}
	conn, err := transport.Listen(cfg.Listen)
	if err != nil {
		return fmt.Errorf("emulator: %s: listen: %w", cfg.Role, err)
	}
	n.conn = conn
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		defer close(n.done)
		n.serveErr = server.Serve(ctx, n.conn, mux)
	}()
	return nil
}

// attach adds the pair role's commands.
func (n *Node) attach(cfg NodeConfig, mux *server.Mux) error {
	switch cfg.Role {
	case RoleSecondary:
		s, err := pair.NewSecondary(n.Device)
		if err != nil {
			return err
		}
		n.Secondary = s
		s.Register(mux)
	case RolePrimary:
		if cfg.Peer != "" {
			link, err := transport.Dial(cfg.Peer)
			if err != nil {
				return fmt.Errorf("emulator: primary: D2D link to %s: %w", cfg.Peer, err)
			}
			n.link = link
		}
		p, err := pair.NewPrimary(n.Device, n.link, cfg.Primary)
		if err != nil {
			return err
		}
		n.Primary = p
		p.Register(mux)
	default:
		return fmt.Errorf("emulator: role %q: want primary or secondary", cfg.Role)
	}
	return nil
}

// Addr is the listener's address.
func (n *Node) Addr() string { return n.conn.LocalAddr().String() }

// Done is closed when the node stops serving.
func (n *Node) Done() <-chan struct{} { return n.done }

// Close stops serving and releases the device's files; its state stays in
// its directory.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		if n.Primary != nil {
			n.Primary.Stop() // a handler may wait on the primary's background work
		}
		if n.cancel != nil {
			n.cancel()
			n.conn.Close()
			<-n.done
		}
		err = errors.Join(n.serveErr, n.release())
	})
	return err
}

func (n *Node) release() error {
	if n.Primary != nil {
		n.Primary.Close()
	}
	var errs []error
	if n.link != nil {
		errs = append(errs, n.link.Close())
	}
	if n.conn != nil && n.cancel == nil {
		errs = append(errs, n.conn.Close())
	}
	errs = append(errs, n.Device.Close())
	return errors.Join(errs...)
}
