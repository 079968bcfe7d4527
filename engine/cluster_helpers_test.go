package engine

import (
	"context"
	"crypto/rsa"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/rpc"
)

// node describes one server of a test cluster.
type node struct {
	id, typ  string
	frontend bool
	down     bool // listed, but never started (its port refuses connections)
}

// clusterEnv is an in-process cluster on loopback ports, each server created with
// NewClusterServer; clients are fake connections opened on the frontends.
type clusterEnv struct {
	t     testing.TB
	app   *App
	infos []ServerInfo
	srv   map[string]*Server
}

// testRPC is the RPC configuration of test clusters: short backoffs, a bounded timeout.
func testRPC(timeout time.Duration) func(*ServerConfig) {
	return func(cfg *ServerConfig) {
		cfg.RPC.Client.Timeout = timeout
		cfg.RPC.Client.MinBackoff = 10 * time.Millisecond
		cfg.RPC.Client.MaxBackoff = 100 * time.Millisecond
		cfg.Logger = slog.New(slog.DiscardHandler)
		cfg.Transport.Logger = cfg.Logger
	}
}

// startCluster registers the App, creates and starts every server of nodes. opts returns extra
// options per server id (may be nil).
func startCluster(t testing.TB, appCfg AppConfig, register func(app *App), nodes []node, opts func(id string) []ServerOption) *clusterEnv {
	t.Helper()
	app, err := NewApp(appCfg)
	requireNoError(t, err)
	if register != nil {
		register(app)
	}
	e := &clusterEnv{t: t, app: app, srv: make(map[string]*Server)}
	rpcLns := make([]net.Listener, len(nodes))
	clientLns := make([]net.Listener, len(nodes))
	for i, n := range nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		requireNoError(t, err)
		si := ServerInfo{ID: n.id, Type: n.typ, Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Frontend: n.frontend}
		if n.down {
			ln.Close() // nothing listens there any more
		} else {
			rpcLns[i] = ln
		}
		if n.frontend && !n.down {
			cln, err := net.Listen("tcp", "127.0.0.1:0")
			requireNoError(t, err)
			clientLns[i] = cln
			si.ClientHost, si.ClientPort = "127.0.0.1", cln.Addr().(*net.TCPAddr).Port
		}
		e.infos = append(e.infos, si)
	}
	for i, n := range nodes {
		if n.down {
			continue
		}
		o := []ServerOption{WithRPCListener(rpcLns[i]), WithConfig(testRPC(5 * time.Second))}
		if clientLns[i] != nil {
			o = append(o, WithClientListener(clientLns[i]))
		}
		if opts != nil {
			o = append(o, opts(n.id)...)
		}
		s, err := app.NewClusterServer(e.infos[i], e.infos, o...)
		requireNoError(t, err)
		requireNoError(t, s.Start())
		e.srv[n.id] = s
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown %s: %v", s.Config().ID, err)
			}
		})
	}
	return e
}

// connect opens a session on frontend id over a fake connection.
func (e *clusterEnv) connect(id string) (*fakeConn, *Session) {
	c := newFakeConn()
	return c, e.srv[id].open(c)
}

// send delivers one DATA body to a frontend session as one read batch.
func (e *clusterEnv) send(s *Session, body []byte) {
	srv := e.srv[s.FrontendID()]
	srv.data(s, body)
	srv.readBatchDone(s)
}

// ask sends a request and waits for its response (the n-th message on c).
func (e *clusterEnv) ask(c *fakeConn, s *Session, id uint32, route, body string) string {
	e.t.Helper()
	before, _ := c.messages(e.t)
	e.send(s, request(id, route, body))
	msgs := c.waitMessages(e.t, len(before)+1)
	m := msgs[len(before)]
	if m.ID != id {
		e.t.Fatalf("%s: response id %d, want %d", route, m.ID, id)
	}
	return string(m.Body)
}

// callCounter counts the RPC calls a server dispatches, by method.
type callCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *callCounter) option() ServerOption {
	return WithRPCServerOptions(rpc.WithBefore(func(_ context.Context, ci rpc.CallInfo) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.n == nil {
			c.n = make(map[string]int)
		}
		c.n[ci.Method.String()]++
		return nil
	}))
}

func (c *callCounter) get(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[method]
}

// waitFor polls cond until it holds (at most 5 s).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// counter is an atomic counter with a signal.
type counter struct {
	n  atomic.Int64
	ch chan struct{}
}

func newCounter() *counter { return &counter{ch: make(chan struct{}, 64)} }

func (c *counter) inc() {
	c.n.Add(1)
	select {
	case c.ch <- struct{}{}:
	default:
	}
}

// signalConn is a Conn that keeps what it was flushed last, counts the packages flushed and
// signals every Flush with data; it does not allocate, and is safe for concurrent use.
type signalConn struct {
	id      uint64
	mu      sync.Mutex
	buf     [64 << 10]byte // mu
	n, pkgs int            // mu
	last    []byte         // mu
	flushed atomic.Int64   // packages flushed so far
	notify  chan struct{}  // receives (without blocking the sender) after every Flush with data
}

func newSignalConn(id uint64) *signalConn { return &signalConn{id: id, notify: make(chan struct{}, 1)} }

func (c *signalConn) ID() uint64                { return c.id }
func (c *signalConn) PublicKey() *rsa.PublicKey { return nil }
func (c *signalConn) Kick(string)               {}
func (c *signalConn) Close() error              { return nil }
func (c *signalConn) Enqueue(p []byte) error {
	c.mu.Lock()
	c.n += copy(c.buf[c.n:], p)
	c.pkgs++
	c.mu.Unlock()
	return nil
}
func (c *signalConn) Flush() error {
	c.mu.Lock()
	n := c.pkgs
	if n > 0 {
		c.last = c.buf[:c.n]
		c.n, c.pkgs = 0, 0
	}
	c.mu.Unlock()
	if n > 0 {
		c.flushed.Add(int64(n))
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
	return nil
}

// lastFlush returns a copy of what the last Flush wrote.
func (c *signalConn) lastFlush() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.last...)
}

// wait blocks until n packages have been flushed in all.
func (c *signalConn) wait(n int64) {
	for c.flushed.Load() < n {
		<-c.notify
	}
}

// forwardRig is a frontend (not started: its one session is a signalConn) whose requests for
// "chat" go over loopback RPC to a backend whose acceptor serves connections with
// rpc.Server.ServeConn (what rpc.Server.Serve does with each connection it accepts).
type forwardRig struct {
	front, back *Server
	conn        *signalConn
	sess        *Session
	sent        int64 // requests sent (owned by the caller of batch)
}

func newForwardRig(t testing.TB, register func(app *App)) *forwardRig {
	t.Helper()
	app, err := NewApp(AppConfig{})
	requireNoError(t, err)
	register(app)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err)
	infos := []ServerInfo{{ID: "connector-1", Type: "connector", Frontend: true, Host: "127.0.0.1", Port: 1},
		{ID: "chat-1", Type: "chat", Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}}
	r := &forwardRig{}
	r.front, err = app.NewClusterServer(infos[0], infos, WithConfig(testRPC(5*time.Second)))
	requireNoError(t, err)
	r.back, err = app.NewClusterServer(infos[1], infos, WithConfig(testRPC(5*time.Second)))
	requireNoError(t, err)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go r.back.cluster.acceptr.ServeConn(nc)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		requireNoError(t, r.front.Shutdown(ctx))
		requireNoError(t, r.back.Shutdown(ctx))
	})
	r.conn = newSignalConn(1)
	r.sess = r.front.open(r.conn)
	requireNoError(t, r.front.Sessions().Bind(r.sess.ID(), "user-1"))
	r.sess.Set("rid", "room-1")
	return r
}

// roundTrip sends one request and waits for its response.
func (r *forwardRig) roundTrip(msg []byte) { r.batch(msg, 1) }

// batch sends n requests as one read batch and waits for their n responses.
func (r *forwardRig) batch(msg []byte, n int) {
	for range n {
		r.front.data(r.sess, msg)
	}
	r.front.readBatchDone(r.sess)
	r.sent += int64(n)
	r.conn.wait(r.sent)
}
