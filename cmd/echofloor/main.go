//go:build linux

// Command echofloor is the least a pomelo server can do per echo request on this machine: the
// floor under the connector's CPU figures, measured with the same load client.
//
//	go build -o /tmp/echofloor ./cmd/echofloor && go build -o /tmp/echobench ./examples/chat/echobench
//	/tmp/echobench -server /tmp/echofloor -conns 100 -depth 1 -duration 10s
//	/tmp/echobench -server /tmp/echofloor -conns 100 -depth 10 -duration 10s
//
// It is not a server to run. It answers any handshake with code 200 and no heartbeats, ignores the
// ACK, echoes heartbeats, and answers each request with a response that carries its id and body.
// It checks nothing else: no route, no session, no state machine, no limits beyond a package that
// does not fit its read buffer. What remains is the work that any server answering requests over
// TCP does, done the cheapest way found here:
//
//   - edge-triggered epoll, as the connector and the Go runtime use it;
//   - after a batch of events, one more epoll_wait that does not block, and a blocking one only
//     when nothing is ready, as the connector's pollers do;
//   - one read per ready socket, unless the read filled the buffer;
//   - one write with every response that read produced;
//   - -pollers epoll loops, each on a locked thread. The default is one: on two cores shared with
//     the load client, two cost 0.3 µs more per response at 100×10.
//
// The system calls are the connector's own (internal/rawio). The difference between its CPU per
// response and the connector's is what the connector spends above the floor.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/internal/rawio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3010", "listen address (IPv4)")
	pollers := flag.Int("pollers", 1, "epoll loops, each on a locked thread (one costs least on 2 cores shared with the load client)")
	flag.Bool("quiet", true, "accepted for echobench's -server; the tool logs nothing")
	flag.Parse()
	s, err := listen(*addr, *pollers)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echofloor:", err)
		os.Exit(1)
	}
	s.start()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	s.close()
}

// epollET is EPOLLET as a uint32.
const epollET = 1 << 31

// bufSize is each connection's read buffer and the most a poller writes at once. A package that
// does not fit closes the connection.
const bufSize = 64 << 10

// handshakeResponse is what every handshake gets: heartbeats off, no dictionary, no protos.
var handshakeResponse = []byte(`{"code":200,"sys":{"heartbeat":0}}`)

// maxFD bounds the descriptor table; a connection on a higher descriptor is closed at accept.
const maxFD = 1 << 16

type server struct {
	lfd    int
	stopfd int // an eventfd in every poller's epoll set: readable once close is called
	epfds  []int
	conns  []atomic.Pointer[conn] // by descriptor
	wg     sync.WaitGroup         // the acceptor and the pollers
}

type conn struct {
	fd  int
	in  []byte // unparsed input, len = bytes held
	out []byte // output not yet accepted by the socket
}

func listen(addr string, pollers int) (*server, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return nil, fmt.Errorf("-addr %q: want an IPv4 host:port", addr)
	}
	if pollers < 1 {
		return nil, errors.New("-pollers must be positive")
	}
	lfd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	syscall.SetsockoptInt(lfd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	if err := syscall.Bind(lfd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		syscall.Close(lfd)
		return nil, err
	}
	if err := syscall.Listen(lfd, 1024); err != nil {
		syscall.Close(lfd)
		return nil, err
	}
	efd, _, e := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if e != 0 {
		syscall.Close(lfd)
		return nil, e
	}
	s := &server{lfd: lfd, stopfd: int(efd), conns: make([]atomic.Pointer[conn], maxFD)}
	for range pollers {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err == nil {
			ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(s.stopfd)}
			if err = syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, s.stopfd, &ev); err != nil {
				syscall.Close(epfd)
			}
		}
		if err != nil {
			for _, fd := range append(s.epfds, lfd, s.stopfd) {
				syscall.Close(fd)
			}
			return nil, err
		}
		s.epfds = append(s.epfds, epfd)
	}
	return s, nil
}

// start starts the pollers and the acceptor. Call it once, before close.
func (s *server) start() {
	s.wg.Add(1 + len(s.epfds))
	for _, epfd := range s.epfds {
		go s.poll(epfd)
	}
	go s.accept()
}

// accept accepts (blocking) until the listener is shut down.
func (s *server) accept() {
	defer s.wg.Done()
	for i := 0; ; i++ {
		fd, _, err := syscall.Accept4(s.lfd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		if err == syscall.EINTR || err == syscall.ECONNABORTED {
			continue
		}
		if err != nil {
			return
		}
		if fd >= maxFD {
			syscall.Close(fd)
			continue
		}
		syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
		c := &conn{fd: fd, in: make([]byte, 0, bufSize)}
		s.conns[fd].Store(c)
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLOUT | epollET, Fd: int32(fd)}
		if syscall.EpollCtl(s.epfds[i%len(s.epfds)], syscall.EPOLL_CTL_ADD, fd, &ev) != nil {
			s.drop(c)
		}
	}
}

// close stops the acceptor and the pollers, waits for them, and closes every connection.
func (s *server) close() {
	syscall.Shutdown(s.lfd, syscall.SHUT_RDWR) // wakes the blocked accept
	one := uint64(1)
	syscall.Write(s.stopfd, (*[8]byte)(unsafe.Pointer(&one))[:])
	s.wg.Wait()
	syscall.Close(s.lfd)
	syscall.Close(s.stopfd)
	for i := range s.conns {
		if c := s.conns[i].Swap(nil); c != nil {
			syscall.Close(c.fd)
		}
	}
}

func (s *server) drop(c *conn) {
	if s.conns[c.fd].CompareAndSwap(c, nil) {
		syscall.Close(c.fd)
	}
}

// poll is one epoll loop. Connections never move between pollers, so a conn is only touched here.
func (s *server) poll(epfd int) {
	runtime.LockOSThread()
	defer s.wg.Done()
	defer syscall.Close(epfd)
	events := make([]syscall.EpollEvent, 256)
	out := make([]byte, 0, bufSize)
	block := true
	for {
		n, err := rawio.EpollWait(epfd, events, block)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "echofloor: epoll_wait:", err)
			return
		}
		// As the connector's pollers do: after events, look again without blocking before
		// blocking, since under load the next events are often there already.
		if block = n == 0; block {
			continue
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == s.stopfd {
				return
			}
			c := s.conns[ev.Fd].Load()
			if c == nil {
				continue
			}
			if !c.ready(ev.Events, out) {
				s.drop(c)
			}
		}
	}
}

// ready handles one readiness event; false closes the connection. While the socket has not
// taken all earlier answers, input stays unread (the client's writes then block, not our memory).
func (c *conn) ready(events uint32, out []byte) bool {
	if len(c.out) > 0 {
		if events&syscall.EPOLLOUT == 0 {
			return true
		}
		if !c.send(nil) {
			return false
		}
		if len(c.out) > 0 {
			return true
		}
		// All written: read the input left waiting (its edge has passed).
	} else if events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) == 0 {
		return true
	}
	for len(c.out) == 0 {
		space := c.in[len(c.in):cap(c.in)]
		n, err := rawio.Read(c.fd, space)
		if err != nil {
			return false
		}
		if n == 0 {
			return true // drained
		}
		c.in = c.in[:len(c.in)+n]
		var ok bool
		if out, ok = answer(out[:0], c); !ok || !c.send(out) {
			return false
		}
		if n < len(space) {
			return true // drained too: input that arrives later is a new edge
		}
	}
	return true
}

// send writes what the socket refused earlier, then out, and keeps what it refuses now (the next
// EPOLLOUT edge brings the rest).
func (c *conn) send(out []byte) bool {
	if len(c.out) > 0 {
		out = append(c.out, out...)
	}
	if len(out) == 0 {
		return true
	}
	iov := [1]syscall.Iovec{{Base: unsafe.SliceData(out)}}
	iov[0].SetLen(len(out))
	w, err := rawio.Writev(c.fd, iov[:])
	if err != nil {
		return false
	}
	c.out = append(c.out[:0], out[w:]...)
	return true
}

// answer appends the answers to every whole package in c.in to out and keeps the partial rest.
// false: a package that is malformed or larger than the buffer.
func answer(out []byte, c *conn) ([]byte, bool) {
	b := c.in
	for len(b) >= codec.HeaderSize {
		t, n, err := codec.ParseHeader(b)
		if err != nil || codec.HeaderSize+n > bufSize {
			return out, false
		}
		if len(b) < codec.HeaderSize+n {
			break
		}
		body := b[codec.HeaderSize : codec.HeaderSize+n]
		b = b[codec.HeaderSize+n:]
		switch t {
		case codec.TypeHandshake:
			out, _ = codec.AppendPacket(out, codec.TypeHandshake, handshakeResponse)
		case codec.TypeHeartbeat:
			out, _ = codec.AppendPacket(out, codec.TypeHeartbeat, nil)
		case codec.TypeData:
			var m codec.Message
			if codec.ParseMessage(body, &m) != nil {
				return out, false
			}
			if m.Type != codec.Request {
				continue
			}
			var at int
			out, at = codec.BeginPacket(out, codec.TypeData)
			out = codec.AppendResponse(out, m.ID, m.Body)
			if codec.EndPacket(out, at) != nil {
				return out, false
			}
		}
		if len(out) > bufSize {
			return out, false
		}
	}
	c.in = c.in[:copy(c.in, b)]
	return out, true
}
