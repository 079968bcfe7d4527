package rpc

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server errors.
var (
	ErrServerClosed    = errors.New("rpc: server closed")
	ErrServing         = errors.New("rpc: Serve already called")
	ErrDuplicateMethod = errors.New("rpc: method registered twice")
	ErrNilHandler      = errors.New("rpc: nil handler")
)

// shutdownWait bounds how long Close waits for the event loop to stop.
const shutdownWait = 5 * time.Second

// ServerConfig configures a Server (an acceptor). The zero value is valid: every zero field takes
// the default named in its comment.
type ServerConfig struct {
	// Name is this server's id, announced in the HELLO answering each client.
	Name string
	// MaxFrame is the largest frame (length field value) accepted or sent; 0 means
	// DefaultMaxFrame. Give client and server the same value.
	MaxFrame int
	// BufferInterval > 0 writes replies at most once per interval per connection (pomelo's
	// bufferMsg); 0 writes the replies of one read batch together at its end, and an
	// asynchronous reply at once.
	BufferInterval time.Duration
	// WriteTimeout bounds one write; 0 means DefaultWriteTimeout, < 0 none. A write that times
	// out closes the connection.
	WriteTimeout time.Duration
}

// Validate checks the fields that have a valid range.
func (c *ServerConfig) Validate() error {
	switch {
	case len(c.Name) > MaxNameLen:
		return errors.Join(ErrConfig, ErrNameTooLong)
	case c.MaxFrame < 0, c.MaxFrame > MaxFrameLimit, c.BufferInterval < 0:
		return ErrConfig
	}
	return nil
}

// Handler serves one method. args is the encoded arguments, valid only until the handler
// returns (decode or copy what you keep). The handler answers through r, exactly once, either
// before returning or later from any goroutine: that is how slow work avoids stalling the
// connection.
//
// Handlers run on the connection's read goroutine: calls from one client connection are
// dispatched one at a time, in order; calls from different connections run in parallel. A
// handler that blocks stalls its connection. ctx is the connection's context, canceled when the
// server closes.
type Handler func(ctx context.Context, args []byte, r Reply)

// Func adapts a typed, synchronous function to a Handler: the arguments are decoded into a new
// A (through *A's DecodeRPC), and the result or error is sent when fn returns. It allocates the A
// per call; write a Handler directly for the allocation-free path. fn must not return a nil R
// with a nil error unless R's AppendRPC accepts a nil receiver.
func Func[A any, PA interface {
	*A
	Decoder
}, R Appender](fn func(ctx context.Context, args PA) (R, error)) Handler {
	return func(ctx context.Context, b []byte, r Reply) {
		pa := PA(new(A))
		if err := pa.DecodeRPC(b); err != nil {
			r.Error(wrapError(CodeCodec, "rpc: decoding arguments", err))
			return
		}
		res, err := fn(ctx, pa)
		if err != nil {
			r.Error(err)
			return
		}
		r.Return(res)
	}
}

// handler is one registered method; shared by every connection that declares it.
type handler struct {
	name    MethodName
	h       Handler // nil: no such method on this server
	missing *Error  // the answer to calls when h is nil
}

// Server is an acceptor: it accepts client connections, reads each on a goroutine of its own
// (ServeConn), and dispatches their calls to registered handlers by method id, without
// reflection. Replies produced while one read batch is dispatched go out in one write.
//
// All methods are safe for concurrent use.
type Server struct {
	noCopy   noCopy
	cfg      ServerConfig // read-only after NewServer
	hooks    hooks        // read-only after NewServer
	ctx      context.Context
	cancel   context.CancelFunc
	mu       sync.Mutex
	handlers map[MethodName]*handler  // mu
	conns    map[*serverConn]struct{} // mu
	ln       net.Listener             // mu: set by Serve
	closed   bool                     // mu
	drained  chan struct{}            // mu: made by Close, closed by dropConn when conns empties
	served   chan struct{}            // closed by Serve when it returns
	writes   atomic.Uint64
}

// ServerStats are counters of a Server.
type ServerStats struct {
	Conns  int    // open connections
	Writes uint64 // socket writes (each may carry many frames)
}

// NewServer returns a Server; register handlers with Handle, then call Serve.
func NewServer(cfg ServerConfig, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	s := &Server{cfg: cfg, hooks: newHooks(opts), handlers: make(map[MethodName]*handler),
		conns: make(map[*serverConn]struct{}), served: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Handle registers h for name. Register before clients call: a connection resolves a name when
// its client first declares it.
func (s *Server) Handle(name MethodName, h Handler) error {
	if h == nil {
		return ErrNilHandler
	}
	if err := name.check(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.handlers[name]; dup {
		return ErrDuplicateMethod
	}
	s.handlers[name] = &handler{name: name, h: h}
	return nil
}

// lookup returns the handler of name, or a new entry that answers CodeNoMethod.
func (s *Server) lookup(name MethodName) *handler {
	s.mu.Lock()
	h := s.handlers[name]
	s.mu.Unlock()
	if h == nil {
		h = &handler{name: name, missing: &Error{Code: CodeNoMethod,
			Message: "rpc: no method " + name.String() + " on server " + s.cfg.Name}}
	}
	return h
}

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	return ServerStats{Conns: n, Writes: s.writes.Load()}
}

// Serve accepts connections on ln until Close, and serves each with a goroutine of its own
// (ServeConn); it returns nil after Close (ErrServerClosed if Close came first). It may be called
// once. Serve takes ln over: Close closes it. Accepting when the process is out of descriptors
// or memory is retried after a pause (5 ms, doubling up to 1 s), reported to the error hooks.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	err := s.serveErrLocked()
	if err == nil {
		s.ln = ln
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	defer close(s.served)
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return nil
			}
			if !acceptRetry(err) {
				return err
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.hooks.report(wrapError(CodeConnLost, "rpc: accept failed, retrying in "+backoff.String(), err))
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return nil
			}
			continue
		}
		backoff = 0
		go s.ServeConn(nc)
	}
}

// acceptRetry reports whether an Accept error is worth retrying: the process or the system is
// out of descriptors or memory, which closing connections frees.
func acceptRetry(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// serveErrLocked tells why Serve cannot start. Lock should be held.
func (s *Server) serveErrLocked() error {
	switch {
	case s.closed:
		return ErrServerClosed
	case s.ln != nil:
		return ErrServing
	}
	return nil
}

// Close closes every connection at once (their clients' pending calls fail promptly with
// CodeConnLost), waits until they are closed, stops accepting, and waits for Serve to return.
// It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ln := s.ln
	conns := make([]*serverConn, 0, len(s.conns))
	for sc := range s.conns {
		conns = append(conns, sc)
	}
	if len(conns) > 0 {
		s.drained = make(chan struct{})
	}
	drained := s.drained
	s.mu.Unlock()
	s.cancel()
	var err error
	if ln != nil {
		err = ln.Close() // Accept returns
	}
	for _, sc := range conns {
		sc.closeConn()
	}
	t := time.NewTimer(shutdownWait)
	defer t.Stop()
	if drained != nil {
		select {
		case <-drained:
		case <-t.C: // a handler that does not return holds its connection's goroutine
		}
	}
	if ln != nil {
		select {
		case <-s.served:
		case <-t.C:
		}
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// connKey is the context key of a connection's *serverConn.
type connKey struct{}

// dropConn forgets a closed connection.
func (s *Server) dropConn(sc *serverConn) {
	s.mu.Lock()
	delete(s.conns, sc)
	if s.drained != nil && len(s.conns) == 0 {
		close(s.drained)
		s.drained = nil
	}
	s.mu.Unlock()
	sc.mu.Lock()
	sc.dropped = true
	sc.out.closeLocked()
	sc.mu.Unlock()
}
