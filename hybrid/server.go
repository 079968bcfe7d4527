package hybrid

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shaddock-io/shaddock/hybrid/ws"
	"github.com/shaddock-io/shaddock/internal/wheel"
)

// Server errors.
var (
	ErrServerClosed = errors.New("hybrid: server closed")
	ErrNoHandler    = errors.New("hybrid: nil Handler")
	ErrServing      = errors.New("hybrid: server already serving")
)

// Server is the transport half of a pomelo frontend (connector): one port serving raw TCP,
// WebSocket, TLS and WSS clients on an epoll reactor, with pomelo's connection state machine,
// handshake, heartbeats and kicks. See the package documentation.
type Server struct {
	_ noCopy

	set        settings
	listenAddr string // Config.Addr
	h          Handler
	log        *slog.Logger
	tlsCfg     *tls.Config // nil: TLS records are an unknown protocol
	wsFrames   ws.Config   // Upgrade and frame header limits
	wsMessages ws.Config   // message assembly limit
	blacklist  atomic.Pointer[blacklist]
	stats      Stats
	bufs       bufPools
	tails      sync.Pool // *tail
	nextID     atomic.Uint64
	wheel      *wheel.Wheel[*Conn]
	closed     atomic.Bool    // set once by Shutdown
	closers    sync.WaitGroup // running Handler.Closed calls

	mu         sync.Mutex // guards the fields below and every Conn's prev/next
	conns      *Conn      // registry: head of a doubly linked list
	nconns     int
	pollers    []*poller // set once by Serve
	serving    bool
	addr       net.Addr
	drained    chan struct{} // closed by unregister when the registry empties during Shutdown
	ln         net.Listener
	acceptor   *poller       // the listener's epoll loop (serveListener)
	acceptDone chan struct{} // closed when serveListener returns

	nextPoller uint32 // the accepting goroutine's round robin
}

// NewServer validates cfg and returns a Server that will call h. Nothing is started until Serve.
func NewServer(cfg Config, h Handler) (*Server, error) {
	if h == nil {
		return nil, ErrNoHandler
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{set: cfg.settings(), listenAddr: cfg.Addr, h: h, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	switch {
	case cfg.TLS != nil:
		s.tlsCfg = cfg.TLS.Clone()
	case cfg.CertFile != "":
		pair, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, err
		}
		s.tlsCfg = &tls.Config{Certificates: []tls.Certificate{pair}}
	}
	s.wsFrames = ws.Config{MaxHeaderSize: s.set.wsMaxHeader, MaxMessageSize: s.set.wsMaxFrame, Deflate: s.set.wsDeflate}
	s.wsMessages = ws.Config{MaxMessageSize: s.set.wsMaxMessage}
	bl, _ := parseBlacklist(cfg.Blacklist)
	s.blacklist.Store(bl)
	tick := min(max(s.set.minTimeout()/20, 5*time.Millisecond), 100*time.Millisecond)
	w, err := wheel.New(tick, s.set.maxTimeout()+tick, s.onTimer)
	if err != nil {
		return nil, err
	}
	s.wheel = w
	return s, nil
}

// Stats returns the server's live counters.
func (s *Server) Stats() *Stats { return &s.stats }

// Len returns the number of open connections.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nconns
}

// Addr returns the listening address once Serve has started, else nil.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// SetBlacklist replaces the blacklist (IP addresses and CIDR prefixes) for connections accepted
// from now on. Safe for concurrent use.
func (s *Server) SetBlacklist(list []string) error {
	bl, err := parseBlacklist(list)
	if err != nil {
		return errors.Join(ErrConfig, err)
	}
	s.blacklist.Store(bl)
	return nil
}

// ListenAndServe listens on Config.Addr (DefaultAddr when empty) and serves until Shutdown.
func (s *Server) ListenAndServe() error {
	addr := s.listenAddr
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln (a *net.TCPListener) until Shutdown, then returns
// ErrServerClosed. ln is closed by Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	lfd, err := listenerFD(ln)
	if err != nil {
		return err
	}
	startWorkers()
	s.mu.Lock()
	switch {
	case s.closed.Load():
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	case s.serving:
		s.mu.Unlock()
		return ErrServing
	}
	n := s.set.pollers
	if n == 0 {
		n = runtime.GOMAXPROCS(0)/20 + 1
		if s.set.inline {
			n = runtime.GOMAXPROCS(0) // Handler work runs on the pollers
		}
	}
	ap, err := newPoller(s)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	pollers := make([]*poller, 0, n)
	for range n {
		p, err := newPoller(s)
		if err != nil {
			for _, p := range pollers {
				p.stop()
			}
			ap.close()
			s.mu.Unlock()
			return err
		}
		if s.set.inline {
			p.buf = make([]byte, readBufSize)
		}
		pollers = append(pollers, p)
		go p.loop()
	}
	s.serving, s.pollers, s.acceptor, s.addr, s.ln = true, pollers, ap, ln.Addr(), ln
	s.acceptDone = make(chan struct{})
	s.mu.Unlock()
	s.wheel.Start()
	s.log.Info("hybrid: serving", "addr", ln.Addr().String(), "tls", s.tlsCfg != nil, "pollers", n)
	err = s.serveListener(lfd, ap)
	if s.closed.Load() {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops accepting, closes every connection (Handler.Closed receives CloseServerShutdown),
// waits for the Closed calls to return and stops the timers. It returns ctx's error if ctx ends
// first. Safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	for _, c := range s.snapshot() {
		c.closeWith(CloseServerShutdown)
	}
	s.mu.Lock()
	ln, ap, done := s.ln, s.acceptor, s.acceptDone
	s.mu.Unlock()
	if ap != nil {
		ap.stop() // Serve returns
		<-done
		ln.Close()
	}
	for _, c := range s.snapshot() { // accepted while the first pass ran
		c.closeWith(CloseServerShutdown)
	}
	err := s.waitDrained(ctx)
	if err == nil {
		s.mu.Lock()
		for _, p := range s.pollers {
			p.stop()
		}
		s.mu.Unlock()
	}
	s.wheel.Stop()
	return err
}

// waitDrained waits until every connection's close callback has run and every Handler.Closed call
// has returned.
func (s *Server) waitDrained(ctx context.Context) error {
	s.mu.Lock()
	var drained chan struct{}
	if s.nconns > 0 {
		drained = make(chan struct{})
		s.drained = drained
	}
	s.mu.Unlock()
	if drained != nil {
		select {
		case <-drained:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	done := make(chan struct{})
	go func() {
		s.closers.Wait()
		close(done) // sole closer
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close is Shutdown with a 5-second limit.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Shutdown(ctx)
}

// snapshot returns the open connections.
func (s *Server) snapshot() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Conn, 0, s.nconns)
	for c := s.conns; c != nil; c = c.next {
		out = append(out, c)
	}
	return out
}

// register adds c to the registry, unless the server is shutting down.
func (s *Server) register(c *Conn) bool {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return false
	}
	c.next = s.conns
	if s.conns != nil {
		s.conns.prev = c
	}
	s.conns = c
	s.nconns++
	s.mu.Unlock()
	return true
}

func (s *Server) unregister(c *Conn) {
	s.mu.Lock()
	if c.prev != nil {
		c.prev.next = c.next
	} else if s.conns == c {
		s.conns = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
	s.nconns--
	if s.nconns == 0 && s.drained != nil {
		close(s.drained) // sole closer, under s.mu
		s.drained = nil
	}
	s.mu.Unlock()
}
