package rpc

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// ErrListener is returned by Serve for a listener that is not a *net.TCPListener.
var ErrListener = errors.New("rpc: Serve needs a *net.TCPListener")

// errFDConn is what the unused net.Conn methods of an accepted descriptor return.
var errFDConn = errors.New("rpc: accepted descriptor is handed to netpoll, not used as a net.Conn")

// pollListener gives netpoll the listening socket. netpoll's own ConvertListener keeps the
// descriptor of the os.File it dups and closes it twice (syscall.Close, then the os.File), which
// under descriptor reuse can close an unrelated socket of the process; here every descriptor is
// closed exactly once. Accepted sockets get TCP_NODELAY (netpoll sets it only on sockets it
// accepted itself).
type pollListener struct {
	ln    *net.TCPListener
	file  *os.File // dup of ln's descriptor; polled by netpoll; closed once by Close
	fd    int      // file's descriptor, non-blocking
	addr  net.Addr
	close sync.Once
}

func newPollListener(ln net.Listener) (*pollListener, error) {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return nil, ErrListener
	}
	f, err := tl.File()
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		f.Close()
		return nil, err
	}
	return &pollListener{ln: tl, file: f, fd: fd, addr: tl.Addr()}, nil
}

// Fd is the descriptor netpoll polls.
func (l *pollListener) Fd() int { return l.fd }

// Addr is the listening address.
func (l *pollListener) Addr() net.Addr { return l.addr }

// Close closes both descriptors, once.
func (l *pollListener) Close() error {
	var err error
	l.close.Do(func() {
		err = errors.Join(l.file.Close(), l.ln.Close())
	})
	return err
}

// Accept accepts one connection without blocking; (nil, nil) means none is waiting (netpoll's
// convention).
func (l *pollListener) Accept() (net.Conn, error) {
	fd, sa, err := accept(l.fd)
	if err == syscall.EAGAIN || err == syscall.EWOULDBLOCK {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return &fdConn{fd: fd, local: l.addr, remote: sockaddrAddr(sa)}, nil
}

func sockaddrAddr(sa syscall.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
	case *syscall.SockaddrInet6:
		a := &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
		if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); sa.ZoneId != 0 && err == nil {
			a.Zone = ifi.Name
		}
		return a
	}
	return &net.TCPAddr{}
}

// fdConn carries an accepted descriptor and its addresses to netpoll, which takes the
// descriptor over (reads, writes and closes it through its own connection); the net.Conn I/O
// methods are never used.
type fdConn struct {
	fd            int
	local, remote net.Addr
}

func (c *fdConn) Fd() int                          { return c.fd }
func (c *fdConn) LocalAddr() net.Addr              { return c.local }
func (c *fdConn) RemoteAddr() net.Addr             { return c.remote }
func (c *fdConn) Read([]byte) (int, error)         { return 0, errFDConn }
func (c *fdConn) Write([]byte) (int, error)        { return 0, errFDConn }
func (c *fdConn) Close() error                     { return errFDConn }
func (c *fdConn) SetDeadline(time.Time) error      { return errFDConn }
func (c *fdConn) SetReadDeadline(time.Time) error  { return errFDConn }
func (c *fdConn) SetWriteDeadline(time.Time) error { return errFDConn }
