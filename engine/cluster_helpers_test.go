package engine

import (
	"context"
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
