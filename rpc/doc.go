// Package rpc is the server-to-server side of the engine, the part of
// pomelo-rpc that a Go server needs to place calls the way pomelo does
// (protocol reference §10).
//
// It replaces pomelo-rpc's JSON-over-MQTT transport with a compact binary
// one: a [Client] (pomelo's mailbox) holds one multiplexed, pipelined TCP
// connection to one remote server; a [Station] (the mailstation) holds one
// Client per server id; a [Server] (the acceptor) reads each connection on a
// goroutine of its own and dispatches calls to [Handler]s by method id. Frames
// are length-prefixed; method names travel once per connection; arguments
// and results are bytes that the caller's types encode themselves
// ([Appender], [Decoder]) or that package rpc/pack encodes generically.
// TCP_NODELAY is on for every connection (Go's default, set again
// explicitly on the client): no Nagle delay.
//
// The server used cloudwego/netpoll's event loop until it measured slower
// than the standard library here: netpoll's poller blocks in epoll_wait
// holding a P, so on a small machine the runtime's sysmon keeps taking it
// back and waking threads, which cost about twice the CPU per call at low
// load (BENCHMARKS.md). A server has a few long-lived RPC connections, so a
// goroutine each costs nothing that matters.
//
// # Default router
//
// When an application has not registered a route function for a server
// type, pomelo picks the target server of an RPC from the session's uid
// (protocol §10.6):
//
//	uid ──String()──> UTF-16 code units u0 u1 ... uk
//	                      │ low byte of each unit
//	                      v
//	                  IEEE CRC-32 ──> signed int32 h
//	                      │
//	index = |h| mod n     (n = servers of the target type, in the order
//	                       they were added; |h| computed without overflow)
//
// The checksum is the one npm crc@0.2.0 computes (its table lookup masks
// each character code to its low byte), so it equals the ordinary CRC-32
// only for text up to U+00FF. A session without a uid routes with "", whose
// checksum is 0, so unbound sessions always reach the first server.
// [CRC32JS] and [DefaultRoute] reproduce this bit for bit without
// allocating; a Go server and a Node server therefore send the same user to
// the same backend, provided they list the servers in the same order.
//
// # Frames
//
// Every frame starts with a 4-byte big-endian length, counting the bytes
// after it (kind and body), then a kind byte:
//
//	 0      1      2      3      4      5
//	+------+------+------+------+------+---------------------------------+
//	|    length (uint32, BE)    | kind | body (length - 1 bytes)         |
//	+------+------+------+------+------+---------------------------------+
//	 sizeOfLength                sizeOfKind      FrameHeaderSize = 5
//
// A length above the receiver's MaxFrame (default [DefaultMaxFrame], 4 MiB)
// is refused on the header, before any body byte is buffered. The bodies:
//
//	kind 1 HELLO    "SRPC" | version (1) | nameLen (1) | name            both ways, first frame
//	kind 2 DECLARE  method (2) | nsLen (1) ns | svcLen (1) svc | mLen (1) m   client → server
//	kind 3 CALL     id (4) | method (2) | arguments ...                  client → server
//	kind 4 NOTIFY   method (2) | arguments ...                           client → server
//	kind 5 REPLY    id (4) | result ...                                  server → client
//	kind 6 ERROR    id (4) | code (4, signed) | message (UTF-8) ...      server → client
//	kind 7 PING     token (8)                                            client → server
//	kind 8 PONG     token (8), copied from the PING                      server → client
//
// All integers are big endian. "..." runs to the end of the frame. Example:
// call id 1 of method 2 with the pack-encoded arguments [5]:
//
//	00 00 00 0a   03     00 00 00 01   00 02    89 01 05
//	length 10     CALL   id 1          method 2 args: array(1) 5
//
// # Connection, method table
//
// The client writes HELLO (protocol version [ProtocolVersion], its server
// id) and, without waiting, everything it has queued; the server answers
// with its own HELLO before anything else. The client announces the names it
// calls: the first call of a method on a connection is preceded by a DECLARE
// binding a small id (the method's index in the client's [Methods] table) to
// namespace/service/method, and every CALL and NOTIFY carries only the id.
// The server resolves a name once, when it is declared, to its handler (or
// to a "no such method" answer), so dispatch is one slice index. This costs
// no round trip at connect, lets the client add methods at any time, and
// leaves the server free to register what it likes; a name the server lacks
// fails per call with [CodeNoMethod] and the full name in the message.
//
// Request ids are per connection, start at 1 and are never 0. Replies come in
// any order; a reply whose call already timed out is dropped. A frame the
// receiver does not expect (no HELLO first, an undeclared method id, a
// second DECLARE of an id, a server-only kind from a client, an oversize or
// malformed frame) is a protocol error: the connection is closed, and the
// client fails its pending calls with [CodeProtocol].
//
// # Calls and failures
//
// A call fails with an [*Error] carrying a code and a message; ERROR frames
// carry both, so a handler's code and message reach the caller intact
// (pomelo-rpc reduces errors to {"stack": ...}). Codes 1..6 are pomelo-rpc's
// RPC_ERROR codes; 7..15 are this transport's (timeout, connection lost,
// pending limit, no method, codec, remote, canceled, protocol, shutdown);
// handlers use their own codes outside 1..99. *Error implements net.Error
// (Timeout is true for [CodeTimeout]) and errors.Is matches codes
// ([ErrTimeout], [ErrConnLost], ...).
//
// Each call has a timeout ([DefaultTimeout], 30 s as in pomelo, or a sooner
// context deadline). The pending calls of one client are bounded
// ([DefaultMaxPending]): a call beyond it fails at once, nothing queues
// without bound. Calls made while (re)connecting wait in the same bounded
// table and are sent behind the HELLO. When a connection drops, every pending
// call fails at once with [CodeConnLost] (not after its timeout) and a new
// connection is dialed; failed dials back off exponentially, and calls made
// during a backoff fail at once with [CodeConnect]. A PING after a silent
// keepalive period, and closing after two, detects half-open connections.
//
// Filters ([WithBefore], [WithAfter]) run around each call on the client and
// around each dispatch on the server, in the order given.
//
// # Writes
//
// A connection's outbound frames are appended, encoded in place, to one
// buffer under the connection's lock; one goroutine at a time swaps it out
// and writes it whole (one write for everything queued). On an idle
// connection the caller itself writes at once, so there is no added latency;
// under load, frames queued during a write go out together in the next. The
// server holds its writes while it dispatches one read batch and writes the
// batch's replies together at its end. With BufferInterval > 0 (pomelo's
// bufferMsg/interval) frames are written at most once per interval.
//
// # Lifetimes and ownership
//
// Arguments handed to a Handler and the payload handed to a result's
// DecodeRPC alias the connection's read buffer: they are valid only until
// the call returns. Values passed as Appender or Decoder through an
// interface escape to the heap, so hot paths pass pointers to long-lived or
// pooled values; then a call allocates nothing in this package (see the
// TestAlloc tests).
//
// Each connection has one mutex guarding its pending table, outbound buffer
// and state; the reading goroutine owns the frame decoder (and, on the
// server, the table of declared methods). No lock is held while writing to a
// socket, running a filter, a handler, a DecodeRPC or a completion callback.
// No two locks of this package are ever held together (Server.mu,
// serverConn.mu, clientConn.mu, Station.mu, Methods.mu are each taken
// alone), so there is no lock order to keep; on the client, clientConn.mu is
// the only lock on the call path.
package rpc
