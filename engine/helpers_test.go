package engine

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
)

func requireNoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func requireErrorIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

func requireEqual[T comparable](t testing.TB, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func requireDeepEqual(t testing.TB, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

// requireJSON checks that got is JSON equal to want.
func requireJSON(t testing.TB, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// fakeConn is a Conn that records what the engine does with it.
type fakeConn struct {
	id  uint64
	pub *rsa.PublicKey

	mu       sync.Mutex
	queue    []byte   // enqueued, not flushed
	writes   [][]byte // one entry per Flush that had data
	enqueues int
	kicked   []string
	closed   bool
	notify   chan struct{} // signalled (non-blocking) on every Flush with data
}

var nextConnID atomic.Uint64

func newFakeConn() *fakeConn {
	return &fakeConn{id: nextConnID.Add(1), notify: make(chan struct{}, 1)}
}

func (f *fakeConn) ID() uint64                { return f.id }
func (f *fakeConn) PublicKey() *rsa.PublicKey { return f.pub }

func (f *fakeConn) Enqueue(pkg []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errors.New("closed")
	}
	f.queue = append(f.queue, pkg...)
	f.enqueues++
	return nil
}

func (f *fakeConn) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) > 0 {
		f.writes = append(f.writes, f.queue)
		f.queue = nil
		select {
		case f.notify <- struct{}{}:
		default:
		}
	}
	return nil
}

func (f *fakeConn) Kick(reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kicked = append(f.kicked, reason)
	f.closed = true
}

func (f *fakeConn) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// messages parses every flushed package as a message; unflushed bytes are reported separately.
func (f *fakeConn) messages(t testing.TB) (msgs []codec.Message, pending int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range f.writes {
		for len(w) > 0 {
			p, n, err := codec.ParsePacket(w, 0)
			requireNoError(t, err)
			requireEqual(t, p.Type, codec.TypeData)
			var m codec.Message
			requireNoError(t, codec.ParseMessage(p.Body, &m))
			msgs = append(msgs, m)
			w = w[n:]
		}
	}
	return msgs, len(f.queue)
}

func (f *fakeConn) flushCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.writes)
}

// waitMessages waits until n messages were flushed.
func (f *fakeConn) waitMessages(t testing.TB, n int) []codec.Message {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if msgs, _ := f.messages(t); len(msgs) >= n {
			return msgs
		}
		select {
		case <-f.notify:
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			msgs, _ := f.messages(t)
			t.Fatalf("got %d messages, want %d", len(msgs), n)
		}
	}
}

// testEnv is a server with fake connections.
type testEnv struct {
	t   testing.TB
	app *App
	srv *Server
}

// newEnv builds an App with register, then a server of type "connector".
func newEnv(t testing.TB, appCfg AppConfig, register func(app *App), cfg ServerConfig, opts ...ServerOption) *testEnv {
	t.Helper()
	app, err := NewApp(appCfg)
	requireNoError(t, err)
	if register != nil {
		register(app)
	}
	if cfg.ID == "" {
		cfg.ID = "connector-server-1"
	}
	if cfg.Type == "" {
		cfg.Type = "connector"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := app.NewServer(cfg, opts...)
	requireNoError(t, err)
	t.Cleanup(func() { srv.sched.Close() })
	return &testEnv{t: t, app: app, srv: srv}
}

// connect opens a session on a new fake connection.
func (e *testEnv) connect() (*fakeConn, *Session) {
	c := newFakeConn()
	return c, e.srv.open(c)
}

// send delivers one DATA body as one read batch.
func (e *testEnv) send(s *Session, body []byte) {
	e.srv.data(s, body)
	e.srv.readBatchDone(s)
}

// request builds a request (id > 0) or notify body with an uncompressed route.
func request(id uint32, route string, body string) []byte {
	b, err := codec.AppendRequest(nil, id, route, []byte(body))
	if err != nil {
		panic(err)
	}
	return b
}

// call sends a request and returns the single response it produced.
func (e *testEnv) call(c *fakeConn, s *Session, id uint32, route, body string) codec.Message {
	e.t.Helper()
	before, _ := c.messages(e.t)
	e.send(s, request(id, route, body))
	msgs, _ := c.messages(e.t)
	if len(msgs) != len(before)+1 {
		e.t.Fatalf("%s: %d new messages, want 1", route, len(msgs)-len(before))
	}
	m := msgs[len(msgs)-1]
	requireEqual(e.t, m.Type, codec.Response)
	requireEqual(e.t, m.ID, id)
	return m
}

// echoRaw is the zero-copy echo handler.
func echoRaw(_ *Context, req *json.RawMessage) (*json.RawMessage, error) { return req, nil }

// mustHandle fails the test when registration fails.
func mustHandle(t testing.TB, err error) {
	t.Helper()
	requireNoError(t, err)
}

// nopConn accepts everything and keeps nothing.
type nopConn struct {
	id  uint64
	pub *rsa.PublicKey
	n   int
}

func (c *nopConn) ID() uint64                { return c.id }
func (c *nopConn) PublicKey() *rsa.PublicKey { return c.pub }
func (c *nopConn) Kick(string)               {}
func (c *nopConn) Close() error              { return nil }
func (c *nopConn) Enqueue(p []byte) error    { c.n += len(p); return nil }
func (c *nopConn) Flush() error              { return nil }
