package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/rpc"
)

// forwardRPC sends the request to a server of its type with msgRemote.forwardMessage (pomelo's
// doForward): the server is chosen by the type's route function with the session as route
// parameter, or by crc32(uid). Arguments are encoded by the RPC client straight into its
// outbound buffer, from the Context's reused forwardArgs; the answer is decoded into the
// Context's forwardRes and the pipeline resumes on the goroutine that received it. A request
// waits for the answer; a notify is sent as an RPC notification and the pipeline goes on. It
// reports whether the driver must stop.
func (c *Context) forwardRPC() bool {
	s := c.srv
	cl := s.cluster
	target, err := cl.route(c.route.serverType, c.sess)
	if err != nil {
		c.forwardFailed(err)
		return false
	}
	body, err := c.jsonOrWire()
	if err != nil {
		c.err = err
		return false
	}
	if c.reqPB == nil && c.route.reqKind != kindProto && !validJSON(body) {
		body = emptyObject
	}
	var uid string
	c.sbuf, uid = c.sess.appendSnapshot(c.sbuf[:0])
	c.forwarded = true
	c.fa = forwardArgs{id: c.id, typ: c.typ, route: c.route.name, body: body, sid: c.sess.id,
		frontend: c.sess.frontendID, uid: uid, settings: c.sbuf}
	s.stats.forwarded.Add(1)
	if c.typ == codec.Notify {
		if err := cl.notify(context.Background(), target, cl.mForward, &c.fa); err != nil {
			c.forwardFailed(err)
		}
		return false
	}
	// The arguments are encoded before goCall returns, but global after filters may still read
	// the body once the transport's read buffer is gone.
	c.copyBody()
	c.resumeErr = nil
	c.susp.Store(suspSuspending)
	if err := cl.goCall(context.Background(), target, cl.mForward, &c.fa, &c.fr, c.fdone); err != nil {
		c.susp.Store(suspRunning)
		c.forwardFailed(err)
		return false
	}
	return c.park()
}

// forwardFailed records a forwarding failure: the client is answered {"code":500}.
func (c *Context) forwardFailed(err error) {
	s := c.srv
	s.stats.forwardErrors.Add(1)
	c.err = fmt.Errorf("%w: %s: %w", ErrForward, c.route.name, err)
	s.log.Debug("engine: forward failed", "route", c.route.name, "err", err)
}

// forwardDone completes a forwarded request (bound once per Context as fdone). It runs on the
// goroutine that completed the call: the RPC connection's reader, a timer, or whoever saw the
// connection fail.
func (c *Context) forwardDone(err error) {
	switch {
	case err != nil:
		c.forwardFailed(err)
	case c.fr.code != 0:
		c.err = &CodeError{Code: c.fr.code, Err: &rpc.Error{Code: c.fr.code, Message: string(c.fr.msg)}}
		c.resp, c.explicit = &c.fr.body, true
	default:
		c.resp = &c.fr.body
	}
	c.Resume(nil)
}

// serveForward is msgRemote.forwardMessage on this server: it runs the local pipeline (before
// filters of the type, handler, error handler, after filters) for a request a frontend received,
// with the session snapshot as a BackendSession, and answers with the response body or the
// error's code and message. It runs on the RPC connection's read goroutine; a request that
// suspends answers later from whichever goroutine resumes it.
func (s *Server) serveForward(_ context.Context, args []byte, r rpc.Reply) {
	var in forwardIn
	if err := in.decode(args); err != nil {
		r.Error(rpc.NewError(rpc.CodeCodec, err.Error()))
		return
	}
	rt := s.routes[string(in.route)]
	if rt == nil || rt.serverType != s.cfg.Type {
		rt = s.transientRoute(string(in.route)) // no handler here: ErrHandlerNotFound
	}
	c := s.ctxPool.Get().(*Context)
	c.srv, c.route, c.remote, c.rreply = s, rt, true, r
	c.typ, c.id, c.body = in.typ, in.id, in.body
	c.rsid, c.rfid = in.sid, s.cluster.serverName(in.frontend)
	c.mbuf = append(append(c.mbuf[:0], in.uid...), in.settings...)
	c.ruid, c.rsettings = c.mbuf[:len(in.uid)], c.mbuf[len(in.uid):]
	if s.stamp {
		c.start = time.Now()
	}
	c.inline, c.pooled = true, true
	c.stage = stLocalBefore
	s.stats.forwardedIn.Add(1)
	c.run()
}

// serverName returns the canonical id string of a server named by b (no allocation for a listed
// server).
func (cl *cluster) serverName(b []byte) string {
	if si := cl.byID[string(b)]; si != nil {
		return si.ID
	}
	return string(b)
}

// respondRemote answers a forwarded request through its RPC reply: the response as the client
// will get it (JSON text; the frontend applies its protobuf description), with the error's code
// and message when the pipeline ended with an error.
func (c *Context) respondRemote() {
	s := c.srv
	if c.typ == codec.Notify {
		if c.resp != nil && c.err == nil {
			s.log.Debug("engine: handler response to a notify dropped", "route", c.route.name)
		}
		c.rreply.Return(nil) // runs the RPC after filters; nothing is sent
		return
	}
	c.fo = forwardOut{}
	resp := c.resp
	if c.err != nil {
		s.stats.errorResponses.Add(1)
		c.fo.code, c.fo.msg = errorCode(c.err), c.err.Error()
		if c.fo.code == 0 {
			c.fo.code = DefaultErrorCode
		}
		if !c.explicit {
			resp = codeBody(c.fo.code)
		}
	}
	appendResp := c.route.appendResp
	if appendResp == nil {
		appendResp = appendBody
	}
	out, err := appendResp(c.out[:0], nil, resp)
	if err != nil {
		s.stats.encodeErrors.Add(1)
		s.log.Warn("engine: response does not encode, sent with an empty body", "route", c.route.name, "err", err)
		out = c.out[:0]
	}
	c.out, c.fo.body = out, out
	c.rreply.Return(&c.fo)
}
