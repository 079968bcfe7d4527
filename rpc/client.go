package rpc

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Client defaults (pomelo-rpc's where it has one).
const (
	DefaultTimeout      = 30 * time.Second // pomelo's callback timeout
	DefaultMaxPending   = 10000            // pomelo-rpc 1.0.7's pendingSize
	DefaultDialTimeout  = 2 * time.Second  // pomelo's connect timeout
	DefaultMinBackoff   = 50 * time.Millisecond
	DefaultMaxBackoff   = 5 * time.Second
	DefaultKeepalive    = 10 * time.Second // pomelo's MQTT keepalive
	DefaultWriteTimeout = 10 * time.Second
	DefaultMaxOutbound  = 16 << 20 // bytes queued for writing
)

// ErrConfig reports an invalid ClientConfig or ServerConfig field.
var ErrConfig = errors.New("rpc: invalid config")

// ClientConfig configures a Client (a mailbox: the connection to one remote server). The zero
// value is valid: every zero field takes the default named in its comment.
type ClientConfig struct {
	// Name is this server's id, announced to the remote server in HELLO (CallInfo.Peer there).
	Name string
	// ServerID is the remote server's id, for filters (CallInfo.Peer) and error messages.
	ServerID string
	// Timeout bounds each call: 0 means DefaultTimeout, < 0 no timeout. A context deadline that
	// comes sooner wins.
	Timeout time.Duration
	// MaxPending bounds the calls in flight (sent or queued while connecting); a call beyond it
	// fails at once with ErrPendingLimit. 0 means DefaultMaxPending.
	MaxPending int
	// DialTimeout bounds one connection attempt; 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between failed connection attempts, which doubles
	// from one to the other; 0 means DefaultMinBackoff, DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Keepalive is the idle time after which the client sends a PING; a connection that stays
	// silent for two of these is closed. 0 means DefaultKeepalive, < 0 disables pings.
	Keepalive time.Duration
	// WriteTimeout bounds one write; 0 means DefaultWriteTimeout, < 0 none.
	WriteTimeout time.Duration
	// BufferInterval > 0 turns on pomelo's bufferMsg mode: frames are written at most once per
	// interval (pomelo's default interval is 30 ms). 0 writes at once, coalescing whatever is
	// queued when a write starts.
	BufferInterval time.Duration
	// MaxFrame is the largest frame (length field value) sent or accepted; 0 means
	// DefaultMaxFrame. Give client and server the same value.
	MaxFrame int
	// MaxOutbound bounds the bytes queued and not yet written (a server that stops reading
	// makes them pile up); a call or notification that finds more fails at once with CodeSend.
	// 0 means DefaultMaxOutbound.
	MaxOutbound int
	// Methods is the method table handles come from; nil gives the client its own
	// (see Client.Methods). A Station shares one table among its clients.
	Methods *Methods
}

// Validate checks the fields that have a valid range.
func (c *ClientConfig) Validate() error {
	switch {
	case len(c.Name) > MaxNameLen:
		return errors.Join(ErrConfig, ErrNameTooLong)
	case c.MaxPending < 0, c.DialTimeout < 0, c.MinBackoff < 0, c.MaxBackoff < 0,
		c.BufferInterval < 0, c.MaxFrame < 0, c.MaxFrame > MaxFrameLimit, c.MaxOutbound < 0:
		return ErrConfig
	case c.MaxBackoff > 0 && c.MinBackoff > c.MaxBackoff:
		return ErrConfig
	}
	return nil
}

// withDefaults returns c with every zero field replaced by its default.
func (c ClientConfig) withDefaults() ClientConfig {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Timeout, DefaultTimeout)
	def(&c.DialTimeout, DefaultDialTimeout)
	def(&c.MinBackoff, DefaultMinBackoff)
	def(&c.MaxBackoff, max(DefaultMaxBackoff, c.MinBackoff))
	def(&c.Keepalive, DefaultKeepalive)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.MaxFrame == 0 {
		c.MaxFrame = DefaultMaxFrame
	}
	if c.MaxOutbound == 0 {
		c.MaxOutbound = DefaultMaxOutbound
	}
	if c.Methods == nil {
		c.Methods = NewMethods()
	}
	return c
}

// Client is a mailbox: one multiplexed, pipelined connection to one remote server, reconnected
// with exponential backoff when it drops. Calls get request ids and wait for their own reply, in
// any order; everything queued when a write starts goes out in that one write.
//
// All methods are safe for concurrent use.
type Client struct {
	noCopy noCopy
	addr   string
	cfg    ClientConfig // read-only after NewClient; defaults applied
	hooks  hooks        // read-only after NewClient
	ctx    context.Context
	cancel context.CancelFunc // Close cancels ctx: the one "closed" signal
	// cur is the connection calls go to. Stored by NewClient, by run after a failed dial, and by
	// the fail of a connection that was up (its successor); read by every call.
	cur     atomic.Pointer[clientConn]
	pending atomic.Int64   // calls started and not finished, across connections
	writes  atomic.Uint64  // counter, written by flushers
	dials   atomic.Uint64  // counter, written by run
	calls   sync.Pool      // *call, recycled by finish when no timer can still run
	waiters sync.Pool      // *waiter, recycled by Call
	wg      sync.WaitGroup // run and the readers; Close waits for them
}

// ClientStats are counters of a Client.
type ClientStats struct {
	Pending int64  // calls in flight now
	Writes  uint64 // socket writes (each may carry many frames)
	Dials   uint64 // connection attempts
}

// NewClient returns a Client for the server at addr ("host:port") and starts connecting. Calls
// made before the connection is up are queued (up to MaxPending) and sent when it is.
func NewClient(addr string, cfg ClientConfig, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{addr: addr, cfg: cfg.withDefaults(), hooks: newHooks(opts)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.calls.New = func() any { return new(call) }
	c.waiters.New = func() any { return newWaiter() }
	cc := newClientConn(c)
	c.cur.Store(cc)
	c.wg.Add(1)
	go c.run(cc)
	return c, nil
}

// Methods returns the client's method table.
func (c *Client) Methods() *Methods { return c.cfg.Methods }

// Method returns the handle of namespace.service.method in the client's table.
func (c *Client) Method(namespace, service, method string) (Method, error) {
	return c.cfg.Methods.Method(MethodName{namespace, service, method})
}

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats {
	return ClientStats{Pending: c.pending.Load(), Writes: c.writes.Load(), Dials: c.dials.Load()}
}

// Close stops the client: pending and queued calls fail with ErrNotStarted, later calls fail at
// once, and Close returns when its goroutines have exited. It is idempotent.
func (c *Client) Close() error {
	c.cancel()
	c.cur.Load().fail(ErrNotStarted)
	c.wg.Wait()
	return nil
}

// Call calls m with args and decodes the reply into result (either may be nil: no arguments,
// result ignored). It returns nil or an *Error. Canceling ctx abandons the call (CodeCanceled);
// a ctx deadline sooner than the configured timeout shortens it (CodeTimeout). result is written by the
// connection's reader before Call returns, and not after.
func (c *Client) Call(ctx context.Context, m Method, args Appender, result Decoder) error {
	w := c.waiters.Get().(*waiter)
	cc, id, err := c.start(ctx, m, args, result, w.fn)
	if err != nil {
		c.waiters.Put(w)
		return err
	}
	if done := ctx.Done(); done != nil {
		select {
		case err = <-w.ch:
		case <-done:
			cc.abort(id, c.contextError(ctx, m))
			err = <-w.ch
		}
	} else {
		err = <-w.ch
	}
	c.waiters.Put(w)
	return err
}

// Go starts a call and returns at once; done is called exactly once with the outcome (nil or an
// *Error), from the goroutine that completes the call: the connection's reader for replies, a
// timer for timeouts, any goroutine for a lost connection. done must not block; result is written
// before done runs (nil done: the outcome is dropped). If Go returns an error, the call was not
// started and done is not called.
// Only the deadline of ctx is used (no cancellation).
func (c *Client) Go(ctx context.Context, m Method, args Appender, result Decoder, done func(error)) error {
	if done == nil {
		done = func(error) {}
	}
	_, _, err := c.start(ctx, m, args, result, done)
	return err
}

// Notify sends m with args and expects no answer (pomelo's notify). It returns once the frame is
// queued; a nil error does not mean the server received it.
func (c *Client) Notify(ctx context.Context, m Method, args Appender) error {
	ci := c.info(m, true)
	if err := c.hooks.runBefore(ctx, ci); err != nil {
		return wrapError(CodeFilter, "rpc: before filter", err)
	}
	err := c.cur.Load().notify(m, args)
	c.hooks.runAfter(ctx, ci, errOrNil(err))
	return errOrNil(err)
}

// errOrNil turns a nil *Error into a nil error.
func errOrNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

func (c *Client) info(m Method, notify bool) CallInfo {
	return CallInfo{Peer: c.cfg.ServerID, Method: m.Name(), Notify: notify}
}

// start runs the before filters and queues the call. On error the call was not started (the
// after filters have run if the before filters passed).
func (c *Client) start(ctx context.Context, m Method, args Appender, result Decoder, done func(error)) (*clientConn, uint32, error) {
	if m.t != c.cfg.Methods {
		return nil, 0, wrapError(CodeNoMethod, "rpc: bad method handle", ErrForeignMethod)
	}
	if len(c.hooks.before) > 0 {
		if err := c.hooks.runBefore(ctx, c.info(m, false)); err != nil {
			return nil, 0, wrapError(CodeFilter, "rpc: before filter", err)
		}
	}
	cc, id, err := c.enqueue(ctx, m, args, result, done)
	if err != nil {
		if len(c.hooks.after) > 0 {
			c.hooks.runAfter(ctx, c.info(m, false), err)
		}
		return nil, 0, err
	}
	return cc, id, nil
}

// enqueue takes a pending slot and a pooled call, and hands them to the current connection.
func (c *Client) enqueue(ctx context.Context, m Method, args Appender, result Decoder, done func(error)) (*clientConn, uint32, *Error) {
	timeout, expired := c.timeout(ctx)
	if expired {
		return nil, 0, c.timeoutError(m, 0)
	}
	if c.pending.Add(1) > int64(c.cfg.MaxPending) {
		c.pending.Add(-1)
		return nil, 0, ErrPendingLimit
	}
	cl := c.calls.Get().(*call)
	cl.ctx, cl.method, cl.result, cl.done, cl.timeout = ctx, m, result, done, timeout
	if len(c.hooks.after) > 0 {
		cl.started = time.Now()
	}
	cc := c.cur.Load()
	id, err := cc.call(cl, args)
	if err != nil {
		cl.reset()
		c.calls.Put(cl)
		c.pending.Add(-1)
		return nil, 0, err
	}
	return cc, id, nil
}

// timeout returns the call's timeout (0: none) and whether the ctx deadline already passed.
func (c *Client) timeout(ctx context.Context) (time.Duration, bool) {
	t := max(c.cfg.Timeout, 0)
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return 0, true
		}
		if t == 0 || left < t {
			t = left
		}
	}
	return t, false
}

// contextError is the error of a call abandoned because ctx is done: a timeout if its deadline
// passed (the deadline is the call's timeout), CodeCanceled otherwise.
func (c *Client) contextError(ctx context.Context, m Method) *Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return c.timeoutError(m, 0)
	}
	return wrapError(CodeCanceled, "rpc: call canceled", ctx.Err())
}

func (c *Client) timeoutError(m Method, after time.Duration) *Error {
	msg := "rpc: call " + m.Name().String() + " to " + c.cfg.ServerID + " timed out"
	if after > 0 {
		msg += " after " + after.String()
	}
	return &Error{Code: CodeTimeout, Message: msg}
}

// finish completes a call taken out of its connection's pending table: it runs the after
// filters, recycles the call when no timer can still touch it, and calls done. Exactly one
// goroutine finishes each call: the one that removed it from the table.
func (c *Client) finish(cl *call, err error, fromTimer bool) {
	c.pending.Add(-1)
	recycle := fromTimer || !cl.armed || cl.timer.Stop()
	if len(c.hooks.after) > 0 {
		ci := c.info(cl.method, false)
		ci.Elapsed = time.Since(cl.started)
		c.hooks.runAfter(cl.ctx, ci, err)
	}
	done := cl.done
	cl.reset()
	if recycle {
		c.calls.Put(cl)
	}
	done(err)
}

// call is one pending call. Between enqueue and finish it belongs to its connection's pending
// table (guarded by that connection's mu); conn and id are atomics because the timer reads them
// before taking that lock. A call is recycled only when its timer is known not to be running.
type call struct {
	conn    atomic.Pointer[clientConn]
	id      atomic.Uint32
	ctx     context.Context
	method  Method
	result  Decoder
	done    func(error)
	timeout time.Duration
	started time.Time   // when the call was queued, if the client has after filters
	armed   bool        // the timer was set for this use
	timer   *time.Timer // created on first use, reused; fires onTimer
}

// arm starts the call's timer. Called with the connection's mu held, before the call is visible
// to the reader, so the timer can only find it in the table or finished.
func (cl *call) arm() {
	if cl.timeout <= 0 {
		return
	}
	cl.armed = true
	if cl.timer == nil {
		cl.timer = time.AfterFunc(cl.timeout, cl.onTimer)
		return
	}
	cl.timer.Reset(cl.timeout)
}

// onTimer times the call out if it is still pending.
func (cl *call) onTimer() {
	cc := cl.conn.Load()
	if cc == nil || !cc.take(cl.id.Load(), cl) {
		return
	}
	cc.c.finish(cl, cc.c.timeoutError(cl.method, cl.timeout), true)
}

func (cl *call) reset() {
	cl.conn.Store(nil)
	cl.ctx, cl.method, cl.result, cl.done, cl.armed, cl.started = nil, Method{}, nil, nil, false, time.Time{}
}

// waiter turns the completion callback into a channel receive for Call. ch is never closed: it
// receives exactly one value per use.
type waiter struct {
	ch chan error
	fn func(error) // w.complete, bound once
}

func newWaiter() *waiter {
	w := &waiter{ch: make(chan error, 1)}
	w.fn = w.complete
	return w
}

func (w *waiter) complete(err error) { w.ch <- err }
