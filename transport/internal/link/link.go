// Package link holds the errors that package transport and its transport
// packages share. It exists because transport imports those packages to
// dispatch Dial and Listen, so they cannot import transport back.
package link

import "errors"

// ErrClosed is returned by every operation on a link after its Close.
// Package transport re-exports it as transport.ErrClosed.
var ErrClosed = errors.New("transport: closed")

// ErrTooLarge is returned when a packet exceeds what a link can carry.
// Package transport re-exports it as transport.ErrTooLarge.
var ErrTooLarge = errors.New("transport: packet too large")
