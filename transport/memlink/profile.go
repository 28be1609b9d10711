package memlink

import "time"

// MaxMTU is the largest SMP packet there is: the 8-byte header and a payload
// of up to 65535 bytes, the most its 16-bit length field can say.
const MaxMTU = 8 + 65535

// Profile describes one direction of a link. The zero value is a perfect
// link: any packet up to MaxMTU, no delay, no rate limit, nothing lost.
// Negative numbers count as zero.
type Profile struct {
	Name string // names the link in its addresses; may be empty

	// MTU is the largest packet carried, in bytes; 0 means MaxMTU. Larger
	// packets are refused with transport.ErrTooLarge.
	MTU int

	// Latency is the one-way delay from a packet's last byte leaving to its
	// arrival; 0 means none.
	Latency time.Duration

	// Bandwidth is the sending rate in bytes per second; 0 means unlimited.
	// Packets are sent one after another: a packet starts when the link is
	// free (or when it is sent, if later), takes len/Bandwidth seconds
	// (rounded down to the nanosecond), and arrives Latency after that.
	Bandwidth int

	// Loss is the probability that a packet is dropped, 0..1. A dropped
	// packet still occupies the link for its sending time.
	Loss float64

	// Duplicate is the probability that a packet arrives twice, 0..1; the
	// copy arrives right after the original, at the same instant.
	Duplicate float64

	// Reorder is the probability that a packet (with its copy) is held back
	// one more Latency, 0..1, so that packets sent after it may overtake
	// it. With no Latency it has no effect.
	Reorder float64
}

// normal returns p with its zero and negative numbers resolved.
func (p Profile) normal() Profile {
	if p.MTU <= 0 {
		p.MTU = MaxMTU
	}
	p.Latency = max(p.Latency, 0)
	p.Bandwidth = max(p.Bandwidth, 0)
	return p
}

// BLE returns a Bluetooth LE link to a Zephyr device with SMP reassembly
// (CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY).
//
//   - Latency 15 ms: one connection interval, the middle of the 7.5–30 ms
//     that phones and hosts grant (Zephyr's SMP speed-up asks for
//     7.5–11.25 ms). A write or notification waits up to one interval for
//     the next connection event.
//   - Bandwidth 16266 B/s: one 244-byte ATT payload (ATT MTU 247 − 3) per
//     15 ms connection event, inside the 10–20 kB/s that SMP uploads reach
//     over BLE in practice.
//   - MTU 0 (MaxMTU): with reassembly a packet travels as several 244-byte
//     writes and the device's buf_size is the only limit. Set MTU to 244 to
//     model a device without reassembly, where each write is one packet.
//
// The rate is spread evenly over bytes: that a 245-byte packet needs two
// connection events is not modelled.
func BLE() Profile {
	return Profile{Name: "ble", Latency: 15 * time.Millisecond, Bandwidth: 244 * 1000 / 15}
}

// UART returns a 115200-baud serial line speaking SMP's console framing.
//
//   - Bandwidth 8435 B/s: 8N1 sends 10 bits a byte, so 11520 B/s on the
//     wire; each 127-byte frame line carries 124 base64 characters, which
//     are 93 bytes of framed packet (length, packet, CRC-16), and
//     11520 × 93 / 127 ≈ 8435.
//   - Latency 1 ms: a USB-serial adapter is polled once per 1 ms USB frame
//     (some adapters wait up to 16 ms by default).
//   - MTU 65533: the framing's 16-bit length field counts the packet and
//     its 2-byte CRC.
//
// The link does not model the device's serial buffer: a device with
// buf_size B takes packets of at most B − 4 bytes, and this link's Conn
// reports the limit as min(MTU, B).
func UART() Profile {
	return Profile{Name: "uart", MTU: 65533, Latency: time.Millisecond, Bandwidth: 11520 * 93 / 127}
}

// LAN returns a wired LAN carrying SMP over UDP.
//
//   - Latency 500 µs: a switched LAN's sub-millisecond one-way delay plus
//     the device's IP stack.
//   - Bandwidth 1250000 B/s: 10 Mbit/s, the rate of a small device's
//     Ethernet (10BASE-T PHYs and SPI-attached controllers).
//   - MTU 1500: Zephyr's CONFIG_MCUMGR_TRANSPORT_UDP_MTU default, the
//     largest datagram the device receives.
func LAN() Profile {
	return Profile{Name: "lan", MTU: 1500, Latency: 500 * time.Microsecond, Bandwidth: 10_000_000 / 8}
}
