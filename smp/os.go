package smp

// EchoRequest is the body of OS command 0 (echo).
type EchoRequest struct {
	D string `cbor:"d"`
}

// EchoResponse answers an EchoRequest.
type EchoResponse struct {
	R string `cbor:"r"`
}

// ResetRequest is the body of OS command 5 (system reset). Zephyr decodes
// "force" as a CBOR bool; an integer there is silently taken as false.
type ResetRequest struct {
	Force    bool  `cbor:"force,omitempty"`
	BootMode uint8 `cbor:"boot_mode,omitempty"` // 0 normal; 1 bootloader (Zephyr 4.2+)
}

// ParamsResponse answers OS command 6 (MCUmgr parameters).
type ParamsResponse struct {
	BufSize  uint32 `cbor:"buf_size"`  // bytes of one SMP buffer, header included
	BufCount uint32 `cbor:"buf_count"` // number of such buffers
}

// InfoRequest is the body of OS command 7 (OS/application info).
type InfoRequest struct {
	Format string `cbor:"format,omitempty"` // letters s n r v b m p i o, or a; default s
}

// InfoResponse answers an InfoRequest.
type InfoResponse struct {
	Output string `cbor:"output"`
}

// Empty is a body with no fields. It encodes as an empty map.
type Empty struct{}
