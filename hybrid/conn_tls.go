package hybrid

import (
	"crypto/tls"
	"io"
	"net"
	"time"

	"github.com/shaddock-io/shaddock/internal/rawio"
)

// tlsReadChunk is how much plaintext space is offered to each tls.Conn.Read.
const tlsReadChunk = 4 << 10

// tlsSocket is the net.Conn crypto/tls reads and writes: the connection's socket, read after
// whatever the sniffer left in Conn.tail. Reads wait for the poller's input events (the TLS
// goroutine owns the socket: schedOwned), writes for its output events within WriteTimeout.
// Closing is the Conn's business (teardown): Close does nothing, deadlines are not supported.
type tlsSocket struct{ c *Conn }

// Read returns the bytes of c.tail first, then reads the socket, waiting for bytes.
// Reader only.
func (t *tlsSocket) Read(p []byte) (int, error) {
	c := t.c
	if c.tail != nil {
		tb := c.tail.b
		n := copy(p, tb)
		if n == len(tb) {
			c.releaseTail()
		} else {
			c.tail.b = tb[:copy(tb, tb[n:])]
		}
		return n, nil
	}
	w := c.waiter()
	for {
		if c.isClosing() {
			return 0, net.ErrClosed
		}
		n, err := rawio.Read(int(c.fd), p)
		if n > 0 || err != nil {
			return n, err
		}
		<-w.r
	}
}

// Write writes p whole, waiting for room. The TLS handshake (the reader) and then flushTLS (the
// flusher) write, never both at once.
func (t *tlsSocket) Write(p []byte) (int, error) {
	if err := t.c.writeAll(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (t *tlsSocket) Close() error                     { return nil }
func (t *tlsSocket) LocalAddr() net.Addr              { return t.c.LocalAddr() }
func (t *tlsSocket) RemoteAddr() net.Addr             { return t.c.RemoteAddr() }
func (t *tlsSocket) SetDeadline(time.Time) error      { return nil }
func (t *tlsSocket) SetReadDeadline(time.Time) error  { return nil }
func (t *tlsSocket) SetWriteDeadline(time.Time) error { return nil }

var _ net.Conn = (*tlsSocket)(nil)

// serveTLS runs a TLS connection to its end on a goroutine of its own (crypto/tls reads block, so
// each TLS connection costs a goroutine). The handshake reads the bytes the sniffer kept; the
// plaintext then goes through the same read path as a plain connection, classified again
// (TLS-TCP or WSS). Timeouts and closes wake the blocked read (closeSocket). It tears the
// connection down on the way out.
// Reader only.
func (c *Conn) serveTLS() {
	defer c.teardown()
	defer func() {
		if r := recover(); r != nil {
			c.srv.log.Error("hybrid: panic in a TLS read batch, connection closed", "id", c.id, "panic", r)
			c.closeWith(CloseByApp)
		}
	}()
	s := c.srv
	tc := tls.Server(&tlsSocket{c: c}, s.tlsCfg)
	if err := tc.Handshake(); err != nil {
		if !c.isClosing() {
			s.stats.TLSHandshakeFail.Add(1)
			s.log.Debug("hybrid: TLS handshake failed", "id", c.id, "remote", c.RemoteAddr(), "err", err)
		}
		c.abort(CloseProtocolError)
		return
	}
	c.mu.Lock()
	c.out.tls = tc
	c.mu.Unlock()
	c.mode, c.inTLS = modeSniff, true
	buf := make([]byte, 0, tlsReadChunk)
	var rerr error
	for {
		in := input{buf}
		need := c.readBatch(&in)
		buf = buf[:copy(buf, in.b)] // an incomplete unit moves to the front
		if need == 0 {
			c.waitClosing() // what is queued (an error response, a close frame) goes out first
			return
		}
		if rerr != nil {
			if !c.isClosing() && rerr != io.EOF {
				s.log.Debug("hybrid: TLS read failed", "id", c.id, "err", rerr)
			}
			c.closeWith(CloseByPeer)
			return
		}
		for len(buf) < need && rerr == nil {
			if cap(buf)-len(buf) < tlsReadChunk {
				buf = append(buf[:cap(buf)], make([]byte, max(tlsReadChunk, need-len(buf)))...)[:len(buf)]
			}
			var n int
			n, rerr = tc.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			c.touchRead()
		}
	}
}

// waitClosing waits until a close is decided: the reader has stopped (Conn.stopRead) and the
// connection closes once its queue is flushed.
// Reader only.
func (c *Conn) waitClosing() {
	w := c.waiter()
	for !c.isClosing() {
		<-w.r
	}
}
