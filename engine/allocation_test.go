//go:build !race

package engine

import (
	"crypto/rsa"
	"encoding/json"
	"testing"

	"github.com/shaddock-io/shaddock/codec"
)

// sinkConn is a Conn whose queue is a fixed buffer: it never allocates.
type sinkConn struct {
	id      uint64
	buf     [4096]byte
	n       int
	flushes int
	last    []byte
}

func (c *sinkConn) ID() uint64                { return c.id }
func (c *sinkConn) PublicKey() *rsa.PublicKey { return nil }
func (c *sinkConn) Kick(string)               {}
func (c *sinkConn) Close() error              { return nil }
func (c *sinkConn) Enqueue(p []byte) error {
	c.n += copy(c.buf[c.n:], p)
	return nil
}
func (c *sinkConn) Flush() error {
	c.last = c.buf[:c.n]
	c.n = 0
	c.flushes++
	return nil
}

// The steady-state echo path — decode, route lookup, handler, encode, enqueue, flush — does not
// allocate, with the route as a string or as a dictionary code.
func TestAllocEcho(t *testing.T) {
	e := newEnv(t, AppConfig{}, func(app *App) {
		mustHandle(t, Handle(app, "connector.entryHandler.echo", echoRaw))
	}, ServerConfig{UseDict: true})
	c := &sinkConn{id: 1}
	s := e.srv.open(c)
	body := request(1, "connector.entryHandler.echo", `{"x":1,"s":"frontend echo"}`)
	code := codec.AppendRequestCode(nil, 2, 1, []byte(`{"x":2}`))
	run := func() {
		e.srv.data(s, body)
		e.srv.data(s, code)
		e.srv.readBatchDone(s)
	}
	run()
	var msg codec.Message
	p, n, err := codec.ParsePacket(c.last, 0)
	requireNoError(t, err)
	requireNoError(t, codec.ParseMessage(p.Body, &msg))
	requireEqual(t, string(msg.Body), `{"x":1,"s":"frontend echo"}`)
	p, _, err = codec.ParsePacket(c.last[n:], 0)
	requireNoError(t, err)
	requireNoError(t, codec.ParseMessage(p.Body, &msg))
	requireEqual(t, string(msg.Body), `{"x":2}`)
	if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
		t.Fatalf("echo path: %v allocations per run, want 0", allocs)
	}
}

// Pushes to a fixed set of sessions do not allocate once the push buffers are warm (the body is
// JSON text).
func TestAllocPush(t *testing.T) {
	e := newEnv(t, AppConfig{Dictionary: []string{"onChat"}}, nil, ServerConfig{UseDict: true})
	conns := []*sinkConn{{id: 1}, {id: 2}, {id: 3}}
	ids := make([]uint64, len(conns))
	for i, c := range conns {
		ids[i] = e.srv.open(c).ID()
	}
	var msg any = json.RawMessage(`{"msg":"hi"}`) // boxed once, by the caller
	run := func() { _ = e.srv.PushToSessions("onChat", msg, ids...) }
	run()
	requireEqual(t, string(conns[2].last), "\x04\x00\x00\x0f\x07\x00\x01"+`{"msg":"hi"}`)
	if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
		t.Fatalf("push: %v allocations per run, want 0", allocs)
	}
}

// Recycled Contexts do not keep requests alive, and their buffers stay bounded; the one a session
// keeps for the next request of a read batch goes back to the pool when the batch ends.
func TestContextPoolDoesNotLeak(t *testing.T) {
	e := newEnv(t, AppConfig{}, func(app *App) {
		mustHandle(t, Handle(app, "connector.h.echo", echoRaw))
	}, ServerConfig{})
	c := &sinkConn{id: 1}
	s := e.srv.open(c)
	big := make([]byte, maxPooledBuf+1)
	for i := range big {
		big[i] = ' '
	}
	big[0], big[len(big)-1] = '"', '"'
	e.srv.data(s, request(1, "connector.h.echo", string(big)))
	ctx := s.spare
	if ctx == nil {
		t.Fatal("the request's Context was not kept for the next request of the batch")
	}
	e.srv.readBatchDone(s)
	if s.spare != nil {
		t.Fatal("the session still holds a Context after its read batch")
	}
	if cap(ctx.out) > maxPooledBuf {
		t.Fatalf("pooled context kept a %d-byte buffer", cap(ctx.out))
	}
	if ctx.sess != nil || ctx.route != nil || ctx.resp != nil || ctx.body != nil || ctx.rawReq != nil {
		t.Fatal("pooled context keeps references to its last request")
	}
}
