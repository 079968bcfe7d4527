package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/engine"
	"github.com/shaddock-io/shaddock/hybrid"
	"github.com/shaddock-io/shaddock/internal/metrics"
	"github.com/shaddock-io/shaddock/internal/pomeloclient"
	"github.com/shaddock-io/shaddock/rpc"
)

func requireNoError(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func requireEqual[T comparable](t testing.TB, got, want T, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// eventually polls cond until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Routes of the test application.
const (
	routeEcho  = "connector.entryHandler.echo"
	routeFail  = "connector.entryHandler.fail"
	routeSlow  = "connector.entryHandler.slow"
	routePush  = "connector.entryHandler.push"
	routeRPC   = "connector.entryHandler.rpc"
	routeOnTik = "onTick"
	rpcRemote  = "chat-server-1"
	badClient  = "refused-client"
)

// quiet discards the logs of the servers under test.
var quiet = slog.New(slog.DiscardHandler)

var errTestFailure = errors.New("admin test: handler failure")

// rig is a real stack on loopback: an engine server (hybrid transport, TCP and WebSocket), an RPC
// server with a station calling it, a metrics Set over all of them, and the admin endpoint.
type rig struct {
	set     *metrics.Set
	es      *engine.Server
	adm     *Server
	rpcSrv  *rpc.Server
	station *rpc.Station
	addr    string // engine (client) address
	base    string // admin base URL, "http://127.0.0.1:port/"

	mu     sync.Mutex
	closed []string // sessions closed, with their reasons: printed when the test fails
}

// newRig starts the stack; everything stops at the end of the test.
func newRig(t testing.TB) *rig {
	t.Helper()
	r := &rig{}
	set, err := metrics.New(metrics.Config{})
	requireNoError(t, err, "metrics.New")
	r.set = set

	// RPC: a server answering chat.chatRemote.echo after a short random delay, and a station. No
	// connection exists until Serve and Add, below.
	r.rpcSrv, err = rpc.NewServer(rpc.ServerConfig{Name: rpcRemote}, rpc.WithAfter(set.RPC().ServerFilter()))
	requireNoError(t, err, "rpc.NewServer")
	requireNoError(t, r.rpcSrv.Handle(rpc.MethodName{Namespace: "chat", Service: "chatRemote", Method: "echo"},
		func(_ context.Context, args []byte, rep rpc.Reply) {
			out := rpc.Raw(append([]byte(nil), args...))
			time.AfterFunc(time.Duration(200+rand.IntN(1500))*time.Microsecond, func() { rep.Return(out) })
		}), "rpc Handle")
	methods := rpc.NewMethods()
	echoM := methods.MustMethod("chat", "chatRemote", "echo")
	r.station, err = rpc.NewStation(rpc.ClientConfig{Name: "connector-1", Timeout: 2 * time.Second, Methods: methods},
		rpc.WithAfter(set.RPC().ClientFilter()))
	requireNoError(t, err, "rpc.NewStation")
	requireNoError(t, set.AddRPCStation(r.station), "AddRPCStation")
	requireNoError(t, set.AddRPCServer(r.rpcSrv), "AddRPCServer")
	station := r.station

	// Engine: five routes and a global request filter.
	app, err := engine.NewApp(engine.AppConfig{Dictionary: []string{routeOnTik}})
	requireNoError(t, err, "engine.NewApp")
	requireNoError(t, app.GlobalAfter(set.Requests().Filter()), "GlobalAfter")
	requireNoError(t, errors.Join(
		engine.Handle(app, routeEcho, func(_ *engine.Context, req *json.RawMessage) (*json.RawMessage, error) { return req, nil }),
		engine.Handle(app, routeFail, func(*engine.Context, *json.RawMessage) (*json.RawMessage, error) { return nil, errTestFailure }),
		engine.HandleAsync(app, routeSlow, func(_ *engine.Context, _ *json.RawMessage, reply func(*json.RawMessage, error)) {
			time.AfterFunc(time.Duration(1+rand.IntN(8))*time.Millisecond, func() {
				body := json.RawMessage(`{"slow":true}`)
				reply(&body, nil)
			})
		}),
		engine.Handle(app, routePush, func(ctx *engine.Context, _ *json.RawMessage) (*json.RawMessage, error) {
			err := ctx.Server().Broadcast(routeOnTik, map[string]int64{"t": time.Now().UnixMilli()}, false)
			body := json.RawMessage(`{}`)
			return &body, err
		}),
		engine.HandleAsync(app, routeRPC, func(_ *engine.Context, _ *json.RawMessage, reply func(*json.RawMessage, error)) {
			var res rpc.Raw // the station's ClientFilter counts and times the call
			err := station.Go(context.Background(), rpcRemote, echoM, rpc.Raw(nil), &res, func(err error) {
				body := json.RawMessage(`{"rpc":true}`)
				reply(&body, err)
			})
			if err != nil {
				reply(nil, err)
			}
		}),
	), "register routes")
	r.es, err = app.NewServer(engine.ServerConfig{ID: "connector-1", Type: "connector", UseDict: true, Logger: quiet,
		Transport: hybrid.Config{Heartbeat: time.Second, HeartbeatTimeout: 3 * time.Second, Logger: quiet}},
		engine.WithCheckClient(func(clientType, _ string) bool { return clientType != badClient }),
		engine.OnSessionClosed(func(s *engine.Session, reason string) {
			r.mu.Lock()
			r.closed = append(r.closed, fmt.Sprintf("session %d: %s at %s", s.ID(), reason, time.Now().Format("15:04:05.000")))
			r.mu.Unlock()
		}))
	requireNoError(t, err, "NewServer")
	requireNoError(t, set.AddEngine(r.es), "AddEngine")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err, "listen engine")
	r.addr = ln.Addr().String()
	engineDone := make(chan struct{})
	go func() { defer close(engineDone); r.es.Serve(ln) }()
	// The engine serves before the RPC server starts, as the cluster orders them (an order once
	// needed for netpoll's process-wide settings, which nothing uses any more).
	eventually(t, 5*time.Second, "the engine to serve", func() bool { return r.es.Addr() != nil })
	rln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err, "listen rpc")
	rpcDone := make(chan struct{})
	go func() { defer close(rpcDone); r.rpcSrv.Serve(rln) }()
	requireNoError(t, station.Add(rpcRemote, rln.Addr().String()), "station.Add")

	r.adm, err = New(Config{Addr: "127.0.0.1:0", Title: "connector-1", Logger: quiet}, set.Registry())
	requireNoError(t, err, "admin.New")
	requireNoError(t, r.adm.Start(), "admin Start")
	r.base = "http://" + r.adm.Addr().String() + "/"

	t.Cleanup(func() {
		if t.Failed() {
			r.mu.Lock()
			t.Logf("sessions closed during the test:\n%s", strings.Join(r.closed, "\n"))
			r.mu.Unlock()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.adm.Shutdown(ctx); err != nil {
			t.Errorf("admin Shutdown: %v", err)
		}
		r.station.Close()
		r.es.Shutdown(ctx)
		r.rpcSrv.Close()
		<-engineDone
		<-rpcDone
	})
	return r
}

// get fetches path from the admin endpoint and returns status and body.
func (r *rig) get(t testing.TB, path string) (int, []byte) {
	t.Helper()
	res, err := http.Get(r.base + path)
	requireNoError(t, err, "GET "+path)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	requireNoError(t, err, "read "+path)
	return res.StatusCode, b
}

// player is a real pomelo client driving traffic through the rig.
type player struct {
	c      *pomeloclient.Client
	nextID uint32
	lastHB time.Time
}

func (r *rig) connect(t testing.TB, tr pomeloclient.Transport) *player {
	t.Helper()
	c, err := pomeloclient.Connect(r.addr, pomeloclient.Options{Transport: tr, Timeout: 5 * time.Second})
	requireNoError(t, err, "connect "+tr.String())
	t.Cleanup(func() { c.Close() })
	return &player{c: c, lastHB: time.Now()}
}

// request sends one request and waits for its response, skipping pushes and heartbeats; it
// sends a heartbeat first when one is due.
func (p *player) request(route string, body string) (codec.Message, error) {
	if time.Since(p.lastHB) > 250*time.Millisecond {
		if err := p.c.SendHeartbeat(); err != nil {
			return codec.Message{}, err
		}
		p.lastHB = time.Now()
	}
	p.nextID++
	id := p.nextID
	if err := p.c.Request(id, route, []byte(body)); err != nil {
		return codec.Message{}, err
	}
	for {
		m, err := p.c.ReadMessage(false)
		if err != nil {
			return m, err
		}
		if m.Type == codec.Response && m.ID == id {
			return m, nil
		}
	}
}

// traffic keeps players busy until stop is closed: a weighted mix of routes, paced by pause.
// It returns a wait function that reports the first error.
func (r *rig) traffic(t testing.TB, players []*player, pause time.Duration, stop <-chan struct{}) func() error {
	t.Helper()
	routes := []string{routeEcho, routeEcho, routeEcho, routeEcho, routeSlow, routeSlow, routeRPC, routePush, routeFail}
	var wg sync.WaitGroup
	var first atomic.Pointer[error]
	for i, p := range players {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				route := routes[(n+i)%len(routes)]
				if _, err := p.request(route, `{"n":`+strconv.Itoa(n)+`}`); err != nil {
					err = fmt.Errorf("player %d, request %d (%s): %w", i, n, route, err)
					first.CompareAndSwap(nil, &err)
					return
				}
				time.Sleep(pause)
			}
		}()
	}
	return func() error {
		wg.Wait()
		if e := first.Load(); e != nil {
			return *e
		}
		return nil
	}
}

// ghost connects, completes the handshake and then stays silent until the heartbeat timeout
// closes it. Safe to call from any goroutine.
func (r *rig) ghost(t testing.TB) error {
	c, err := pomeloclient.Connect(r.addr, pomeloclient.Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	t.Cleanup(func() { c.Close() })
	return nil
}

// refused attempts a handshake the server refuses (501, from WithCheckClient). Safe to call from
// any goroutine.
func (r *rig) refused() error {
	c, err := pomeloclient.Dial(r.addr, pomeloclient.Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer c.Close()
	body := []byte(`{"sys":{"type":"` + badClient + `","version":"0.0.1"},"user":{}}`)
	if _, err = c.Handshake(body); !errors.Is(err, pomeloclient.ErrHandshake) {
		return fmt.Errorf("handshake of %s: err %v, want a refusal", badClient, err)
	}
	return nil
}
