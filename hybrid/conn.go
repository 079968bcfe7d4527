package hybrid

import (
	"crypto/rsa"
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/shaddock-io/shaddock/internal/wheel"
)

// connState is pomelo's connection state (hybridsocket.js).
type connState = uint32

const (
	stateInited  connState = iota // waiting for HANDSHAKE
	stateWaitAck                  // handshake answered, waiting for HANDSHAKE_ACK
	stateWorking                  // data, heartbeats and kicks flow
	stateClosed                   // closing or closed
)

var stateNames = [...]string{"INITED", "WAIT_ACK", "WORKING", "CLOSED"}

// readMode is what the reader expects next on the byte stream.
type readMode uint8

const (
	modeSniff    readMode = iota // first bytes: classify
	modeUpgrade                  // HTTP Upgrade request
	modePackages                 // raw pomelo packages (TCP, TLS)
	modeFrames                   // WebSocket frames (WS, WSS)
	modeTLS                      // outer layer of a TLS connection: the TLS goroutine takes over
)

// Conn is one client connection. The transport creates it on accept and hands it to the Handler.
//
// Methods are safe for concurrent use unless stated otherwise. A Conn must not be copied.
type Conn struct {
	_ noCopy

	id    uint64
	srv   *Server
	raddr netip.AddrPort
	nc    net.Conn // tests only: a stand-in for the socket, written when fd is -1

	// Registry links, guarded by Server.mu.
	prev, next *Conn

	// Reader-owned: written only by the goroutine reading the connection (its read task,
	// or the TLS goroutine), and read by others only after a Handler call made by that goroutine
	// (so after Handshake, they do not change).
	transport Transport
	mode      readMode
	inTLS     bool  // classifying the plaintext inside TLS
	headroom  uint8 // bytes reserved in front of outbound buffers for a WebSocket frame header
	stopRead  bool  // the reader stops: the connection closes once its queue is flushed
	counted   bool  // counted in Stats.ClassifiedConns
	opened    bool  // Handshake was called: Closed will be
	tail      *tail // an incomplete unit left by a read (pooled; nil when none)
	ws        *wsReader
	pub       *rsa.PublicKey
	value     any // the engine's slot; see SetValue

	state    atomic.Uint32 // connState; written by the reader (transitions) and by close
	closing  atomic.Uint32 // 0 while open, else 1 + the CloseReason that won
	sched    atomic.Uint32 // the read task's state (dispatch.go)
	hup      atomic.Bool   // the poller saw a hang-up or error: read to the end of the stream
	fdRefs   atomic.Int32  // system calls of others than the reader in progress; -1: closed (useFD)
	fd       int32         // the socket, or -1 in tests (then writes go to nc)
	wait     atomic.Pointer[waiter]
	deadline atomic.Int64 // wheel tick after which the connection times out (lazy: see timer.go)
	timer    wheel.Timer[*Conn]

	mu  sync.Mutex // guards out
	out outQueue
}

func newConn(s *Server, fd int, addr netip.AddrPort) *Conn {
	c := &Conn{id: s.nextID.Add(1), srv: s, fd: int32(fd), raddr: addr}
	c.timer.Owner = c
	return c
}

// ID returns the connection's number: 1 for the first connection a Server accepted, then 2, 3, ...
// like pomelo's session id.
func (c *Conn) ID() uint64 { return c.id }

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr {
	if c.nc != nil {
		return c.nc.RemoteAddr()
	}
	return net.TCPAddrFromAddrPort(c.raddr)
}

// LocalAddr returns the server's address for this connection.
func (c *Conn) LocalAddr() net.Addr {
	if c.nc != nil {
		return c.nc.LocalAddr()
	}
	if !c.useFD() {
		return &net.TCPAddr{}
	}
	defer c.doneFD()
	return localAddr(int(c.fd))
}

// Transport returns how the client reached us. It is set before Handler.Handshake.
func (c *Conn) Transport() Transport { return c.transport }

// PublicKey returns the RSA key the client sent in its handshake (sys.rsa), or nil. It is set
// before Handler.Handshake.
func (c *Conn) PublicKey() *rsa.PublicKey { return c.pub }

// SetValue stores v in the connection's attachment slot. Call it only from Handler.Handshake or
// Handler.Open (the slot is not synchronised: it is read without a lock by later Handler calls,
// which come after those from the same reader or are ordered after them by the close).
func (c *Conn) SetValue(v any) { c.value = v }

// Value returns what SetValue stored.
func (c *Conn) Value() any { return c.value }

// Working reports whether the connection is WORKING: handshake acknowledged, not closing.
func (c *Conn) Working() bool { return c.state.Load() == stateWorking }

// TLSState returns the TLS connection state for TLS and WSS connections, and nil otherwise.
// Valid from Handler.Handshake on.
func (c *Conn) TLSState() *tls.ConnectionState {
	c.mu.Lock()
	tc := c.out.tls
	c.mu.Unlock()
	if tc == nil {
		return nil
	}
	st := tc.ConnectionState()
	return &st
}

// Close closes the connection at once, dropping whatever is queued. Handler.Closed then receives
// CloseByApp. Safe to call more than once and from any goroutine.
func (c *Conn) Close() error {
	if !c.closeWith(CloseByApp) {
		return ErrConnClosed
	}
	return nil
}

// closeWith closes the connection now with reason, unless it is already closing. It reports
// whether this call decided the reason.
func (c *Conn) closeWith(reason CloseReason) bool {
	if !c.closing.CompareAndSwap(0, uint32(reason)+1) {
		return false
	}
	c.state.Store(stateClosed)
	c.closeSocket()
	return true
}

// isClosing reports whether a close has been decided.
func (c *Conn) isClosing() bool { return c.closing.Load() != 0 }

// readDone reports whether the reader must stop: closing, or closing after a flush.
// Reader only.
func (c *Conn) readDone() bool { return c.stopRead || c.isClosing() }
