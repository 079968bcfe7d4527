package engine

import (
	"context"
	"net"

	"github.com/shaddock-io/shaddock/hybrid"
)

// transportHandler is the engine's side of the hybrid contract. It is a separate type so that
// the transport callbacks are not part of Server's API.
type transportHandler struct{ s *Server }

var _ hybrid.Handler = transportHandler{}

func (h transportHandler) Handshake(c *hybrid.Conn, req *hybrid.HandshakeRequest) hybrid.HandshakeResult {
	return h.s.handshake(c, req)
}

func (h transportHandler) Open(c *hybrid.Conn) { c.SetValue(h.s.open(c)) }

func (h transportHandler) Data(c *hybrid.Conn, body []byte) {
	if sess, ok := c.Value().(*Session); ok {
		h.s.data(sess, body)
	}
}

func (h transportHandler) ReadBatchDone(c *hybrid.Conn) {
	if sess, ok := c.Value().(*Session); ok {
		h.s.readBatchDone(sess)
	}
}

func (h transportHandler) Closed(c *hybrid.Conn, reason hybrid.CloseReason) {
	if sess, ok := c.Value().(*Session); ok {
		h.s.closed(sess, reason.String())
	}
}

// transport returns the hybrid server, creating it on first use.
func (s *Server) transport() (*hybrid.Server, error) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if s.hs == nil {
		hs, err := hybrid.NewServer(s.cfg.Transport, transportHandler{s})
		if err != nil {
			return nil, err
		}
		s.hs = hs
	}
	return s.hs, nil
}

// Serve accepts clients on ln (TCP and WebSocket on the same port) until Shutdown; it then returns
// hybrid.ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	hs, err := s.transport()
	if err != nil {
		ln.Close()
		return err
	}
	return hs.Serve(ln)
}

// ListenAndServe listens on ServerConfig.Transport.Addr (hybrid.DefaultAddr when empty) and
// serves.
func (s *Server) ListenAndServe() error {
	addr := s.cfg.Transport.Addr
	if addr == "" {
		addr = hybrid.DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Addr returns the client listening address once serving (or once Start returned), else nil.
func (s *Server) Addr() net.Addr {
	s.tmu.Lock()
	hs, ln := s.hs, s.clientLn
	s.tmu.Unlock()
	if hs != nil {
		if a := hs.Addr(); a != nil {
			return a
		}
	}
	if ln != nil {
		return ln.Addr()
	}
	return nil
}

// Transport returns the hybrid server once serving (for its Stats), else nil.
func (s *Server) Transport() *hybrid.Server {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	return s.hs
}

// Shutdown stops accepting clients, closes every connection (sessions close with reason
// "shutdown"; their close hooks may still place RPC calls), stops the scheduler after a last
// flush, then closes the RPC acceptor (callers' pending calls fail at once) and the mailboxes,
// and waits for the goroutines Start began.
func (s *Server) Shutdown(ctx context.Context) error {
	s.tmu.Lock()
	hs, started := s.hs, s.started
	s.started = true // a later Start fails
	s.tmu.Unlock()
	if !started { // the listeners given as options were never served
		for _, ln := range []net.Listener{s.opts.clientLn, s.opts.rpcLn} {
			if ln != nil {
				ln.Close()
			}
		}
	}
	var err error
	if hs != nil {
		err = hs.Shutdown(ctx)
	}
	if cerr := s.sched.Close(); err == nil {
		err = cerr
	}
	s.closeCluster()
	done := make(chan struct{})
	go func() {
		s.serveWG.Wait()
		close(done) // sole closer
	}()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}
