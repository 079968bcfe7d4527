package driver

import (
	"syscall"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
)

// zeros pads l.out while a WebSocket frame header is slid in front of a package.
var zeros [ws.MaxFrameHeaderSize]byte

// packetStart begins a package for c in l.out and returns where it starts.
func (l *loop) packetStart(t codec.Type) int {
	var at int
	l.out, at = codec.BeginPacket(l.out, t)
	return at
}

// packetEnd completes the package started at at: it fills in its length and, on WebSocket, puts it
// in a masked binary frame (in place: the package is moved right by the header size).
func (l *loop) packetEnd(at int) {
	if err := codec.EndPacket(l.out, at); err != nil {
		l.out = l.out[:at]
		l.st.addError("encode: " + err.Error())
		return
	}
	if l.cfg.Transport != WS {
		return
	}
	n := len(l.out) - at
	hs := ws.HeaderSize(n, true)
	l.out = append(l.out, zeros[:hs]...)
	copy(l.out[at+hs:], l.out[at:at+n])
	key := l.maskKey()
	ws.AppendFrameHeader(l.out[at:at], true, ws.OpBinary, n, &key)
	ws.Unmask(key, 0, l.out[at+hs:])
}

// appendPacket appends a whole package (handshake, ACK, heartbeat) for c.
func (l *loop) appendPacket(c *conn, t codec.Type, body []byte) {
	at := l.packetStart(t)
	l.out = append(l.out, body...)
	l.packetEnd(at)
}

// appendMessage appends a DATA package holding a request (id > 0) or notify (id 0) on p's route.
func (l *loop) appendMessage(p *prepared, id uint32, body []byte) {
	at := l.packetStart(codec.TypeData)
	if p.compressed {
		l.out = codec.AppendRequestCode(l.out, id, p.code, body)
	} else {
		var err error
		if l.out, err = codec.AppendRequest(l.out, id, p.route, body); err != nil {
			l.out = l.out[:at]
			l.st.addError("encode: " + err.Error())
			return
		}
	}
	l.packetEnd(at)
}

// sendRequest appends a request of kind k, intended at time sent, and records it in c's ring.
func (l *loop) sendRequest(c *conn, k kind, sent int64, body []byte) bool {
	c.nextID++
	if !c.ring.push(c.nextID, sent, k, l.cfg.MaxInflight) {
		c.nextID--
		l.st.C[Unsent]++
		return false
	}
	l.appendMessage(&c.sess.p[k], c.nextID, body)
	if k == kindMain || k == kindSend {
		l.st.C[Requests]++
	}
	l.g.Inflight++
	l.drained.Store(false)
	l.wheel.arm(c, sent+int64(l.cfg.Timeout))
	return true
}

func (l *loop) sendNotify(c *conn) {
	l.appendMessage(&c.sess.p[kindMain], 0, c.sess.p[kindMain].body)
	l.st.C[Notifies]++
}

// sendChat sends chat.chatHandler.send with the sender's wall clock as content, so that receivers
// can time the onChat delivery.
func (l *loop) sendChat(c *conn, intended int64) {
	l.body = l.appendChatJSON(l.body[:0], c, wallNow())
	body, err := encodeBody(l.jsonBuf[:0], &c.sess.p[kindSend], l.body)
	if err != nil {
		l.st.addError("chat body: " + err.Error())
		l.st.C[Unsent]++
		return
	}
	l.jsonBuf = body
	l.sendRequest(c, kindSend, intended, body)
}

// fill tops c up to Depth outstanding requests (closed loop).
func (l *loop) fill(c *conn) {
	for c.state == stReady && c.ring.live < l.cfg.Depth && c.ring.room(l.cfg.MaxInflight) {
		if !l.sendRequest(c, kindMain, l.now, c.sess.p[kindMain].body) {
			return
		}
	}
}

// flush writes l.out to c: at once if nothing is queued, else after the queue.
func (l *loop) flush(c *conn) {
	if len(l.out) == 0 {
		return
	}
	if c.state == stClosed {
		l.out = l.out[:0]
		return
	}
	if len(c.out) > 0 {
		c.out = append(c.out, l.out...)
		l.out = l.out[:0]
		return
	}
	n, err := syscall.Write(c.fd, l.out)
	if n > 0 {
		l.st.C[BytesOut] += uint64(n)
	} else {
		n = 0
	}
	if err != nil && err != syscall.EAGAIN && err != syscall.EINTR {
		l.out = l.out[:0]
		l.close(c, closeServer, "write: "+err.Error())
		return
	}
	if n < len(l.out) {
		c.out = append(c.out, l.out[n:]...)
		l.setWantOut(c, true)
	}
	l.out = l.out[:0]
}

// writePending writes queued output when the socket becomes writable again.
func (l *loop) writePending(c *conn) {
	n, err := syscall.Write(c.fd, c.out)
	if n > 0 {
		l.st.C[BytesOut] += uint64(n)
		c.out = c.out[:copy(c.out, c.out[n:])]
	}
	if err != nil && err != syscall.EAGAIN && err != syscall.EINTR {
		l.close(c, closeServer, "write: "+err.Error())
		return
	}
	if len(c.out) == 0 {
		if cap(c.out) > keepInCap {
			c.out = nil
		}
		l.setWantOut(c, false)
	}
}
