package engine

import (
	"crypto/rsa"

	"github.com/shaddock-io/shaddock/scheduler"
)

// Conn is what the engine needs from a client connection. *hybrid.Conn implements it; tests use
// fakes. Every method must be safe for concurrent use.
type Conn interface {
	scheduler.Target
	// ID is the connection id, unique per frontend process; it becomes the session id.
	ID() uint64
	// Kick sends a KICK package with {"reason": reason}, flushes and closes the connection.
	Kick(reason string)
	// Close closes the connection without a KICK package.
	Close() error
	// PublicKey is the RSA key the client sent in its handshake (sys.rsa), or nil.
	PublicKey() *rsa.PublicKey
}

// noCopy makes go vet report copies of the structs that embed it.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
