// Package e2e holds fotasync's end-to-end tests: emulated primary/secondary
// pairs on UDP loopback, updated by the host orchestrator (package update)
// with the reference MCUboot images of shared/testdata, and checked against
// the guarantees of the design note: state after every step, read back from
// the devices' own state directories.
//
// The package has no code of its own; everything is in its _test.go files.
package e2e
