package hybrid

import (
	"crypto/tls"

	"github.com/cloudwego/netpoll"
)

// tlsReadChunk is how much plaintext space is offered to each tls.Conn.Read.
const tlsReadChunk = 4 << 10

// tlsSocket is what crypto/tls reads and writes: the netpoll connection, read after whatever the
// sniffer left in Conn.tail. Reads are blocking (the TLS goroutine); writes are netpoll's, which
// block while the socket is full, so only the TLS goroutine and flushTLS make them.
type tlsSocket struct {
	netpoll.Connection
	c *Conn
}

// Read returns the bytes of c.tail first, then reads from netpoll.
// Reader only.
func (t *tlsSocket) Read(p []byte) (int, error) {
	c := t.c
	if c.tail == nil {
		return t.Connection.Read(p)
	}
	tb := c.tail.b
	n := copy(p, tb)
	if n == len(tb) {
		c.releaseTail()
	} else {
		c.tail.b = tb[:copy(tb, tb[n:])]
	}
	return n, nil
}

// serveTLS runs a TLS connection to its end on the calling goroutine (netpoll's OnRequest task,
// which therefore stays busy: netpoll has no TLS, so each TLS connection costs a goroutine). The
// handshake reads the bytes already buffered by netpoll; the plaintext then goes through a
// LinkBuffer into the same read path as a plain connection, classified again (TLS-TCP or WSS).
// Reader only.
func (c *Conn) serveTLS() {
	s := c.srv
	tc := tls.Server(&tlsSocket{Connection: c.nc, c: c}, s.tlsCfg)
	if err := tc.Handshake(); err != nil {
		if !c.isClosing() {
			s.stats.TLSHandshakeFail.Add(1)
			s.log.Debug("hybrid: TLS handshake failed", "id", c.id, "remote", c.nc.RemoteAddr(), "err", err)
		}
		c.abort(CloseProtocolError)
		return
	}
	c.mu.Lock()
	c.out.tls = tc
	c.mu.Unlock()
	c.mode, c.inTLS = modeSniff, true
	lb := netpoll.NewLinkBuffer()
	defer lb.Close()
	var rerr error
	for {
		need := c.readBatch(lb)
		lb.Release()
		if need == 0 {
			return
		}
		if rerr != nil {
			if !c.isClosing() {
				s.log.Debug("hybrid: TLS read failed", "id", c.id, "err", rerr)
			}
			c.abort(CloseByPeer)
			return
		}
		for lb.Len() < need && rerr == nil {
			var n int
			p, _ := lb.Malloc(max(tlsReadChunk, need-lb.Len()))
			n, rerr = tc.Read(p)
			lb.MallocAck(n)
			lb.Flush()
			c.touchRead()
		}
	}
}
