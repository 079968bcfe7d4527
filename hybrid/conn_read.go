package hybrid

import (
	"github.com/shaddock-io/shaddock/codec"
)

// input is the byte slice the read path decodes from: what one read returned, the tail of a unit
// completed from it, or the plaintext of a TLS connection. The steps of the read path peek at it
// and skip whole units; they never ask for more than Len() bytes. A concrete type, not an
// interface: it stays on the reader's stack.
type input struct{ b []byte }

func (in *input) Len() int { return len(in.b) }

// Peek returns the first n bytes, valid as long as the underlying buffer (until the batch ends).
func (in *input) Peek(n int) []byte { return in.b[:n:n] }

func (in *input) Skip(n int) { in.b = in.b[n:] }

// batch accumulates the counters of one read batch, added to Stats once at its end.
type batch struct {
	pkts, bytes uint64
	reads       uint64 // read system calls that returned bytes
}

// readBatch is the read batch of the plaintext of a TLS connection: an incomplete unit stays in
// in, and the TLS goroutine reads until in holds the returned number of bytes (0: stop).
// Reader only.
func (c *Conn) readBatch(in *input) int {
	c.touchRead()
	var b batch
	need := c.process(in, &b)
	c.endBatch(&b)
	if c.readDone() {
		return 0
	}
	return need
}

// consume decodes in after the tail, and moves an incomplete unit at its end to the tail: on
// return in is empty, unless the reader stopped or the connection turned out to be TLS.
// Reader only.
func (c *Conn) consume(in *input, b *batch) {
	if c.tail != nil {
		c.fillTail(in, b)
	}
	if c.tail == nil && !c.readDone() && c.mode != modeTLS {
		if need := c.process(in, b); need > 0 && in.Len() > 0 && c.mode != modeTLS {
			c.moveToTail(in, need)
		}
	}
}

// endBatch ends a read batch: counters, one Handler.ReadBatchDone when packages were handed
// over, one flush.
// Reader only.
func (c *Conn) endBatch(b *batch) {
	s := c.srv
	if b.pkts > 0 {
		s.stats.PackagesIn.Add(b.pkts)
	}
	if b.bytes > 0 {
		s.stats.BytesIn.Add(b.bytes)
	}
	if b.reads > 0 {
		s.stats.Reads.Add(b.reads)
	}
	if b.pkts > 0 && c.opened && !c.readDone() {
		s.h.ReadBatchDone(c)
	}
	c.Flush()
}

// tail is an incomplete unit left at the end of a read, until the rest arrives. Tails are
// pooled (Server.tails), their buffers come from bufPools; a connection holds one only while a
// unit straddles two reads.
type tail struct {
	b    []byte // the bytes so far
	need int    // bytes b must hold before the unit can be decoded (more than len(b))
}

// moveToTail moves what in holds, the start of a unit of need bytes, to c.tail.
// Reader only.
func (c *Conn) moveToTail(in *input, need int) {
	t, _ := c.srv.tails.Get().(*tail)
	if t == nil {
		t = new(tail)
	}
	n := in.Len()
	t.b = append(c.srv.bufs.get(max(n, min(need, outClass1))), in.b...)
	t.need = need
	c.tail = t
	in.Skip(n)
}

// fillTail completes the unit held in c.tail from in, decodes it, and goes on until the tail is
// empty (then released) or in is. It takes from in only the bytes the unit needs, so that the
// rest is decoded in place; where the length of the unit is not known yet (the sniffed prefix, the
// HTTP Upgrade request), it takes up to the limit of that unit.
// Reader only.
func (c *Conn) fillTail(in *input, b *batch) {
	for c.tail != nil && !c.readDone() && c.mode != modeTLS {
		t := c.tail
		want := t.need - len(t.b)
		if c.mode == modeSniff || c.mode == modeUpgrade {
			want = max(want, c.upgradeLimit()-len(t.b))
		}
		take := min(want, in.Len())
		if take <= 0 {
			return
		}
		c.appendTail(in.Peek(take))
		in.Skip(take)
		if len(t.b) < t.need {
			return // in is empty
		}
		rest := input{t.b}
		need := c.process(&rest, b)
		switch {
		case rest.Len() == 0:
			c.releaseTail()
		case need > 0:
			t.b = t.b[:copy(t.b, rest.b)]
			t.need = need
		default: // stopped, or TLS: what is left stays for serveTLS
			t.b = t.b[:copy(t.b, rest.b)]
			return
		}
	}
}

// appendTail appends p to c.tail, moving to a larger pooled buffer when needed.
// Reader only.
func (c *Conn) appendTail(p []byte) {
	t := c.tail
	if cap(t.b)-len(t.b) < len(p) {
		nb := append(c.srv.bufs.get(len(t.b)+len(p)), t.b...)
		c.srv.bufs.put(t.b)
		t.b = nb
	}
	t.b = append(t.b, p...)
}

// releaseTail returns c.tail and its buffer to their pools.
// Reader only (or after the reader has returned, at close).
func (c *Conn) releaseTail() {
	if t := c.tail; t != nil {
		c.srv.bufs.put(t.b)
		*t = tail{}
		c.srv.tails.Put(t)
		c.tail = nil
	}
}

// process runs the step of the current mode until one needs more bytes or the reader must stop.
// Reader only.
func (c *Conn) process(r *input, b *batch) int {
	for !c.readDone() {
		var need int
		switch c.mode {
		case modeSniff:
			need = c.sniff(r)
		case modeUpgrade:
			need = c.upgrade(r)
		case modePackages:
			need = c.readPackage(r, b)
		case modeFrames:
			need = c.readFrame(r, b)
		default: // modeTLS: the TLS goroutine reads from here on
			return 0
		}
		if need > 0 {
			return need
		}
	}
	return 0
}

// abort counts nothing and closes at once: for protocol errors after which nothing may be written.
// Reader only.
func (c *Conn) abort(reason CloseReason) {
	c.stopRead = true
	c.closeWith(reason)
}

// finish stops reading and closes once what is queued (an error response, a close frame) has been
// written.
// Reader only.
func (c *Conn) finish(reason CloseReason) {
	c.stopRead = true
	c.closeAfterFlush(reason, 0)
}

// sniff classifies the connection from its first bytes. Returns bytes needed, or 0.
// Reader only.
func (c *Conn) sniff(r *input) int {
	avail := r.Len()
	if avail == 0 {
		return 1
	}
	s := c.srv
	head := r.Peek(min(avail, maxSniff))
	p, need := classify(head, !c.inTLS && s.tlsCfg != nil)
	switch p {
	case protoUndecided:
		return need
	case protoUnknown:
		s.stats.RejectedProtocol.Add(1)
		s.log.Debug("hybrid: unknown protocol", "id", c.id, "remote", c.RemoteAddr(), "first", head)
		c.abort(CloseProtocolError)
		return 0
	}
	if !c.counted {
		if n := s.stats.ClassifiedConns.Add(1); s.set.maxConns > 0 && n > int64(s.set.maxConns) {
			s.stats.ClassifiedConns.Add(-1)
			s.stats.RejectedMaxConns.Add(1)
			s.log.Debug("hybrid: too many connections", "id", c.id, "remote", c.RemoteAddr())
			c.abort(CloseProtocolError)
			return 0
		}
		c.counted = true
	}
	switch p {
	case protoTLS:
		s.stats.TLSStarted.Add(1)
		c.mode = modeTLS
	case protoPomelo:
		c.mode = modePackages
		if c.inTLS {
			c.transport = TransportTLS
			s.stats.ConnsTLS.Add(1)
		} else {
			c.transport = TransportTCP
			s.stats.ConnsTCP.Add(1)
		}
	case protoHTTP:
		c.mode = modeUpgrade
		c.headroom = wsHeadroom
		if c.inTLS {
			c.transport = TransportWSS
			s.stats.ConnsWSS.Add(1)
		} else {
			c.transport = TransportWS
			s.stats.ConnsWS.Add(1)
		}
	}
	return 0
}

// maxBody is the body limit in force: small until the connection is WORKING.
func (c *Conn) maxBody() int {
	if c.state.Load() == stateWorking {
		return c.srv.set.maxBody
	}
	return c.srv.set.maxBodyPre
}

// readPackage decodes one raw package from r, checking the length on the header before waiting
// for the body. Returns bytes needed, or 0.
// Reader only.
func (c *Conn) readPackage(r *input, b *batch) int {
	avail := r.Len()
	if avail < codec.HeaderSize {
		return codec.HeaderSize
	}
	h := r.Peek(codec.HeaderSize)
	t, size, err := codec.ParseHeader(h)
	if err != nil {
		c.protocolError(&c.srv.stats.ErrBadType, "bad package type", int(h[0]))
		return 0
	}
	if size > c.maxBody() {
		c.protocolError(&c.srv.stats.ErrBodyTooLarge, "package body too large", size)
		return 0
	}
	total := codec.HeaderSize + size
	if avail < total {
		return total
	}
	p := r.Peek(total)
	b.pkts++
	b.bytes += uint64(total)
	c.handlePackage(t, p[codec.HeaderSize:])
	r.Skip(total)
	return 0
}

// handlePackage runs pomelo's state machine for one package. body is valid until it returns.
// Reader only.
func (c *Conn) handlePackage(t codec.Type, body []byte) {
	s := c.srv
	st := c.state.Load()
	switch t {
	case codec.TypeHandshake:
		if st == stateInited {
			c.handshake(body)
			return
		}
	case codec.TypeHandshakeAck:
		if st == stateWaitAck {
			c.ack()
			return
		}
	case codec.TypeHeartbeat:
		if st == stateWorking {
			c.heartbeat()
			return
		}
	case codec.TypeData:
		if st == stateWorking {
			s.h.Data(c, body)
			return
		}
	case codec.TypeKick:
		c.protocolError(&s.stats.ErrClientKick, "kick from client", 0)
		return
	}
	s.stats.OutOfState.Add(1)
	if st != stateClosed {
		s.log.Debug("hybrid: package ignored in this state", "id", c.id, "type", t, "state", stateNames[st])
	}
}

// protocolError counts, logs at Debug and closes. On a WebSocket a Close frame (1002) is sent
// first.
// Reader only.
func (c *Conn) protocolError(counter interface{ Add(uint64) uint64 }, what string, detail int) {
	counter.Add(1)
	c.srv.log.Debug("hybrid: protocol error", "id", c.id, "remote", c.RemoteAddr(), "err", what, "detail", detail)
	if c.mode == modeFrames {
		c.wsClose(1002)
		return
	}
	c.abort(CloseProtocolError)
}

// handshake answers a HANDSHAKE package (state INITED).
// Reader only.
func (c *Conn) handshake(body []byte) {
	s := c.srv
	var req HandshakeRequest
	if err := parseHandshake(body, &req); err != nil {
		s.stats.HandshakeInvalid.Add(1)
		s.stats.Handshake500.Add(1)
		s.log.Debug("hybrid: bad handshake", "id", c.id, "remote", c.RemoteAddr(), "err", err)
		c.refuse(500)
		return
	}
	c.pub = req.RSA
	c.opened = true
	res := s.h.Handshake(c, &req)
	if c.isClosing() {
		return
	}
	switch res.Code {
	case 200:
	case 501:
		s.stats.Handshake501.Add(1)
		c.refuse(501)
		return
	default:
		s.stats.Handshake500.Add(1)
		c.refuse(500)
		return
	}
	s.stats.HandshakeOK.Add(1)
	var stack [512]byte
	pkt, at := codec.BeginPacket(stack[:0], codec.TypeHandshake)
	pkt = appendHandshakeBody(pkt, 200, s.set.heartbeatSecs, res.SysExtra, res.User)
	if err := codec.EndPacket(pkt, at); err != nil {
		s.log.Error("hybrid: handshake response too large", "id", c.id, "bytes", len(pkt))
		c.abort(CloseHandshakeRefused)
		return
	}
	c.state.Store(stateWaitAck)
	c.mu.Lock()
	c.enqueueLocked(pkt, 1, true)
	c.mu.Unlock()
}

// refuse answers the handshake with {"code":N} and closes once it is written.
// Reader only.
func (c *Conn) refuse(code int) {
	var stack [32]byte
	pkt, at := codec.BeginPacket(stack[:0], codec.TypeHandshake)
	pkt = appendHandshakeBody(pkt, code, 0, nil, nil)
	codec.EndPacket(pkt, at)
	c.mu.Lock()
	c.enqueueLocked(pkt, 1, true)
	c.mu.Unlock()
	c.finish(CloseHandshakeRefused)
}

// heartbeatPkt is a HEARTBEAT package.
var heartbeatPkt = []byte{byte(codec.TypeHeartbeat), 0, 0, 0}

// ack handles HANDSHAKE_ACK (state WAIT_ACK): WORKING, the first heartbeat, then Open.
// Reader only.
func (c *Conn) ack() {
	s := c.srv
	c.state.Store(stateWorking)
	if s.set.heartbeat > 0 {
		c.arm(s.set.heartbeatTimeout)
		c.queueHeartbeat()
	} else {
		c.arm(s.set.idleTimeout)
	}
	s.h.Open(c)
}

// heartbeat answers a client HEARTBEAT at once (flushed at the end of the batch) and re-arms the
// heartbeat timeout. With heartbeats off it is ignored, as pomelo's heartbeat command does.
// Reader only.
func (c *Conn) heartbeat() {
	if c.srv.set.heartbeat == 0 {
		return
	}
	c.touchHeartbeat()
	c.queueHeartbeat()
}

func (c *Conn) queueHeartbeat() {
	c.mu.Lock()
	err := c.enqueueLocked(heartbeatPkt, 1, false)
	c.mu.Unlock()
	if err == errOverflowKick {
		c.srv.stats.OverflowKicks.Add(1)
		c.closeWith(CloseOverflow)
	}
}
