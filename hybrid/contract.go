package hybrid

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
)

// This file is the contract between the transport (this package: sockets, sniffing, WebSocket,
// TLS, pomelo's connection state machine, handshake, heartbeats, kicks, outbound queues) and the
// application layer (package engine: sessions, routes, filters, handlers, schedulers). The
// transport knows nothing about routes or sessions; the engine knows nothing about sockets.

// Handler is implemented by the application layer. The transport calls it from the goroutine that
// is reading the connection: calls for one connection never overlap, calls for different
// connections may run in parallel, on the transport's worker goroutines; with Config.Inline,
// Data and ReadBatchDone of a WORKING TCP or WebSocket connection run on a poller goroutine,
// which serves many connections. A Handler must not block (do slow work elsewhere and
// answer later through Conn.Send; Conn methods never block).
type Handler interface {
	// Handshake is called once per connection with the client's handshake request, before any
	// response is written. It returns what goes into the response: the handshake-time options
	// (dictionary and protos, possibly shrunk when the client's cached versions match), an
	// optional "user" object, or a refusal code (500 or 501). The transport writes the response,
	// moves the connection to WAIT_ACK, and closes it after a refusal.
	Handshake(c *Conn, req *HandshakeRequest) HandshakeResult

	// Open is called when the handshake ACK arrives (the connection is WORKING). Data may be sent
	// from now on.
	Open(c *Conn)

	// Data is called for every DATA package received while WORKING, one at a time and in order.
	// body is the package body (a pomelo message), valid only until Data returns.
	Data(c *Conn, body []byte)

	// ReadBatchDone is called after the transport has handed over every whole package of one read:
	// the point to flush responses produced during that read with one write.
	ReadBatchDone(c *Conn)

	// Closed is called exactly once when the connection is gone (after Open, or instead of it when
	// the handshake never completed), with why it closed. It is called for every connection that
	// was passed to Handshake, and only for those (a connection that never sent a valid handshake
	// is unknown to the Handler). It runs on its own goroutine, after every other call for c has
	// returned, never inside a Conn method called by the Handler.
	Closed(c *Conn, reason CloseReason)
}

// HandshakeRequest is the client's handshake, parsed. Raw fields are valid only during the
// Handshake call.
type HandshakeRequest struct {
	Type         string          // sys.type ("js-websocket", "unity-socket", ...)
	Version      string          // sys.version
	ProtoVersion string          // sys.protoVersion as a string ("" when absent or falsy)
	DictVersion  string          // sys.dictVersion ("" when absent)
	RSA          *rsa.PublicKey  // from sys.rsa when present and well formed
	User         json.RawMessage // the "user" object as sent (may be nil)
}

// HandshakeResult tells the transport how to answer a handshake.
type HandshakeResult struct {
	// Code is 200 to accept, or 500/501 to refuse (the response is then just {"code":N}).
	Code int
	// SysExtra is appended inside "sys" after "heartbeat": pre-rendered JSON members without
	// surrounding braces and without a leading comma, e.g.
	// `"dict":{...},"routeToCode":{...},"codeToRoute":{...},"dictVersion":"..","useDict":true`.
	// The application renders these once at startup and reuses them.
	SysExtra []byte
	// User, when non-nil, becomes the top-level "user" member (must be valid JSON).
	User json.RawMessage
}

// CloseReason says why a connection closed.
type CloseReason uint8

// Close reasons.
const (
	CloseByPeer           CloseReason = iota // the client closed, or a read/write failed
	CloseKicked                              // Kick was called
	CloseHeartbeatTimeout                    // no heartbeat within the heartbeat timeout
	CloseIdleTimeout                         // no handshake / no traffic within the idle timeout
	CloseProtocolError                       // bad package type, oversize body, bad WebSocket frame, ...
	CloseHandshakeRefused                    // Handshake returned 500/501
	CloseOverflow                            // the outbound queue was full and the policy is to kick
	CloseServerShutdown                      // the server is stopping
	CloseByApp                               // Conn.Close was called (added by the transport)
)

var closeReasonNames = [...]string{"peer", "kicked", "heartbeat-timeout", "idle-timeout",
	"protocol-error", "handshake-refused", "outbound-overflow", "shutdown", "closed-by-app"}

func (r CloseReason) String() string {
	if int(r) < len(closeReasonNames) {
		return closeReasonNames[r]
	}
	return "unknown"
}

// Errors returned by Conn methods.
var (
	ErrConnClosed   = errors.New("hybrid: connection closed")
	ErrNotWorking   = errors.New("hybrid: connection has not completed its handshake")
	ErrQueueFull    = errors.New("hybrid: outbound queue full")
	ErrPacketTooBig = errors.New("hybrid: package larger than the outbound queue")
	ErrBadPackages  = errors.New("hybrid: not a sequence of whole packages") // added by the transport
)

// Transport is how a client reached us.
type Transport uint8

// Transports.
const (
	TransportTCP Transport = iota + 1
	TransportWS
	TransportTLS // raw pomelo packages inside TLS
	TransportWSS // WebSocket inside TLS
)

var transportNames = [...]string{"", "tcp", "ws", "tls", "wss"}

func (t Transport) String() string {
	if int(t) < len(transportNames) {
		return transportNames[t]
	}
	return "unknown"
}
