package rpc

import (
	"context"
	"net"
	"testing"
	"time"
)

// serveStd accepts connections on a loopback listener and serves each with ServeConn.
func serveStd(t testing.TB, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err, "listen")
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go s.ServeConn(nc)
		}
	}()
	return ln.Addr().String()
}

// A connection served by ServeConn behaves as one served by the event loop: calls are answered
// with the handler's result or error, and Close fails pending calls at once and ends ServeConn.
func TestServeConn(t *testing.T) {
	s, err := NewServer(ServerConfig{Name: "std"})
	requireNoError(t, err, "NewServer")
	requireNoError(t, s.Handle(nameForward, echoHandler()), "Handle")
	hold := newHolder(1)
	requireNoError(t, s.Handle(nameHold, hold.handle), "Handle")
	requireNoError(t, s.Handle(nameFail, func(_ context.Context, _ []byte, r Reply) {
		r.Error(NewError(777, "nope"))
	}), "Handle")
	addr := serveStd(t, s)
	c := newClient(t, addr, ClientConfig{Timeout: 10 * time.Second})
	m, _ := c.Method(nameForward.Namespace, nameForward.Service, nameForward.Method)
	args := sampleForward(48)
	var res fwdResp
	requireNoError(t, c.Call(context.Background(), m, args, &res), "call")
	requireEqual(t, res.Code, int64(200), "code")
	requireEqual(t, string(res.Body), string(args.Body), "body")

	mf, _ := c.Method(nameFail.Namespace, nameFail.Service, nameFail.Method)
	e := requireCode(t, c.Call(context.Background(), mf, nil, nil), 777, "handler error")
	requireEqual(t, e.Message, "nope", "message")
	requireEqual(t, s.Stats().Conns, 1, "conns")

	mh, _ := c.Method(nameHold.Namespace, nameHold.Service, nameHold.Method)
	done := make(chan error, 1)
	requireNoError(t, c.Go(context.Background(), mh, nil, nil, func(err error) { done <- err }), "go")
	hold.wait(t, 1)
	requireNoError(t, s.Close(), "Close")
	select {
	case err := <-done:
		requireCode(t, err, CodeConnLost, "pending call after Close")
	case <-time.After(5 * time.Second):
		t.Fatal("pending call not failed by Close")
	}
	requireEqual(t, s.Stats().Conns, 0, "conns after Close")
	// A closed server refuses new connections.
	a, b := net.Pipe()
	defer b.Close()
	if err := s.ServeConn(a); err != ErrServerClosed {
		t.Fatalf("ServeConn after Close: %v", err)
	}
}

// A protocol violation ends ServeConn with the error and closes the connection.
func TestServeConnProtocolError(t *testing.T) {
	s, err := NewServer(ServerConfig{})
	requireNoError(t, err, "NewServer")
	defer s.Close()
	a, b := net.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- s.ServeConn(a) }()
	go func() { _, _ = b.Write(AppendPing(nil, KindPing, 1)) }() // no HELLO first
	select {
	case err := <-errc:
		if err != ErrNoHello {
			t.Fatalf("ServeConn: %v, want ErrNoHello", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ServeConn did not return")
	}
	if _, err := b.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection still open")
	}
}
