package rpc

import (
	"sync"
	"time"
)

// maxKeptBuffer is the size up to which an outbound buffer is always kept for reuse after it was
// written. A larger one is kept while it is busy, so that sustained load does not regrow it at
// every write, and dropped after shortsToShrink writes in a row filled less than a quarter of it.
const maxKeptBuffer = 1 << 20

// outq is a connection's outbound frame queue. Producers append whole frames to buf while holding
// the owning connection's mutex; one goroutine at a time, the flusher, takes buf, swaps in the
// spare buffer and writes outside the lock, then loops while more was appended meanwhile. So
// everything queued at the moment of a write goes out in that one write (batching under load),
// and a lone frame on an idle connection is written at once by the goroutine that queued it (no
// added latency). In buffered mode (interval > 0) a timer starts the flush instead, so frames
// queued within one interval share a write (pomelo's bufferMsg).
//
// Every field is guarded by the owner's mutex ("mu" below), except write and onTimer, which are
// set before the queue is used and never change. Methods ending in Locked need mu held.
type outq struct {
	buf      []byte // mu: frames not yet handed to a write
	spare    []byte // mu: the empty buffer swapped in at the next write
	flushing bool   // mu: a flusher is running
	holds    int    // mu: >0 means do not start a flush (a read batch runs, or connecting)
	armed    bool   // mu: buffered mode: the timer is set
	shorts   int    // mu: writes in a row that used less than a quarter of a big buffer
	closed   bool   // mu: no more writes; buf is discarded
	interval time.Duration
	timer    *time.Timer // mu: buffered mode only, created on first use, stopped by closeLocked
	onTimer  func()      // runs when the interval timer fires: the owner locks mu and calls timerFlushLocked
}

// startLocked is called after appending frames or releasing a hold. It reports whether the
// caller must call flush (after unlocking mu). In buffered mode it arms the timer instead.
// Lock should be held.
func (q *outq) startLocked() bool {
	if q.flushing || q.holds > 0 || q.closed || len(q.buf) == 0 {
		return false
	}
	if q.interval > 0 {
		q.armLocked()
		return false
	}
	q.flushing = true
	return true
}

// armLocked sets the interval timer unless it is already set. Lock should be held.
func (q *outq) armLocked() {
	if q.armed {
		return
	}
	q.armed = true
	if q.timer == nil {
		q.timer = time.AfterFunc(q.interval, q.onTimer)
		return
	}
	q.timer.Reset(q.interval)
}

// timerFlushLocked is the timer's half of startLocked: it reports whether the caller must flush.
// Lock should be held.
func (q *outq) timerFlushLocked() bool {
	q.armed = false
	if q.flushing || q.holds > 0 || q.closed || len(q.buf) == 0 {
		return false
	}
	q.flushing = true
	return true
}

// flush writes buf until it stays empty, with write, outside mu. Only the goroutine that got
// true from startLocked or timerFlushLocked calls it. A write error closes the queue (the
// buffer being written is then dropped, never reused: the failed writer may still hold it) and is
// returned; the caller closes the connection.
func (q *outq) flush(mu *sync.Mutex, write func([]byte) error) error {
	mu.Lock()
	defer mu.Unlock()
	for len(q.buf) > 0 && !q.closed {
		b := q.buf
		q.buf, q.spare = q.spare[:0], nil
		mu.Unlock()
		err := write(b)
		mu.Lock()
		if err != nil {
			q.flushing = false
			q.closeLocked()
			return err
		}
		q.spare = q.keepLocked(b)
	}
	q.flushing = false
	return nil
}

// keepLocked returns b emptied for reuse, or nil when a big buffer has stayed underused.
// Lock should be held.
func (q *outq) keepLocked(b []byte) []byte {
	switch {
	case cap(b) <= maxKeptBuffer || len(b) >= cap(b)/4:
		q.shorts = 0
	case q.shorts+1 >= shortsToShrink:
		q.shorts = 0
		return nil
	default:
		q.shorts++
	}
	return b[:0]
}

// closeLocked stops all writing and drops what is queued. Lock should be held.
func (q *outq) closeLocked() {
	q.closed = true
	q.buf = nil
	if q.timer != nil {
		q.timer.Stop()
	}
}
