//go:build !linux

package hybrid

import (
	"errors"
	"net"
	"sync/atomic"
)

// The reactor is epoll: elsewhere the package builds (so that code using it compiles and its
// unit tests of the read path run) but Serve fails.

var errNoReactor = errors.New("hybrid: the connector transport needs Linux (epoll)")

type poller struct {
	epfd, stopfd int
	buf          []byte
}

func newPoller(*Server) (*poller, error) { return nil, errNoReactor }

func (p *poller) stop() {}

func (p *poller) close() {}

func listenerFD(net.Listener) (int, error) { return -1, errNoReactor }

func (p *poller) loop() {}

func (s *Server) serveListener(int, *poller) error {
	close(s.acceptDone)
	return errNoReactor
}

func localAddr(int) net.Addr { return &net.TCPAddr{} }

type fdTable struct{}

var fdConns fdTable

func (fdTable) slot(int, bool) *atomic.Pointer[Conn] { return new(atomic.Pointer[Conn]) }
