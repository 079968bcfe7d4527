package hybrid

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/shaddock-io/shaddock/internal/rawio"
)

// The reactor: a few poller goroutines, each blocked in epoll_wait on its share of the Server's
// sockets, and nothing else per connection. A socket is registered once, edge-triggered, for
// input, output and hang-up (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, the Go runtime's own choice), so
// the poller never calls epoll_ctl again until the close. An input event wakes the connection's
// read task (Conn.schedule); an output event wakes a goroutine waiting for room in the socket
// (a drain, or a TLS connection's writer), if one waits.
//
// The event carries the file descriptor; fdConns maps it to its Conn. A descriptor leaves the
// table before it is closed, and an event already taken from epoll for a closed descriptor that
// the kernel has given to a new connection only wakes that connection's read task, which then
// reads nothing: a spurious wake is harmless.

const (
	pollIn  = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLHUP | syscall.EPOLLERR
	pollOut = syscall.EPOLLOUT | syscall.EPOLLHUP | syscall.EPOLLERR
	// epollET is EPOLLET as a uint32 (syscall declares it as a negative int).
	epollET = 1 << 31
)

// fdTable maps open socket descriptors to their Conn, for every Server of the process (descriptor
// numbers are per process). Lookups are lock-free: pages of atomic pointers, created on demand
// and never freed (8 bytes per descriptor number ever used).
type fdTable struct {
	mu    sync.Mutex // serialises page creation
	pages [fdPages]atomic.Pointer[[fdPageSize]atomic.Pointer[Conn]]
}

const (
	fdPageSize = 1024
	fdPages    = 1024 // descriptors up to 1<<20, the kernel's default ceiling (fs.nr_open)
	fdMax      = fdPageSize * fdPages
)

var fdConns fdTable

// slot returns the cell of fd, creating its page if create is set; nil when there is none.
func (t *fdTable) slot(fd int, create bool) *atomic.Pointer[Conn] {
	if fd < 0 || fd >= fdMax {
		return nil
	}
	p := t.pages[fd/fdPageSize].Load()
	if p == nil {
		if !create {
			return nil
		}
		t.mu.Lock()
		if p = t.pages[fd/fdPageSize].Load(); p == nil {
			p = new([fdPageSize]atomic.Pointer[Conn])
			t.pages[fd/fdPageSize].Store(p)
		}
		t.mu.Unlock()
	}
	return &p[fd%fdPageSize]
}

func (t *fdTable) get(fd int) *Conn {
	if s := t.slot(fd, false); s != nil {
		return s.Load()
	}
	return nil
}

// poller is one epoll loop.
type poller struct {
	s      *Server
	epfd   int
	stopfd int // an eventfd: written once to stop the loop
	buf    []byte
}

func newPoller(s *Server) (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	efd, _, e := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if e != 0 {
		syscall.Close(epfd)
		return nil, e
	}
	p := &poller{s: s, epfd: epfd, stopfd: int(efd)}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(efd)}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, int(efd), &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(int(efd))
		return nil, err
	}
	return p, nil
}

// close closes the loop's descriptors, once it has returned (or never ran).
func (p *poller) close() {
	syscall.Close(p.epfd)
	syscall.Close(p.stopfd)
}

// add registers fd, whose Conn is already in fdConns.
func (p *poller) add(fd int) error {
	ev := syscall.EpollEvent{Events: pollIn | pollOut | epollET, Fd: int32(fd)}
	return syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev)
}

// stop makes the loop return; it closes its descriptors on the way out.
func (p *poller) stop() {
	one := uint64(1)
	syscall.Write(p.stopfd, (*[8]byte)(unsafe.Pointer(&one))[:])
}

// loop waits for events until stop.
func (p *poller) loop() {
	defer p.close()
	var events [128]syscall.EpollEvent
	block := true
	for {
		n, err := rawio.EpollWait(p.epfd, events[:], block)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			p.s.log.Error("hybrid: epoll_wait failed, poller stopped", "err", err)
			return
		}
		// After events, look again without blocking (a raw call: the P stays with the poller)
		// before yielding and blocking: under load the next events are often there already.
		if block = n == 0; block {
			runtime.Gosched()
			continue
		}
		for i := range n {
			ev := &events[i]
			fd := int(ev.Fd)
			if fd == p.stopfd {
				return
			}
			c := fdConns.get(fd)
			if c == nil {
				continue
			}
			if ev.Events&pollOut != 0 {
				c.wakeWriter()
			}
			if ev.Events&pollIn != 0 {
				if ev.Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
					c.hup.Store(true)
				}
				c.wakeReader()
				c.schedule(p)
			}
		}
	}
}

// accept takes every pending connection from the listening socket lfd and registers it, until the
// backlog is empty (nil) or the listener fails.
func (s *Server) accept(lfd int) error {
	backoff := 5 * time.Millisecond
	for {
		fd, sa, err := syscall.Accept4(lfd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		switch err {
		case nil:
		case syscall.EAGAIN:
			return nil
		case syscall.EINTR, syscall.ECONNABORTED:
			continue
		case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM:
			// Out of descriptors or memory: the pending connection stays in the backlog. Count,
			// log, back off and retry, as net/http does, until a close frees what is missing.
			s.stats.AcceptErrors.Add(1)
			s.log.Warn("hybrid: accept failed, retrying", "err", err, "after", backoff)
			if s.closed.Load() {
				return ErrServerClosed
			}
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		default:
			return err
		}
		s.open(fd, sockaddrAddrPort(sa))
	}
}

// open takes over the accepted socket fd from addr: blacklist, then registration.
func (s *Server) open(fd int, addr netip.AddrPort) {
	s.stats.Accepted.Add(1)
	switch {
	case s.closed.Load():
		s.stats.RejectedShutdown.Add(1)
		syscall.Close(fd)
		return
	case s.blacklist.Load().contains(addr.Addr()):
		s.stats.RejectedBlacklist.Add(1)
		s.log.Debug("hybrid: blacklisted", "remote", addr)
		syscall.Close(fd)
		return
	case fd >= fdMax:
		s.stats.AcceptErrors.Add(1)
		s.log.Warn("hybrid: descriptor number beyond the reactor's table", "fd", fd)
		syscall.Close(fd)
		return
	}
	if !s.set.nagle {
		syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	}
	c := newConn(s, fd, addr)
	c.useFD() // teardown waits until the registration below is done
	defer c.doneFD()
	fdConns.slot(fd, true).Store(c)
	if !s.register(c) {
		fdConns.slot(fd, false).CompareAndSwap(c, nil)
		s.stats.RejectedShutdown.Add(1)
		syscall.Close(fd)
		return
	}
	s.stats.ActiveConns.Add(1)
	c.arm(s.set.handshakeTimeout)
	p := s.pollers[s.nextPoller%uint32(len(s.pollers))]
	s.nextPoller++
	if err := p.add(fd); err != nil {
		s.log.Warn("hybrid: epoll registration failed", "id", c.id, "err", err)
		c.closeWith(CloseByPeer)
	}
}

// sockaddrAddrPort converts an accepted peer address.
func sockaddrAddrPort(sa syscall.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// localAddr returns the socket's own address.
func localAddr(fd int) net.Addr {
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return &net.TCPAddr{}
	}
	return net.TCPAddrFromAddrPort(sockaddrAddrPort(sa))
}

// listenerFD returns the socket of ln, which must be a *net.TCPListener (or anything else with a
// socket). The descriptor stays ln's.
func listenerFD(ln net.Listener) (int, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return -1, errors.New("hybrid: Serve needs a listener with a socket (*net.TCPListener)")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	lfd := -1
	if err := rc.Control(func(fd uintptr) { lfd = int(fd) }); err != nil {
		return -1, err
	}
	return lfd, nil
}

// serveListener accepts on the listening socket lfd until Shutdown stops ap (ErrServerClosed) or
// accepting fails. It waits in ap's epoll (level-triggered: what a backoff leaves in the backlog
// is reported again), on the calling goroutine, and closes ap on the way out. The listener stays
// open until it returns: Shutdown closes it after that, so the descriptor number cannot be reused
// under an accept.
func (s *Server) serveListener(lfd int, ap *poller) error {
	defer close(s.acceptDone)
	defer ap.close()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(lfd)}
	if err := syscall.EpollCtl(ap.epfd, syscall.EPOLL_CTL_ADD, lfd, &ev); err != nil {
		return err
	}
	var events [2]syscall.EpollEvent
	for {
		n, err := syscall.EpollWait(ap.epfd, events[:], -1)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return err
		}
		for i := range n {
			if int(events[i].Fd) == ap.stopfd {
				return ErrServerClosed
			}
			if err := s.accept(lfd); err != nil {
				return err
			}
		}
	}
}
