package driver

import (
	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/codec/pomelopb"
	"github.com/shaddock-io/shaddock/loadgen/internal/wire"
)

// Chat demo push routes that change a room's membership (chat-demo.md, chatRemote.add/kick).
const (
	routeOnAdd   = "onAdd"
	routeOnLeave = "onLeave"
)

// data handles the message in a DATA package.
func (l *loop) data(c *conn, body []byte) {
	var m codec.Message
	if err := codec.ParseMessage(body, &m); err != nil {
		l.protoError(c, err.Error())
		return
	}
	switch m.Type {
	case codec.Response:
		l.response(c, &m)
	case codec.Push:
		l.push(c, &m)
	default:
		l.protoError(c, "unexpected "+m.Type.String()+" from server")
	}
}

// response matches a response to its request, records its latency and keeps the pipeline full.
func (l *loop) response(c *conn, m *codec.Message) {
	i, res := c.ring.find(m.ID)
	switch res {
	case late:
		l.st.C[Late]++
		return
	case unknown:
		l.protoError(c, "response to an id never sent")
		return
	}
	slot := c.ring.s[i]
	c.ring.complete(i)
	l.g.Inflight--
	p := &c.sess.p[slot.kind]
	switch slot.kind {
	case kindEntry, kindTrigger:
		code, users, ok := l.decodeResponse(p, m.Body, slot.kind == kindEntry)
		if !ok {
			l.protoError(c, "undecodable response on "+p.route)
			return
		}
		if code != wire.CodeOK {
			l.st.C[SetupErrors]++
			l.codeError(p.route, code)
			l.setupFailed(c)
			return
		}
		// onAdd/onLeave pushes for later joiners can overtake this response (the server answers
		// after its join, other joins push meanwhile), so they add to the list, not the reverse.
		c.members += users
		l.setReady(c)
	default:
		l.st.C[Responses]++
		l.st.Lat.Record(l.now - slot.sent)
		code, _, ok := l.decodeResponse(p, m.Body, false)
		switch {
		case !ok:
			l.st.C[ProtoErrors]++
		case code != wire.CodeOK:
			l.st.C[ErrResponses]++
			l.codeError(p.route, code)
		case slot.kind == kindSend:
			l.st.C[ChatExpected] += uint64(c.members)
		}
		if l.phase == PhaseHold && !l.openLoop && c.state == stReady {
			l.fill(c)
		}
	}
	if c.ring.live == 0 {
		l.updateDrained()
	}
}

// decodeResponse returns a response's top-level code (200 when it has none, as for an echo) and,
// when countUsers is set, the length of its users array (chat entry). ok is false when a
// pomelo-protobuf body does not decode with the route's server proto.
func (l *loop) decodeResponse(p *prepared, body []byte, countUsers bool) (code, users int, ok bool) {
	code = wire.CodeOK
	if p.resp == nil {
		if raw, found := wire.TopField(body, "code"); found {
			v, isInt := wire.ParseInt(raw)
			if !isInt {
				return 0, 0, true // a code that is not a number is not 200
			}
			code = int(v)
		}
		if countUsers {
			if raw, found := wire.TopField(body, "users"); found {
				users, _ = wire.ArrayLen(raw)
			}
		}
		return code, users, true
	}
	d := &l.pb
	d.Reset(p.resp, body)
	for {
		f, err := d.Next()
		if err != nil {
			return 0, 0, false
		}
		if f == nil {
			return code, users, true
		}
		switch {
		case f.Name() == "code" && isNumber(f.Type()):
			v, err := d.Number()
			if err != nil {
				return 0, 0, false
			}
			code = int(v)
		case countUsers && f.Name() == "users":
			users += d.Remaining()
		}
	}
}

func isNumber(t pomelopb.Type) bool {
	return t != pomelopb.TypeString && t != pomelopb.TypeMessage
}

// push counts a server push and, where the payload carries a send time, records its latency.
// A push whose route has a server proto must decode with it.
func (l *loop) push(c *conn, m *codec.Message) {
	if err := m.ResolveRoute(c.sess.srv); err != nil {
		l.protoError(c, "push: "+err.Error())
		return
	}
	route := m.Route
	proto := c.sess.srv.ServerProtos.LookupBytes(route)
	if proto != nil && !l.decodes(proto, m.Body) {
		l.st.C[ProtoErrors]++
		l.st.addError("push " + string(route) + " does not decode with its server proto")
		return
	}
	l.st.C[Pushes]++
	switch l.cfg.Scenario {
	case Chat:
		switch string(route) {
		case l.cfg.ChatPush:
			l.st.C[PushesMatched]++
			if ts, ok := l.pushField(proto, m.Body, "msg"); ok {
				l.st.Push.Record(wallNow() - ts)
			}
		case routeOnAdd:
			c.members++
		case routeOnLeave:
			c.members--
		}
	default:
		if l.cfg.PushRoute != "" && string(route) != l.cfg.PushRoute {
			return
		}
		l.st.C[PushesMatched]++
		if l.cfg.PushTSField == "" {
			return
		}
		if ts, ok := l.pushField(proto, m.Body, l.cfg.PushTSField); ok {
			l.st.Push.Record(wallNow() - ts*int64(l.cfg.PushTSUnit))
		}
	}
}

// decodes reports whether body is a valid message of type proto.
func (l *loop) decodes(proto *pomelopb.Message, body []byte) bool {
	d := &l.pb
	d.Reset(proto, body)
	for {
		f, err := d.Next()
		if err != nil {
			return false
		}
		if f == nil {
			return true
		}
	}
}

// pushField reads an integer from top-level field name of a push body: a number, or a string of
// digits. proto is the push route's server proto, nil for JSON.
func (l *loop) pushField(proto *pomelopb.Message, body []byte, name string) (int64, bool) {
	if proto == nil {
		raw, ok := wire.TopField(body, name)
		if !ok {
			return 0, false
		}
		return wire.ParseInt(raw)
	}
	d := &l.pb
	d.Reset(proto, body)
	for {
		f, err := d.Next()
		if err != nil || f == nil {
			return 0, false
		}
		if f.Name() != name {
			continue
		}
		if f.Type() == pomelopb.TypeString {
			b, err := d.BytesUnsafe()
			if err != nil {
				return 0, false
			}
			return wire.ParseInt(b)
		}
		if isNumber(f.Type()) {
			v, err := d.Number()
			return int64(v), err == nil
		}
		return 0, false
	}
}

// codeError notes an error code in the report's error list (error path only: it allocates).
func (l *loop) codeError(route string, code int) {
	l.st.addError(route + " answered code " + string(appendInt(nil, int64(code))))
}
