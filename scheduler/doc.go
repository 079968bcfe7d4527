// Package scheduler decides when packages queued for clients are written: pomelo's push
// schedulers (lib/pushSchedulers/direct.js and buffer.js), rebuilt around one rule — every
// connection's pending packages leave with ONE write.
//
// # Model
//
// The caller (package engine) encodes a message once, wraps it in one DATA package and hands the
// bytes to Schedule with the list of connections it goes to. The scheduler enqueues the same bytes
// on every target (Target.Enqueue copies them into the connection's outbound queue) and then
// arranges one Target.Flush per target:
//
//	engine: encode once ──► pkg ──► Schedule(pkg, [c1 c2 c3])
//	                                   │ Enqueue(pkg) on c1, c2, c3   (copy into each queue)
//	                                   ▼
//	   Direct:   Flush c1, c2, c3 now (one write each)
//	   Buffered: add c1, c2, c3 to the dirty set; every FlushInterval (default 20 ms) swap the set
//	             out and Flush each member once — every package queued for it since the last tick
//	             leaves in one write (on WebSocket, one message per package within it)
//
// Pending(t) is the second entry point, for a caller that enqueued packages on t itself and wants
// them flushed under the scheduler's policy: Direct flushes t at once; Buffered adds t to the dirty
// set. (The engine does not use it for the responses of a read batch: those are flushed once at
// the end of the batch, hybrid.Handler.ReadBatchDone, whatever the scheduler.)
//
// # Bounds and ownership
//
// The dirty set is keyed by target, so it never holds more entries than there are connections,
// however many packages are queued. Packages themselves are held by the targets' own outbound
// queues (bounded by the transport), never by the scheduler. Schedule only reads pkg during the
// call; the caller may reuse it as soon as Schedule returns.
//
// The Buffered flush goroutine is owned by the scheduler: New starts it, Close stops it (after a
// last flush) and waits for it. A Scheduler is safe for concurrent use by any number of goroutines.
//
// Errors from Enqueue (a closed or overflowing connection) and Flush are counted in Stats and
// reported to the OnError hook; they never stop delivery to the other targets. The transport is
// expected to close a connection whose write failed.
package scheduler
