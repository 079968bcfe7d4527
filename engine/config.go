package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/shaddock-io/shaddock/codec/pomelopb"
	"github.com/shaddock-io/shaddock/hybrid"
	"github.com/shaddock-io/shaddock/rpc"
	"github.com/shaddock-io/shaddock/scheduler"
)

// ErrInvalidConfig wraps every configuration error.
var ErrInvalidConfig = errors.New("engine: invalid config")

// AppConfig configures an App: what every server of the application shares. The zero value is
// valid: no dictionary.json entries and no protobuf descriptions.
type AppConfig struct {
	// Dictionary holds the entries of config/dictionary.json (usually push routes), numbered after
	// the sorted handler routes.
	Dictionary []string
	// ClientProtos and ServerProtos are the parsed config/clientProtos.json and
	// config/serverProtos.json; nil means absent. Handlers registered for a route found in them
	// use pomelo-protobuf bodies on servers with UseProtobuf.
	ClientProtos, ServerProtos *pomelopb.Table
}

// Validate reports whether c is usable.
func (c *AppConfig) Validate() error {
	for i, r := range c.Dictionary {
		if r == "" {
			return fmt.Errorf("%w: dictionary entry %d is empty", ErrInvalidConfig, i)
		}
	}
	return nil
}

// ServerConfig configures one server of the application (pomelo's servers.json entry plus its
// connector options). Type and ID are required; the other fields' zero values are valid.
type ServerConfig struct {
	// ID is the server id ("connector-server-1"); it is the sessions' frontend id.
	ID string
	// Type is the server type ("connector"); routes "<Type>.<handler>.<method>" run here, others
	// go to the Forwarder.
	Type string

	// UseDict enables the route dictionary: compressed routes are accepted, pushes are compressed,
	// and the handshake carries the dictionary.
	UseDict bool
	// UseProtobuf enables pomelo-protobuf bodies for routes with a description, and sends the
	// descriptions in the handshake.
	UseProtobuf bool
	// UseCrypto requires every request and notify to carry an RSA signature (__crypto__) made with
	// the key the client sent in its handshake.
	UseCrypto bool
	// SingleSession makes Bind fail when the uid already has a session (pomelo's session
	// component option singleSession).
	SingleSession bool

	// Scheduler selects the push scheduler (zero: direct).
	Scheduler scheduler.Config
	// Transport configures the hybrid connector: address, heartbeat, limits, TLS.
	Transport hybrid.Config
	// RPC configures the server-to-server transport of servers created by NewClusterServer.
	RPC RPCConfig

	// Logger receives the engine's logs; per-message problems are logged at Debug. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Validate reports whether c is usable.
func (c *ServerConfig) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("%w: empty server ID", ErrInvalidConfig)
	case c.Type == "" || strings.Contains(c.Type, "."):
		return fmt.Errorf("%w: server Type %q must be non-empty and contain no '.'", ErrInvalidConfig, c.Type)
	}
	if err := c.Scheduler.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if err := c.Transport.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if err := c.RPC.Client.Validate(); err != nil {
		return fmt.Errorf("%w: rpc client: %w", ErrInvalidConfig, err)
	}
	if err := c.RPC.Server.Validate(); err != nil {
		return fmt.Errorf("%w: rpc server: %w", ErrInvalidConfig, err)
	}
	return nil
}

// RPCConfig configures the server-to-server transport (package rpc). The zero value is valid:
// pomelo's 30 s call timeout, reconnection with backoff, and no buffering.
type RPCConfig struct {
	// Client configures the mailboxes to the other servers (timeout, backoff, keepalive,
	// bufferMsg). Name, ServerID and Methods are set by the engine.
	Client rpc.ClientConfig
	// Server configures the acceptor. Name is set by the engine.
	Server rpc.ServerConfig
}

func (c *ServerConfig) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}
