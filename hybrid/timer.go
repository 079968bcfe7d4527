package hybrid

import "time"

// Timeouts use one hashed timing wheel per Server (internal/wheel) and lazy deadlines:
//
//   - each Conn embeds one wheel timer and one atomic deadline (a wheel tick);
//   - activity moves the deadline later with a single atomic store (touch*), without touching
//     the wheel: a heartbeat costs no lock and no runtime timer;
//   - when the timer fires, the wheel goroutine compares the deadline with the current tick: if
//     the deadline moved, it re-arms the timer for it; otherwise the connection has timed out;
//   - when a deadline moves earlier (the switch from the handshake timeout to the heartbeat
//     timeout at the ACK), arm re-links the timer explicitly.
//
// The phase decides which timeout is in force:
//
//	INITED, WAIT_ACK            HandshakeTimeout after the last byte received
//	WORKING, heartbeats on      HeartbeatTimeout after the last HEARTBEAT received
//	WORKING, heartbeats off     IdleTimeout after the last byte received or written
//
// After a stall of the whole process (machine overload, a long GC pause), the wheel catches up
// in a burst while the readers have not yet seen what arrived meanwhile; a connection whose
// socket still holds unread bytes is therefore given stallGraceTicks more before it times out.

// stallGraceTicks is how long a timeout is deferred when the client's bytes are still in the kernel.
const stallGraceTicks = 5

// deadlineAfter returns the tick after which a connection idle for d from now has timed out. It
// counts from real time (the wheel's Clock), not from the last tick the wheel processed, which lags
// when the wheel goroutine runs late; one tick is added because the current tick has partly
// passed. So a timeout never fires early.
func (s *Server) deadlineAfter(d time.Duration) int64 {
	return s.wheel.Clock() + s.wheel.Ticks(d) + 1
}

// arm sets the deadline to d from now and re-links the timer: for the start of a phase.
func (c *Conn) arm(d time.Duration) {
	at := c.srv.deadlineAfter(d)
	c.deadline.Store(at)
	c.srv.wheel.Schedule(&c.timer, at)
}

// touchRead records that bytes arrived. Reader only.
func (c *Conn) touchRead() {
	s := c.srv
	switch c.state.Load() {
	case stateInited, stateWaitAck:
		c.deadline.Store(s.deadlineAfter(s.set.handshakeTimeout))
	case stateWorking:
		if s.set.heartbeat == 0 {
			c.deadline.Store(s.deadlineAfter(s.set.idleTimeout))
		}
	}
}

// touchWrite records that bytes were written: only the idle timeout counts writes.
func (c *Conn) touchWrite() {
	s := c.srv
	if s.set.heartbeat == 0 && c.state.Load() == stateWorking {
		c.deadline.Store(s.deadlineAfter(s.set.idleTimeout))
	}
}

// touchHeartbeat records a HEARTBEAT from the client. Reader only.
func (c *Conn) touchHeartbeat() {
	c.deadline.Store(c.srv.deadlineAfter(c.srv.set.heartbeatTimeout))
}

// onTimer runs on the wheel goroutine when c's timer comes due. It must not block.
func (s *Server) onTimer(c *Conn, now int64) {
	if c.isClosing() {
		return
	}
	if d := c.deadline.Load(); d > now {
		s.wheel.Schedule(&c.timer, d)
		return
	}
	if c.pendingInKernel() {
		// Bytes wait in the kernel: the process was stalled (the wheel catches up faster than the
		// reader). Give the reader a few ticks; a live poller drains the socket within them, so a
		// slow client cannot use this to stay open.
		s.wheel.Schedule(&c.timer, now+stallGraceTicks)
		return
	}
	reason := CloseIdleTimeout
	switch c.state.Load() {
	case stateInited, stateWaitAck:
		s.stats.HandshakeTimeouts.Add(1)
	case stateWorking:
		if s.set.heartbeat > 0 {
			reason = CloseHeartbeatTimeout
			s.stats.HeartbeatTimeouts.Add(1)
		} else {
			s.stats.IdleTimeouts.Add(1)
		}
	default:
		return
	}
	s.log.Debug("hybrid: timeout", "id", c.id, "remote", c.RemoteAddr(), "reason", reason, "deadline", c.deadline.Load(), "now", now)
	c.closeWith(reason)
}

// pendingInKernel reports whether bytes wait in the socket's receive queue.
func (c *Conn) pendingInKernel() bool {
	if c.fd < 0 || !c.useFD() {
		return false
	}
	defer c.doneFD()
	return kernelPending(int(c.fd))
}
