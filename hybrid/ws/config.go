package ws

import (
	"errors"
	"fmt"
)

// Role says which end of the connection the caller is. It decides which
// masking rule ParseHeader enforces on incoming frames (RFC 6455 §5.1).
type Role uint8

const (
	// RoleServer (the zero value) parses frames sent by a client: every frame
	// must be masked.
	RoleServer Role = iota
	// RoleClient parses frames sent by a server: no frame may be masked.
	RoleClient
)

// Defaults used when the matching Config field is zero.
const (
	// DefaultMaxHeaderSize bounds the Upgrade request: request line, header
	// fields and the blank line that ends them.
	DefaultMaxHeaderSize = 4 << 10
	// DefaultMaxMessageSize bounds one data frame's payload and the sum of the
	// payloads of one fragmented message. A pomelo package (4-byte header plus
	// body) sent by a client is a few hundred bytes in practice.
	DefaultMaxMessageSize = 64 << 10
)

// ErrInvalidConfig is returned by Config.Validate.
var ErrInvalidConfig = errors.New("ws: invalid config")

// Config holds the limits and the role used by the parsers of this package.
// The zero value is valid: server role, DefaultMaxHeaderSize and
// DefaultMaxMessageSize. A Config is only read by the parsers, so one Config
// may be shared by any number of goroutines as long as nobody writes to it.
type Config struct {
	// Role selects the masking rule for incoming frames.
	Role Role
	// MaxHeaderSize is the largest handshake header block accepted, in bytes,
	// including the request (or, for a client, status) line and the final
	// CRLF CRLF. Zero means DefaultMaxHeaderSize.
	MaxHeaderSize int
	// MaxMessageSize is the largest data payload accepted, in bytes: for one
	// frame (checked on its header, before the payload is read) and for the
	// whole of a fragmented message (checked by Assembler). Control frames are
	// bounded by the protocol to 125 bytes and not subject to it. Zero means
	// DefaultMaxMessageSize.
	MaxMessageSize int
	// Deflate accepts RSV1 on the first frame of a data message, which marks it compressed
	// (permessage-deflate, RFC 7692; Header.Compressed, Message.Compressed, Inflate). Set it
	// where the extension may be negotiated, and refuse compressed frames on the connections
	// where it was not. RSV1 on a control or continuation frame, RSV2 and RSV3 are refused
	// regardless.
	Deflate bool
}

// Validate reports whether c is usable: no negative limit and a known role.
func (c *Config) Validate() error {
	switch {
	case c.Role != RoleServer && c.Role != RoleClient:
		return fmt.Errorf("%w: unknown Role", ErrInvalidConfig)
	case c.MaxHeaderSize < 0:
		return fmt.Errorf("%w: negative MaxHeaderSize", ErrInvalidConfig)
	case c.MaxMessageSize < 0:
		return fmt.Errorf("%w: negative MaxMessageSize", ErrInvalidConfig)
	}
	return nil
}

func (c *Config) maxHeaderSize() int {
	if c == nil || c.MaxHeaderSize <= 0 {
		return DefaultMaxHeaderSize
	}
	return c.MaxHeaderSize
}

func (c *Config) maxMessageSize() int {
	if c == nil || c.MaxMessageSize <= 0 {
		return DefaultMaxMessageSize
	}
	return c.MaxMessageSize
}

func (c *Config) role() Role {
	if c == nil {
		return RoleServer
	}
	return c.Role
}
