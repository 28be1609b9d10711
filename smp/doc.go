// Package smp is the MCUmgr Simple Management Protocol wire format: the 8-byte
// header, CBOR bodies, the OS and image group messages, and the result codes a
// Zephyr device reports.
//
// The layout follows Zephyr's smp_internal.h and the SMP protocol
// documentation (doc/services/device_mgmt/smp_protocol.rst). Multi-byte header
// fields are big-endian. Byte 0 carries the protocol version in bits 4..3 and
// the operation in bits 2..0.
package smp
