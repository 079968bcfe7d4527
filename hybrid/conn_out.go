package hybrid

import (
	"crypto/tls"
	"errors"
	"os"
	"syscall"
	"time"

	"github.com/valyala/bytebufferpool"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
	"github.com/shaddock-io/shaddock/internal/rawio"
)

// wsHeadroom is the largest unmasked WebSocket frame header (2 bytes and a 64-bit length): it is
// reserved in front of every outbound buffer of a WebSocket connection so that a flush writes the
// frame header and the packages with one write, without a copy.
const wsHeadroom = 10

// outQueue is a connection's outbound state, guarded by Conn.mu.
//
// Senders append whole packages to buf under the lock. The first sender that finds no flush in
// progress becomes the flusher: it takes buf, unlocks, writes it, and loops until buf is empty;
// senders that come meanwhile only append. So the lock is never held across a write, and a slow
// socket holds up only its flusher (bounded by WriteTimeout), never other senders.
type outQueue struct {
	buf          []byte        // headroom + queued packages; pooled (bufPools), nil when empty
	pkts         int32         // packages in buf
	inflight     int32         // bytes being written by the flusher
	inflightPkts int32         // packages being written by the flusher
	ctrl         []byte        // raw bytes written before buf's frame: HTTP response, WebSocket pongs
	closeCode    ws.StatusCode // when not 0, a WebSocket Close frame with it is written after buf
	flushing     bool          // a flusher is running
	closeAfter   uint8         // 1 + CloseReason to close with once the queue is flushed; 0 for none
	deflate      bool          // WebSocket with permessage-deflate: large frames are compressed
	tls          *tls.Conn
}

// errOverflowKick tells Enqueue to close the connection for overflow, after unlocking.
var errOverflowKick = errors.New("hybrid: overflow kick")

// countPackages checks that b is a sequence of whole packages and returns how many.
func countPackages(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		_, size, err := codec.ParseHeader(b)
		if err != nil || len(b) < codec.HeaderSize+size {
			return 0, ErrBadPackages
		}
		b = b[codec.HeaderSize+size:]
		n++
	}
	if n == 0 {
		return 0, ErrBadPackages
	}
	return n, nil
}

// Enqueue appends one or more whole packages (header and body each, concatenated) to the
// connection's outbound queue. pkts is copied; nothing is written (see Flush).
//
// Errors: ErrBadPackages if pkts is not a sequence of whole packages; ErrNotWorking if the
// handshake has not been acknowledged (the packages are dropped, as pomelo drops them);
// ErrConnClosed after a close or kick; ErrPacketTooBig if pkts alone exceeds MaxQueueBytes;
// ErrQueueFull when the queue (queued plus being written) would exceed MaxQueueBytes or
// MaxQueuePackages: with OverflowDrop the packages are dropped and counted, with OverflowKick the
// connection is closed (CloseOverflow).
//
// Safe for concurrent use.
func (c *Conn) Enqueue(pkts []byte) error {
	n, err := countPackages(pkts)
	if err != nil {
		return err
	}
	c.mu.Lock()
	err = c.enqueueLocked(pkts, n, false)
	c.mu.Unlock()
	if err == errOverflowKick {
		c.srv.stats.OverflowKicks.Add(1)
		c.srv.log.Debug("hybrid: outbound queue full, closing slow consumer", "id", c.id)
		c.closeWith(CloseOverflow)
		return ErrQueueFull
	}
	return err
}

// QueueDepth returns what waits in the outbound queue: bytes and packages queued plus those being
// written, the amounts MaxQueueBytes and MaxQueuePackages bound. Safe for concurrent use.
func (c *Conn) QueueDepth() (bytes, packages int) {
	c.mu.Lock()
	bytes, packages = c.queuedLocked()
	c.mu.Unlock()
	return bytes, packages
}

// queuedLocked returns the bytes and packages queued plus those being written.
// Lock should be held.
func (c *Conn) queuedLocked() (bytes, packages int) {
	o := &c.out
	bytes, packages = int(o.inflight), int(o.pkts+o.inflightPkts)
	if o.buf != nil {
		bytes += len(o.buf) - int(c.headroom)
	}
	return bytes, packages
}

// Send is Enqueue followed by Flush. Safe for concurrent use.
func (c *Conn) Send(pkts []byte) error {
	if err := c.Enqueue(pkts); err != nil {
		return err
	}
	return c.Flush()
}

// enqueueLocked appends n packages. force skips the WORKING check and the limits: it is for the
// transport's own handshake response and kick.
// Lock should be held.
func (c *Conn) enqueueLocked(p []byte, n int, force bool) error {
	o := &c.out
	if c.isClosing() || o.closeAfter != 0 {
		return ErrConnClosed
	}
	if !force {
		if c.state.Load() != stateWorking {
			c.srv.stats.OutboundNotWorking.Add(uint64(n))
			return ErrNotWorking
		}
		set := &c.srv.set
		if len(p) > set.maxQueueBytes {
			return ErrPacketTooBig
		}
		queued, queuedPkts := c.queuedLocked()
		if queued+len(p) > set.maxQueueBytes || queuedPkts+n > set.maxQueuePackages {
			if set.overflow == OverflowDrop {
				c.srv.stats.OutboundDropped.Add(uint64(n))
				return ErrQueueFull
			}
			return errOverflowKick
		}
	}
	c.appendLocked(p)
	o.pkts += int32(n)
	return nil
}

// appendLocked copies p to the end of the queue, moving to a larger pooled buffer when needed.
// Lock should be held.
func (c *Conn) appendLocked(p []byte) {
	o := &c.out
	pools := &c.srv.bufs
	if o.buf == nil {
		o.buf = pools.get(int(c.headroom) + len(p))[:c.headroom]
	} else if cap(o.buf)-len(o.buf) < len(p) {
		n := len(o.buf) + len(p)
		if n > outClass4 {
			n = max(n, 2*cap(o.buf)) // past the pooled classes: grow geometrically
		}
		nb := append(pools.get(n), o.buf...)
		pools.put(o.buf)
		o.buf = nb
	}
	o.buf = append(o.buf, p...)
}

// queueCtrlLocked appends raw bytes written before the queued packages' frame by the next flush
// (HTTP responses, WebSocket pongs: answered promptly, ahead of data).
// Lock should be held.
func (c *Conn) queueCtrlLocked(b []byte) {
	c.out.ctrl = append(c.out.ctrl, b...)
}

// queueCloseFrameLocked asks for a WebSocket Close frame with code after everything queued. Only
// the first one counts.
// Lock should be held.
func (c *Conn) queueCloseFrameLocked(code ws.StatusCode) {
	if c.out.closeCode == 0 {
		c.out.closeCode = code
	}
}

// emptyLocked reports whether nothing waits to be written.
// Lock should be held.
func (c *Conn) emptyLocked() bool {
	return c.out.buf == nil && len(c.out.ctrl) == 0 && c.out.closeCode == 0
}

// Flush writes everything queued, and never blocks on a slow client: the first caller to find no
// flush in progress becomes the flusher (see outQueue) and writes the queue straight to the
// socket with one non-blocking writev per loop; what the socket does not take at once is copied
// aside and written by a goroutine as the socket makes room (drain), which then goes on
// flushing. If another goroutine is flushing, Flush returns nil at once: that flusher writes
// what this caller queued. A TLS connection is flushed by a goroutine (crypto/tls writes block).
// A write error, or a drain that waits longer than WriteTimeout, closes the connection; Flush
// returns the error when it happens during the call.
//
// Safe for concurrent use, and on a poller (dispatch.go).
func (c *Conn) Flush() error {
	c.mu.Lock()
	o := &c.out
	if o.flushing || (c.emptyLocked() && o.closeAfter == 0) {
		c.mu.Unlock()
		return nil
	}
	o.flushing = true
	if o.tls != nil {
		c.mu.Unlock()
		go c.flushTLS()
		return nil
	}
	return c.flushLocked()
}

// flushTLS is the flusher of a TLS connection, on its own goroutine.
func (c *Conn) flushTLS() {
	c.mu.Lock()
	c.flushLocked()
}

// flushLocked is the flusher's loop. It is entered with c.mu held and out.flushing set by the
// caller, and returns with c.mu released, out.flushing cleared unless a drain took over.
// Lock should be held.
func (c *Conn) flushLocked() error {
	o := &c.out
	for !c.emptyLocked() && !c.isClosing() {
		buf, pkts, ctrl, code := o.buf, o.pkts, o.ctrl, o.closeCode
		o.buf, o.pkts, o.ctrl, o.closeCode = nil, 0, nil, 0
		if buf != nil {
			o.inflight, o.inflightPkts = int32(len(buf)-int(c.headroom)), pkts
		}
		tc, deflate := o.tls, o.deflate
		c.mu.Unlock()
		var cf []byte
		if code != 0 {
			cf = ws.AppendCloseFrame(nil, code, "") // once per connection at most
		}
		n, rest, err := c.write(tc, ctrl, buf, cf, deflate)
		if buf != nil {
			c.srv.bufs.put(buf) // written, or what is left copied to rest
		}
		c.mu.Lock()
		if err != nil {
			o.inflight, o.inflightPkts, o.flushing = 0, 0, false
			c.mu.Unlock()
			c.writeFailed(err)
			return err
		}
		if len(rest) > 0 {
			o.inflight = int32(len(rest))
			c.mu.Unlock()
			c.srv.stats.WritesLeft.Add(1)
			go c.drain(pkts, n+len(rest), rest)
			return nil
		}
		o.inflight, o.inflightPkts = 0, 0
		c.wrote(pkts, n)
	}
	o.flushing = false
	closeAfter := o.closeAfter
	c.mu.Unlock()
	if closeAfter != 0 {
		c.closeWith(CloseReason(closeAfter - 1))
	}
	return nil
}

// wrote counts a completed write.
func (c *Conn) wrote(pkts int32, n int) {
	c.srv.stats.PackagesOut.Add(uint64(pkts))
	c.srv.stats.BytesOut.Add(uint64(n))
	c.touchWrite()
}

// drain is the flusher while the socket is full: it writes rest (a pooled copy of what the socket
// did not take) as room appears, within WriteTimeout, then goes on flushing.
func (c *Conn) drain(pkts int32, n int, rest []byte) {
	err := c.writeAll(rest)
	c.srv.bufs.put(rest)
	c.mu.Lock()
	o := &c.out
	o.inflight, o.inflightPkts = 0, 0
	if err != nil {
		o.flushing = false
		c.mu.Unlock()
		c.writeFailed(err)
		return
	}
	c.wrote(pkts, n)
	c.flushLocked()
}

// errWriteTimeout: the socket had no room for WriteTimeout.
var errWriteTimeout = errors.New("hybrid: write timed out")

// writeAll writes p to the socket, waiting for room (the poller's output events) at most
// WriteTimeout in all. Only the flusher (drain, or a TLS connection's writer) calls it.
func (c *Conn) writeAll(p []byte) error {
	var timer *time.Timer
	w := c.waiter() // before the first write: room that appears after it wakes us
	for len(p) > 0 {
		if c.isClosing() {
			return ErrConnClosed
		}
		iov := [1]syscall.Iovec{{Base: &p[0]}}
		iov[0].SetLen(len(p))
		n, err := c.writeFD(iov[:])
		if err != nil {
			return err
		}
		p = p[n:]
		if n > 0 || len(p) == 0 {
			continue
		}
		if timer == nil {
			timer = time.NewTimer(c.srv.set.writeTimeout)
			defer timer.Stop()
		}
		select {
		case <-w.w:
		case <-timer.C:
			return errWriteTimeout
		}
	}
	return nil
}

// write writes ctrl, then buf (on a WebSocket, each package framed as a binary message of its own,
// compressed when deflate is on and it is large enough), then cf, and returns the bytes written
// and a pooled copy of what the socket did not take, for drain. Only the flusher calls it.
func (c *Conn) write(tc *tls.Conn, ctrl, buf, cf []byte, deflate bool) (n int, rest []byte, err error) {
	var data []byte
	if hr := int(c.headroom); len(buf) > hr {
		data = buf[hr:]
		if hr > 0 && !onePackage(data) {
			framed := c.frameEach(data, deflate)
			defer c.srv.bufs.put(framed)
			data = framed
		} else if hr > 0 {
			var z *bytebufferpool.ByteBuffer
			if deflate && len(data) >= c.srv.set.wsDeflateMin {
				z = c.compress(data)
			}
			if z != nil {
				defer deflateBufs.Put(z)
				data = z.B
			} else {
				hl := ws.HeaderSize(len(data), false)
				at := hr - hl
				ws.AppendFrameHeader(buf[at:at], true, ws.OpBinary, len(data), nil)
				data = buf[at:]
			}
		}
	}
	parts := [3][]byte{ctrl, data, cf}
	switch {
	case tc != nil:
		for _, p := range parts {
			if len(p) > 0 {
				if _, err := tc.Write(p); err != nil {
					return 0, nil, err
				}
				n += len(p)
			}
		}
		return n, nil, nil
	case c.fd >= 0:
		return c.sockWrite(&parts)
	}
	for _, p := range parts { // tests: a stand-in socket
		if len(p) > 0 {
			if _, err := c.nc.Write(p); err != nil {
				return 0, nil, err
			}
			n += len(p)
		}
	}
	return n, nil, nil
}

// onePackage reports whether the whole packages in data are just one.
func onePackage(data []byte) bool {
	_, size, err := codec.ParseHeader(data)
	return err != nil || codec.HeaderSize+size >= len(data)
}

// frameEach frames each of the whole packages in data as a WebSocket message of its own
// (compressed as write would compress it alone), into a pooled buffer the caller puts back. The
// official pomelo browser client (the one bundled in pomelo's template, build.js) decodes only the
// first package of a message and silently drops the rest, so packages flushed together must not
// share a message: they still share the write.
func (c *Conn) frameEach(data []byte, deflate bool) []byte {
	n := 0
	for p := data; len(p) > 0; n++ {
		_, size, _ := codec.ParseHeader(p) // whole packages: checked when queued
		p = p[min(codec.HeaderSize+size, len(p)):]
	}
	out := c.srv.bufs.get(len(data) + n*wsHeadroom)
	for len(data) > 0 {
		_, size, _ := codec.ParseHeader(data)
		p := data[:min(codec.HeaderSize+size, len(data))]
		data = data[len(p):]
		if deflate && len(p) >= c.srv.set.wsDeflateMin {
			if z := c.compress(p); z != nil {
				out = append(out, z.B...)
				deflateBufs.Put(z)
				continue
			}
		}
		out = ws.AppendFrameHeader(out, true, ws.OpBinary, len(p), nil)
		out = append(out, p...)
	}
	return out
}

// deflateBufs holds the compressed frames of WebSocket connections, while they are written.
var deflateBufs bytebufferpool.Pool

// compress returns data compressed as one binary frame (header included) in a buffer of
// deflateBufs, or nil when it does not shrink.
func (c *Conn) compress(data []byte) *bytebufferpool.ByteBuffer {
	z := deflateBufs.Get()
	z.B = append(z.B[:0], make([]byte, wsHeadroom)...)
	out, err := ws.Deflate(z.B, data)
	z.B = out
	size := len(out) - wsHeadroom
	if err != nil || size >= len(data) {
		deflateBufs.Put(z)
		return nil
	}
	hl := ws.HeaderSize(size, false)
	at := wsHeadroom - hl
	ws.AppendCompressedFrameHeader(out[at:at], true, ws.OpBinary, size, nil)
	z.B = out[at:]
	c.srv.stats.WSDeflated.Add(1)
	c.srv.stats.WSDeflateSaved.Add(uint64(len(data) - size))
	return z
}

// writeFD makes one non-blocking writev of iov on the socket (0 when it is full), unless the
// socket is closed or closing (ErrConnClosed).
func (c *Conn) writeFD(iov []syscall.Iovec) (int, error) {
	if !c.useFD() {
		return 0, ErrConnClosed
	}
	defer c.doneFD()
	return rawio.Writev(int(c.fd), iov)
}

// sockWrite writes parts to the socket with one non-blocking writev and returns the bytes written
// and a pooled copy of what the socket did not take. Only the flusher calls it.
func (c *Conn) sockWrite(parts *[3][]byte) (n int, rest []byte, err error) {
	var iov [3]syscall.Iovec
	cnt, total := 0, 0
	for _, p := range parts {
		if len(p) > 0 {
			iov[cnt].Base = &p[0]
			iov[cnt].SetLen(len(p))
			cnt++
			total += len(p)
		}
	}
	if cnt == 0 {
		return 0, nil, nil
	}
	n, err = c.writeFD(iov[:cnt])
	if err != nil {
		return 0, nil, err
	}
	if n == total {
		return n, nil, nil
	}
	rest = c.srv.bufs.get(total - n)
	skip := n
	for _, p := range parts {
		if skip >= len(p) {
			skip -= len(p)
			continue
		}
		rest = append(rest, p[skip:]...)
		skip = 0
	}
	return n, rest, nil
}

// writeFailed counts and logs a failed flush and closes the connection.
func (c *Conn) writeFailed(err error) {
	if c.isClosing() {
		return // the close made the write fail
	}
	if errors.Is(err, errWriteTimeout) || errors.Is(err, os.ErrDeadlineExceeded) {
		c.srv.stats.WriteTimeouts.Add(1)
	} else {
		c.srv.stats.WriteErrors.Add(1)
	}
	c.srv.log.Debug("hybrid: write failed", "id", c.id, "err", err)
	c.closeWith(CloseByPeer)
}

// closeAfterFlush makes the connection close with reason once everything queued so far, then a
// WebSocket Close frame with code if not 0, has been written. Nothing can be queued after it.
func (c *Conn) closeAfterFlush(reason CloseReason, code ws.StatusCode) {
	c.mu.Lock()
	if c.out.closeAfter == 0 {
		c.out.closeAfter = uint8(reason) + 1
		if code != 0 {
			c.queueCloseFrameLocked(code)
		}
	}
	c.mu.Unlock()
	c.Flush()
}

// releaseOutLocked returns the queue's buffer to the pool at close. A buffer held by a running
// flusher is not in the queue: the flusher disposes of it.
// Lock should be held.
func (c *Conn) releaseOutLocked() {
	if c.out.buf != nil {
		c.srv.bufs.put(c.out.buf)
		c.out.buf = nil
	}
	c.out.ctrl, c.out.closeCode = nil, 0
	c.out.pkts = 0
}

// Kick sends a KICK package {"reason":"..."} and closes the connection once it has been written
// (Handler.Closed receives CloseKicked). As in pomelo, the package is only delivered when the
// connection is WORKING; otherwise Kick just closes. On a WebSocket a Close frame (1000) follows.
// Safe for concurrent use; it returns once the kick is flushed or handed to the running flusher.
func (c *Conn) Kick(reason string) {
	if c.state.Load() != stateWorking {
		c.closeWith(CloseKicked)
		return
	}
	var stack [128]byte
	pkt, at := codec.BeginPacket(stack[:0], codec.TypeKick)
	pkt = appendKickBody(pkt, reason)
	if codec.EndPacket(pkt, at) != nil {
		c.closeWith(CloseKicked)
		return
	}
	c.mu.Lock()
	if err := c.enqueueLocked(pkt, 1, true); err != nil {
		c.mu.Unlock()
		c.closeWith(CloseKicked)
		return
	}
	if c.headroom > 0 {
		c.queueCloseFrameLocked(ws.StatusNormalClosure)
	}
	c.out.closeAfter = uint8(CloseKicked) + 1
	c.mu.Unlock()
	c.srv.stats.Kicks.Add(1)
	c.Flush()
}
