package hybrid

import (
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"

	"github.com/shaddock-io/shaddock/internal/rawio"
)

// A connection's read task. The poller never reads: an input event wakes the connection's task
// (schedule), which reads the socket until it is empty, decodes every whole unit in place, moves
// an incomplete one to Conn.tail, and ends the batch with one Handler.ReadBatchDone and one flush.
// At most one task of a connection runs at a time: Conn.sched hands the socket from event to task
//
//	             schedule: dispatch                 schedule
//	+------+ ----------------------> +---------+ -------------> +---------+
//	| idle |                         | running |                | pending |
//	+------+ <---------------------- +---------+ <------------- +---------+
//	            task: socket empty                task: reads again
//
// and a task that finds the connection closing tears it down (schedDone: events are ignored
// from then on). A TLS connection's task hands the socket to a goroutine of its own (schedOwned:
// events only wake that goroutine, see conn_tls.go).
//
// A task runs on one of the process's long-lived workers, each with its own read buffer, or,
// with Config.Inline and once the connection is WORKING, on the poller that saw the event. Tasks
// never wait for bytes nor for the socket (writes that do not fit go to a drain goroutine), so
// either is safe. Nothing runs per idle connection: no goroutine, no buffer.
const (
	schedIdle    uint32 = iota // no task
	schedRunning               // a task is queued or runs
	schedPending               // ... and an event came meanwhile: the task reads again
	schedOwned                 // a TLS goroutine reads the socket
	schedDone                  // torn down: the socket is closed
)

// readBufSize is each worker's (and inline poller's) read buffer. A batch reads until the socket
// is empty, so a larger buffer only saves read calls for clients that send a lot at once.
const readBufSize = 32 << 10

// maxReadsPerStep bounds the reads of one pass of a task, so that a client that never stops
// sending still gets its batch ended (ReadBatchDone, flush) regularly.
const maxReadsPerStep = 8

var (
	workersOnce sync.Once
	// workQueue feeds the workers: 2 × GOMAXPROCS goroutines, started by the first Server and
	// living as long as the process. Queueing a task costs less than starting a goroutine. When
	// the queue is full the task gets a goroutine of its own, so a poller never waits.
	workQueue chan *Conn
	readBufs  = sync.Pool{New: func() any { return new([readBufSize]byte) }}
)

func startWorkers() {
	workersOnce.Do(func() {
		workQueue = make(chan *Conn, 1024)
		for range 2 * runtime.GOMAXPROCS(0) {
			go func() {
				buf := make([]byte, readBufSize)
				for c := range workQueue {
					c.run(buf)
				}
			}()
		}
	})
}

// schedule makes sure a task reads the socket after this call: it starts one, or marks the running
// one pending. p is the poller that saw the event (nil: called by a close).
func (c *Conn) schedule(p *poller) {
	for {
		switch c.sched.Load() {
		case schedIdle:
			if c.sched.CompareAndSwap(schedIdle, schedRunning) {
				c.dispatch(p)
				return
			}
		case schedRunning:
			if c.sched.CompareAndSwap(schedRunning, schedPending) {
				return
			}
		default:
			return
		}
	}
}

// dispatch runs the task: inline on poller p if allowed, else on a worker.
func (c *Conn) dispatch(p *poller) {
	if p != nil && p.buf != nil && c.state.Load() == stateWorking {
		c.run(p.buf)
		return
	}
	select {
	case workQueue <- c:
	default:
		go func() {
			b := readBufs.Get().(*[readBufSize]byte)
			c.run(b[:])
			readBufs.Put(b)
		}()
	}
}

// run is the task: passes (step) until the socket is empty and no event came meanwhile.
func (c *Conn) run(buf []byte) {
	for c.step(buf) {
	}
}

// step reads the socket and decodes what came (readSocket), tears the connection down if it is
// closing, or hands it to a TLS goroutine. It reports whether another pass is due. A panic in a
// batch (a Handler's, in practice) is logged and closes that connection only.
func (c *Conn) step(buf []byte) (again bool) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.log.Error("hybrid: panic in a read batch, connection closed", "id", c.id, "panic", r, "stack", string(debug.Stack()))
			c.abort(CloseByApp)
			again = true
		}
	}()
	c.sched.Store(schedRunning)
	if !c.readDone() && c.mode != modeTLS {
		c.readSocket(buf)
	}
	if c.isClosing() {
		c.teardown()
		return false
	}
	if c.mode == modeTLS {
		c.sched.Store(schedOwned)
		go c.serveTLS()
		return false
	}
	return !c.sched.CompareAndSwap(schedRunning, schedIdle)
}

// readSocket runs one read batch: reads until the socket is empty (or maxReadsPerStep), decoding
// each read in place.
// Reader only.
func (c *Conn) readSocket(buf []byte) {
	var b batch
	for range maxReadsPerStep {
		n, err := rawio.Read(int(c.fd), buf)
		if n > 0 {
			b.reads++
			c.touchRead()
			in := input{buf[:n]}
			c.consume(&in, &b)
			if c.mode == modeTLS && in.Len() > 0 {
				c.keepForTLS(&in)
			}
		}
		if err != nil {
			c.peerClosed(err)
			break
		}
		if c.readDone() || c.mode == modeTLS {
			break
		}
		if n < len(buf) && (n == 0 || !c.hup.Load()) {
			break // empty, unless a hang-up is known: then read on to the end of the stream
		}
	}
	if b.reads == maxReadsPerStep {
		c.sched.CompareAndSwap(schedRunning, schedPending) // more may wait: another pass
	}
	if c.readDone() {
		c.releaseTail()
	}
	c.endBatch(&b)
}

// peerClosed ends a connection whose peer closed it (err is io.EOF) or broke it.
// Reader only.
func (c *Conn) peerClosed(err error) {
	if c.closing.CompareAndSwap(0, uint32(CloseByPeer)+1) {
		c.state.Store(stateClosed)
		if err != io.EOF {
			c.srv.log.Debug("hybrid: read failed", "id", c.id, "err", err)
		}
	}
	c.stopRead = true
}

// keepForTLS moves the bytes after the sniffed TLS record header to c.tail, where serveTLS reads
// them first.
// Reader only.
func (c *Conn) keepForTLS(in *input) {
	if c.tail == nil {
		c.moveToTail(in, 0)
		return
	}
	c.appendTail(in.b)
	in.Skip(in.Len())
}

// teardown closes the socket once the reader has stopped: registry, counters, timers, buffers,
// the descriptor, then Handler.Closed on its own goroutine.
// Reader only (the task, or the TLS goroutine), once.
func (c *Conn) teardown() {
	c.sched.Store(schedDone)
	c.closing.CompareAndSwap(0, uint32(CloseByPeer)+1)
	reason := CloseReason(c.closing.Load() - 1)
	c.state.Store(stateClosed)
	s := c.srv
	s.wheel.Cancel(&c.timer)
	if c.opened {
		s.closers.Add(1) // before unregister: Shutdown waits for the registry to empty, then for closers
	}
	c.stopFD()
	if c.fd >= 0 {
		fdConns.slot(int(c.fd), false).CompareAndSwap(c, nil)
		syscall.Close(int(c.fd))
	}
	c.wakeWriter() // a drain waiting for room gives up
	s.unregister(c)
	s.stats.ActiveConns.Add(-1)
	if c.counted {
		s.stats.ClassifiedConns.Add(-1)
	}
	c.releaseTail()
	c.mu.Lock()
	c.releaseOutLocked()
	c.mu.Unlock()
	s.log.Debug("hybrid: connection closed", "id", c.id, "remote", c.RemoteAddr(), "transport", c.transport, "reason", reason)
	if c.opened {
		// Asynchronous, so that Closed never runs inside a Close, Kick or Send called by the
		// application (which may hold its own locks), nor on a poller.
		go func() {
			defer s.closers.Done()
			s.h.Closed(c, reason)
		}()
	}
}

// closeSocket makes the reader tear the connection down: it wakes whatever waits on the socket and
// schedules a task, which finds the connection closing. A connection without a socket (tests)
// closes its stand-in.
func (c *Conn) closeSocket() {
	if c.fd < 0 {
		if c.nc != nil {
			c.nc.Close()
		}
		return
	}
	c.wakeReader()
	c.wakeWriter()
	c.schedule(nil)
}

// waiter holds the channels through which the poller wakes goroutines that wait on a socket: the
// TLS reader (r) and a writer waiting for room (w). Made on first need; most connections never
// have one.
type waiter struct{ r, w chan struct{} }

func (c *Conn) waiter() *waiter {
	if w := c.wait.Load(); w != nil {
		return w
	}
	w := &waiter{r: make(chan struct{}, 1), w: make(chan struct{}, 1)}
	if c.wait.CompareAndSwap(nil, w) {
		return w
	}
	return c.wait.Load()
}

func (c *Conn) wakeReader() {
	if w := c.wait.Load(); w != nil {
		select {
		case w.r <- struct{}{}:
		default:
		}
	}
}

func (c *Conn) wakeWriter() {
	if w := c.wait.Load(); w != nil {
		select {
		case w.w <- struct{}{}:
		default:
		}
	}
}

// useFD keeps the descriptor open (teardown waits) for a system call made by someone other than
// the reader; false once it is closed or closing. Pair with doneFD.
func (c *Conn) useFD() bool {
	for {
		v := c.fdRefs.Load()
		if v < 0 {
			return false
		}
		if c.fdRefs.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

func (c *Conn) doneFD() { c.fdRefs.Add(-1) }

// stopFD waits for the system calls under useFD to end and refuses later ones: the descriptor is
// closed next, and its number may be reused at once.
func (c *Conn) stopFD() {
	for !c.fdRefs.CompareAndSwap(0, -1) {
		if c.fdRefs.Load() < 0 {
			return
		}
		runtime.Gosched()
	}
}
