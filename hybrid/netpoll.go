package hybrid

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/bytedance/gopkg/util/gopool"
	"github.com/cloudwego/netpoll"
)

// netpoll's settings are process-wide: buffer sizes, the number of pollers and the Runner that
// runs each connection's OnRequest task. The first Server started in a process applies them,
// once (netpoll reads them without synchronisation when it creates pollers and connections).
//
// The Runner installed here (runTask) runs a hybrid connection's task inline, on the poller
// goroutine that read the bytes, when its Server asks for it (Config.Inline) and the
// connection is a WORKING TCP or WebSocket connection; otherwise the task of a classified TCP or
// WebSocket connection goes to the transport's long-lived workers (below), and every other task,
// including those of other netpoll users in the process (package rpc), to the worker pool netpoll
// uses by default (bytedance gopool). So the choice is per Server, and other users see no change.
//
// Inline is not the default because it did not pay on the 2-core machine the numbers in doc.go
// come from: it saves the hand-off to a worker, but netpoll grows a connection's read buffer
// node only from a worker task (connection.Release needs the FDOperator that the poller holds
// while an inline task runs), so inline reads stay at NetpollBufferSize and most batches longer
// than what is left of that node take a second read (readMore). Both roughly cancel out.
//
// Inline execution has two hazards, both inside netpoll, and the transport avoids both:
//
//   - The task must never wait for bytes: the poller that would deliver them is the one running
//     it. The read path therefore consumes everything netpoll has buffered on every call, moving
//     an incomplete unit to Conn.tail (readConn), and never calls a blocking Peek.
//   - The task must never run netpoll's close callbacks: netpoll frees the connection's
//     FDOperator there and waits for the poller to finish with it, which is this very goroutine.
//     Closes requested while an inline task runs are deferred to the end of the task (task
//     states below), then run on their own goroutine; tasks of a connection being closed run on
//     a worker. Flushes never block either (Conn.Flush).
//
// Conn.task is the hand-off between runTask and closeSocket:
//
//	            runTask: inline start            closeSocket
//	+------+ --------------------------> +--------+ -------------> +--------------+
//	| idle |                             | inline |                | inline+close |
//	+------+ <-------------------------- +--------+                +--------------+
//	   |          runTask: task done                                      |
//	   | closeSocket: nc.Close() here                                     | runTask, task done:
//	   v                                                                  v go nc.Close()
//	+------------------------------------------------------------------------+
//	|                     closed: tasks go to the worker pool                |
//	+------------------------------------------------------------------------+
const (
	taskIdle        uint32 = iota // no inline task
	taskInline                    // an inline task runs on a poller
	taskInlineClose               // ... and a close was requested meanwhile
	taskClosed                    // nc.Close was called or is due
)

var netpollOnce sync.Once

// workers queues the tasks of classified TCP and WebSocket connections, which never wait for
// bytes nor for the socket (see above), for 2 × GOMAXPROCS long-lived goroutines: queueing a task
// costs less than what netpoll's pool does, which starts a goroutine per task whose stack then
// grows again. When the queue is full the task goes to netpoll's pool, so the poller never waits.
// Tasks that may wait (TLS, sniffing, which can turn into TLS) always go to netpoll's pool.
// Created by the first tuneNetpoll (an atomic pointer: pollers of other netpoll users may run
// already); the workers live as long as the process (the channel is never closed).
var workers atomic.Pointer[chan func()]

// worker runs tasks from workers.
func worker(tasks <-chan func()) {
	for f := range tasks {
		f()
	}
}

// tuneNetpoll applies the process-wide netpoll settings from s's Config, the first time a Server
// starts in this process.
func (s *Server) tuneNetpoll() {
	netpollOnce.Do(func() {
		n := s.set.netpollBuffer
		netpoll.LinkBufferCap = n
		pollers := s.set.netpollPollers
		if pollers == 0 && s.set.inline {
			pollers = runtime.GOMAXPROCS(0) // Handler work runs on the pollers
		}
		tasks := make(chan func(), 256)
		for range 2 * runtime.GOMAXPROCS(0) {
			go worker(tasks)
		}
		workers.Store(&tasks)
		err := netpoll.Configure(netpoll.Config{
			BufferSize:  n,
			PollerNum:   pollers,
			Runner:      runTask,
			LoadBalance: netpoll.RoundRobin,
		})
		if err != nil {
			s.log.Warn("hybrid: netpoll configuration failed", "err", err)
		}
	})
}

// runTask is netpoll's Runner: see the top of this file.
func runTask(ctx context.Context, f func()) {
	if cc, ok := ctx.(*connCtx); ok {
		if cc.c.runInline(f) {
			return
		}
		if m := cc.c.mode; (m == modePackages || m == modeFrames) && workers.Load() != nil {
			select {
			case *workers.Load() <- f:
				return
			default: // every worker is busy
			}
		}
	}
	gopool.CtxGo(ctx, f)
}

// runInline runs f, c's OnRequest task, on the calling poller if c may run inline, and reports
// whether it did. netpoll calls the Runner with the connection's processing lock held, so no
// other task of c runs meanwhile and the reader-owned mode is stable.
func (c *Conn) runInline(f func()) bool {
	if !c.srv.set.inline || (c.mode != modePackages && c.mode != modeFrames) ||
		c.state.Load() != stateWorking || !c.task.CompareAndSwap(taskIdle, taskInline) {
		return false
	}
	f()
	if !c.task.CompareAndSwap(taskInline, taskIdle) { // taskInlineClose
		c.task.Store(taskClosed)
		go c.nc.Close()
	}
	return true
}

// inline reports whether the calling task runs inline on its poller.
// Reader only.
func (c *Conn) inline() bool {
	t := c.task.Load()
	return c.fd >= 0 && (t == taskInline || t == taskInlineClose)
}

// closeSocket closes the netpoll connection, or leaves it to the inline task running now.
func (c *Conn) closeSocket() {
	for {
		switch c.task.Load() {
		case taskIdle:
			if c.task.CompareAndSwap(taskIdle, taskClosed) {
				c.nc.Close()
				return
			}
		case taskInline:
			if c.task.CompareAndSwap(taskInline, taskInlineClose) {
				return
			}
		default:
			return
		}
	}
}
