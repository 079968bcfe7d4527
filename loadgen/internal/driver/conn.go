package driver

import (
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"syscall"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
)

// connState is where a connection is in its life:
//
//	idle ─open→ connecting ─writable→ [upgrading ─101→] handshaking ─200→ setup ─entry/trigger→ ready
//	  any state ─error, EOF, kick, timeout, stop→ closed
type connState uint8

const (
	stIdle        connState = iota // not opened yet
	stConnecting                   // connect() in progress
	stUpgrading                    // ws: upgrade request sent, waiting for 101
	stHandshaking                  // handshake sent, waiting for the response
	stSetup                        // ACK sent; entry or trigger request outstanding
	stReady                        // sending scenario traffic
	stIdleOpen                     // setup failed: stays connected, sends nothing but heartbeats
	stClosed
)

// closeReason says who ended a connection, for the counters.
type closeReason uint8

const (
	closeError     closeReason = iota // our side: connect error, timeout, protocol error
	closeServer                       // EOF, reset or WebSocket close from the server
	closeKick                         // KICK package
	closeHeartbeat                    // heartbeat timeout
	closeLocal                        // end of the run
)

var invalidAddr netip.Addr

// wsKeySize is the length of a Sec-WebSocket-Key: base64 of 16 bytes.
const wsKeySize = 24

// makeKey returns a Sec-WebSocket-Key made of two random words.
func makeKey(a, b uint64) (key [wsKeySize]byte) {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], a)
	binary.LittleEndian.PutUint64(raw[8:], b)
	base64.StdEncoding.Encode(key[:], raw[:])
	return key
}

// keepInCap is the largest WebSocket input buffer kept between reads.
const keepInCap = 4 << 10

// conn is one simulated client. It belongs to its loop's goroutine.
type conn struct {
	_       noCopy // conns live in their loop's slice and are used by pointer only
	fd      int
	gidx    int // global connection index: target, source, username, room
	state   connState
	wantOut bool // EPOLLOUT registered
	hbArmed bool // a heartbeat was sent and its answer is awaited (JS client's heartbeatTimeoutId)
	sess    *session
	dec     codec.Decoder // TCP input
	asm     ws.Assembler  // WebSocket input: fragmented messages
	in      []byte        // WebSocket input not yet parsed (upgrade response, partial frames)
	out     []byte        // output the kernel did not take yet
	wsKey   [wsKeySize]byte
	deflate bool // the server accepted permessage-deflate

	started    int64 // connect() time
	deadline   int64 // connect-to-handshake deadline; 0 when done
	hbSendAt   int64 // when to send the next heartbeat; 0: none scheduled
	hbDeadline int64 // heartbeat timeout deadline, while hbArmed
	nextID     uint32
	members    int // chat: room members known (entry users + onAdd - onLeave)
	ring       ring
	readyIdx   int

	// timer wheel links
	tNext, tPrev *conn
	tWhen        int64
	tSlot        int32
	tArmed       bool
}

func (c *conn) init(gidx int) {
	c.fd, c.gidx, c.readyIdx = -1, gidx, -1
}

// open starts connecting c.
func (l *loop) open(c *conn) {
	cfg := l.cfg
	t := cfg.Targets[c.gidx%len(cfg.Targets)]
	var src = invalidAddr
	if len(cfg.Sources) > 0 {
		src = cfg.Sources[c.gidx%len(cfg.Sources)]
	}
	l.st.C[ConnAttempted]++
	c.started = l.now
	fd, err := dial(t.Addr, src)
	if err != nil {
		c.state = stClosed
		l.st.C[ConnFailed]++
		l.st.addError("connect: " + err.Error())
		return
	}
	if err := l.poll.add(fd, evInOut); err != nil {
		syscall.Close(fd)
		c.state = stClosed
		l.st.C[ConnFailed]++
		l.st.addError("epoll: " + err.Error())
		return
	}
	for fd >= len(l.byFD) {
		l.byFD = append(l.byFD, make([]*conn, len(l.byFD)+1024)...)
	}
	l.byFD[fd] = c
	c.fd, c.state, c.wantOut = fd, stConnecting, true
	c.deadline = l.now + int64(cfg.ConnectTimeout)
	l.wheel.arm(c, c.deadline)
	l.g.Connecting++
}

// onEvent handles readiness of c's socket.
func (l *loop) onEvent(c *conn, ev uint32) {
	if c.state == stConnecting {
		if ev&(syscall.EPOLLOUT|syscall.EPOLLERR|syscall.EPOLLHUP) == 0 {
			return
		}
		if err := soError(c.fd); err != nil {
			l.close(c, closeError, "connect: "+err.Error())
			return
		}
		l.connected(c)
		if c.state == stClosed {
			return
		}
	} else if ev&syscall.EPOLLOUT != 0 && len(c.out) > 0 {
		l.writePending(c)
		if c.state == stClosed {
			return
		}
	}
	if ev&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
		l.readable(c)
	}
}

// connected sends the first bytes: the WebSocket upgrade or the pomelo handshake.
func (l *loop) connected(c *conn) {
	l.st.C[ConnEstablished]++
	if l.cfg.Transport == WS {
		c.wsKey = makeKey(l.rand(), l.rand())
		t := l.cfg.Targets[c.gidx%len(l.cfg.Targets)]
		if l.cfg.WSDeflate {
			l.out = ws.AppendUpgradeRequestDeflate(l.out, t.Host, l.cfg.WSPath, c.wsKey[:])
		} else {
			l.out = ws.AppendUpgradeRequest(l.out, t.Host, l.cfg.WSPath, c.wsKey[:])
		}
		c.state = stUpgrading
	} else {
		l.appendPacket(c, codec.TypeHandshake, l.cfg.Handshake)
		c.state = stHandshaking
	}
	l.flush(c)
	if c.state != stClosed && len(c.out) == 0 {
		l.setWantOut(c, false)
	}
}

func (l *loop) setWantOut(c *conn, on bool) {
	if c.wantOut == on {
		return
	}
	ev := uint32(evIn)
	if on {
		ev = evInOut
	}
	if l.poll.mod(c.fd, ev) == nil {
		c.wantOut = on
	}
}

// readable reads once (the poller is level-triggered) and processes what arrived.
func (l *loop) readable(c *conn) {
	n, err := syscall.Read(c.fd, l.rbuf)
	switch {
	case n > 0:
		l.st.C[BytesIn] += uint64(n)
		l.input(c, l.rbuf[:n])
		l.flush(c)
	case n == 0:
		l.close(c, closeServer, "closed by server")
	case err == syscall.EAGAIN || err == syscall.EINTR:
	default:
		l.close(c, closeServer, "read: "+err.Error())
	}
}

// input processes bytes received on c; replies go to l.out.
func (l *loop) input(c *conn, data []byte) {
	if l.cfg.Transport == WS {
		l.inputWS(c, data)
		return
	}
	c.dec.Feed(data)
	for c.state != stClosed {
		p, err := c.dec.Next()
		if err == codec.ErrNeedMore {
			return
		}
		if err != nil {
			l.protoError(c, err.Error())
			return
		}
		l.packet(c, p)
	}
}

// inputWS parses the upgrade response, then frames; each binary message holds whole packages.
func (l *loop) inputWS(c *conn, data []byte) {
	buf := data
	if len(c.in) > 0 {
		c.in = append(c.in, data...)
		buf = c.in
	}
	off := 0
	if c.state == stUpgrading {
		n, deflate, err := l.d.wsCfg.ParseUpgradeResponseDeflate(buf, c.wsKey[:])
		if err == nil && deflate && !l.cfg.WSDeflate {
			err = ws.ErrResponseExtension
		}
		c.deflate = deflate
		if err == ws.ErrShortBuffer {
			l.keepIn(c, buf, 0)
			return
		}
		if err != nil {
			l.close(c, closeError, "ws: "+err.Error())
			return
		}
		off = n
		c.asm.Reset(&l.d.wsCfg)
		l.appendPacket(c, codec.TypeHandshake, l.cfg.Handshake)
		c.state = stHandshaking
	}
	for off < len(buf) && c.state != stClosed {
		h, n, err := l.d.wsCfg.ParseHeader(buf[off:])
		if err == ws.ErrShortBuffer || err == nil && len(buf)-off < n+h.Length {
			break
		}
		if err != nil {
			l.protoError(c, err.Error())
			return
		}
		payload := buf[off+n : off+n+h.Length]
		off += n + h.Length
		if h.Compressed && !c.deflate {
			l.protoError(c, ws.ErrReservedBits.Error())
			return
		}
		m, ok, err := c.asm.Push(h, payload)
		if err != nil {
			l.protoError(c, err.Error())
			return
		}
		if ok {
			l.wsMessage(c, m)
		}
	}
	if c.state != stClosed {
		l.keepIn(c, buf, off)
	}
}

// keepIn keeps buf[off:] (unparsed input) in c.in for the next read.
func (l *loop) keepIn(c *conn, buf []byte, off int) {
	rest := buf[off:]
	switch {
	case len(rest) == 0:
		c.in = c.in[:0]
		if cap(c.in) > keepInCap {
			c.in = nil
		}
	case len(c.in) > 0: // buf is c.in
		c.in = c.in[:copy(c.in, rest)]
	default:
		c.in = append(c.in[:0], rest...)
	}
}

func (l *loop) wsMessage(c *conn, m ws.Message) {
	switch m.Op {
	case ws.OpBinary, ws.OpText:
		b := m.Payload
		if m.Compressed {
			var err error
			if l.inflated, err = ws.Inflate(l.inflated[:0], b, maxWSMessage); err != nil {
				l.protoError(c, "ws message: "+err.Error())
				return
			}
			l.st.C[CompressedIn]++
			b = l.inflated
		}
		for len(b) > 0 && c.state != stClosed {
			p, n, err := codec.ParsePacket(b, 0)
			if err != nil {
				l.protoError(c, "ws message: "+err.Error())
				return
			}
			l.packet(c, p)
			b = b[n:]
		}
	case ws.OpPing:
		l.out = ws.AppendMaskedFrame(l.out, ws.OpPong, l.maskKey(), m.Payload)
	case ws.OpClose:
		l.out = ws.AppendMaskedFrame(l.out, ws.OpClose, l.maskKey(), nil)
		l.flush(c)
		l.close(c, closeServer, "ws close from server")
	}
}

func (l *loop) maskKey() (k [4]byte) {
	v := l.rand()
	k[0], k[1], k[2], k[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	return k
}

// packet handles one package from the server.
func (l *loop) packet(c *conn, p codec.Packet) {
	if c.hbArmed {
		// JS client: any incoming package pushes the heartbeat timeout out.
		c.hbDeadline = l.now + c.sess.timeout
	}
	switch p.Type {
	case codec.TypeHandshake:
		l.handshake(c, p.Body)
	case codec.TypeHeartbeat:
		l.heartbeat(c)
	case codec.TypeData:
		if c.sess == nil {
			l.protoError(c, "data before handshake")
			return
		}
		l.data(c, p.Body)
	case codec.TypeKick:
		if c.sess == nil {
			l.close(c, closeError, "kicked before handshake")
			return
		}
		l.close(c, closeKick, "kicked")
	default:
		l.protoError(c, "unexpected package "+p.Type.String())
	}
}

func (l *loop) handshake(c *conn, body []byte) {
	if c.state != stHandshaking {
		l.protoError(c, "unexpected handshake")
		return
	}
	s, ok := l.d.sessions.get(body)
	if !ok {
		var err error
		if s, err = newSession(l.cfg, body); err != nil {
			l.close(c, closeError, err.Error())
			return
		}
		l.d.sessions.put(body, s)
	}
	c.sess = s
	c.deadline = 0
	l.st.HS.Record(l.now - c.started)
	l.st.C[Handshakes]++
	l.g.Open++
	l.appendPacket(c, codec.TypeHandshakeAck, nil)
	c.state = stSetup
	switch {
	case l.cfg.Scenario == Chat:
		l.body = l.appendEntryJSON(l.body[:0], c)
		l.sendSetup(c, kindEntry, l.body)
	case l.cfg.TriggerRoute != "":
		l.sendSetup(c, kindTrigger, s.p[kindTrigger].body)
	default:
		l.setReady(c)
	}
}

// sendSetup sends the entry or trigger request; the connection is ready when it is answered.
func (l *loop) sendSetup(c *conn, k kind, jsonOrBody []byte) {
	body := jsonOrBody
	if k == kindEntry {
		var err error
		if body, err = encodeBody(l.jsonBuf[:0], &c.sess.p[k], jsonOrBody); err != nil {
			l.close(c, closeError, "entry body: "+err.Error())
			return
		}
		l.jsonBuf = body
	}
	l.st.C[SetupRequests]++
	l.sendRequest(c, k, l.now, body)
}

func (l *loop) setReady(c *conn) {
	l.g.Connecting--
	l.updateRampDone()
	c.state = stReady
	l.g.Ready++
	c.readyIdx = len(l.ready)
	l.ready = append(l.ready, c)
	if l.phase == PhaseHold && !l.openLoop && l.cfg.Scenario == Echo {
		l.fill(c)
	}
}

// setupFailed leaves c connected but idle: its entry or trigger was refused.
func (l *loop) setupFailed(c *conn) {
	l.g.Connecting--
	l.updateRampDone()
	c.state = stIdleOpen
}

func (l *loop) heartbeat(c *conn) {
	l.st.C[HeartbeatsIn]++
	if c.sess == nil {
		l.protoError(c, "heartbeat before handshake")
		return
	}
	if c.sess.interval == 0 {
		return
	}
	// JS client: clear the timeout; schedule one heartbeat after the interval unless one is
	// already scheduled.
	c.hbArmed = false
	if c.hbSendAt == 0 {
		c.hbSendAt = l.now + c.sess.interval
		if a := int64(l.cfg.HeartbeatAlign); a > 0 && c.hbSendAt%a != 0 {
			c.hbSendAt += a - c.hbSendAt%a
		}
		l.wheel.arm(c, c.hbSendAt)
	}
}

// onTimer runs when c's earliest deadline may have come; it handles what is due and re-arms.
func (l *loop) onTimer(c *conn) {
	if c.state == stClosed || c.state == stIdle {
		return
	}
	now := l.now
	if c.deadline != 0 && now >= c.deadline {
		l.close(c, closeError, "timeout before handshake completed ("+c.state.String()+")")
		return
	}
	if c.hbSendAt != 0 && now >= c.hbSendAt {
		c.hbSendAt = 0
		l.appendPacket(c, codec.TypeHeartbeat, nil)
		l.st.C[HeartbeatsOut]++
		c.hbArmed = true
		c.hbDeadline = now + c.sess.timeout
		l.flush(c)
		if c.state == stClosed {
			return
		}
	}
	if c.hbArmed && now >= c.hbDeadline-heartbeatGap {
		l.close(c, closeHeartbeat, "heartbeat timeout")
		return
	}
	if c.ring.live > 0 {
		l.expire(c, now)
	}
	l.rearm(c)
}

// rearm arms c's timer at its earliest pending deadline.
func (l *loop) rearm(c *conn) {
	next := int64(-1)
	consider := func(t int64) {
		if t > 0 && (next < 0 || t < next) {
			next = t
		}
	}
	consider(c.deadline)
	consider(c.hbSendAt)
	if c.hbArmed {
		consider(c.hbDeadline - heartbeatGap)
	}
	if t, ok := c.ring.oldest(); ok {
		consider(t + int64(l.cfg.Timeout))
	}
	if next > 0 {
		l.wheel.arm(c, next)
	}
}

// expire times out c's requests older than the request timeout.
func (l *loop) expire(c *conn, now int64) {
	var n [numKinds]int
	c.ring.expire(now-int64(l.cfg.Timeout), &n)
	total := 0
	for k, v := range n {
		total += v
		if v == 0 {
			continue
		}
		switch kind(k) {
		case kindEntry, kindTrigger:
			l.st.C[SetupErrors] += uint64(v)
			l.st.addError("setup request timed out")
			l.setupFailed(c)
		default:
			l.st.C[Timeouts] += uint64(v)
		}
	}
	l.g.Inflight -= int64(total)
	if total > 0 {
		l.updateDrained()
		if l.phase == PhaseHold && !l.openLoop && c.state == stReady {
			l.fill(c)
			l.flush(c)
		}
	}
}

// protoError counts malformed or unexpected input and closes c.
func (l *loop) protoError(c *conn, msg string) {
	l.st.C[ProtoErrors]++
	l.close(c, closeError, "protocol: "+msg)
}

// close ends c and counts why.
func (l *loop) close(c *conn, why closeReason, msg string) {
	if c.state == stClosed || c.state == stIdle {
		return
	}
	handshaken := c.sess != nil
	switch {
	case why == closeLocal:
	case !handshaken:
		l.st.C[ConnFailed]++
		l.st.addError(msg)
	case why == closeServer:
		l.st.C[DropServer]++
	case why == closeKick:
		l.st.C[DropKick]++
	case why == closeHeartbeat:
		l.st.C[DropHeartbeat]++
	default:
		l.st.addError(msg)
	}
	if c.state < stReady {
		l.g.Connecting--
	}
	if handshaken {
		l.g.Open--
	}
	if c.readyIdx >= 0 {
		l.g.Ready--
		last := l.ready[len(l.ready)-1]
		l.ready[c.readyIdx], last.readyIdx = last, c.readyIdx
		l.ready = l.ready[:len(l.ready)-1]
		c.readyIdx = -1
	}
	if n := c.ring.reset(); n > 0 {
		l.g.Inflight -= int64(n)
		if why != closeLocal {
			l.st.C[Aborted] += uint64(n)
		}
	}
	l.wheel.remove(c)
	syscall.Close(c.fd) // also removes it from the epoll set
	l.byFD[c.fd] = nil
	c.fd, c.state, c.sess = -1, stClosed, nil
	c.dec.Reset()
	c.in, c.out, c.ring.s = nil, nil, nil
	c.hbArmed, c.hbSendAt, c.deadline = false, 0, 0
	l.updateRampDone()
	l.updateDrained()
}

var stateNames = [...]string{"idle", "connecting", "upgrading", "handshaking", "setup", "ready", "idle-open", "closed"}

func (s connState) String() string { return stateNames[s] }
