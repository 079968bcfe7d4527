package engine

import (
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/codec/pomelopb"
	"github.com/shaddock-io/shaddock/rpc"
)

// ErrSuspended is returned by Context.Suspend; a before filter returns it to say that it will
// call Resume later.
var ErrSuspended = errors.New("engine: request suspended")

// stage is where a request is in the pipeline:
//
//	globalBefore ──► dispatch ──► localBefore ──► handler ──► localError ──► localAfter ──┐
//	      │error         │other server type (Forwarder)                                   │
//	      ▼              ▼                                                                ▼
//	 globalError ──► respond ◄───────────────────────────────────────────────────────────┘
//	                     │
//	                     ▼
//	               globalAfter ──► done
type stage uint8

const (
	stGlobalBefore stage = iota
	stGlobalError
	stDispatch
	stLocalBefore
	stHandler
	stLocalError
	stLocalAfter
	stRespond
	stGlobalAfter
	stDone
)

// Suspension states of a Context (field susp). A step that cannot finish now moves running to
// suspending and returns ErrSuspended; the driver then tries suspending→parked and stops. Resume,
// from any goroutine, either finds suspending (the driver has not stopped yet: it leaves
// resumedEarly and the driver carries on) or parked (it drives the request itself):
//
//	running ──Suspend──► suspending ──driver──► parked ──Resume──► running (Resume's goroutine)
//	                          │
//	                          └──Resume──► resumedEarly ──driver──► running (same goroutine)
const (
	suspRunning uint32 = iota
	suspSuspending
	suspParked
	suspResumedEarly
)

// Context is one request or notify going through the pipeline. Filters and handlers receive it.
//
// A Context is owned by whoever drives the request: the read goroutine, then, after a suspension,
// the goroutine that resumed it. Its methods are not safe for concurrent use, except Resume. It
// must not be used after the handler returned (synchronous handlers) or after reply was called
// (asynchronous ones): synchronous contexts are recycled.
type Context struct {
	noCopy noCopy

	// The request's state, in three parts that release zeroes: always the first, the others
	// only when the request used them, so that the common local request does not clear the
	// whole Context.
	ctxRequest
	ctxForward
	ctxRemote

	// Storage kept across requests (release trims what grew too large).
	buf    []byte // for a detached or rewritten body
	jbuf   []byte // for json
	out    []byte // encoding buffer for the response
	values []ctxValue
	sbuf   []byte      // the session settings, pack-encoded, for fa
	mbuf   []byte      // a forwarded request's uid and settings (ruid, rsettings)
	fdone  func(error) // forwardDone, bound once per Context
}

// ctxRequest is the state of every request.
type ctxRequest struct {
	srv   *Server
	sess  *Session
	fs    *FrontendSession // built on first use
	route *route
	typ   codec.MessageType
	id    uint32
	start time.Time

	reqPB  *pomelopb.Message // description of the request body, when it is pomelo-protobuf
	body   []byte            // the body: pomelo-protobuf wire when reqPB != nil, else JSON (or protobuf)
	json   []byte            // the body as JSON text, once converted (for reqPB != nil)
	jsonOK bool              // json holds the conversion
	owned  bool              // body and json point into Context.buf/jbuf

	resp     any
	err      error
	explicit bool            // resp was set by an error handler or SetResponse, and is sent even with an error
	rawReq   json.RawMessage // the request of a synchronous json.RawMessage handler: the handler gets &rawReq

	stage     stage
	idx       int
	susp      atomic.Uint32
	resumeErr error
	inline    bool   // driven from the transport's Data call (responses flush at ReadBatchDone)
	pooled    bool   // may return to the pool when done (never suspended by a filter or handler)
	forwarded bool   // ctxForward is in use
	responded func() // run once the response is queued (see whenResponded)
}

// ctxForward is a request forwarded from this frontend: msgRemote.forwardMessage's arguments
// and result (whose buffers release keeps).
type ctxForward struct {
	fa forwardArgs
	fr forwardRes
}

// ctxRemote is a request forwarded to this server (remote is true; sess is nil): the caller's
// reply and the session snapshot. ruid and rsettings point into Context.mbuf.
type ctxRemote struct {
	remote    bool
	rreply    rpc.Reply
	rsid      uint64
	rfid      string
	ruid      []byte
	ruidStr   string          // string(ruid), once asked for
	rsettings []byte          // pack map
	bs        *BackendSession // built on first use
	fo        forwardOut
}

// newContext returns a Context for the pool.
func newContext() *Context {
	c := new(Context)
	c.fdone = c.forwardDone
	return c
}

type ctxValue struct {
	key, val any
}

// Server returns the server handling the request.
func (c *Context) Server() *Server { return c.srv }

// Session returns the FrontendSession view of the request's session, created on first call (a
// snapshot of uid and settings at that moment). It is nil for a request forwarded from another
// server: use BackendSession there.
func (c *Context) Session() *FrontendSession {
	if c.fs == nil && c.sess != nil {
		c.fs = newFrontendSession(c.sess)
	}
	return c.fs
}

// RealSession returns the session itself (nil for a request forwarded from another server).
func (c *Context) RealSession() *Session { return c.sess }

// BackendSession returns the session snapshot that came with a request forwarded from a
// frontend, created on first call; nil for a request that a client sent to this server.
func (c *Context) BackendSession() *BackendSession {
	if c.bs == nil && c.remote {
		c.bs = newBackendSession(c.srv, c.rsid, c.rfid, c.UID(), c.rsettings)
	}
	return c.bs
}

// IsForwarded reports whether the request was forwarded from a frontend (msgRemote.forwardMessage).
func (c *Context) IsForwarded() bool { return c.remote }

// UID returns the uid of the request's session ("" when unbound), on frontends and backends.
func (c *Context) UID() string {
	switch {
	case c.fs != nil:
		return c.fs.uid
	case c.sess != nil:
		return c.sess.UID()
	case c.bs != nil:
		return c.bs.uid
	}
	if c.ruidStr == "" && len(c.ruid) > 0 {
		c.ruidStr = string(c.ruid)
	}
	return c.ruidStr
}

// SessionID returns the id of the request's session (on a backend, the id the frontend gave it).
func (c *Context) SessionID() uint64 {
	if c.sess != nil {
		return c.sess.id
	}
	return c.rsid
}

// FrontendID returns the id of the frontend server holding the request's session.
func (c *Context) FrontendID() string {
	if c.sess != nil {
		return c.sess.frontendID
	}
	return c.rfid
}

// Route returns the request's route.
func (c *Context) Route() string { return c.route.name }

// ID returns the request id (0 for a notify).
func (c *Context) ID() uint32 { return c.id }

// IsNotify reports whether the message is a notify (never answered).
func (c *Context) IsNotify() bool { return c.typ == codec.Notify }

// Start returns when the engine began processing the message, if a filter of the server
// implements StartStamper (the built-in Time and Timeout filters do); otherwise the zero Time.
func (c *Context) Start() time.Time { return c.start }

// RawBody returns the body as received: pomelo-protobuf bytes for routes with a client
// description, JSON text (or standard protobuf) otherwise. It is valid until the handler returns
// (synchronous) or until reply is called (asynchronous); copy it to keep it.
func (c *Context) RawBody() []byte { return c.body }

// BodyJSON returns the body as JSON text, decoding pomelo-protobuf bodies first. Same lifetime as
// RawBody.
func (c *Context) BodyJSON() ([]byte, error) { return c.jsonOrWire() }

// Response returns the response produced so far (the handler's *Resp, or what an error handler
// set), or nil.
func (c *Context) Response() any { return c.resp }

// SetResponse replaces the response (in an after filter, for example). A response set this way is
// sent even if an error remains.
func (c *Context) SetResponse(v any) { c.resp, c.explicit = v, true }

// Value returns the value stored under key by SetValue, or nil.
func (c *Context) Value(key any) any {
	for i := range c.values {
		if c.values[i].key == key {
			return c.values[i].val
		}
	}
	return nil
}

// SetValue stores a request-scoped value for filters. Keys must be comparable; use an unexported
// type as for context.Context.
func (c *Context) SetValue(key, val any) {
	for i := range c.values {
		if c.values[i].key == key {
			c.values[i].val = val
			return
		}
	}
	c.values = append(c.values, ctxValue{key, val})
}

// jsonOrWire returns the body for decoding: the JSON text of a pomelo-protobuf body, or the body.
func (c *Context) jsonOrWire() ([]byte, error) {
	if c.reqPB == nil {
		return c.body, nil
	}
	if !c.jsonOK {
		j, err := c.reqPB.AppendJSON(c.jbuf[:0], c.body)
		if err != nil {
			return nil, errors.Join(ErrBadBody, err)
		}
		c.jbuf, c.json, c.jsonOK = j, j, true
	}
	return c.json, nil
}

// detach makes the body survive the transport's Data call: it copies a body that still aliases
// the read buffer into storage the Context owns, and stops the Context from being recycled.
func (c *Context) detach() {
	c.pooled = false
	c.copyBody()
}

// copyBody copies a body that still aliases the read buffer into storage the Context owns.
func (c *Context) copyBody() {
	if c.owned {
		return
	}
	c.buf = append(c.buf[:0], c.body...)
	c.body = c.buf
	c.owned = true
}

// Suspend marks the request as waiting: a before filter returns what Suspend returns and later
// calls Resume exactly once. The body is copied if it still aliases the read buffer.
func (c *Context) Suspend() error {
	c.detach()
	c.resumeErr = nil
	c.susp.Store(suspSuspending)
	return ErrSuspended
}

// Resume continues a suspended request; a non-nil err stops it as if the filter had returned err.
// It may be called from any goroutine, even before the filter returned; the rest of the pipeline
// then runs on the calling goroutine (or on the suspending one if it has not stopped yet).
func (c *Context) Resume(err error) {
	c.resumeErr = err
	if c.susp.CompareAndSwap(suspSuspending, suspResumedEarly) {
		return
	}
	if !c.susp.CompareAndSwap(suspParked, suspRunning) {
		return // not suspended: a second Resume is ignored
	}
	if err != nil {
		c.stopAt(err)
	}
	c.run()
}

// stopAt turns the error a before filter resumed with into the error path of its chain.
func (c *Context) stopAt(err error) {
	switch c.stage {
	case stGlobalBefore:
		c.err, c.stage = err, stGlobalError
	case stLocalBefore:
		c.err, c.stage = err, stLocalError
	}
}

// park is called by the driver after a step suspended. It reports whether the driver must stop
// (true), or whether Resume already came and the driver carries on with resumeErr.
func (c *Context) park() bool {
	inline := c.inline
	c.inline = false
	if c.susp.CompareAndSwap(suspSuspending, suspParked) {
		return true
	}
	c.inline = inline
	c.susp.Store(suspRunning)
	return false
}

// handlerDone records the handler's result and, for asynchronous handlers, resumes the pipeline.
func (c *Context) handlerDone(resp any, err error) {
	c.resp, c.err = resp, err
	if c.route.async {
		c.Resume(nil)
	}
}

// run drives the pipeline until it finishes or suspends.
func (c *Context) run() {
	s := c.srv
	for {
		switch c.stage {
		case stGlobalBefore:
			if c.idx == len(s.globalBefore) {
				c.stage, c.idx = stDispatch, 0
				continue
			}
			f := s.globalBefore[c.idx]
			c.idx++
			if err := c.step(f.Before(c)); err != nil {
				if err == ErrSuspended {
					return
				}
				c.err, c.stage = err, stGlobalError
			}
		case stGlobalError:
			if s.app.globalErr != nil {
				c.handleError(s.app.globalErr)
			}
			c.stage = stRespond
		case stDispatch:
			if c.route.serverType != s.cfg.Type {
				c.stage = stRespond
				if c.forward() {
					return
				}
				continue
			}
			c.stage = stLocalBefore
		case stLocalBefore:
			if c.idx == len(s.before) {
				c.stage, c.idx = stHandler, 0
				continue
			}
			f := s.before[c.idx]
			c.idx++
			if err := c.step(f.Before(c)); err != nil {
				if err == ErrSuspended {
					return
				}
				c.err, c.stage = err, stLocalError
			}
		case stHandler:
			c.stage = stLocalError
			if !c.route.local {
				c.err = ErrHandlerNotFound
				continue
			}
			if c.route.async {
				c.Suspend()
				c.route.invoke(c)
				if c.park() {
					return
				}
				continue
			}
			c.route.invoke(c)
		case stLocalError:
			if c.err != nil {
				s.stats.handlerErrors.Add(1)
				if s.errHandler != nil {
					c.handleError(s.errHandler)
				}
			}
			c.stage, c.idx = stLocalAfter, len(s.after)
		case stLocalAfter:
			if c.idx == 0 {
				c.stage = stRespond
				continue
			}
			c.idx--
			c.err = s.after[c.idx].After(c, c.err)
		case stRespond:
			c.respond()
			if f := c.responded; f != nil {
				c.responded = nil
				f()
			}
			c.stage, c.idx = stGlobalAfter, len(s.globalAfter)
			if c.remote {
				c.idx = 0 // global filters run on the frontend only
			}
		case stGlobalAfter:
			if c.idx == 0 {
				c.stage = stDone
				continue
			}
			c.idx--
			_ = s.globalAfter[c.idx].After(c, c.err)
		case stDone:
			s.release(c)
			return
		}
	}
}

// whenResponded runs f once the request's response is queued (for a notify: once it would have
// been): later if an after filter asks before that, at once otherwise. Only one f is kept.
func (c *Context) whenResponded(f func()) {
	if c.stage < stRespond {
		c.responded = f
		return
	}
	f()
}

// handleError runs an error handler; a response it returns is sent as it is.
func (c *Context) handleError(h ErrorHandler) {
	resp, err := h(c, c.err, c.resp)
	if resp != nil {
		c.resp, c.explicit = resp, true
	}
	c.err = err
}

// step turns a filter's ErrSuspended into "stop driving" (returned as ErrSuspended) or, when
// Resume already came, into the error Resume carried.
func (c *Context) step(err error) error {
	if err != ErrSuspended {
		return err
	}
	if c.park() {
		return ErrSuspended
	}
	return c.resumeErr
}
