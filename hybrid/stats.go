package hybrid

import "sync/atomic"

// Stats holds a Server's counters. Every field is updated atomically by the server and may be read
// at any time by any goroutine (Server.Stats returns the live value); nothing else writes them.
// Counters only grow, except the gauges ActiveConns and ClassifiedConns.
type Stats struct {
	// Connections.
	Accepted          atomic.Uint64 // TCP connections accepted (before the blacklist)
	ActiveConns       atomic.Int64  // gauge: accepted and not yet closed
	ClassifiedConns   atomic.Int64  // gauge: classified (counted against MaxConns) and not yet closed
	RejectedBlacklist atomic.Uint64 // closed on accept: address blacklisted
	RejectedMaxConns  atomic.Uint64 // closed on classification: MaxConns reached
	RejectedProtocol  atomic.Uint64 // closed on classification: first bytes are no protocol we speak
	RejectedShutdown  atomic.Uint64 // closed on accept: the server is shutting down
	AcceptErrors      atomic.Uint64 // accept failures (out of descriptors or memory), retried
	ConnsTCP          atomic.Uint64 // classified as raw TCP
	ConnsWS           atomic.Uint64 // classified as WebSocket (upgrade request seen)
	ConnsTLS          atomic.Uint64 // classified as raw TCP inside TLS
	ConnsWSS          atomic.Uint64 // classified as WebSocket inside TLS
	TLSStarted        atomic.Uint64 // classified as TLS: handed to crypto/tls
	TLSHandshakeFail  atomic.Uint64 // TLS handshakes that failed
	WSUpgradeFail     atomic.Uint64 // WebSocket Upgrade requests refused (answered with 4xx)

	// Handshakes.
	HandshakeOK      atomic.Uint64 // answered with code 200
	Handshake500     atomic.Uint64 // answered with code 500 (including HandshakeInvalid)
	Handshake501     atomic.Uint64 // answered with code 501
	HandshakeInvalid atomic.Uint64 // body not JSON, not an object, or without an object "sys": 500

	// Protocol errors (each closes the connection).
	ErrBadType        atomic.Uint64 // package type byte not 1..5
	ErrBodyTooLarge   atomic.Uint64 // package body over MaxBodyBeforeHandshake / MaxBody
	ErrClientKick     atomic.Uint64 // KICK package sent by a client
	ErrWSFrame        atomic.Uint64 // malformed WebSocket frame or fragment sequence, invalid close
	ErrWSTooLarge     atomic.Uint64 // WebSocket frame or message over its limit
	ErrWSPackageCount atomic.Uint64 // WebSocket message not holding exactly one whole package
	OutOfState        atomic.Uint64 // packages ignored because they came in the wrong state

	// Timeouts.
	HandshakeTimeouts atomic.Uint64 // silent before the handshake completed
	HeartbeatTimeouts atomic.Uint64 // no heartbeat within HeartbeatTimeout
	IdleTimeouts      atomic.Uint64 // no traffic within IdleTimeout (heartbeats off)

	// Traffic. Bytes are counted on the socket (after WebSocket framing, before TLS).
	PackagesIn  atomic.Uint64
	BytesIn     atomic.Uint64
	PackagesOut atomic.Uint64
	BytesOut    atomic.Uint64
	Reads       atomic.Uint64 // read system calls that returned bytes
	WritesLeft  atomic.Uint64 // flushes the socket did not take whole: the rest waits for room (drain)

	// Outbound.
	OutboundNotWorking atomic.Uint64 // packages refused because the connection was not WORKING
	OutboundDropped    atomic.Uint64 // packages dropped by OverflowDrop
	OverflowKicks      atomic.Uint64 // connections closed by OverflowKick
	WriteErrors        atomic.Uint64 // flushes that failed (the connection was closed)
	WriteTimeouts      atomic.Uint64 // flushes that hit WriteTimeout (the connection was closed)
	Kicks              atomic.Uint64 // Kick calls that queued a KICK package (WORKING connections)

	// WebSocket control.
	WSPings  atomic.Uint64 // pings answered
	WSCloses atomic.Uint64 // close frames received from clients

	// WebSocket compression (permessage-deflate).
	WSDeflateConns atomic.Uint64 // connections that negotiated it
	WSInflated     atomic.Uint64 // compressed messages received and inflated
	WSDeflated     atomic.Uint64 // frames sent compressed
	WSDeflateSaved atomic.Uint64 // payload bytes compression saved on the frames sent compressed
}
