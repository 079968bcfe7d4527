package admin

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"
)

// Config errors.
var (
	ErrConfig = errors.New("admin: invalid config")
	// ErrRemoteNotAllowed is returned for an address that is not loopback while AllowRemote is
	// false. The admin endpoint serves profiles, goroutine dumps and the command line.
	ErrRemoteNotAllowed = errors.New("admin: non-loopback address needs AllowRemote")
)

// Defaults applied to zero Config fields.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxProfile        = 60 * time.Second
)

// Config configures the admin endpoint. The zero value is valid and means OFF: nothing listens.
type Config struct {
	// Addr is where the endpoint listens; empty disables it. A host-less address (":9100") binds
	// to 127.0.0.1. Any other host must be a loopback IP or "localhost", unless AllowRemote is
	// set.
	Addr string
	// AllowRemote permits a non-loopback Addr ("0.0.0.0:9100", "10.0.0.5:9100"). Whoever reaches
	// the port can read heap and goroutine dumps and slow the process with profiles: put it
	// behind a firewall.
	AllowRemote bool
	// ReadHeaderTimeout and IdleTimeout bound slow clients; zero means DefaultReadHeaderTimeout
	// and DefaultIdleTimeout.
	ReadHeaderTimeout, IdleTimeout time.Duration
	// MaxProfile is the longest CPU profile or trace a request may ask for (?seconds=N); zero
	// means DefaultMaxProfile.
	MaxProfile time.Duration
	// Title names the process on the dashboard (a server id); empty means "shaddock".
	Title string
	// Logger receives the endpoint's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Enabled reports whether the endpoint is on.
func (c *Config) Enabled() bool { return c.Addr != "" }

// Validate reports whether c is usable: the durations are not negative and Addr, when set, is
// a host:port that the loopback rule allows.
func (c *Config) Validate() error {
	if c.ReadHeaderTimeout < 0 || c.IdleTimeout < 0 || c.MaxProfile < 0 {
		return fmt.Errorf("%w: negative duration", ErrConfig)
	}
	if !c.Enabled() {
		return nil
	}
	_, err := c.listenAddr()
	return err
}

// listenAddr returns the address to listen on, applying the loopback rule.
func (c *Config) listenAddr() (string, error) {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return "", fmt.Errorf("%w: Addr %q: %w", ErrConfig, c.Addr, err)
	}
	switch {
	case host == "" && !c.AllowRemote:
		host = "127.0.0.1"
	case host == "localhost":
		host = "127.0.0.1" // never trust the resolver with this
	case c.AllowRemote:
	default:
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.IsLoopback() {
			return "", fmt.Errorf("%w: %q", ErrRemoteNotAllowed, c.Addr)
		}
	}
	return net.JoinHostPort(host, port), nil
}

func (c Config) withDefaults() Config {
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxProfile == 0 {
		c.MaxProfile = DefaultMaxProfile
	}
	if c.Title == "" {
		c.Title = "shaddock"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
