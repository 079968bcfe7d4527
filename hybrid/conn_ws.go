package hybrid

import (
	"unicode/utf8"

	"github.com/valyala/bytebufferpool"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
)

// wsReader is the inbound WebSocket state of a connection, allocated when it is classified as
// WebSocket. Reader only.
type wsReader struct {
	asm     ws.Assembler
	msgLen  int  // payload bytes of the fragmented message in progress
	deflate bool // permessage-deflate was negotiated
}

// inflateBufs holds the buffers compressed messages are inflated into, for as long as their
// package is handled (Handler.Data's body is valid until it returns).
var inflateBufs bytebufferpool.Pool

// upgrade parses the HTTP Upgrade request and answers it: 101 and WebSocket frames from then on,
// or an HTTP error and a close. Returns bytes needed, or 0.
// Reader only.
func (c *Conn) upgrade(r *input) int {
	s := c.srv
	b := r.Peek(min(r.Len(), c.upgradeLimit()))
	var req ws.UpgradeRequest
	n, err := s.wsFrames.ParseUpgrade(b, &req)
	if err == ws.ErrShortBuffer {
		return n
	}
	var resp [320]byte
	if err != nil {
		s.stats.WSUpgradeFail.Add(1)
		s.log.Debug("hybrid: websocket upgrade refused", "id", c.id, "remote", c.RemoteAddr(), "err", err)
		c.mu.Lock()
		c.queueCtrlLocked(ws.AppendHTTPError(resp[:0], ws.HTTPStatus(err)))
		c.mu.Unlock()
		c.finish(CloseProtocolError)
		return 0
	}
	deflate := req.Deflate && s.set.wsDeflate
	c.mu.Lock()
	if deflate {
		c.queueCtrlLocked(ws.AppendUpgradeResponseDeflate(resp[:0], req.Key))
		c.out.deflate = true
	} else {
		c.queueCtrlLocked(ws.AppendUpgradeResponse(resp[:0], req.Key))
	}
	c.mu.Unlock()
	if deflate {
		s.stats.WSDeflateConns.Add(1)
	}
	r.Skip(n)
	c.ws = &wsReader{deflate: deflate}
	c.ws.asm.Reset(&s.wsMessages)
	c.mode = modeFrames
	return 0
}

// upgradeLimit bounds the HTTP Upgrade request.
func (c *Conn) upgradeLimit() int {
	if l := c.srv.set.wsMaxHeader; l > 0 {
		return l
	}
	return ws.DefaultMaxHeaderSize
}

// frameLimit is the largest data frame payload accepted now: the configured limit, and no more
// than one package under the body limit in force.
func (c *Conn) frameLimit() int {
	return min(c.srv.set.wsMaxFrame, codec.HeaderSize+c.maxBody())
}

// messageLimit is the largest data message accepted now.
func (c *Conn) messageLimit() int {
	return min(c.srv.set.wsMaxMessage, codec.HeaderSize+c.maxBody())
}

// readFrame decodes one WebSocket frame from r: the header is checked (masking, opcode, sizes)
// before the payload is waited for; the payload is unmasked in place. Returns bytes needed, or 0.
// Reader only.
func (c *Conn) readFrame(r *input, b *batch) int {
	avail := r.Len()
	if avail < 2 {
		return 2
	}
	head := r.Peek(min(avail, ws.MaxFrameHeaderSize))
	h, hn, err := c.srv.wsFrames.ParseHeader(head)
	if err == ws.ErrShortBuffer {
		return hn
	}
	if err == nil {
		err = c.checkFrame(h)
	}
	if err != nil {
		c.wsError(err)
		return 0
	}
	total := hn + h.Length
	if avail < total {
		return total
	}
	f := r.Peek(total)
	payload := f[hn:]
	ws.Unmask(h.Mask, 0, payload)
	m, ok, err := c.ws.asm.Push(h, payload)
	if err != nil {
		c.wsError(err)
		return 0
	}
	b.bytes += uint64(total)
	if ok {
		c.wsMessage(m, b)
	}
	r.Skip(total)
	return 0
}

// checkFrame applies the size limits to a data frame header and tracks the message size.
// Reader only.
func (c *Conn) checkFrame(h ws.Header) error {
	if h.Op.IsControl() {
		return nil
	}
	if h.Compressed && !c.ws.deflate {
		return ws.ErrReservedBits // RSV1 without permessage-deflate
	}
	if err := c.ws.asm.CheckHeader(h); err != nil {
		return err
	}
	if h.Length > c.frameLimit() {
		return ws.ErrMessageTooBig
	}
	if h.Op != ws.OpContinuation {
		c.ws.msgLen = 0
	}
	c.ws.msgLen += h.Length
	if c.ws.msgLen > c.messageLimit() {
		return ws.ErrMessageTooBig
	}
	return nil
}

// wsMessage handles a whole message or control frame. A data message must hold exactly one whole
// package, as pomelo's server requires.
// Reader only.
func (c *Conn) wsMessage(m ws.Message, b *batch) {
	s := c.srv
	switch m.Op {
	case ws.OpBinary, ws.OpText:
		if m.Compressed {
			c.wsInflated(m, b)
			return
		}
		p, n, err := codec.ParsePacket(m.Payload, c.maxBody())
		switch {
		case err == codec.ErrUnknownType:
			c.protocolError(&s.stats.ErrBadType, "bad package type", int(m.Payload[0]))
			return
		case err == codec.ErrBodyTooLarge:
			s.stats.ErrBodyTooLarge.Add(1)
			c.wsClose(ws.StatusMessageTooBig)
			return
		case err != nil || n != len(m.Payload):
			c.protocolError(&s.stats.ErrWSPackageCount, "websocket message is not exactly one package", len(m.Payload))
			return
		}
		b.pkts++
		c.handlePackage(p.Type, p.Body)
	case ws.OpPing:
		s.stats.WSPings.Add(1)
		var pong [2 + ws.MaxControlPayload]byte
		c.mu.Lock()
		c.queueCtrlLocked(ws.AppendFrame(pong[:0], ws.OpPong, m.Payload))
		c.mu.Unlock()
	case ws.OpClose:
		s.stats.WSCloses.Add(1)
		code, _, err := ws.ParseCloseData(m.Payload)
		if err != nil {
			c.wsError(err)
			return
		}
		if code == ws.StatusNoStatusRcvd {
			code = ws.StatusNormalClosure
		}
		c.wsCloseReason(code, CloseByPeer)
	}
}

// wsInflated handles a compressed data message: inflated within the message limit into a pooled
// buffer, which is released once its package has been handled.
// Reader only.
func (c *Conn) wsInflated(m ws.Message, b *batch) {
	buf := inflateBufs.Get()
	defer inflateBufs.Put(buf)
	out, err := ws.Inflate(buf.B[:0], m.Payload, c.messageLimit())
	buf.B = out
	if err == nil && m.Op == ws.OpText && !utf8.Valid(out) {
		err = ws.ErrInvalidUTF8
	}
	if err != nil {
		c.wsError(err)
		return
	}
	c.srv.stats.WSInflated.Add(1)
	c.wsMessage(ws.Message{Op: m.Op, Payload: out}, b)
}

// wsError counts a WebSocket protocol error and closes with the status code it carries.
// Reader only.
func (c *Conn) wsError(err error) {
	s := c.srv
	code := ws.CloseCode(err)
	if code == ws.StatusMessageTooBig {
		s.stats.ErrWSTooLarge.Add(1)
	} else {
		s.stats.ErrWSFrame.Add(1)
	}
	s.log.Debug("hybrid: websocket protocol error", "id", c.id, "remote", c.RemoteAddr(), "err", err)
	c.wsClose(code)
}

// wsClose sends a Close frame with code after what is queued, then closes.
// Reader only.
func (c *Conn) wsClose(code ws.StatusCode) {
	c.wsCloseReason(code, CloseProtocolError)
}

func (c *Conn) wsCloseReason(code ws.StatusCode, reason CloseReason) {
	c.stopRead = true
	c.closeAfterFlush(reason, code)
}
