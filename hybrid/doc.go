// Package hybrid is the transport half of a pomelo frontend server (pomelo's hybridconnector):
// one TCP port, on an epoll reactor of its own (reactor_linux.go), serving raw TCP, WebSocket, TLS-TCP and WSS clients, with
// pomelo's connection state machine, handshake, heartbeats and kicks. It knows nothing about
// routes or sessions: it hands handshakes and DATA bodies to a Handler (contract.go) and sends
// the packages the Handler queues.
//
// # Sniffing
//
// Each accepted connection is classified by its first bytes (sniff.go):
//
//	01..05                 a pomelo package type            raw TCP packages
//	"GET " "POST " "PUT "  an HTTP method and its space     WebSocket: Upgrade request, then
//	"HEAD " "DELETE "                                       RFC 6455 frames (POST etc. get 400)
//	16 03                  a TLS handshake record           crypto/tls, then classified again
//	                                                        inside: TLS-TCP or WSS
//	anything else                                           closed, Stats.RejectedProtocol
//
// A proper prefix of a method ("G", "PO") waits for more bytes, so a client whose first segment is
// one byte is classified correctly (pomelo's switcher closes it). The blacklist is checked on
// accept, before any byte is read; MaxConns when a connection is classified, before any handshake.
//
// # Packages and frames
//
// Raw TCP and TLS carry packages back to back:
//
//	+------+----------------+---------------+
//	| type | length (24 BE) | body (length) |     type 1 HANDSHAKE, 2 ACK, 3 HEARTBEAT, 4 DATA,
//	+------+----------------+---------------+     5 KICK (server to client only)
//
// The length is checked against MaxBodyBeforeHandshake (until WORKING) or MaxBody on the header,
// before the body is waited for. On WebSocket every binary (or text) message from a client must
// hold exactly one whole package; anything else closes with status 1002. Outbound, everything
// flushed at once goes in one write, but each package in a binary message of its own: the official
// browser client bundled in pomelo's template decodes only the first package of a message and
// drops the rest (pomelo's buffered push scheduler concatenates packages in one message; its
// default, direct, never does).
//
// A WebSocket client that offers permessage-deflate (RFC 7692) gets it unless Config.WSNoDeflate,
// without context takeover either way, so a connection keeps no compression state: its compressed
// messages are inflated (within the message limit, into a pooled buffer that lives until the
// package is handled) before the one-package check, and each flushed frame of at least
// WSDeflateMinSize bytes is compressed, or sent as it is when that does not make it smaller.
//
// # State machine (pomelo's hybridsocket)
//
//	           HANDSHAKE: Handler.Handshake
//	+--------+ 200: response      +----------+ HANDSHAKE_ACK: heartbeat,  +---------+
//	| INITED |------------------->| WAIT_ACK |-------------------------->| WORKING |
//	+--------+                    +----------+ Handler.Open              +---------+
//	    |  500/501, bad JSON,          |                                     |
//	    |  no "sys": {"code":N}        |                                     | HEARTBEAT: echo,
//	    v  written, then close         v                                     | re-arm timeout
//	+-----------------------------------------------------------------------------+
//	|                                   CLOSED                                    |
//	+-----------------------------------------------------------------------------+
//	   timeout, protocol error, KICK from the client, Kick, Close, overflow, peer close
//
// Packages in the wrong state (DATA or HEARTBEAT before the ACK, a second HANDSHAKE, ...) are
// silently ignored and counted (Stats.OutOfState), as pomelo does. Nothing but the handshake
// response is sent before WORKING: Enqueue returns ErrNotWorking, and Kick just closes.
//
// Timeouts (timer.go): HandshakeTimeout of silence before WORKING; once WORKING, HeartbeatTimeout
// without a HEARTBEAT when heartbeats are on (only heartbeats re-arm it; the close sends no KICK),
// or IdleTimeout without traffic when they are off. The server sends one HEARTBEAT after the ACK
// and echoes each client heartbeat at once, as pomelo 2.x does. All connections share one hashed
// timing wheel (internal/wheel) and re-arm by storing a deadline: no runtime timer per connection.
//
// # Goroutines
//
// A few poller goroutines (Config.Pollers) wait in epoll_wait, each on its share of the sockets,
// registered once, edge-triggered. A poller never reads: an input event wakes the connection's
// read task (dispatch.go), which runs on one of 2 × GOMAXPROCS long-lived workers fed through a
// queue (a goroutine of its own when the queue is full), or, with Config.Inline and once the
// connection is WORKING, on the poller itself. The task reads the socket until it is empty into
// the worker's read buffer, decodes every whole unit in place, calls the Handler, and ends the
// batch with one Handler.ReadBatchDone and one flush; an incomplete unit at the end is copied to
// the connection's tail (a pooled buffer) and completed by a later read. So no task ever waits
// for bytes, and an idle connection holds no goroutine and no buffer. At most one task of a
// connection runs at a time (Conn.sched). A panic in a batch closes that connection only. A TLS
// connection gets a goroutine of its own for its whole life (crypto/tls reads block), woken by
// the poller's events.
//
// # Ownership and locks
//
//	field(s)                                   owner
//	Conn.mode, inTLS, headroom, stopRead,      the reading goroutine (the connection's read task,
//	counted, opened, tail, ws, pub, value,     or its TLS goroutine); fields read by others are
//	transport                                  set before Handler.Handshake
//	Conn.out (queue, flusher flag, TLS conn)   Conn.mu
//	Conn.state, closing, deadline              atomics: transitions by the reader, CLOSED by the
//	                                           closer that wins closing's CAS
//	Conn.sched, hup                            atomics: read task hand-off (dispatch.go)
//	Conn.fd                                    the reader closes it (teardown); others use it
//	                                           under Conn.fdRefs (useFD), which teardown waits for
//	Conn.wait                                  atomic pointer, made once: wake-up channels
//	Conn.timer links                           the wheel's mutex
//	Conn.prev/next, Server.conns, nconns       Server.mu
//	Server.blacklist                           atomic pointer, replaced whole
//	Stats                                      atomics
//
// Lock order: Server.mu, Conn.mu and the wheel's mutex are leaves: none is held while taking
// another, while writing to a socket, or while calling the Handler. A close only marks the connection
// and wakes its reader, which tears it down: the socket is closed by the goroutine that reads it. Handler.Closed runs
// on its own goroutine after every other Handler call for the connection has returned.
//
// # Writing
//
// Enqueue copies whole packages into the connection's queue under Conn.mu; Flush writes it.
// Flushing is single-flusher: the first caller to find no flush in progress takes the queue,
// writes it without the lock and loops until the queue is empty; concurrent senders only append.
// The flusher writes straight to the socket with one non-blocking writev (HTTP response or pongs,
// the queue as one WebSocket frame, a close frame); what the socket does not take is copied to a
// pooled buffer and a goroutine (drain) writes it as the poller reports room, then goes on
// flushing. So Flush never blocks, which it must not on a poller. A
// TLS connection is flushed by a goroutine (crypto/tls writes block). The queue is bounded in
// bytes and packages (what is being written counts) with OverflowKick (close the slow consumer)
// or OverflowDrop (drop and count). A write error, or a drain longer than WriteTimeout, closes the
// connection. Queue buffers come from size-classed pools (512 B to 2 MiB) and go back when the
// queue empties, so an idle connection holds none. TCP_NODELAY is on (Config.Nagle turns it off).
//
// # CPU
//
// examples/chat/echobench measures the server's CPU per response of the chat demo's echo route,
// server and client on one 2-core machine (numbers move by 10-20% with the machine's load). Per
// response, 100 connections: 14.2-15.7 us with one request in flight each (best-median of 5),
// 1.7-2.0 us with ten. A bare epoll echo server in Go (one read and one write per batch, no
// framework) costs 11.7-13.4 and 1.35-1.40 on the same machine: the kernel's loopback TCP path,
// which charges the client's receive to the server's send, is most of it. The transport itself
// costs one read, one write and one hand-off per batch; the rest of the user time is the engine.
//
// # Memory
//
// An idle connection costs its Conn (about 300 B), an 8-byte cell in the descriptor table and
// the kernel's socket: no read buffer (reads go to the worker's), no write buffer (queues take
// pooled buffers only while they hold bytes), no goroutine. cmd/idlebench measures the resident
// memory per idle connection: with 10,000 connections and 3 s heartbeats, 645-732 B of RSS per
// TCP connection and 802-814 B per WebSocket connection (about 290 and 355 B of live heap),
// against pomelo's 9.5 and 18.8 KB. On cloudwego/netpoll, which this package used before, the same measurement
// gave 4.3 and 4.4 KB: netpoll's own per-connection state (a 1,456-byte write barrier, buffers,
// operator, registry entry) came to about 3 KB of live heap.
package hybrid
