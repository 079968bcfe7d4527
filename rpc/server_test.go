package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/rpc/pack"
)

// recorder collects filter events in order.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
}

func (r *recorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.log, " ")
	r.log = nil
	return s
}

func (r *recorder) before(tag string, fail error) BeforeFilter {
	return func(_ context.Context, ci CallInfo) error {
		r.add(tag + ":" + ci.Method.Method + "@" + ci.Peer)
		if fail != nil && ci.Method.Method == "blocked" {
			return fail
		}
		return nil
	}
}

func (r *recorder) after(tag string) AfterFilter {
	return func(_ context.Context, ci CallInfo, err error) {
		code := 0
		var e *Error
		if errors.As(err, &e) {
			code = e.Code
		}
		r.add(fmt.Sprintf("%s:%s=%d", tag, ci.Method.Method, code))
	}
}

func TestFilters(t *testing.T) {
	var srec, crec recorder
	errBusy := NewError(503, "backend busy")
	_, addr := startServer(t, ServerConfig{Name: "chat-1"}, func(s *Server) {
		for _, m := range []string{"ok", "blocked", "plain"} {
			requireNoError(t, s.Handle(MethodName{"user", "f", m}, echoHandler()), "Handle")
		}
	}, WithBefore(srec.before("s1", errBusy)), WithBefore(srec.before("s2", nil)),
		WithAfter(srec.after("sa1")), WithAfter(srec.after("sa2")))

	errLocal := errors.New("client says no")
	c := newClient(t, addr, ClientConfig{Name: "conn-1", ServerID: "chat-1"},
		WithBefore(crec.before("c1", nil)), WithBefore(crec.before("c2", nil)),
		WithAfter(crec.after("ca1")), WithAfter(crec.after("ca2")))
	ok, _ := c.Method("user", "f", "ok")
	blocked, _ := c.Method("user", "f", "blocked")

	requireNoError(t, c.Call(context.Background(), ok, &fwdMsg{}, &fwdResp{}), "ok call")
	requireEqual(t, crec.take(), "c1:ok@chat-1 c2:ok@chat-1 ca1:ok=0 ca2:ok=0", "client filter order")
	requireEqual(t, srec.take(), "s1:ok@conn-1 s2:ok@conn-1 sa1:ok=0 sa2:ok=0", "server filter order")

	// A server before filter refuses with an *Error: its code and message reach the caller,
	// later before filters and the handler do not run, after filters see the error.
	e := requireCode(t, c.Call(context.Background(), blocked, &fwdMsg{}, &fwdResp{}), 503, "blocked call")
	requireEqual(t, e.Message, "backend busy", "filter message")
	requireEqual(t, srec.take(), "s1:blocked@conn-1 sa1:blocked=503 sa2:blocked=503", "server refusal")
	requireEqual(t, crec.take(), "c1:blocked@chat-1 c2:blocked@chat-1 ca1:blocked=503 ca2:blocked=503", "client sees refusal")

	// A client before filter refuses: CodeFilter, the filter's error as cause, nothing sent.
	c2 := newClient(t, addr, ClientConfig{ServerID: "chat-1"}, WithBefore(crec.before("x", errLocal)),
		WithAfter(crec.after("xa")))
	blocked2, _ := c2.Method("user", "f", "blocked")
	err := c2.Call(context.Background(), blocked2, &fwdMsg{}, &fwdResp{})
	requireCode(t, err, CodeFilter, "client filter refusal")
	if !errors.Is(err, errLocal) || !errors.Is(err, ErrFilter) {
		t.Fatalf("client filter error %v does not match its cause and ErrFilter", err)
	}
	requireEqual(t, crec.take(), "x:blocked@chat-1", "refused call runs no after filter")
	requireEqual(t, srec.take(), "", "refused call never reached the server")
}

// TestAfterFilterElapsed: a Client's after filters see how long the call took, here at least
// the 20 ms its handler waits; before filters and a Server's after filters see zero.
func TestAfterFilterElapsed(t *testing.T) {
	var serverSaw atomic.Int64
	_, addr := startServer(t, ServerConfig{}, func(s *Server) {
		requireNoError(t, s.Handle(nameForward, func(_ context.Context, _ []byte, r Reply) {
			go func() { time.Sleep(20 * time.Millisecond); r.Return(nil) }()
		}), "Handle")
	}, WithAfter(func(_ context.Context, ci CallInfo, _ error) { serverSaw.Store(int64(ci.Elapsed) + 1) }))
	var before, after atomic.Int64
	c := newClient(t, addr, ClientConfig{},
		WithBefore(func(_ context.Context, ci CallInfo) error { before.Store(int64(ci.Elapsed) + 1); return nil }),
		WithAfter(func(_ context.Context, ci CallInfo, _ error) { after.Store(int64(ci.Elapsed)) }))
	fwd, _ := c.Method(nameForward.Namespace, nameForward.Service, nameForward.Method)
	requireNoError(t, c.Call(context.Background(), fwd, nil, nil), "call")
	if d := time.Duration(after.Load()); d < 20*time.Millisecond || d > time.Minute {
		t.Fatalf("client after filter: Elapsed %v, want at least 20ms", d)
	}
	requireEqual(t, before.Load(), int64(1), "before filter Elapsed + 1")
	// The server's after filter runs once its reply is written, which may be after the client
	// has it.
	for deadline := time.Now().Add(5 * time.Second); serverSaw.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	requireEqual(t, serverSaw.Load(), int64(1), "server after filter Elapsed + 1")
}

func TestServerFilterPlainError(t *testing.T) {
	_, addr := startServer(t, ServerConfig{}, func(s *Server) {
		requireNoError(t, s.Handle(nameForward, echoHandler()), "Handle")
	}, WithBefore(func(context.Context, CallInfo) error { return errors.New("too busy now") }))
	c := newClient(t, addr, ClientConfig{})
	fwd, _ := c.Method(nameForward.Namespace, nameForward.Service, nameForward.Method)
	e := requireCode(t, c.Call(context.Background(), fwd, &fwdMsg{}, &fwdResp{}), CodeFilter, "plain filter error")
	requireEqual(t, e.Message, "too busy now", "message")
}

// TestErrorPropagation checks that code and message cross the wire intact.
func TestErrorPropagation(t *testing.T) {
	wrapped := fmt.Errorf("bind failed: %w", NewError(501, "session does not exist"))
	_, addr := startServer(t, ServerConfig{Name: "connector-1"}, func(s *Server) {
		requireNoError(t, s.Handle(MethodName{"sys", "sessionRemote", "bind"},
			func(_ context.Context, _ []byte, r Reply) { r.Error(NewError(501, "session does not exist")) }), "bind")
		requireNoError(t, s.Handle(MethodName{"sys", "sessionRemote", "push"},
			func(_ context.Context, _ []byte, r Reply) { r.Error(errors.New("plain failure")) }), "push")
		requireNoError(t, s.Handle(MethodName{"sys", "sessionRemote", "unbind"},
			func(_ context.Context, _ []byte, r Reply) { r.Error(wrapped) }), "unbind")
		requireNoError(t, s.Handle(MethodName{"sys", "sessionRemote", "kick"},
			func(_ context.Context, _ []byte, r Reply) { // answers later, from another goroutine
				go func() { time.Sleep(time.Millisecond); r.Error(NewError(-7, "")) }()
			}), "kick")
	})
	c := newClient(t, addr, ClientConfig{})
	call := func(method string) *Error {
		m, _ := c.Method("sys", "sessionRemote", method)
		err := c.Call(context.Background(), m, nil, nil)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %v is not an *Error", method, err)
		}
		return e
	}
	e := call("bind")
	if e.Code != 501 || e.Message != "session does not exist" {
		t.Fatalf("bind: %d %q", e.Code, e.Message)
	}
	e = call("push")
	if e.Code != CodeRemote || e.Message != "plain failure" {
		t.Fatalf("push: %d %q", e.Code, e.Message)
	}
	e = call("unbind")
	if e.Code != 501 || e.Message != "bind failed: session does not exist" {
		t.Fatalf("unbind: %d %q", e.Code, e.Message)
	}
	e = call("kick")
	if e.Code != -7 || e.Error() != "rpc: error code -7" {
		t.Fatalf("kick: %d %q", e.Code, e.Error())
	}
	e = call("nothing")
	if e.Code != CodeNoMethod || !strings.Contains(e.Message, "sys.sessionRemote.nothing") ||
		!strings.Contains(e.Message, "connector-1") {
		t.Fatalf("missing method: %d %q", e.Code, e.Message)
	}
}

func TestCodecErrors(t *testing.T) {
	_, addr := startServer(t, ServerConfig{MaxFrame: 1 << 10}, func(s *Server) {
		requireNoError(t, s.Handle(nameForward, echoHandler()), "Handle")
		requireNoError(t, s.Handle(nameEcho, Func(func(_ context.Context, l *pack.List) (pack.List, error) {
			return *l, nil
		})), "Handle")
	})
	c := newClient(t, addr, ClientConfig{MaxFrame: 1 << 10})
	fwd, _ := c.Method(nameForward.Namespace, nameForward.Service, nameForward.Method)
	echo, _ := c.Method(nameEcho.Namespace, nameEcho.Service, nameEcho.Method)

	// Arguments too large for the frame limit: refused locally, nothing sent.
	err := c.Call(context.Background(), fwd, &fwdMsg{Body: make([]byte, 2000)}, &fwdResp{})
	requireCode(t, err, CodeCodec, "oversize arguments")
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversize arguments: %v", err)
	}
	// Arguments that fail to encode.
	requireCode(t, c.Call(context.Background(), echo, pack.List{struct{}{}}, nil), CodeCodec, "unencodable")
	// Arguments the server cannot decode (Func's DecodeRPC fails).
	requireCode(t, c.Call(context.Background(), echo, Raw{0xff}, nil), CodeCodec, "undecodable")
	// A result the client cannot decode.
	requireCode(t, c.Call(context.Background(), fwd, &fwdMsg{}, &fwdMsg{}), CodeCodec, "result into the wrong type")
	// The connection survived all of it.
	var res fwdResp
	requireNoError(t, c.Call(context.Background(), fwd, &fwdMsg{Body: []byte("fine")}, &res), "after codec errors")
	requireEqual(t, c.Stats().Dials, uint64(1), "no reconnection")
}

func TestOversizeResult(t *testing.T) {
	_, addr := startServer(t, ServerConfig{MaxFrame: 100}, func(s *Server) {
		requireNoError(t, s.Handle(nameEcho, func(_ context.Context, _ []byte, r Reply) {
			r.Return(Raw(make([]byte, 200)))
		}), "Handle")
	})
	c := newClient(t, addr, ClientConfig{MaxFrame: 100})
	echo, _ := c.Method(nameEcho.Namespace, nameEcho.Service, nameEcho.Method)
	requireCode(t, c.Call(context.Background(), echo, nil, nil), CodeCodec, "oversize result")
}

func TestNotify(t *testing.T) {
	got := make(chan string, 10)
	var srec recorder
	_, addr := startServer(t, ServerConfig{}, func(s *Server) {
		requireNoError(t, s.Handle(nameEcho, func(_ context.Context, args []byte, r Reply) {
			if !r.IsNotify() {
				t.Error("notification dispatched as a call")
			}
			d := pack.NewDecoder(args)
			got <- d.String()
			r.Return(Raw("ignored"))
		}), "Handle")
	}, WithAfter(srec.after("sa")))
	c := newClient(t, addr, ClientConfig{})
	echo, _ := c.Method(nameEcho.Namespace, nameEcho.Service, nameEcho.Method)
	missing, _ := c.Method("user", "no", "where")
	requireNoError(t, c.Notify(context.Background(), missing, nil), "notify to a missing method")
	for _, s := range []string{"a", "b", "c"} {
		requireNoError(t, c.Notify(context.Background(), echo, pack.Value{V: s}), "Notify")
	}
	for _, want := range []string{"a", "b", "c"} {
		select {
		case s := <-got:
			requireEqual(t, s, want, "notification order")
		case <-time.After(5 * time.Second):
			t.Fatal("notification did not arrive")
		}
	}
	eventually(t, 5*time.Second, "after filters", func() bool {
		srec.mu.Lock()
		defer srec.mu.Unlock()
		return len(srec.log) == 4
	})
	requireEqual(t, srec.take(), "sa:where=10 sa:echo=0 sa:echo=0 sa:echo=0", "after filters of notifications")
}

// TestBufferedClientCoalesces: in bufferMsg mode, a burst of calls shares very few writes.
func TestBufferedClientCoalesces(t *testing.T) {
	const n = 100
	srv, addr := startServer(t, ServerConfig{BufferInterval: 20 * time.Millisecond}, func(s *Server) {
		requireNoError(t, s.Handle(nameForward, echoHandler()), "Handle")
	})
	c := newClient(t, addr, ClientConfig{BufferInterval: 20 * time.Millisecond})
	fwd, _ := c.Method(nameForward.Namespace, nameForward.Service, nameForward.Method)
	requireNoError(t, c.Call(context.Background(), fwd, &fwdMsg{}, &fwdResp{}), "warm-up")
	cw, sw := c.Stats().Writes, srv.Stats().Writes

	var wg sync.WaitGroup
	errs := make(chan error, n)
	wg.Add(n)
	for i := 0; i < n; i++ {
		requireNoError(t, c.Go(context.Background(), fwd, &fwdMsg{Body: []byte{byte(i)}}, &fwdResp{},
			func(err error) { errs <- err; wg.Done() }), "Go")
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		requireNoError(t, <-errs, "buffered call")
	}
	cWrites, sWrites := c.Stats().Writes-cw, srv.Stats().Writes-sw
	t.Logf("%d calls: %d client writes, %d server writes", n, cWrites, sWrites)
	if cWrites > 3 || sWrites > 3 {
		t.Fatalf("%d calls took %d client writes and %d server writes, want at most 3 each", n, cWrites, sWrites)
	}
}

// TestRepliesCoalescedPerReadBatch sends many calls in one TCP write: the server answers them all
// with one write at the end of the read batch.
func TestRepliesCoalescedPerReadBatch(t *testing.T) {
	const n = 64
	srv, addr := startServer(t, ServerConfig{}, func(s *Server) {
		requireNoError(t, s.Handle(nameEcho, func(_ context.Context, args []byte, r Reply) { r.Return(Raw(args)) }), "Handle")
	})
	rc := dialRaw(t, addr)
	rc.write(helloDeclare(t, nameEcho))
	rc.mustNext(KindHello)
	before := srv.Stats().Writes
	var batch []byte
	for i := 0; i < n; i++ {
		batch = AppendCall(batch, uint32(i+1), 0, pack.AppendInt(nil, int64(i)))
	}
	rc.write(batch)
	for i := 0; i < n; i++ {
		f := rc.mustNext(KindReply)
		requireEqual(t, f.ID, uint32(i+1), "reply order for a synchronous handler")
		requireEqual(t, string(f.Payload), string(pack.AppendInt(nil, int64(i))), "reply payload")
	}
	if w := srv.Stats().Writes - before; w != 1 {
		t.Fatalf("%d replies of one read batch took %d writes, want 1", n, w)
	}
}

// TestServerSplitDelivery writes frames to the server cut at every byte position, with a pause
// between the pieces so that they arrive in separate reads.
func TestServerSplitDelivery(t *testing.T) {
	_, addr := startServer(t, ServerConfig{}, func(s *Server) {
		requireNoError(t, s.Handle(nameEcho, func(_ context.Context, args []byte, r Reply) { r.Return(Raw(args)) }), "Handle")
	})
	rc := dialRaw(t, addr)
	setup := helloDeclare(t, nameEcho)
	rc.write(setup[:3])
	time.Sleep(2 * time.Millisecond)
	rc.write(setup[3:])
	rc.mustNext(KindHello)
	call := AppendCall(nil, 0, 0, []byte("payload-bytes"))
	for k := 1; k < len(call); k++ {
		binaryID := uint32(k)
		c := AppendCall(nil, binaryID, 0, []byte("payload-bytes"))
		rc.write(c[:k])
		time.Sleep(time.Millisecond)
		rc.write(c[k:])
		f := rc.mustNext(KindReply)
		requireEqual(t, f.ID, binaryID, "reply id")
		requireEqual(t, string(f.Payload), "payload-bytes", "payload")
	}
	ping := AppendPing(nil, KindPing, 99)
	for _, b := range ping {
		rc.write([]byte{b})
	}
	f := rc.mustNext(KindPong)
	requireEqual(t, string(f.Payload), string(ping[FrameHeaderSize:]), "pong token")
}

// TestServerProtocolErrors: the server closes a connection that breaks the protocol, and keeps
// serving others.
func TestServerProtocolErrors(t *testing.T) {
	var reported atomic.Int32
	_, addr := startServer(t, ServerConfig{MaxFrame: 1000}, func(s *Server) {
		requireNoError(t, s.Handle(nameEcho, func(_ context.Context, args []byte, r Reply) { r.Return(Raw(args)) }), "Handle")
	}, WithErrorHook(func(error) { reported.Add(1) }))
	hello, _ := AppendHello(nil, "x")
	decl, _ := AppendDeclare(nil, 0, nameEcho)
	for _, c := range []struct {
		name string
		wire []byte
	}{
		{"no hello", AppendCall(nil, 1, 0, nil)},
		{"garbage", []byte("GET / HTTP/1.1\r\n\r\n")},
		{"undeclared", AppendCall(append([]byte{}, hello...), 1, 3, nil)},
		{"redeclared", append(append(append([]byte{}, hello...), decl...), decl...)},
		{"reply from a client", AppendReply(append([]byte{}, hello...), 1, nil)},
		{"second hello", append(append([]byte{}, hello...), hello...)},
		{"oversize", append(append([]byte{}, hello...), 0, 0, 0x03, 0xe9, byte(KindCall))},
		{"bad version", []byte("\x00\x00\x00\x07\x01SRPC\x02\x00")},
	} {
		rc := dialRaw(t, addr)
		rc.write(c.wire)
		for {
			f, err := rc.next()
			if err != nil {
				break // closed: what we want
			}
			if f.Kind != KindHello {
				t.Fatalf("%s: got a %v frame instead of a close", c.name, f.Kind)
			}
		}
	}
	eventually(t, 5*time.Second, "reports", func() bool { return reported.Load() >= 8 })
	rc := dialRaw(t, addr)
	rc.write(append(helloDeclare(t, nameEcho), AppendCall(nil, 5, 0, []byte("ok"))...))
	rc.mustNext(KindHello)
	requireEqual(t, string(rc.mustNext(KindReply).Payload), "ok", "server still serves")
}

// TestClientProtocolError: a server that answers with garbage makes pending calls fail with
// CodeProtocol.
func TestClientProtocolError(t *testing.T) {
	ln := listenRaw(t, func(b []byte) []byte {
		hello, _ := AppendHello(nil, "bad")
		return append(hello, 0, 0, 0, 1, 0) // a frame of kind 0
	})
	c := newClient(t, ln, ClientConfig{Timeout: 20 * time.Second})
	m, _ := c.Method("a", "b", "c")
	start := time.Now()
	requireCode(t, c.Call(context.Background(), m, nil, nil), CodeProtocol, "garbage reply")
	if time.Since(start) > 5*time.Second {
		t.Fatal("protocol error was not prompt")
	}
}

func TestStation(t *testing.T) {
	_, addr1 := startServer(t, ServerConfig{Name: "chat-1"}, func(s *Server) {
		requireNoError(t, s.Handle(nameEcho, func(_ context.Context, _ []byte, r Reply) { r.Return(Raw("one")) }), "Handle")
	})
	_, addr2 := startServer(t, ServerConfig{Name: "chat-2"}, func(s *Server) {
		requireNoError(t, s.Handle(nameEcho, func(_ context.Context, _ []byte, r Reply) { r.Return(Raw("two")) }), "Handle")
	})
	var peers recorder
	st, err := NewStation(ClientConfig{Name: "connector-1"}, WithBefore(func(_ context.Context, ci CallInfo) error {
		peers.add(ci.Peer)
		return nil
	}))
	requireNoError(t, err, "NewStation")
	t.Cleanup(func() { st.Close() })
	requireNoError(t, st.Add("chat-1", addr1), "Add")
	requireNoError(t, st.Add("chat-2", addr2), "Add")
	requireNoError(t, st.Add("chat-2", addr2), "Add again")
	echo, _ := st.Method(nameEcho.Namespace, nameEcho.Service, nameEcho.Method)
	for _, c := range []struct{ id, want string }{{"chat-1", "one"}, {"chat-2", "two"}} {
		var res Raw
		requireNoError(t, st.Call(context.Background(), c.id, echo, nil, &res), "Call "+c.id)
		requireEqual(t, string(res), c.want, "answer of "+c.id)
	}
	requireEqual(t, peers.take(), "chat-1 chat-2", "CallInfo.Peer is the server id")
	requireCode(t, st.Call(context.Background(), "chat-9", echo, nil, nil), CodeNoMailbox, "unknown server")
	done := make(chan error, 1)
	requireNoError(t, st.Go(context.Background(), "chat-1", echo, nil, nil, func(err error) { done <- err }), "Go")
	requireNoError(t, <-done, "Go result")
	requireNoError(t, st.Notify(context.Background(), "chat-2", echo, nil), "Notify")

	requireNoError(t, st.Add("chat-2", addr1), "move chat-2")
	var res Raw
	requireNoError(t, st.Call(context.Background(), "chat-2", echo, nil, &res), "after the move")
	requireEqual(t, string(res), "one", "chat-2 now at addr1")
	st.Remove("chat-1")
	requireCode(t, st.Call(context.Background(), "chat-1", echo, nil, nil), CodeNoMailbox, "removed")
	requireEqual(t, len(st.Servers()), 1, "servers left")
	st.Close()
	requireCode(t, st.Call(context.Background(), "chat-2", echo, nil, nil), CodeNoMailbox, "after Close")
	requireCode(t, st.Add("chat-3", addr1), CodeNotStarted, "Add after Close")
}

func TestHandleErrors(t *testing.T) {
	s, err := NewServer(ServerConfig{})
	requireNoError(t, err, "NewServer")
	requireNoError(t, s.Handle(nameEcho, echoHandler()), "Handle")
	requireEqual(t, s.Handle(nameEcho, echoHandler()), ErrDuplicateMethod, "duplicate")
	requireEqual(t, s.Handle(nameFail, nil), ErrNilHandler, "nil handler")
	requireEqual(t, s.Handle(MethodName{"a", strings.Repeat("b", 300), "c"}, echoHandler()), ErrNameTooLong, "long name")
	requireNoError(t, s.Close(), "Close before Serve")
	requireEqual(t, s.Serve(nil), ErrServerClosed, "Serve after Close")
}

// listenRaw accepts connections and answers each read with answer(read bytes), for client
// protocol tests.
func listenRaw(t testing.TB, answer func([]byte) []byte) string {
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
			go func() {
				defer nc.Close()
				buf := make([]byte, 4096)
				for {
					n, err := nc.Read(buf)
					if err != nil {
						return
					}
					if _, err := nc.Write(answer(bytes.Clone(buf[:n]))); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}
