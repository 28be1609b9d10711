// Package server is the device side of SMP: it routes each request to the
// handler of its group and command and encodes the answer as a Zephyr device
// does (indefinite-length CBOR, v1 or v2 error shapes, downgraded version).
package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/fotasync/fotasync/smp"
)

// Handler answers one request: it returns the response body, or an error
// that becomes the response's status (an smp.RC, smp.ImageRC, smp.OSRC or
// smp.GroupError; anything else is reported as EUNKNOWN).
type Handler func(ctx context.Context, req *Request) (any, error)

// Request is a request being served.
type Request struct {
	smp.Header
	Body       []byte
	afterReply []func()
}

// Decode decodes the request body into v. A body that does not decode is
// answered with a bare EINVAL ({"rc":3}, no reason), as Zephyr answers a
// zcbor decode failure.
func (r *Request) Decode(v any) error {
	if err := smp.Unmarshal(r.Body, v); err != nil {
		return smp.RCInvalid
	}
	return nil
}

// AfterReply registers f to run once the response has been sent, as a reset
// does.
func (r *Request) AfterReply(f func()) { r.afterReply = append(r.afterReply, f) }

type route struct {
	group smp.Group
	id    uint8
	write bool
}

// Mux routes requests to handlers by group, command and operation.
type Mux struct {
	routes map[route]Handler
}

// NewMux returns an empty Mux; every command answers ENOTSUP until handled.
func NewMux() *Mux { return &Mux{routes: make(map[route]Handler)} }

// HandleRead registers h for read requests of group and id.
func (m *Mux) HandleRead(group smp.Group, id uint8, h Handler) {
	m.routes[route{group, id, false}] = h
}

// HandleWrite registers h for write requests of group and id.
func (m *Mux) HandleWrite(group smp.Group, id uint8, h Handler) {
	m.routes[route{group, id, true}] = h
}

// Answer serves one packet. It returns the response packet (nil when nothing
// is to be sent) and the functions to run once it is sent.
func (m *Mux) Answer(ctx context.Context, pkt []byte) ([]byte, []func()) {
	h, err := smp.DecodeHeader(pkt)
	if err != nil || h.Op.IsResponse() {
		return nil, nil // Zephyr sends nothing for a partial header; responses are not requests
	}
	req := &Request{Header: h, Body: pkt[smp.HeaderSize:]}
	resp := smp.Header{Version: min(h.Version, smp.Version2), Op: h.Op.Response(), Group: h.Group,
		Seq: h.Seq, ID: h.ID}
	body, err := m.serve(ctx, req)
	if err != nil {
		body = smp.ErrorBody(resp.Version, err)
		req.afterReply = nil
	}
	enc, err := smp.MarshalIndefinite(body)
	if err != nil {
		enc, _ = smp.MarshalIndefinite(smp.ErrorBody(resp.Version, smp.RCUnknown))
		req.afterReply = nil
	}
	out, err := smp.Packet{Header: resp, Body: enc}.Bytes()
	if err != nil {
		enc, _ = smp.MarshalIndefinite(smp.ErrorBody(resp.Version, smp.RCMessageSize))
		out, _ = smp.Packet{Header: resp, Body: enc}.Bytes()
		req.afterReply = nil
	}
	return out, req.afterReply
}

func (m *Mux) serve(ctx context.Context, req *Request) (any, error) {
	// Zephyr's order (smp_process_request_packet): the length, then the
	// operation, then the version.
	switch {
	case len(req.Body) < int(req.Len):
		return nil, smp.RCCorrupt
	case req.Op != smp.OpRead && req.Op != smp.OpWrite:
		return nil, smp.RCNotSupported
	case req.Version > smp.Version2:
		return nil, smp.RCProtoTooNew
	}
	// Bytes past Len would start another request; Zephyr's transports
	// deliver one per packet, and so do ours.
	req.Body = req.Body[:req.Len]
	h, ok := m.routes[route{req.Group, req.ID, req.Op == smp.OpWrite}]
	if !ok {
		return nil, smp.RCNotSupported
	}
	body, err := h(ctx, req)
	if err != nil {
		return nil, statusOf(err)
	}
	if body == nil {
		body = smp.Empty{}
	}
	return body, nil
}

// statusOf finds the device status inside err; an error without one is
// reported as EUNKNOWN with err's text as the reason.
func statusOf(err error) error {
	var (
		app interface{ GroupRC() (smp.Group, uint16) }
		rc  smp.RC
		img smp.ImageRC
		os  smp.OSRC
		grp smp.GroupError
		rsn *smp.ReasonError
	)
	switch {
	case errors.As(err, &rsn):
		return &smp.ReasonError{Err: statusOf(rsn.Err), Reason: rsn.Reason}
	case errors.As(err, &rc):
		return rc
	case errors.As(err, &img):
		return img
	case errors.As(err, &os):
		return os
	case errors.As(err, &grp):
		return grp
	case errors.As(err, &app):
		g, code := app.GroupRC()
		return smp.GroupError{Group: g, RC: code}
	}
	return &smp.ReasonError{Err: smp.RCUnknown, Reason: fmt.Sprint(err)}
}
