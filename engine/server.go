package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/codec/pomelopb"
	"github.com/shaddock-io/shaddock/dict"
	"github.com/shaddock-io/shaddock/hybrid"
	"github.com/shaddock-io/shaddock/rpc"
	"github.com/shaddock-io/shaddock/scheduler"
)

// Pipeline errors (answered {"code":500} on requests).
var (
	ErrHandlerNotFound = errors.New("engine: handler not found")
	ErrRouteParts      = errors.New("engine: route does not have three parts")
	ErrNoForwarder     = errors.New("engine: route belongs to another server type and no Forwarder is set")
	ErrBadSignature    = errors.New("engine: missing or bad __crypto__ signature")
)

// attackMethod is the method name pomelo 2.x treats as an attack (it would reach
// Object.prototype.constructor); the session is kicked with reason "attack".
const attackMethod = "constructor"

// AttackKickReason is the kick reason for a route whose method is "constructor".
const AttackKickReason = "attack"

// maxPooledBuf bounds the buffers a recycled Context keeps.
const maxPooledBuf = 64 << 10

// Server is one running server of an App. A frontend holds the client connections (through the
// hybrid transport), their sessions and the push scheduler, and runs the request pipeline for
// every message; routes of other server types are forwarded (over RPC in a cluster, or to the
// Forwarder). A backend (NewClusterServer with a non-frontend entry) runs the pipeline for the
// requests frontends forward to it. Both hold channels and serve their type's remotes.
//
// All exported methods are safe for concurrent use.
type Server struct {
	noCopy noCopy

	app  *App
	cfg  ServerConfig
	opts serverOptions
	log  *slog.Logger

	table  *dict.Table
	routes map[string]*route // registered routes (read-only)
	byCode []*route          // dictionary code-1 → route; unregistered names get a transient route

	globalBefore []BeforeFilter
	globalAfter  []AfterFilter
	before       []BeforeFilter
	after        []AfterFilter
	errHandler   ErrorHandler
	stamp        bool // some filter reads Context.Start: stamp every request on arrival

	sessions *SessionService
	channels *ChannelService
	sched    scheduler.Scheduler

	tmu      sync.Mutex     // guards hs, started, rpcLn
	hs       *hybrid.Server // created by the first Serve
	started  bool           // Start was called
	rpcLn    net.Listener   // the RPC acceptor's listener, once started
	clientLn net.Listener   // the client listener, once started
	serveWG  sync.WaitGroup // the goroutines Start began

	cluster *cluster // nil unless created by NewClusterServer; read-only

	sysExtra [2][2][]byte // handshake "sys" members: [dict sent][protos sent]
	protoVer string       // pomelo's protoVersion of the app's descriptions

	ctxPool  sync.Pool // of *Context
	pushPool sync.Pool // of *pushBuf

	stats counters
}

// serverOptions holds the hooks set by ServerOption.
type serverOptions struct {
	forwarder     Forwarder
	checkClient   func(clientType, version string) bool
	handshake     HandshakeHook
	sessionHooks  sessionHooks
	channelRemote ChannelRemote

	clientLn, rpcLn      net.Listener
	configure            []func(*ServerConfig)
	rpcClient, rpcServer []rpc.Option
}

// ServerOption sets a hook on a Server.
type ServerOption struct{ f func(*serverOptions) }

// WithForwarder sets where requests for other server types go, instead of the cluster's
// msgRemote.forwardMessage (tests, custom transports). A lone server without one answers them
// {"code":500}.
func WithForwarder(f Forwarder) ServerOption {
	return ServerOption{func(o *serverOptions) { o.forwarder = f }}
}

// WithCheckClient refuses handshakes (code 501) for which f returns false, like pomelo's
// connector option checkClient(type, version).
func WithCheckClient(f func(clientType, version string) bool) ServerOption {
	return ServerOption{func(o *serverOptions) { o.checkClient = f }}
}

// WithHandshake sets the user handshake hook (pomelo's connector option handshake(msg, cb)).
func WithHandshake(f HandshakeHook) ServerOption {
	return ServerOption{func(o *serverOptions) { o.handshake = f }}
}

// OnSessionBind subscribes f to every bind (pomelo's bind_session event).
func OnSessionBind(f func(s *Session, uid string)) ServerOption {
	return ServerOption{func(o *serverOptions) { o.sessionHooks.bind = append(o.sessionHooks.bind, f) }}
}

// OnSessionUnbind subscribes f to every unbind (unbind_session).
func OnSessionUnbind(f func(s *Session, uid string)) ServerOption {
	return ServerOption{func(o *serverOptions) { o.sessionHooks.unbind = append(o.sessionHooks.unbind, f) }}
}

// OnSessionClosed subscribes f to every session close (close_session).
func OnSessionClosed(f func(s *Session, reason string)) ServerOption {
	return ServerOption{func(o *serverOptions) { o.sessionHooks.closed = append(o.sessionHooks.closed, f) }}
}

// WithChannelRemote sets how channel pushes reach members on other frontends, instead of the
// cluster's channelRemote.pushMessage (tests, custom transports).
func WithChannelRemote(r ChannelRemote) ServerOption {
	return ServerOption{func(o *serverOptions) { o.channelRemote = r }}
}

// Forwarder sends requests for other server types to a server of that type (pomelo's
// msgRemote.forwardMessage) and hands back the response.
type Forwarder interface {
	// Forward must not block; it calls done exactly once, from any goroutine, with the response
	// object as JSON text (the engine encodes it for the client, with serverProtos when the route
	// has a description) or an error (the client gets {"code":500}). For notifies the response is
	// ignored.
	Forward(req *ForwardRequest, done func(resp json.RawMessage, err error))
}

// ForwardRequest is a message for another server type.
type ForwardRequest struct {
	ServerType string
	Route      string
	ID         uint32          // 0 for a notify
	Body       json.RawMessage // the decoded body as JSON text; valid until done is called
	Session    SessionExport
}

// NewServer creates a server of the application. The first call freezes the App's registration
// and builds the dictionary. The server does not accept connections until it is started.
func (a *App) NewServer(cfg ServerConfig, opts ...ServerOption) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	table, err := a.Dictionary()
	if err != nil {
		return nil, err
	}
	s := &Server{app: a, cfg: cfg, log: cfg.logger(), table: table, routes: a.routes}
	for _, o := range opts {
		if o.f != nil {
			o.f(&s.opts)
		}
	}
	s.globalBefore, s.globalAfter = a.globalBefore, a.globalAfter
	s.before, s.after, s.errHandler = a.chainFor(cfg.Type)
	s.stamp = usesStart(s.globalBefore, s.globalAfter, s.before, s.after)
	s.byCode = make([]*route, table.Len())
	for code, name := range table.All() {
		r := a.routes[name]
		if r == nil {
			r = s.transientRoute(name)
		}
		s.byCode[code-1] = r
	}
	s.sched, err = scheduler.New(cfg.Scheduler)
	if err != nil {
		return nil, err
	}
	s.sessions = newSessionService(cfg.ID, cfg.SingleSession, s.opts.sessionHooks, s.log)
	s.channels = newChannelService(s)
	s.renderHandshake()
	s.ctxPool.New = func() any { return newContext() }
	s.pushPool.New = func() any { return new(pushBuf) }
	return s, nil
}

// transientRoute describes a route name with no registered handler.
func (s *Server) transientRoute(name string) *route {
	st, _, _ := cutRoute(name)
	return &route{name: name, serverType: st,
		reqPB: s.app.cfg.ClientProtos.Lookup(name), respPB: s.app.cfg.ServerProtos.Lookup(name),
		appendResp: appendBody}
}

// cutRoute returns the server type and whether the route has a '.' and exactly three parts.
func cutRoute(name string) (serverType string, hasDot, threeParts bool) {
	if st, _, _, ok := splitRoute(name); ok {
		return st, true, true
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			return name[:i], true, false
		}
	}
	return "", false, false
}

// Config returns the server's configuration.
func (s *Server) Config() ServerConfig { return s.cfg }

// App returns the application.
func (s *Server) App() *App { return s.app }

// Sessions returns the session service.
func (s *Server) Sessions() *SessionService { return s.sessions }

// Channels returns the local channel service.
func (s *Server) Channels() *ChannelService { return s.channels }

// Dictionary returns the route dictionary.
func (s *Server) Dictionary() *dict.Table { return s.table }

// Logger returns the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

func (s *Server) reqPB(r *route) *pomelopb.Message {
	if !s.cfg.UseProtobuf {
		return nil
	}
	return r.reqPB
}

func (s *Server) respPB(r *route) *pomelopb.Message {
	if !s.cfg.UseProtobuf {
		return nil
	}
	return r.respPB
}

// open creates the session of a connection whose handshake completed.
func (s *Server) open(c Conn) *Session { return s.sessions.create(c) }

// closed removes the session of a closed connection.
func (s *Server) closed(sess *Session, reason string) { s.sessions.remove(sess, reason) }

// readBatchDone flushes the responses enqueued during one read, with one write, whatever the
// scheduler (pushes follow the scheduler's policy; responses to a read batch leave at its end).
func (s *Server) readBatchDone(sess *Session) {
	if c := sess.spare; c != nil {
		sess.spare = nil
		s.ctxPool.Put(c)
	}
	if sess.needFlush {
		sess.needFlush = false
		_ = sess.conn.Flush()
	}
}

// data runs the pipeline for one DATA package body, on the connection's read goroutine.
func (s *Server) data(sess *Session, body []byte) {
	var m codec.Message
	if err := codec.ParseMessage(body, &m); err != nil || (m.Type != codec.Request && m.Type != codec.Notify) {
		s.stats.malformed.Add(1)
		s.log.Debug("engine: malformed message dropped", "session", sess.id, "err", err, "type", m.Type)
		return
	}
	var r *route
	if m.Compressed {
		if !s.cfg.UseDict {
			s.stats.noDict.Add(1)
			s.log.Debug("engine: compressed route without useDict, message dropped", "session", sess.id, "code", m.Code)
			return
		}
		if m.Code == 0 || int(m.Code) > len(s.byCode) {
			s.stats.unknownCode.Add(1)
			s.log.Debug("engine: unknown route code, message dropped", "session", sess.id, "code", m.Code)
			return
		}
		r = s.byCode[m.Code-1]
	} else if r = s.routes[string(m.Route)]; r == nil {
		r = s.transientRoute(string(m.Route))
	}
	c := s.acquire(sess, &m, r)
	if s.cfg.UseCrypto && !c.verify() {
		s.stats.badSignature.Add(1)
		s.log.Debug("engine: message without a valid signature rejected", "session", sess.id, "route", r.name)
		c.err = ErrBadSignature
		c.respond()
		s.release(c)
		return
	}
	if r.invoke == nil && !s.classify(c) {
		return
	}
	c.run()
}

// classify applies pomelo's rules to a route with no registered handler. It reports whether the
// message goes on through the pipeline (to the Forwarder, or to "handler not found").
func (s *Server) classify(c *Context) bool {
	_, hasDot, three := cutRoute(c.route.name)
	switch {
	case !hasDot:
		s.stats.noDot.Add(1)
		s.log.Debug("engine: route without '.', message dropped", "session", c.sess.id, "route", c.route.name)
		s.release(c)
		return false
	case !three:
		s.stats.badRoute.Add(1)
		c.err = fmt.Errorf("%w: %q", ErrRouteParts, c.route.name)
		c.respond()
		s.release(c)
		return false
	}
	if _, _, method, _ := splitRoute(c.route.name); method == attackMethod {
		s.stats.attacks.Add(1)
		sid := c.sess.id
		s.log.Warn("engine: attack route, session kicked", "session", sid, "route", c.route.name)
		s.release(c)
		_ = s.sessions.KickBySessionID(sid, AttackKickReason)
		return false
	}
	return true
}

// acquire returns a recycled Context for a message.
func (s *Server) acquire(sess *Session, m *codec.Message, r *route) *Context {
	c := sess.spare
	if c != nil {
		sess.spare = nil
	} else {
		c = s.ctxPool.Get().(*Context)
	}
	c.srv, c.sess, c.route = s, sess, r
	c.typ, c.id, c.body = m.Type, m.ID, m.Body
	c.reqPB = s.reqPB(r)
	if s.stamp {
		c.start = time.Now()
	}
	c.inline, c.pooled = true, true
	return c
}

// release recycles c unless it ever left the read goroutine: a request read from a session
// leaves it as the session's spare for the next request of the read batch (a pipelining client
// sends several), which ReadBatchDone returns to the pool.
func (s *Server) release(c *Context) {
	if !c.pooled {
		return
	}
	sess, inline := c.sess, c.inline // inline: still on the read goroutine (never parked)
	if c.forwarded {
		msg, body := trimBuf(c.fr.msg), trimBuf(c.fr.body)
		c.ctxForward = ctxForward{fr: forwardRes{msg: msg, body: body}}
	}
	if c.remote {
		c.ctxRemote = ctxRemote{}
	}
	c.ctxRequest = ctxRequest{}
	clear(c.values)
	c.values = c.values[:0]
	c.buf, c.jbuf, c.out = trimBuf(c.buf), trimBuf(c.jbuf), trimBuf(c.out)
	c.sbuf, c.mbuf = trimBuf(c.sbuf), trimBuf(c.mbuf)
	if inline && sess != nil && sess.spare == nil {
		sess.spare = c
		return
	}
	s.ctxPool.Put(c)
}

func trimBuf(b []byte) []byte {
	if cap(b) > maxPooledBuf {
		return nil
	}
	return b[:0]
}

// respond sends the response of a request (notifies are never answered).
func (c *Context) respond() {
	if c.remote {
		c.respondRemote()
		return
	}
	s := c.srv
	if c.typ == codec.Notify {
		if c.resp != nil && c.err == nil {
			s.log.Debug("engine: handler response to a notify dropped", "route", c.route.name)
		}
		return
	}
	resp := c.resp
	if c.err != nil {
		s.stats.errorResponses.Add(1)
		if !c.explicit {
			resp = codeBody(errorCode(c.err))
		}
	}
	buf, at := codec.BeginPacket(c.out[:0], codec.TypeData)
	buf = codec.AppendResponse(buf, c.id, nil)
	mark := len(buf)
	appendResp := c.route.appendResp
	if appendResp == nil {
		appendResp = appendBody
	}
	buf, err := appendResp(buf, s.respPB(c.route), resp)
	if err != nil {
		// pomelo sends the response with an empty body when its encoder fails.
		s.stats.encodeErrors.Add(1)
		s.log.Warn("engine: response does not encode, sent with an empty body", "route", c.route.name, "err", err)
		buf = buf[:mark]
	}
	if err := codec.EndPacket(buf, at); err != nil {
		s.stats.encodeErrors.Add(1)
		s.log.Warn("engine: response too large, dropped", "route", c.route.name, "err", err)
		return
	}
	c.out = buf
	conn := c.sess.conn
	if c.inline {
		if err := conn.Enqueue(buf); err == nil {
			c.sess.needFlush = true
		}
		return
	}
	s.sched.ScheduleOne(buf, conn)
}

// forward hands the request to the Forwarder, or to a server of the route's type over RPC. It
// reports whether the driver must stop (the answer comes later).
func (c *Context) forward() bool {
	f := c.srv.opts.forwarder
	switch {
	case f != nil:
		return c.forwardWith(f)
	case c.srv.cluster != nil:
		return c.forwardRPC()
	}
	c.err = ErrNoForwarder
	return false
}

// forwardWith hands the request to a Forwarder set with WithForwarder.
func (c *Context) forwardWith(f Forwarder) bool {
	_ = c.Suspend()
	body, err := c.jsonOrWire()
	if err != nil {
		c.err = err
		c.susp.Store(suspRunning)
		return false
	}
	if c.reqPB == nil && c.route.reqKind != kindProto && !validJSON(body) {
		body = emptyObject
	}
	c.srv.stats.forwarded.Add(1)
	req := &ForwardRequest{ServerType: c.route.serverType, Route: c.route.name, ID: c.id, Body: body,
		Session: c.sess.Export()}
	var once sync.Once
	f.Forward(req, func(resp json.RawMessage, err error) {
		once.Do(func() {
			if err == nil && resp != nil {
				c.resp = append(json.RawMessage(nil), resp...)
			}
			c.err = err
			c.Resume(nil)
		})
	})
	return c.park()
}

// SchedulerStats returns the push scheduler's counters (one Flush is one write).
func (s *Server) SchedulerStats() scheduler.Stats { return s.sched.Stats() }
