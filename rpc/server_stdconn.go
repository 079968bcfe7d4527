package rpc

import (
	"errors"
	"io"
	"net"
	"time"
)

// stdReadBuffer is the read buffer of a connection served by ServeConn.
const stdReadBuffer = 64 << 10

// ServeConn serves one client connection on the calling goroutine, which reads it; Serve calls
// it for every connection it accepts, and it serves connections from anywhere else too (a
// net.Pipe, a TLS or Unix socket). Frames are dispatched as they are read, and the replies
// produced while one read is dispatched go out in one write. ServeConn blocks until the
// connection ends (nil when the peer closed it or the server was closed) and takes nc over: it
// closes it.
func (s *Server) ServeConn(nc net.Conn) error {
	wt := s.cfg.WriteTimeout
	sc := newServerConnWith(s, func(b []byte) error {
		s.writes.Add(1)
		if wt > 0 {
			_ = nc.SetWriteDeadline(time.Now().Add(wt))
		}
		_, err := nc.Write(b)
		return err
	}, func() { _ = nc.Close() })
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return ErrServerClosed
	}
	s.conns[sc] = struct{}{}
	s.mu.Unlock()
	defer s.dropConn(sc)
	defer nc.Close()
	buf := make([]byte, stdReadBuffer)
	for {
		n, err := nc.Read(buf)
		if n > 0 {
			if perr := sc.onBytes(buf[:n]); perr != nil {
				s.hooks.report(wrapError(CodeProtocol, "rpc: protocol error from "+nc.RemoteAddr().String(), perr))
				return perr
			}
		}
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
	}
}
