package rpc

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// connState is a client connection's state. It only moves forward:
//
//	connecting ──up──> up ──fail──> closed
//	     └──────────────fail──────────^
//
// While connecting, calls are queued (pending table and outbound buffer, bounded by MaxPending)
// and nothing is written; up flushes them behind the HELLO. fail fails every pending call with
// the connection's error, at once.
type connState uint8

const (
	stateConnecting connState = iota
	stateUp
	stateClosed
)

// Read buffer sizes of a client connection: it grows when reads fill it and shrinks back after
// shortsToShrink reads that used less than a quarter of it.
const (
	minReadBuffer  = 4 << 10
	maxReadBuffer  = 64 << 10
	shortsToShrink = 16
)

// ErrOutboundFull fails a call or notification when MaxOutbound bytes are already waiting to be
// written.
var ErrOutboundFull = &Error{Code: CodeSend, Message: "rpc: fail to send: outbound queue full"}

// Errors of the connection protocol as the client sees it.
var (
	ErrUnexpectedFrame = errors.New("rpc: unexpected frame kind")
	ErrVersion         = errors.New("rpc: peer speaks another protocol version")
)

// clientConn is one connection attempt of a Client and, if it succeeds, the connection.
type clientConn struct {
	c        *Client
	mu       sync.Mutex
	state    connState        // mu
	err      *Error           // mu: why it closed (set with stateClosed)
	pending  map[uint32]*call // mu: calls waiting for a reply; nil once closed
	nextID   uint32           // mu
	declared []uint64         // mu: bit per method id already DECLAREd on this connection
	queued   int              // mu: notifications queued while connecting
	out      outq             // mu
	nc       net.Conn         // set under mu before stateUp; read-only after
	dead     chan struct{}    // closed by fail, exactly once
	reader   chan struct{}    // closed by readLoop when it returns (never, if the dial failed)
	reads    atomic.Uint64    // reads that returned data, for the keepalive
	hello    atomic.Bool      // the server's HELLO arrived (written by readLoop)
}

func newClientConn(c *Client) *clientConn {
	cc := &clientConn{c: c, pending: make(map[uint32]*call), dead: make(chan struct{}),
		reader: make(chan struct{})}
	cc.out.interval = c.cfg.BufferInterval
	cc.out.onTimer = cc.onTimer
	cc.out.holds = 1 // released by up
	cc.out.buf, _ = AppendHello(nil, c.cfg.Name)
	return cc
}

// usableLocked returns why no call can be queued now, or nil. Lock should be held.
func (cc *clientConn) usableLocked() *Error {
	if cc.state == stateClosed {
		return cc.err
	}
	return nil
}

// call queues a CALL frame for cl and enters cl in the pending table. Its frame goes out with the
// next write (at once on an idle connection, behind the HELLO once a connecting one is up).
func (cc *clientConn) call(cl *call, args Appender) (uint32, *Error) {
	cc.mu.Lock()
	if err := cc.usableLocked(); err != nil {
		cc.mu.Unlock()
		return 0, err
	}
	id := cc.newIDLocked()
	if err := cc.appendLocked(KindCall, id, cl.method, args); err != nil {
		cc.mu.Unlock()
		return 0, err
	}
	cl.conn.Store(cc)
	cl.id.Store(id)
	cc.pending[id] = cl
	cl.arm()
	flush := cc.out.startLocked()
	cc.mu.Unlock()
	if flush {
		cc.flush()
	}
	return id, nil
}

// notify queues a NOTIFY frame.
func (cc *clientConn) notify(m Method, args Appender) *Error {
	if m.t != cc.c.cfg.Methods {
		return wrapError(CodeNoMethod, "rpc: bad method handle", ErrForeignMethod)
	}
	cc.mu.Lock()
	err := cc.usableLocked()
	connecting := cc.state == stateConnecting
	if err == nil && connecting && cc.queued >= cc.c.cfg.MaxPending {
		err = ErrPendingLimit
	}
	if err == nil {
		err = cc.appendLocked(KindNotify, 0, m, args)
	}
	if err == nil && connecting {
		cc.queued++
	}
	flush := err == nil && cc.out.startLocked()
	cc.mu.Unlock()
	if flush {
		cc.flush()
	}
	return err
}

// newIDLocked returns the next request id: never 0, never one still pending. Lock should be held.
func (cc *clientConn) newIDLocked() uint32 {
	for {
		cc.nextID++
		if _, busy := cc.pending[cc.nextID]; cc.nextID != 0 && !busy {
			return cc.nextID
		}
	}
}

// appendLocked appends a CALL or NOTIFY frame, preceded by a DECLARE the first time m is used
// on this connection. On error nothing of the frame stays queued. Lock should be held.
func (cc *clientConn) appendLocked(k Kind, id uint32, m Method, args Appender) *Error {
	if len(cc.out.buf) >= cc.c.cfg.MaxOutbound {
		return ErrOutboundFull
	}
	if err := cc.declareLocked(m); err != nil {
		return err
	}
	q := &cc.out
	start := len(q.buf)
	var b []byte
	if k == KindCall {
		b = AppendCallHeader(q.buf, id, m.id)
	} else {
		b = AppendNotifyHeader(q.buf, m.id)
	}
	if args != nil {
		var err error
		if b, err = args.AppendRPC(b); err != nil {
			return wrapError(CodeCodec, "rpc: encoding arguments of "+m.Name().String(), err)
		}
	}
	b, err := EndFrame(b, start, cc.c.cfg.MaxFrame)
	q.buf = b
	if err != nil {
		return wrapError(CodeCodec, "rpc: arguments of "+m.Name().String(), err)
	}
	return nil
}

// declareLocked queues a DECLARE for m unless this connection already sent one. Lock should be
// held.
func (cc *clientConn) declareLocked(m Method) *Error {
	word, bit := int(m.id/64), uint64(1)<<(m.id%64)
	if word < len(cc.declared) && cc.declared[word]&bit != 0 {
		return nil
	}
	b, err := AppendDeclare(cc.out.buf, m.id, m.Name())
	if err != nil {
		return wrapError(CodeCodec, "rpc: declare", err)
	}
	cc.out.buf = b
	for len(cc.declared) <= word {
		cc.declared = append(cc.declared, 0)
	}
	cc.declared[word] |= bit
	return nil
}

// take removes id from the pending table if it still maps to want (or to anything, if want is
// nil) and reports whether it did; the caller then owns the call.
func (cc *clientConn) take(id uint32, want *call) bool {
	cc.mu.Lock()
	cl, ok := cc.pending[id]
	ok = ok && (want == nil || cl == want)
	if ok {
		delete(cc.pending, id)
	}
	cc.mu.Unlock()
	return ok
}

// takeCall is take for the reader: it returns the call of id, or nil if it is no longer pending.
func (cc *clientConn) takeCall(id uint32) *call {
	cc.mu.Lock()
	cl := cc.pending[id]
	if cl != nil {
		delete(cc.pending, id)
	}
	cc.mu.Unlock()
	return cl
}

// abort finishes call id with err if it is still pending (Call's context was canceled).
func (cc *clientConn) abort(id uint32, err *Error) {
	if cl := cc.takeCall(id); cl != nil {
		cc.c.finish(cl, err, false)
	}
}

// up makes a connecting connection use nc: it starts the reader and flushes what was queued.
// It reports false (and closes nc) if the connection was closed meanwhile.
func (cc *clientConn) up(nc net.Conn) bool {
	cc.mu.Lock()
	if cc.state != stateConnecting {
		cc.mu.Unlock()
		nc.Close()
		return false
	}
	cc.nc, cc.state, cc.queued = nc, stateUp, 0
	cc.out.holds--
	flush := cc.out.startLocked()
	cc.mu.Unlock()
	cc.c.wg.Add(1)
	go cc.readLoop()
	if flush {
		cc.flush()
	}
	return true
}

// onTimer is the buffered-mode flush.
func (cc *clientConn) onTimer() {
	cc.mu.Lock()
	flush := cc.out.timerFlushLocked()
	cc.mu.Unlock()
	if flush {
		cc.flush()
	}
}

// flush writes the outbound queue; a write error closes the connection.
func (cc *clientConn) flush() {
	if err := cc.out.flush(&cc.mu, cc.write); err != nil {
		cc.fail(cc.lost("write", err))
	}
}

// write is the flusher's write: one Write of every frame queued.
func (cc *clientConn) write(b []byte) error {
	if t := cc.c.cfg.WriteTimeout; t > 0 {
		if err := cc.nc.SetWriteDeadline(time.Now().Add(t)); err != nil {
			return err
		}
	}
	cc.c.writes.Add(1)
	_, err := cc.nc.Write(b)
	return err
}

// ping queues a PING.
func (cc *clientConn) ping() {
	cc.mu.Lock()
	if cc.state == stateUp {
		cc.out.buf = AppendPing(cc.out.buf, KindPing, cc.reads.Load())
	}
	flush := cc.out.startLocked()
	cc.mu.Unlock()
	if flush {
		cc.flush()
	}
}

func (cc *clientConn) lost(op string, err error) *Error {
	return wrapError(CodeConnLost, "rpc: connection to "+cc.c.cfg.ServerID+" lost ("+op+")", err)
}

// fail closes the connection with err: it fails every pending call with err, closes the socket
// and dead. After a connection that was up, it first installs a connecting successor (unless the
// client is closing), so that calls arriving from now on queue for the reconnection instead of
// failing. Only the first call does anything.
func (cc *clientConn) fail(err *Error) {
	cc.mu.Lock()
	if cc.state == stateClosed {
		cc.mu.Unlock()
		return
	}
	wasUp := cc.state == stateUp
	cc.state, cc.err = stateClosed, err
	pending := cc.pending
	cc.pending = nil
	cc.out.closeLocked()
	cc.mu.Unlock()
	if wasUp && cc.c.ctx.Err() == nil {
		cc.c.cur.CompareAndSwap(cc, newClientConn(cc.c))
	}
	close(cc.dead)
	if cc.nc != nil {
		cc.nc.Close()
	}
	for _, cl := range pending {
		cc.c.finish(cl, err, false)
	}
	if err != ErrNotStarted {
		cc.c.hooks.report(err)
	}
}

// readLoop reads frames until the connection fails.
func (cc *clientConn) readLoop() {
	defer cc.c.wg.Done()
	defer close(cc.reader)
	var dec FrameDecoder
	dec.SetMaxFrame(cc.c.cfg.MaxFrame)
	buf, shorts := make([]byte, minReadBuffer), 0
	for {
		n, err := cc.nc.Read(buf)
		if n > 0 {
			cc.reads.Add(1)
			dec.Feed(buf[:n])
			if perr := cc.drain(&dec); perr != nil {
				cc.fail(wrapError(CodeProtocol, "rpc: protocol error from "+cc.c.cfg.ServerID, perr))
				return
			}
			buf, shorts = resize(buf, n, shorts)
		}
		if err != nil {
			cc.fail(cc.lost("read", err))
			return
		}
	}
}

// resize grows buf when a read filled it and shrinks it after shortsToShrink short reads.
func resize(buf []byte, n, shorts int) ([]byte, int) {
	switch {
	case n == len(buf) && len(buf) < maxReadBuffer:
		return make([]byte, 2*len(buf)), 0
	case n >= len(buf)/4 || len(buf) == minReadBuffer:
		return buf, 0
	case shorts+1 >= shortsToShrink:
		return make([]byte, len(buf)/2), 0
	}
	return buf, shorts + 1
}

// drain handles every whole frame fed so far.
func (cc *clientConn) drain(dec *FrameDecoder) error {
	for {
		f, err := dec.Next()
		if err == ErrNeedMore {
			return nil
		}
		if err != nil {
			return err
		}
		if err := cc.handle(&f); err != nil {
			return err
		}
	}
}

// handle acts on one frame from the server.
func (cc *clientConn) handle(f *Frame) error {
	if f.Kind == KindHello || !cc.hello.Load() {
		return cc.handleHello(f)
	}
	switch f.Kind {
	case KindReply:
		if cl := cc.takeCall(f.ID); cl != nil {
			cc.c.finish(cl, cc.decodeResult(cl, f.Payload), false)
		}
	case KindError:
		if cl := cc.takeCall(f.ID); cl != nil {
			cc.c.finish(cl, &Error{Code: int(f.Code), Message: string(f.Payload)}, false)
		}
	case KindPong:
	default:
		return ErrUnexpectedFrame
	}
	return nil
}

// handleHello accepts the server's HELLO as the first frame, and nothing else there.
func (cc *clientConn) handleHello(f *Frame) error {
	if f.Kind != KindHello || cc.hello.Load() {
		return ErrUnexpectedFrame
	}
	if v, _, err := ParseHello(f.Payload); err != nil || v != ProtocolVersion {
		return errors.Join(ErrVersion, err)
	}
	cc.hello.Store(true)
	return nil
}

// decodeResult decodes a reply payload into the call's result.
func (cc *clientConn) decodeResult(cl *call, p []byte) error {
	if cl.result == nil {
		return nil
	}
	if err := cl.result.DecodeRPC(p); err != nil {
		return wrapError(CodeCodec, "rpc: decoding result of "+cl.method.Name().String(), err)
	}
	return nil
}

// run is the client's connection manager: it dials, watches the connection while it is up, and
// after a failure dials again, waiting with exponential backoff after failed attempts. It owns
// the installation of new connections after failed dials; fail installs the successor of a
// connection that was up.
func (c *Client) run(cc *clientConn) {
	defer c.wg.Done()
	defer func() { c.cur.Load().fail(ErrNotStarted) }()
	backoff := time.Duration(0)
	for c.ctx.Err() == nil {
		if !c.connect(cc) {
			backoff = nextBackoff(backoff, c.cfg.MinBackoff, c.cfg.MaxBackoff)
			if !c.sleep(backoff) {
				return
			}
			cc = newClientConn(c)
			c.cur.Store(cc)
			continue
		}
		c.watch(cc)
		<-cc.reader
		if cc.hello.Load() {
			backoff = 0
		} else if backoff = nextBackoff(backoff, c.cfg.MinBackoff, c.cfg.MaxBackoff); !c.sleep(backoff) {
			return
		}
		cc = c.cur.Load()
	}
}

// connect dials for cc and makes it up; on failure it fails cc with a CodeConnect error.
func (c *Client) connect(cc *clientConn) bool {
	c.dials.Add(1)
	d := net.Dialer{Timeout: c.cfg.DialTimeout}
	nc, err := d.DialContext(c.ctx, "tcp", c.addr)
	if err != nil && c.ctx.Err() != nil {
		cc.fail(ErrNotStarted)
		return false
	}
	if err != nil {
		cc.fail(wrapError(CodeConnect, "rpc: fail to connect to "+c.cfg.ServerID+" at "+c.addr, err))
		return false
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true) // Go's default already; never Nagle
	}
	return cc.up(nc)
}

// watch waits until cc fails or the client closes, sending PINGs on an idle connection and
// failing one that stays silent for two keepalive periods.
func (c *Client) watch(cc *clientConn) {
	var tick <-chan time.Time
	if c.cfg.Keepalive > 0 {
		t := time.NewTicker(c.cfg.Keepalive)
		defer t.Stop()
		tick = t.C
	}
	last, idle := cc.reads.Load(), 0
	for {
		select {
		case <-cc.dead:
			return
		case <-c.ctx.Done():
			cc.fail(ErrNotStarted)
			return
		case <-tick:
		}
		if r := cc.reads.Load(); r != last {
			last, idle = r, 0
			continue
		}
		if idle++; idle >= 2 {
			cc.fail(cc.lost("keepalive: no data for "+strconv.Itoa(idle)+" periods", nil))
			return
		}
		cc.ping()
	}
}

// sleep waits d or until the client closes; it reports whether the client is still open.
func (c *Client) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

func nextBackoff(cur, lo, hi time.Duration) time.Duration {
	if cur == 0 {
		return lo
	}
	return min(2*cur, hi)
}
