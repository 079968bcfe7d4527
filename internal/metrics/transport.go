package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shaddock-io/shaddock/hybrid"
)

// transportSnap points at the live hybrid counters for one scrape (or at zeros while the
// transport does not exist).
type transportSnap struct {
	s    *hybrid.Stats
	zero hybrid.Stats
}

// u reads a hybrid counter as a sample value.
func u(f func(*hybrid.Stats) *atomic.Uint64) func(*transportSnap) float64 {
	return func(t *transportSnap) float64 { return float64(f(t.s).Load()) }
}

// i reads a hybrid gauge as a sample value.
func i(f func(*hybrid.Stats) *atomic.Int64) func(*transportSnap) float64 {
	return func(t *transportSnap) float64 { return float64(f(t.s).Load()) }
}

// newTransportCollector exports hybrid.Stats. Every value is read from the server's own atomic
// counters at scrape time.
func newTransportCollector(stats func() *hybrid.Stats) prometheus.Collector {
	const (
		C = prometheus.CounterValue
		G = prometheus.GaugeValue
	)
	type S = transportSnap
	return &funcCollector[S]{
		snap: func(t *S) bool {
			if t.s = stats(); t.s == nil {
				t.s = &t.zero
			}
			return true
		},
		families: []family[S]{
			one("connections", "Client connections open now (accepted and not yet closed).", G,
				i(func(s *hybrid.Stats) *atomic.Int64 { return &s.ActiveConns })),
			one("connections_classified", "Client connections open now whose protocol was recognised (counted against MaxConns).", G,
				i(func(s *hybrid.Stats) *atomic.Int64 { return &s.ClassifiedConns })),
			one("connections_accepted_total", "TCP connections accepted, before the blacklist.", C,
				u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.Accepted })),
			one("accept_errors_total", "Accept failures for lack of descriptors or memory, retried after a backoff.", C,
				u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.AcceptErrors })),
			byLabel("connections_rejected_total", "Connections closed before any handshake, by reason.", "reason", C,
				lv("blacklist", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.RejectedBlacklist })),
				lv("max_conns", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.RejectedMaxConns })),
				lv("protocol", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.RejectedProtocol })),
				lv("shutdown", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.RejectedShutdown }))),
			byLabel("connections_classified_total", "Connections classified, by transport.", "transport", C,
				lv("tcp", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.ConnsTCP })),
				lv("ws", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.ConnsWS })),
				lv("tls", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.ConnsTLS })),
				lv("wss", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.ConnsWSS }))),
			byLabel("handshakes_total", "Pomelo handshakes answered, by response code (200 accepted; 500, 501 refused).", "code", C,
				lv("200", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.HandshakeOK })),
				lv("500", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.Handshake500 })),
				lv("501", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.Handshake501 }))),
			byLabel("handshake_failures_total", "Handshakes that failed, by reason: invalid (a malformed pomelo handshake, also counted under code 500), tls (TLS handshake), ws_upgrade (WebSocket upgrade refused).", "reason", C,
				lv("invalid", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.HandshakeInvalid })),
				lv("tls", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.TLSHandshakeFail })),
				lv("ws_upgrade", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.WSUpgradeFail }))),
			byLabel("protocol_errors_total", "Connections closed for a protocol violation, by kind.", "kind", C,
				lv("bad_type", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.ErrBadType })),
				lv("body_too_large", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.ErrBodyTooLarge })),
				lv("client_kick", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.ErrClientKick })),
				lv("ws_frame", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.ErrWSFrame })),
				lv("ws_too_large", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.ErrWSTooLarge })),
				lv("ws_package_count", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.ErrWSPackageCount }))),
			one("out_of_state_packages_total", "Packages ignored because they came in the wrong connection state.", C,
				u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.OutOfState })),
			byLabel("timeouts_total", "Connections closed by a timer: handshake (silent before the handshake completed), heartbeat (no heartbeat in time), idle (no traffic, heartbeats off).", "kind", C,
				lv("handshake", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.HandshakeTimeouts })),
				lv("heartbeat", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.HeartbeatTimeouts })),
				lv("idle", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.IdleTimeouts }))),
			byLabel("packages_total", "Pomelo packages received (in) and sent (out).", "direction", C,
				lv("in", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.PackagesIn })),
				lv("out", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.PackagesOut }))),
			byLabel("transport_bytes_total", "Bytes received (in) and sent (out) on client sockets, WebSocket framing included, TLS excluded.", "direction", C,
				lv("in", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.BytesIn })),
				lv("out", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.BytesOut }))),
			one("outbound_refused_packages_total", "Outbound packages refused because the connection had not completed its handshake.", C,
				u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.OutboundNotWorking })),
			one("outbound_dropped_packages_total", "Outbound packages dropped because the queue was full (overflow policy drop).", C,
				u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.OutboundDropped })),
			one("outbound_overflow_kicks_total", "Connections closed because their outbound queue was full (overflow policy kick).", C,
				u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.OverflowKicks })),
			byLabel("write_failures_total", "Flushes that failed and closed the connection, by kind.", "kind", C,
				lv("error", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.WriteErrors })),
				lv("timeout", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.WriteTimeouts }))),
			one("kicks_total", "KICK packages delivered (server-side kicks).", C,
				u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.Kicks })),
			one("websocket_pings_total", "WebSocket pings answered.", C,
				u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.WSPings })),
			one("websocket_close_frames_total", "WebSocket close frames received from clients.", C,
				u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.WSCloses })),
			one("websocket_deflate_connections_total", "WebSocket connections that negotiated permessage-deflate.", C,
				u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.WSDeflateConns })),
			byLabel("websocket_compressed_messages_total", "Compressed WebSocket messages received (in, inflated) and sent (out).", "direction", C,
				lv("in", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.WSInflated })),
				lv("out", u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.WSDeflated }))),
			one("websocket_deflate_saved_bytes_total", "Payload bytes that compression saved on the frames sent compressed.", C,
				u(func(s *hybrid.Stats) *atomic.Uint64 { return &s.WSDeflateSaved })),
		},
	}
}
