//go:build linux

package driver

import (
	"net/netip"
	"syscall"
	"unsafe"
)

const (
	// sysEpollPwait2 is epoll_pwait2(2) (Linux 5.11): like epoll_wait with a nanosecond timeout,
	// which open-loop pacing needs. Syscall numbers from 424 on are the same on every
	// architecture.
	sysEpollPwait2 = 441
	// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT (Linux 4.2): bind() to an address only, and
	// pick the port at connect() time per 4-tuple, so that one source address can hold more
	// connections than the ephemeral port range as long as the destinations differ.
	ipBindAddressNoPort = 24

	evIn    = syscall.EPOLLIN | syscall.EPOLLRDHUP
	evInOut = evIn | syscall.EPOLLOUT
)

// poller is one epoll instance. It belongs to one loop goroutine.
type poller struct {
	fd       int
	ts       syscall.Timespec // timeout argument, kept here so that passing it does not allocate
	noPwait2 bool
}

func newPoller() (poller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	return poller{fd: fd}, err
}

func (p *poller) add(fd int, events uint32) error {
	ev := syscall.EpollEvent{Events: events, Fd: int32(fd)}
	return syscall.EpollCtl(p.fd, syscall.EPOLL_CTL_ADD, fd, &ev)
}

func (p *poller) mod(fd int, events uint32) error {
	ev := syscall.EpollEvent{Events: events, Fd: int32(fd)}
	return syscall.EpollCtl(p.fd, syscall.EPOLL_CTL_MOD, fd, &ev)
}

// wait waits at most timeout nanoseconds (negative: no limit) for events.
func (p *poller) wait(events []syscall.EpollEvent, timeout int64) (int, error) {
	if !p.noPwait2 {
		tsp := uintptr(0)
		if timeout >= 0 {
			p.ts = syscall.NsecToTimespec(timeout)
			tsp = uintptr(unsafe.Pointer(&p.ts))
		}
		n, _, e := syscall.Syscall6(sysEpollPwait2, uintptr(p.fd), uintptr(unsafe.Pointer(&events[0])),
			uintptr(len(events)), tsp, 0, 0)
		if e == 0 {
			return int(n), nil
		}
		if e != syscall.ENOSYS {
			return 0, e
		}
		p.noPwait2 = true
	}
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + 999_999) / 1_000_000)
	}
	return syscall.EpollWait(p.fd, events, ms)
}

func (p *poller) close() { syscall.Close(p.fd) }

// dial starts a non-blocking connect to dst, bound to src when src is valid. The connection is
// established when the socket becomes writable and soError reports 0.
func dial(dst netip.AddrPort, src netip.Addr) (int, error) {
	family := syscall.AF_INET
	if !dst.Addr().Is4() {
		family = syscall.AF_INET6
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	if src.IsValid() {
		syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
		if err := syscall.Bind(fd, sockaddr(netip.AddrPortFrom(src, 0))); err != nil {
			syscall.Close(fd)
			return -1, err
		}
	}
	if err := syscall.Connect(fd, sockaddr(dst)); err != nil && err != syscall.EINPROGRESS {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

func sockaddr(a netip.AddrPort) syscall.Sockaddr {
	if a.Addr().Is4() {
		return &syscall.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()}
	}
	return &syscall.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
}

func soError(fd int) error {
	v, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil {
		return err
	}
	if v != 0 {
		return syscall.Errno(v)
	}
	return nil
}

// raiseFileLimit lifts the soft RLIMIT_NOFILE to the hard limit and returns the result.
func raiseFileLimit() uint64 {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil {
		return 0
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
	return r.Cur
}
