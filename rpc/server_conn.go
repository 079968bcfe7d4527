package rpc

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
)

// Errors of the connection protocol as the server sees it.
var (
	ErrNoHello       = errors.New("rpc: first frame is not HELLO")
	ErrRedeclared    = errors.New("rpc: method id declared twice")
	ErrUndeclared    = errors.New("rpc: call to an undeclared method id")
	ErrServerOnly    = errors.New("rpc: client sent a frame only servers send")
	errMessageTooBig = "rpc: error message truncated"
)

// maxErrorMessage bounds the message of an ERROR frame; longer ones are cut.
const maxErrorMessage = 64 << 10

// serverConn is the server side of one client connection.
type serverConn struct {
	s        *Server
	ctx      context.Context    // the connection's context (carries the conn under connKey)
	write    func([]byte) error // the flusher's write; set at creation
	shutdown func()             // shuts the socket down (see closeConn); set at creation

	// Owned by the read goroutine (ServeConn).
	dec     FrameDecoder
	methods []*handler // by the client's method id
	hello   bool
	// peer is the client's HELLO name: written once by the read goroutine before any dispatch,
	// read by after filters wherever a Reply is used (the handler's hand-off orders the read).
	peer string

	mu      sync.Mutex
	out     outq // mu
	dropped bool // mu: the reading goroutine is done with the connection
}

// newServerConnWith builds a connection around any write and shutdown functions (tests use a
// sink).
func newServerConnWith(s *Server, write func([]byte) error, shutdown func()) *serverConn {
	sc := &serverConn{s: s, write: write, shutdown: shutdown}
	sc.ctx = context.WithValue(s.ctx, connKey{}, sc)
	sc.dec.SetMaxFrame(s.cfg.MaxFrame)
	sc.out.interval = s.cfg.BufferInterval
	sc.out.onTimer = sc.onTimer
	return sc
}

// onBytes dispatches every whole frame in p (and in what earlier calls left over) as one batch:
// replies produced meanwhile are written together when it ends. p is only borrowed for the call.
// An error is a protocol error; the caller closes the connection.
func (sc *serverConn) onBytes(p []byte) error {
	sc.mu.Lock()
	sc.out.holds++
	sc.mu.Unlock()
	sc.dec.Feed(p)
	err := sc.drain()
	sc.mu.Lock()
	sc.out.holds--
	flush := sc.out.startLocked()
	sc.mu.Unlock()
	if flush {
		sc.flush()
	}
	return err
}

func (sc *serverConn) drain() error {
	for {
		f, err := sc.dec.Next()
		if err == ErrNeedMore {
			return nil
		}
		if err != nil {
			return err
		}
		if err := sc.dispatch(&f); err != nil {
			return err
		}
	}
}

// dispatch acts on one frame.
func (sc *serverConn) dispatch(f *Frame) error {
	if !sc.hello {
		return sc.handleHello(f)
	}
	switch f.Kind {
	case KindCall, KindNotify:
		return sc.call(f)
	case KindDeclare:
		return sc.declare(f)
	case KindPing:
		sc.mu.Lock()
		sc.out.buf = AppendPing(sc.out.buf, KindPong, binary.BigEndian.Uint64(f.Payload))
		sc.mu.Unlock()
		return nil
	case KindHello:
		return ErrUnexpectedFrame
	}
	return ErrServerOnly
}

// handleHello accepts the client's HELLO and answers with the server's.
func (sc *serverConn) handleHello(f *Frame) error {
	if f.Kind != KindHello {
		return ErrNoHello
	}
	v, name, err := ParseHello(f.Payload)
	if err != nil {
		return err
	}
	if v != ProtocolVersion {
		return ErrVersion
	}
	sc.hello, sc.peer = true, string(name)
	sc.mu.Lock()
	sc.out.buf, _ = AppendHello(sc.out.buf, sc.s.cfg.Name) // Name was validated
	sc.mu.Unlock()
	return nil
}

// declare binds a client method id to a handler for the rest of the connection.
func (sc *serverConn) declare(f *Frame) error {
	id := int(f.Method)
	if id < len(sc.methods) && sc.methods[id] != nil {
		return ErrRedeclared
	}
	name, err := ParseDeclare(f.Payload)
	if err != nil {
		return err
	}
	for len(sc.methods) <= id {
		sc.methods = append(sc.methods, nil)
	}
	sc.methods[id] = sc.s.lookup(name)
	return nil
}

// call dispatches a CALL or NOTIFY to its handler, through the before filters.
func (sc *serverConn) call(f *Frame) error {
	id := int(f.Method)
	if id >= len(sc.methods) || sc.methods[id] == nil {
		return ErrUndeclared
	}
	e := sc.methods[id]
	r := Reply{c: sc, e: e, id: f.ID, notify: f.Kind == KindNotify}
	if e.h == nil {
		r.Error(e.missing)
		return nil
	}
	if len(sc.s.hooks.before) > 0 {
		if err := sc.s.hooks.runBefore(sc.ctx, r.info()); err != nil {
			r.Error(toError(err, CodeFilter))
			return nil
		}
	}
	e.h(sc.ctx, f.Payload, r)
	return nil
}

// onTimer is the buffered-mode flush.
func (sc *serverConn) onTimer() {
	sc.mu.Lock()
	flush := sc.out.timerFlushLocked()
	sc.mu.Unlock()
	if flush {
		sc.flush()
	}
}

// flush writes the outbound queue; a write error closes the connection.
func (sc *serverConn) flush() {
	if err := sc.out.flush(&sc.mu, sc.write); err != nil {
		sc.s.hooks.report(wrapError(CodeSend, "rpc: write to "+sc.peer, err))
		sc.closeConn()
	}
}

// closeConn closes the connection, unless its reading goroutine already has (dropConn): its
// Read then returns and it drops the connection.
func (sc *serverConn) closeConn() {
	sc.mu.Lock()
	if !sc.dropped {
		sc.shutdown()
	}
	sc.mu.Unlock()
}

// Reply answers one call. It is a small value: pass it to whichever goroutine answers. Exactly
// one of Return and Error must be called per call, once; for a notification both only run the
// after filters. Both are safe from any goroutine; an answer for a connection that has closed
// meanwhile is dropped.
type Reply struct {
	c      *serverConn
	e      *handler
	id     uint32
	notify bool
}

// IsNotify reports whether the call is a notification (nothing is sent back).
func (r Reply) IsNotify() bool { return r.notify }

// Return answers with result, encoded by its AppendRPC directly into the connection's outbound
// buffer (nil sends an empty result). If encoding fails, or the frame would exceed MaxFrame, the
// caller gets a CodeCodec error instead.
func (r Reply) Return(result Appender) { r.send(result, nil) }

// Error answers with err. The caller gets an *Error with the same code and message when err is
// (or wraps) an *Error, and CodeRemote with err's text otherwise.
func (r Reply) Error(err error) {
	if err == nil {
		err = &Error{Code: CodeRemote, Message: "rpc: handler answered with a nil error"}
	}
	r.send(nil, err)
}

func (r Reply) send(result Appender, err error) {
	sc := r.c
	if !r.notify {
		sc.mu.Lock()
		err = sc.appendAnswerLocked(r.id, result, err)
		flush := sc.out.startLocked()
		sc.mu.Unlock()
		if flush {
			sc.flush()
		}
	}
	if len(sc.s.hooks.after) > 0 {
		sc.s.hooks.runAfter(sc.ctx, r.info(), err)
	}
}

func (r Reply) info() CallInfo {
	return CallInfo{Peer: r.c.peer, Method: r.e.name, Notify: r.notify}
}

// appendAnswerLocked queues the REPLY or ERROR frame of call id and returns the error actually
// sent (nil for a reply). Lock should be held.
func (sc *serverConn) appendAnswerLocked(id uint32, result Appender, err error) error {
	if sc.out.closed {
		return err
	}
	if err == nil {
		if err = sc.appendReplyLocked(id, result); err == nil {
			return nil
		}
	}
	e := toError(err, CodeRemote)
	msg := e.Error()
	if len(msg) > maxErrorMessage {
		msg = msg[:maxErrorMessage-len(errMessageTooBig)] + errMessageTooBig
	}
	sc.out.buf = AppendError(sc.out.buf, id, int32(e.Code), msg)
	return e
}

// appendReplyLocked queues a REPLY frame; on error nothing is queued. Lock should be held.
func (sc *serverConn) appendReplyLocked(id uint32, result Appender) error {
	start := len(sc.out.buf)
	b := AppendReplyHeader(sc.out.buf, id)
	if result != nil {
		var err error
		if b, err = result.AppendRPC(b); err != nil {
			return wrapError(CodeCodec, "rpc: encoding result", err)
		}
	}
	b, err := EndFrame(b, start, sc.s.cfg.MaxFrame)
	sc.out.buf = b
	if err != nil {
		return wrapError(CodeCodec, "rpc: result", err)
	}
	return nil
}
