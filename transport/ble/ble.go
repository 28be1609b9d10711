// Package ble holds the framing of SMP over Bluetooth LE GATT, as Zephyr's
// SMP Bluetooth transport speaks it: requests are written to one
// characteristic (write without response), responses come back as
// notifications of it, and there is no framing beyond the SMP header.
//
// A packet larger than one ATT payload (ATT MTU − 3 bytes) is split across
// writes or notifications; only the first piece carries the SMP header,
// whose length field tells the receiver how many bytes to collect. A device
// built with CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY collects written pieces up
// to its MCUmgr buf_size, which is then its packet limit; without it, each
// request must fit one write.
//
// BUG(fotasync): only the framing is here. There is no GATT central (BlueZ)
// connection yet, so no Conn speaks BLE and transport.Dial rejects "ble:"
// specs.
package ble

const (
	// ServiceUUID is the SMP GATT service.
	ServiceUUID = "8D53DC1D-1DB7-4CD3-868B-8A527460AA84"
	// CharacteristicUUID is the SMP characteristic, written for requests and
	// notified for responses.
	CharacteristicUUID = "DA2E7828-FBCE-4E01-AE9E-261174997C48"

	// MinATTMTU is the ATT MTU every LE link starts with, in bytes.
	MinATTMTU = 23
)

// attOverhead is the ATT opcode and attribute handle in front of the value
// of a write or a notification.
const attOverhead = 3

// Fragment splits packet into pieces of at most attMTU − 3 bytes, one per
// write or notification. The pieces share packet's memory. An attMTU below
// MinATTMTU is taken as MinATTMTU, since no LE link has a smaller one.
func Fragment(packet []byte, attMTU int) [][]byte {
	size := max(attMTU, MinATTMTU) - attOverhead
	pieces := make([][]byte, 0, (len(packet)+size-1)/size)
	for start := 0; start < len(packet); start += size {
		pieces = append(pieces, packet[start:min(start+size, len(packet))])
	}
	return pieces
}
