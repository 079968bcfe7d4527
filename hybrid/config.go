package hybrid

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shaddock-io/shaddock/codec"
)

// ErrConfig wraps every error returned by Config.Validate.
var ErrConfig = errors.New("hybrid: invalid config")

// OverflowPolicy says what Enqueue does when a connection's outbound queue is full.
type OverflowPolicy uint8

// Overflow policies.
const (
	// OverflowKick closes the slow consumer (CloseOverflow), without a KICK package since the queue
	// has no room for one. It is the zero value and the default.
	OverflowKick OverflowPolicy = iota
	// OverflowDrop drops the packages that do not fit and counts them (Stats.OutboundDropped).
	OverflowDrop
)

// Defaults applied to zero fields of Config.
const (
	DefaultAddr                   = ":3010"
	DefaultHandshakeTimeout       = 10 * time.Second
	DefaultIdleTimeout            = 90 * time.Second // pomelo's switcher timeout
	DefaultMaxBodyBeforeHandshake = 8 << 10
	DefaultMaxBody                = 64 << 10
	DefaultMaxQueueBytes          = 1 << 20
	DefaultMaxQueuePackages       = 4096
	DefaultWriteTimeout           = 10 * time.Second
	DefaultWSDeflateMinSize       = 1024
)

// Config configures a Server. The zero value is valid: it listens on DefaultAddr for TCP and
// WebSocket (no TLS), with heartbeats off and every limit at its default. Durations and sizes left
// at zero take the Default* value; negative values are rejected by Validate.
type Config struct {
	// Addr is the address ListenAndServe listens on.
	Addr string

	// TLS, when set, enables TLS on the same port: a connection whose first bytes are a TLS record
	// header is served through crypto/tls with this config, then classified again inside (TLS-TCP
	// or WSS). CertFile and KeyFile are an alternative: when both are set and TLS is nil, the key
	// pair is loaded by NewServer.
	TLS               *tls.Config
	CertFile, KeyFile string

	// MaxConns caps the number of classified connections (0: no cap). A connection above it is
	// closed as soon as its first bytes have been classified, before any handshake, and counted in
	// Stats.RejectedMaxConns.
	MaxConns int

	// Blacklist lists IP addresses and CIDR prefixes ("10.0.0.7", "192.168.0.0/16", "::1").
	// Connections from them are closed on accept, before a byte is read (Stats.RejectedBlacklist).
	// Replace it at run time with Server.SetBlacklist.
	Blacklist []string

	// Nagle turns Nagle's algorithm back on for accepted sockets (TCP_NODELAY off, pomelo's
	// setNoDelay default). The zero value sets TCP_NODELAY on every accepted socket, as Go's
	// net package does: each flush leaves at once, which is what a live game wants.
	Nagle bool

	// HandshakeTimeout closes a connection that stays silent for this long before its handshake
	// completes (no byte received before the ACK). Default 10 s.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a WORKING connection with no traffic in either direction for this long,
	// when heartbeats are off. Default 90 s (pomelo's socket timeout).
	IdleTimeout time.Duration
	// Heartbeat is the interval announced to clients in the handshake (sys.heartbeat, in whole
	// seconds). Zero disables heartbeats: the key is absent and IdleTimeout applies instead.
	Heartbeat time.Duration
	// HeartbeatTimeout closes a WORKING connection that sent no HEARTBEAT for this long (without a
	// KICK package). Only heartbeats re-arm it. Default 2 × Heartbeat.
	HeartbeatTimeout time.Duration

	// MaxBodyBeforeHandshake bounds package bodies until the connection is WORKING (the handshake
	// request, with an RSA key and a user object, fits easily). Default 8 KiB, or MaxBody if
	// smaller.
	MaxBodyBeforeHandshake int
	// MaxBody bounds package bodies once WORKING. Default 64 KiB; at most 16 MiB - 1.
	MaxBody int

	// WSMaxFrameSize bounds one WebSocket data frame's payload, and WSMaxMessageSize one message
	// (the sum of a fragmented message's frames). Both default to MaxBody + 4 (one package). A
	// frame or message over the limit closes the connection with status 1009.
	WSMaxFrameSize   int
	WSMaxMessageSize int
	// WSMaxHeaderSize bounds the HTTP Upgrade request. Default 4 KiB.
	WSMaxHeaderSize int

	// WSNoDeflate turns permessage-deflate (RFC 7692) off. By default a WebSocket client that
	// offers it (browsers, the Node ws client) gets it, as it did from pomelo's ws@1.1.1 server,
	// in the form that keeps no per-connection state: no context takeover either way. Compressed
	// messages from the client are inflated within WSMaxMessageSize; outbound frames are
	// compressed when their payload has at least WSDeflateMinSize bytes.
	WSNoDeflate bool
	// WSDeflateMinSize is the smallest outbound frame payload that is compressed. Default 1024
	// (the ws library's threshold): a pomelo package of a few dozen bytes gains nothing from
	// DEFLATE and costs a compressor run. A frame that does not shrink is sent as it is.
	WSDeflateMinSize int

	// MaxQueueBytes and MaxQueuePackages bound each connection's outbound queue, counting what is
	// queued and what is being written. Defaults 1 MiB and 4096.
	MaxQueueBytes    int
	MaxQueuePackages int
	// Overflow is what happens when a send does not fit the queue. Default OverflowKick.
	Overflow OverflowPolicy
	// WriteTimeout bounds one flush. A flush that times out closes the connection. Default 10 s.
	WriteTimeout time.Duration

	// Inline runs the read batches of WORKING TCP and WebSocket connections (decoding, Handler
	// calls, the batch's flush) on the poller goroutine that saw the socket's event, instead of
	// handing each batch to one of the process's workers (the zero value). It saves the hand-off,
	// but each poller then runs its connections' Handler calls one after the other: a Handler
	// that blocks stalls them all, and the server uses at most Pollers cores for Handler work (so
	// Pollers defaults to GOMAXPROCS here). Handshakes (Handler.Handshake and Open), TLS
	// connections and closes always run on a worker. Per Server; see dispatch.go.
	Inline bool

	// Pollers is the number of poller goroutines (epoll loops) of the Server. 0 means
	// GOMAXPROCS/20 + 1 (one poller up to 19 cores), or GOMAXPROCS with Inline.
	Pollers int

	// Logger receives the server's logs. Per-connection problems are logged at Debug, so that a
	// hostile client cannot flood the log. Nil means slog.Default().
	Logger *slog.Logger
}

// Validate reports whether c is usable, wrapping ErrConfig.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case c.MaxConns < 0:
		return bad("negative MaxConns")
	case c.HandshakeTimeout < 0, c.IdleTimeout < 0, c.Heartbeat < 0, c.HeartbeatTimeout < 0, c.WriteTimeout < 0:
		return bad("negative duration")
	case c.Heartbeat%time.Second != 0:
		return bad("Heartbeat %v is not a whole number of seconds (clients receive it in seconds)", c.Heartbeat)
	case c.MaxBody < 0 || c.MaxBody > codec.MaxBodySize:
		return bad("MaxBody %d outside 0..%d", c.MaxBody, codec.MaxBodySize)
	case c.MaxBodyBeforeHandshake < 0 || c.MaxBodyBeforeHandshake > codec.MaxBodySize:
		return bad("MaxBodyBeforeHandshake %d outside 0..%d", c.MaxBodyBeforeHandshake, codec.MaxBodySize)
	case c.WSMaxFrameSize < 0, c.WSMaxMessageSize < 0, c.WSMaxHeaderSize < 0, c.WSDeflateMinSize < 0:
		return bad("negative WebSocket limit")
	case c.MaxQueueBytes < 0, c.MaxQueuePackages < 0:
		return bad("negative queue limit")
	case c.Overflow > OverflowDrop:
		return bad("unknown Overflow policy %d", c.Overflow)
	case c.Pollers < 0:
		return bad("negative Pollers")
	case (c.CertFile == "") != (c.KeyFile == ""):
		return bad("CertFile and KeyFile go together")
	}
	if c.TLS != nil && len(c.TLS.Certificates) == 0 && c.TLS.GetCertificate == nil && c.TLS.GetConfigForClient == nil {
		return bad("TLS config has no certificate")
	}
	if _, err := parseBlacklist(c.Blacklist); err != nil {
		return bad("%v", err)
	}
	return nil
}

// settings is a Config with every default applied, shared read-only by a Server's connections.
type settings struct {
	handshakeTimeout time.Duration
	idleTimeout      time.Duration
	heartbeat        time.Duration
	heartbeatTimeout time.Duration
	heartbeatSecs    int
	maxBodyPre       int
	maxBody          int
	wsMaxFrame       int
	wsMaxMessage     int
	wsMaxHeader      int
	wsDeflate        bool
	wsDeflateMin     int
	maxQueueBytes    int
	maxQueuePackages int
	overflow         OverflowPolicy
	writeTimeout     time.Duration
	nagle            bool
	inline           bool
	maxConns         int
	pollers          int
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// settings applies the defaults. c must be valid.
func (c *Config) settings() settings {
	s := settings{
		handshakeTimeout: orDefault(c.HandshakeTimeout, DefaultHandshakeTimeout),
		idleTimeout:      orDefault(c.IdleTimeout, DefaultIdleTimeout),
		heartbeat:        c.Heartbeat,
		heartbeatTimeout: orDefault(c.HeartbeatTimeout, 2*c.Heartbeat),
		heartbeatSecs:    int(c.Heartbeat / time.Second),
		maxBody:          orDefault(c.MaxBody, DefaultMaxBody),
		wsMaxHeader:      c.WSMaxHeaderSize,
		wsDeflate:        !c.WSNoDeflate,
		wsDeflateMin:     orDefault(c.WSDeflateMinSize, DefaultWSDeflateMinSize),
		maxQueueBytes:    orDefault(c.MaxQueueBytes, DefaultMaxQueueBytes),
		maxQueuePackages: orDefault(c.MaxQueuePackages, DefaultMaxQueuePackages),
		overflow:         c.Overflow,
		writeTimeout:     orDefault(c.WriteTimeout, DefaultWriteTimeout),
		nagle:            c.Nagle,
		inline:           c.Inline,
		maxConns:         c.MaxConns,
		pollers:          c.Pollers,
	}
	s.maxBodyPre = orDefault(c.MaxBodyBeforeHandshake, min(DefaultMaxBodyBeforeHandshake, s.maxBody))
	s.wsMaxFrame = orDefault(c.WSMaxFrameSize, s.maxBody+codec.HeaderSize)
	s.wsMaxMessage = orDefault(c.WSMaxMessageSize, s.maxBody+codec.HeaderSize)
	return s
}

// minTimeout is the shortest timeout in force, which sets the timing wheel's tick.
func (s *settings) minTimeout() time.Duration {
	m := min(s.handshakeTimeout, s.idleTimeout)
	if s.heartbeat > 0 {
		m = min(m, s.heartbeatTimeout)
	}
	return m
}

// maxTimeout is the longest timeout in force, which sets the wheel's span.
func (s *settings) maxTimeout() time.Duration {
	m := max(s.handshakeTimeout, s.idleTimeout)
	if s.heartbeat > 0 {
		m = max(m, s.heartbeatTimeout)
	}
	return m
}
