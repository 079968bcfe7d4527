// Package driver runs simulated pomelo clients on a few epoll loops: the engine of loadgen.
//
// # Model
//
// A Driver owns Config.Loops loops. Each loop is one goroutine around one epoll instance
// (level-triggered, non-blocking sockets) and owns a contiguous share of the connections, stored
// by value in one slice. Everything about a connection — its state, decoder, in-flight requests,
// timers, output — is touched only by its loop goroutine, so nothing in the hot path locks. The
// controller talks to the loops through three things only: the phase (an atomic, plus a wake-up
// pipe per loop), two atomic flags per loop (ramp done, drained), and the collector, a mutex-
// guarded Stats into which each loop merges its numbers every 100 ms (and at once before a flag
// turns true, so that a snapshot that sees the flag also has every event before it).
//
// # A connection
//
//	idle ─open→ connecting ─writable→ [upgrading ─101→] handshaking ─200→ setup ─answer→ ready
//	                                                                   └─(no setup)───→ ready
//	any state ─ error, EOF, kick, heartbeat timeout, stop → closed        setup refused → idle-open
//
// Input is read into the loop's 64 KiB buffer and parsed in place: codec.Decoder on TCP (it copies
// only a package that straddles two reads), hybrid/ws frames then codec packages on WebSocket (a
// frame that straddles reads waits in a per-connection buffer). Output for the connection being
// served is appended to the loop's buffer and written once per event; what the kernel does not
// take waits in a per-connection queue until EPOLLOUT.
//
// Requests sent and not answered sit in a per-connection ring indexed by request id (ids are
// consecutive, so a lookup is one subtraction whatever the order of the answers). Each entry
// holds the intended send time: for the open loop, when the schedule wanted the request out,
// not when the loop got to it, so that a late loop shows as latency (no coordinated omission).
//
// Each connection has at most one timer in the loop's hashed timing wheel (5 ms slots): its
// earliest deadline among connect/handshake timeout, next heartbeat, heartbeat timeout and
// oldest request timeout. Deadlines that move later need no re-arm; the timer fires early and
// re-arms.
//
// # Heartbeats (pomelo-jsclient-websocket)
//
// On each server heartbeat: clear the timeout; if no heartbeat is scheduled, schedule one
// sys.heartbeat seconds later. When it is sent, arm a timeout of 2 × heartbeat; every incoming
// package pushes it out; it fires when less than 100 ms (gapThreshold) remain.
//
// # Numbers
//
// Stats holds counters (Counts), three log-linear histograms (request latency, handshake time,
// push latency) and an error tally. Snapshot returns the events since the previous Snapshot and
// the current gauges; merging snapshots (Counts.Add, hist.Histogram.AddSparse) is exact.
package driver
