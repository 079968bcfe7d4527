package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shaddock-io/shaddock/hybrid"
	"github.com/shaddock-io/shaddock/rpc"
)

// Cluster errors.
var (
	ErrNotCluster    = errors.New("engine: server was not created with NewClusterServer")
	ErrNoServer      = errors.New("engine: no server of that type")
	ErrUnknownServer = errors.New("engine: unknown server id")
	ErrStarted       = errors.New("engine: server already started")
	ErrSelfNotListed = errors.New("engine: the server is not in the cluster's server list")
	ErrForward       = errors.New("engine: forwarding to the backend failed")
)

// cluster is what a server created by NewClusterServer knows about the other servers: the static
// list from servers.json, the mailboxes to them (one rpc.Client per server id, created on first
// use and reconnected with backoff by package rpc) and its own acceptor. Every field is read-only
// after NewClusterServer, except what package rpc guards itself.
type cluster struct {
	self    ServerInfo
	all     []ServerInfo
	byID    map[string]*ServerInfo  // into all
	byType  map[string][]ServerInfo // servers.json order within each type
	routers map[string]RouteFunc    // by server type; "" is the default

	station *rpc.Station
	addMu   sync.Mutex // serialises the lazy Station.Add of a server id
	acceptr *rpc.Server

	methods                              map[rpc.MethodName]rpc.Method // every sys and user method, pre-declared
	mForward, mChannelPush, mChannelCast rpc.Method
}

// Names of the sys remotes (pomelo's lib/common/remote).
var (
	nameForward     = rpc.MethodName{Namespace: "sys", Service: "msgRemote", Method: "forwardMessage"}
	nameBind        = rpc.MethodName{Namespace: "sys", Service: "sessionRemote", Method: "bind"}
	nameUnbind      = rpc.MethodName{Namespace: "sys", Service: "sessionRemote", Method: "unbind"}
	namePush        = rpc.MethodName{Namespace: "sys", Service: "sessionRemote", Method: "push"}
	namePushAll     = rpc.MethodName{Namespace: "sys", Service: "sessionRemote", Method: "pushAll"}
	nameBySID       = rpc.MethodName{Namespace: "sys", Service: "sessionRemote", Method: "getBackendSessionBySid"}
	nameByUID       = rpc.MethodName{Namespace: "sys", Service: "sessionRemote", Method: "getBackendSessionsByUid"}
	nameKickBySID   = rpc.MethodName{Namespace: "sys", Service: "sessionRemote", Method: "kickBySid"}
	nameKickByUID   = rpc.MethodName{Namespace: "sys", Service: "sessionRemote", Method: "kickByUid"}
	nameChannelPush = rpc.MethodName{Namespace: "sys", Service: "channelRemote", Method: "pushMessage"}
	nameChannelCast = rpc.MethodName{Namespace: "sys", Service: "channelRemote", Method: "broadcast"}
)

// WithClientListener makes Start serve clients on ln instead of listening on the client address
// (tests pass a listener on a free port). Only frontends use it.
func WithClientListener(ln net.Listener) ServerOption {
	return ServerOption{func(o *serverOptions) { o.clientLn = ln }}
}

// WithRPCListener makes Start accept RPC connections on ln, which must be a *net.TCPListener,
// instead of listening on host:port from servers.json.
func WithRPCListener(ln net.Listener) ServerOption {
	return ServerOption{func(o *serverOptions) { o.rpcLn = ln }}
}

// WithConfig lets the caller adjust the configuration NewClusterServer derived for this server
// (a logger, a scheduler, another client address) before it is validated.
func WithConfig(f func(cfg *ServerConfig)) ServerOption {
	return ServerOption{func(o *serverOptions) { o.configure = append(o.configure, f) }}
}

// WithRPCClientOptions adds hooks (filters) to the mailboxes of the server (pomelo's rpcBefore,
// rpcAfter on the calling side).
func WithRPCClientOptions(opts ...rpc.Option) ServerOption {
	return ServerOption{func(o *serverOptions) { o.rpcClient = append(o.rpcClient, opts...) }}
}

// WithRPCServerOptions adds hooks (filters) to the server's RPC acceptor.
func WithRPCServerOptions(opts ...rpc.Option) ServerOption {
	return ServerOption{func(o *serverOptions) { o.rpcServer = append(o.rpcServer, opts...) }}
}

// NewClusterServer creates the server self of a cluster whose members are all: every server of
// the env, in servers.json order (types in file order, entries in order within a type; the
// default router indexes each type's list in that order). self must be one of them (same ID).
//
// The configuration starts from the template set for self's type with SetServerConfig (or the
// "" template, or the zero ServerConfig); ID and Type come from self, and for a frontend the
// client address (clientHost:clientPort) and MaxConns (max-connections) too. WithConfig hooks
// run last.
//
// The server serves the sys remotes (msgRemote.forwardMessage on every server;
// sessionRemote.* and channelRemote.* on frontends) and the App's user remotes of its type, and
// forwards requests for other server types over RPC. Peers are static: one mailbox per remote
// server, connected on first use and reconnected with backoff. Several cluster servers may run
// in one process; they share nothing but the App.
func (a *App) NewClusterServer(self ServerInfo, all []ServerInfo, opts ...ServerOption) (*Server, error) {
	var o serverOptions
	for _, opt := range opts {
		if opt.f != nil {
			opt.f(&o)
		}
	}
	cl, err := newCluster(a, self, all)
	if err != nil {
		return nil, err
	}
	cfg := a.serverTemplate(self.Type)
	cfg.ID, cfg.Type = self.ID, self.Type
	if self.Frontend {
		cfg.Transport.Addr = self.ClientAddr()
		if self.MaxConnections > 0 {
			cfg.Transport.MaxConns = self.MaxConnections
		}
	}
	for _, f := range o.configure {
		f(&cfg)
	}
	s, err := a.NewServer(cfg, opts...)
	if err != nil {
		return nil, err
	}
	s.cluster = cl
	if err := s.initCluster(); err != nil {
		s.closeCluster()
		_ = s.sched.Close()
		return nil, err
	}
	return s, nil
}

// newCluster indexes the server list.
func newCluster(a *App, self ServerInfo, all []ServerInfo) (*cluster, error) {
	cl := &cluster{all: slices.Clone(all), byID: make(map[string]*ServerInfo, len(all)),
		byType: make(map[string][]ServerInfo), routers: a.routersCopy()}
	for i := range cl.all {
		si := &cl.all[i]
		if si.ID == "" || si.Type == "" || len(si.ID) > rpc.MaxNameLen {
			return nil, fmt.Errorf("%w: server %d has no id or type, or an id longer than %d bytes",
				ErrInvalidConfig, i, rpc.MaxNameLen)
		}
		if _, dup := cl.byID[si.ID]; dup {
			return nil, fmt.Errorf("%w: server id %q listed twice", ErrInvalidConfig, si.ID)
		}
		cl.byID[si.ID] = si
		cl.byType[si.Type] = append(cl.byType[si.Type], *si)
	}
	me, ok := cl.byID[self.ID]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrSelfNotListed, self.ID)
	}
	if me.Type != self.Type {
		return nil, fmt.Errorf("%w: %q is listed as type %q, not %q", ErrInvalidConfig, self.ID, me.Type, self.Type)
	}
	cl.self = self
	return cl, nil
}

// initCluster creates the station and the acceptor and registers the remotes.
func (s *Server) initCluster() error {
	cl := s.cluster
	ccfg := s.cfg.RPC.Client
	ccfg.Name, ccfg.Methods = s.cfg.ID, rpc.NewMethods()
	st, err := rpc.NewStation(ccfg, s.opts.rpcClient...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	cl.station = st
	if err := cl.declare(s.app); err != nil {
		return err
	}
	scfg := s.cfg.RPC.Server
	scfg.Name = s.cfg.ID
	if cl.acceptr, err = rpc.NewServer(scfg, s.opts.rpcServer...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return s.registerRemotes()
}

// declare puts every method this server may call in the station's table, once, so that calls
// find their handle with one map lookup.
func (cl *cluster) declare(app *App) error {
	cl.methods = make(map[rpc.MethodName]rpc.Method)
	m := func(n rpc.MethodName) rpc.Method {
		h, err := cl.station.Methods().Method(n)
		if err != nil {
			panic(err) // the sys names are short literals
		}
		cl.methods[n] = h
		return h
	}
	cl.mForward, cl.mChannelPush, cl.mChannelCast = m(nameForward), m(nameChannelPush), m(nameChannelCast)
	for _, n := range []rpc.MethodName{nameBind, nameUnbind, namePush, namePushAll, nameBySID, nameByUID,
		nameKickBySID, nameKickByUID} {
		m(n)
	}
	for _, r := range app.remotes {
		h, err := cl.station.Methods().Method(r.name)
		if err != nil {
			return fmt.Errorf("%w: remote %s: %w", ErrBadRoute, r.name, err)
		}
		cl.methods[r.name] = h
	}
	return nil
}

// method returns the handle of a pre-declared method.
func (cl *cluster) method(n rpc.MethodName) (rpc.Method, error) {
	if m, ok := cl.methods[n]; ok {
		return m, nil
	}
	return cl.station.Methods().Method(n)
}

// client returns the mailbox of serverID, creating it on first use.
func (cl *cluster) client(serverID string) (*rpc.Client, error) {
	if c, err := cl.station.Client(serverID); err == nil {
		return c, nil
	}
	si := cl.byID[serverID]
	if si == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownServer, serverID)
	}
	cl.addMu.Lock()
	err := cl.station.Add(serverID, net.JoinHostPort(si.Host, strconv.Itoa(si.Port)))
	cl.addMu.Unlock()
	if err != nil {
		return nil, err
	}
	return cl.station.Client(serverID)
}

// goCall starts a call to serverID; done is called once unless an error is returned.
func (cl *cluster) goCall(ctx context.Context, serverID string, m rpc.Method, args rpc.Appender, res rpc.Decoder, done func(error)) error {
	c, err := cl.client(serverID)
	if err != nil {
		return err
	}
	return c.Go(ctx, m, args, res, done)
}

// call makes a call to serverID and waits for its answer.
func (cl *cluster) call(ctx context.Context, serverID string, m rpc.Method, args rpc.Appender, res rpc.Decoder) error {
	c, err := cl.client(serverID)
	if err != nil {
		return err
	}
	return c.Call(ctx, m, args, res)
}

// notify sends a notification to serverID.
func (cl *cluster) notify(ctx context.Context, serverID string, m rpc.Method, args rpc.Appender) error {
	c, err := cl.client(serverID)
	if err != nil {
		return err
	}
	return c.Notify(ctx, m, args)
}

// servers returns the servers of serverType, in servers.json order.
func (cl *cluster) servers(serverType string) []ServerInfo { return cl.byType[serverType] }

// route picks the server of serverType for p: the App's route function for the type (or its
// default one), else pomelo's default router, crc32(uid) over the type's servers.
func (cl *cluster) route(serverType string, p RouteParam) (string, error) {
	list := cl.byType[serverType]
	if len(list) == 0 {
		return "", fmt.Errorf("%w: %q", ErrNoServer, serverType)
	}
	fn := cl.routers[serverType]
	if fn == nil {
		fn = cl.routers[""]
	}
	if fn == nil {
		return DefaultRouter(p, list)
	}
	id, err := fn(p, list)
	if err != nil {
		return "", err
	}
	if si := cl.byID[id]; si == nil || si.Type != serverType {
		return "", fmt.Errorf("%w: route function for %q chose %q", ErrUnknownServer, serverType, id)
	}
	return id, nil
}

// Cluster returns the server's own entry and the whole server list (a copy), or ok false for a
// server created by NewServer.
func (s *Server) Cluster() (self ServerInfo, all []ServerInfo, ok bool) {
	if s.cluster == nil {
		return ServerInfo{}, nil, false
	}
	return s.cluster.self, slices.Clone(s.cluster.all), true
}

// ServersByType returns the servers of serverType in servers.json order (a copy), or nil.
func (s *Server) ServersByType(serverType string) []ServerInfo {
	if s.cluster == nil {
		return nil
	}
	return slices.Clone(s.cluster.byType[serverType])
}

// RPCStation returns the server's mailboxes (for their statistics), or nil.
func (s *Server) RPCStation() *rpc.Station {
	if s.cluster == nil {
		return nil
	}
	return s.cluster.station
}

// RPCServer returns the server's RPC acceptor (for its statistics), or nil.
func (s *Server) RPCServer() *rpc.Server {
	if s.cluster == nil {
		return nil
	}
	return s.cluster.acceptr
}

// RPCAddr returns the address the RPC acceptor listens on once started, else nil.
func (s *Server) RPCAddr() net.Addr {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if s.rpcLn == nil {
		return nil
	}
	return s.rpcLn.Addr()
}

// Start starts serving and returns once listening: a frontend listens for clients (on its
// ServerConfig.Transport.Addr, or the WithClientListener listener), and a cluster server accepts
// RPC on host:port of its servers.json entry (or the WithRPCListener listener). It may be called
// once; Shutdown stops everything it started.
func (s *Server) Start() error {
	s.tmu.Lock()
	if s.started {
		s.tmu.Unlock()
		return ErrStarted
	}
	s.started = true
	s.tmu.Unlock()
	rpcLn, clientLn := s.opts.rpcLn, s.opts.clientLn
	var err error
	if s.cluster != nil && rpcLn == nil {
		addr := net.JoinHostPort(s.cluster.self.Host, strconv.Itoa(s.cluster.self.Port))
		if rpcLn, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("engine: %s: rpc listen: %w", s.cfg.ID, err)
		}
	}
	frontend := s.cluster == nil || s.cluster.self.Frontend
	if frontend && clientLn == nil {
		addr := s.cfg.Transport.Addr
		if addr == "" {
			addr = hybrid.DefaultAddr
		}
		if clientLn, err = net.Listen("tcp", addr); err != nil {
			if rpcLn != nil {
				rpcLn.Close()
			}
			return fmt.Errorf("engine: %s: client listen: %w", s.cfg.ID, err)
		}
	}
	if frontend {
		s.tmu.Lock()
		s.clientLn = clientLn
		s.tmu.Unlock()
		hs, err := s.transport()
		if err != nil {
			clientLn.Close()
			if rpcLn != nil {
				rpcLn.Close()
			}
			return err
		}
		s.serveWG.Add(1)
		stopped := make(chan struct{})
		go func() {
			defer s.serveWG.Done()
			defer close(stopped) // sole closer
			if err := hs.Serve(clientLn); err != nil && !errors.Is(err, hybrid.ErrServerClosed) {
				s.log.Error("engine: client listener stopped", "server", s.cfg.ID, "err", err)
			}
		}()
		waitServing(hs, stopped)
	}
	if rpcLn != nil {
		s.tmu.Lock()
		s.rpcLn = rpcLn
		s.tmu.Unlock()
		s.serveWG.Add(1)
		go func() {
			defer s.serveWG.Done()
			if err := s.cluster.acceptr.Serve(rpcLn); err != nil && !errors.Is(err, rpc.ErrServerClosed) {
				s.log.Error("engine: rpc acceptor stopped", "server", s.cfg.ID, "err", err)
			}
		}()
	}
	return nil
}

// waitServing waits until hs serves (or Serve returned), so that the client port is open before
// the RPC acceptor starts. (The order was required while the transport and the acceptor shared
// netpoll's process-wide settings; neither uses netpoll now. It is kept because it is harmless.)
func waitServing(hs *hybrid.Server, stopped <-chan struct{}) {
	for hs.Addr() == nil {
		select {
		case <-stopped:
			return
		case <-time.After(100 * time.Microsecond):
		}
	}
}

// closeCluster stops the acceptor and the mailboxes.
func (s *Server) closeCluster() {
	if cl := s.cluster; cl != nil {
		if cl.acceptr != nil {
			_ = cl.acceptr.Close()
		}
		if cl.station != nil {
			_ = cl.station.Close()
		}
	}
}
