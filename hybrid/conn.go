package hybrid

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/netpoll"

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

	id  uint64
	srv *Server
	nc  netpoll.Connection
	ctx connCtx // handed to netpoll as the connection's context; points back to c

	// Registry links, guarded by Server.mu.
	prev, next *Conn

	// Reader-owned: written only by the goroutine reading the connection (netpoll's OnRequest,
	// or the TLS goroutine), and read by others only after a Handler call made by that goroutine
	// (so after Handshake, they do not change).
	transport Transport
	mode      readMode
	inTLS     bool  // classifying the plaintext inside TLS
	headroom  uint8 // bytes reserved in front of outbound buffers for a WebSocket frame header
	stopRead  bool  // the reader stops: the connection closes once its queue is flushed
	counted   bool  // counted in Stats.ClassifiedConns
	opened    bool  // Handshake was called: Closed will be
	tail      *tail // an incomplete unit taken out of netpoll's buffer (pooled; nil when none)
	ws        *wsReader
	pub       *rsa.PublicKey
	value     any // the engine's slot; see SetValue

	state    atomic.Uint32 // connState; written by the reader (transitions) and by close
	closing  atomic.Uint32 // 0 while open, else 1 + the CloseReason that won
	task     atomic.Uint32 // inline task and close hand-off (netpoll.go)
	wlock    atomic.Uint32 // direct socket writes against the fd's close (sockWrite)
	fd       int32         // the socket, or -1 when nc has none (tests): then writes go through nc
	deadline atomic.Int64  // wheel tick after which the connection times out (lazy: see timer.go)
	timer    wheel.Timer[*Conn]

	mu  sync.Mutex // guards out
	out outQueue
}

// connCtx is the context netpoll passes to OnRequest: it leads back to the Conn without an
// allocation (it lives inside the Conn). As a context it is empty, like context.Background.
type connCtx struct{ c *Conn }

func (connCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (connCtx) Done() <-chan struct{}       { return nil }
func (connCtx) Err() error                  { return nil }
func (connCtx) Value(any) any               { return nil }

var _ context.Context = (*connCtx)(nil)

func newConn(s *Server, nc netpoll.Connection) *Conn {
	c := &Conn{id: s.nextID.Add(1), srv: s, nc: nc, fd: -1}
	if f, ok := nc.(interface{ Fd() int }); ok {
		c.fd = int32(f.Fd())
	}
	c.ctx = connCtx{c: c}
	c.timer.Owner = c
	return c
}

// ID returns the connection's number: 1 for the first connection a Server accepted, then 2, 3, ...
// like pomelo's session id.
func (c *Conn) ID() uint64 { return c.id }

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr returns the server's address for this connection.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

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

// onNetpollClose runs once, from netpoll, after the reader has returned: on our close, on the
// peer's, or on an I/O error.
func (c *Conn) onNetpollClose(netpoll.Connection) error {
	c.closing.CompareAndSwap(0, uint32(CloseByPeer)+1)
	reason := CloseReason(c.closing.Load() - 1)
	c.state.Store(stateClosed)
	s := c.srv
	s.wheel.Cancel(&c.timer)
	if c.opened {
		s.closers.Add(1) // before unregister: Shutdown waits for the registry to empty, then for closers
	}
	s.unregister(c)
	s.stats.ActiveConns.Add(-1)
	if c.counted {
		s.stats.ClassifiedConns.Add(-1)
	}
	c.stopWrites() // netpoll closes the fd after this callback returns
	c.releaseTail()
	c.mu.Lock()
	c.releaseOutLocked()
	c.mu.Unlock()
	s.log.Debug("hybrid: connection closed", "id", c.id, "remote", c.nc.RemoteAddr(), "transport", c.transport, "reason", reason)
	if c.opened {
		// Asynchronous, so that Closed never runs inside a Close, Kick or Send called by the
		// application (which may hold its own locks), nor on the timing wheel or a poller.
		go func() {
			defer s.closers.Done()
			s.h.Closed(c, reason)
		}()
	}
	return nil
}
