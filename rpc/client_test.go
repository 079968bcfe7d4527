package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/rpc/pack"
)

func TestCallReply(t *testing.T) {
	_, addr := startServer(t, ServerConfig{Name: "chat-1"}, func(s *Server) {
		requireNoError(t, s.Handle(nameForward, echoHandler()), "Handle")
		requireNoError(t, s.Handle(nameEcho, Func(func(_ context.Context, l *pack.List) (pack.List, error) {
			return append(pack.List{"echo"}, *l...), nil
		})), "Handle echo")
	})
	c := newClient(t, addr, ClientConfig{Name: "connector-1"})
	fwd, err := c.Method("sys", "msgRemote", "forwardMessage")
	requireNoError(t, err, "Method")
	echo, _ := c.Method("user", "test", "echo")

	settings, _ := pack.AppendAny(nil, map[string]any{"rid": "room-1"})
	for i := 0; i < 3; i++ { // the DECLARE goes out once; later calls reuse the id
		args := &fwdMsg{MsgID: uint64(i + 1), Route: []byte("chat.chatHandler.send"),
			Body: []byte(fmt.Sprintf(`{"content":"hi %d"}`, i)), SID: 7, Frontend: []byte("connector-1"),
			UID: []byte("u1"), Settings: settings}
		var res fwdResp
		requireNoError(t, c.Call(context.Background(), fwd, args, &res), "Call")
		requireEqual(t, res.Code, int64(200), "code")
		requireEqual(t, string(res.Body), string(args.Body), "body")
	}
	var out pack.List
	requireNoError(t, c.Call(context.Background(), echo, pack.List{int64(1), "two", nil}, &out), "echo")
	requireEqual(t, fmt.Sprint(out), fmt.Sprint([]any{"echo", int64(1), "two", nil}), "generic echo")
	requireEqual(t, c.Stats().Pending, int64(0), "pending after calls")
	requireEqual(t, c.Stats().Dials, uint64(1), "dials")
}

// TestCallsBeforeConnect calls right after NewClient: the calls queue while the connection is
// being set up and go out behind the HELLO.
func TestCallsBeforeConnect(t *testing.T) {
	_, addr := startServer(t, ServerConfig{}, func(s *Server) {
		requireNoError(t, s.Handle(nameForward, echoHandler()), "Handle")
	})
	for i := 0; i < 5; i++ {
		c, err := NewClient(addr, ClientConfig{})
		requireNoError(t, err, "NewClient")
		fwd, _ := c.Method("sys", "msgRemote", "forwardMessage")
		var wg sync.WaitGroup
		for j := 0; j < 10; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var res fwdResp
				if err := c.Call(context.Background(), fwd, &fwdMsg{Body: []byte{byte(j)}}, &res); err != nil {
					t.Errorf("call %d: %v", j, err)
				} else if !bytes.Equal(res.Body, []byte{byte(j)}) {
					t.Errorf("call %d: body %v", j, res.Body)
				}
			}()
		}
		wg.Wait()
		c.Close()
	}
}

// TestPipelinedOutOfOrder sends many concurrent calls on one connection; the server answers
// them in a random order, and every caller gets its own answer.
func TestPipelinedOutOfOrder(t *testing.T) {
	const n = 200
	h := newHolder(n)
	srv, addr := startServer(t, ServerConfig{}, func(s *Server) {
		requireNoError(t, s.Handle(nameHold, h.handle), "Handle")
	})
	c := newClient(t, addr, ClientConfig{})
	m, _ := c.Method(nameHold.Namespace, nameHold.Service, nameHold.Method)

	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arg := pack.AppendInt(nil, int64(i))
			var res Raw
			if err := c.Call(context.Background(), m, Raw(arg), &res); err != nil {
				t.Errorf("call %d: %v", i, err)
			} else if !bytes.Equal(res, arg) {
				t.Errorf("call %d got the answer % x, want % x", i, []byte(res), arg)
			}
		}()
	}
	h.wait(t, n)
	requireEqual(t, c.Stats().Pending, int64(n), "pending while held")
	h.release(rand.New(rand.NewPCG(5, 6)).Perm(n))
	wg.Wait()
	requireEqual(t, srv.Stats().Conns, 1, "server connections")
	requireEqual(t, c.Stats().Dials, uint64(1), "client dials")
	if w := c.Stats().Writes; w >= n+2 {
		t.Logf("note: %d writes for %d calls (no coalescing happened under this schedule)", w, n)
	}
}

func TestTimeout(t *testing.T) {
	h := newHolder(8)
	_, addr := startServer(t, ServerConfig{}, func(s *Server) {
		requireNoError(t, s.Handle(nameHold, h.handle), "Handle")
		requireNoError(t, s.Handle(nameForward, echoHandler()), "Handle")
	})
	c := newClient(t, addr, ClientConfig{Timeout: 100 * time.Millisecond})
	hold, _ := c.Method(nameHold.Namespace, nameHold.Service, nameHold.Method)
	fwd, _ := c.Method(nameForward.Namespace, nameForward.Service, nameForward.Method)

	start := time.Now()
	err := c.Call(context.Background(), hold, Raw("x"), nil)
	elapsed := time.Since(start)
	e := requireCode(t, err, CodeTimeout, "held call")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !e.Timeout() || !errors.Is(err, ErrTimeout) {
		t.Fatalf("timeout error %v is not a net.Error with Timeout() true", err)
	}
	if elapsed < 100*time.Millisecond || elapsed > 5*time.Second {
		t.Fatalf("timed out after %v, want about 100ms", elapsed)
	}

	// A context deadline sooner than the configured timeout wins.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start = time.Now()
	requireCode(t, c.Call(ctx, hold, Raw("y"), nil), CodeTimeout, "ctx deadline")
	if d := time.Since(start); d > 90*time.Millisecond && d > elapsed {
		t.Fatalf("ctx deadline of 30ms took %v", d)
	}

	// Cancellation abandons the call.
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel2() }()
	requireCode(t, c.Call(ctx2, hold, Raw("z"), nil), CodeCanceled, "canceled")

	// The late replies are dropped; the connection keeps working.
	h.wait(t, 3)
	h.release([]int{0, 1, 2})
	var res fwdResp
	requireNoError(t, c.Call(context.Background(), fwd, &fwdMsg{Body: []byte("after")}, &res), "after timeouts")
	requireEqual(t, string(res.Body), "after", "body")
	requireEqual(t, c.Stats().Pending, int64(0), "pending")
}

func TestPendingLimit(t *testing.T) {
	const limit = 4
	h := newHolder(limit + 1)
	_, addr := startServer(t, ServerConfig{}, func(s *Server) {
		requireNoError(t, s.Handle(nameHold, h.handle), "Handle")
	})
	c := newClient(t, addr, ClientConfig{MaxPending: limit})
	hold, _ := c.Method(nameHold.Namespace, nameHold.Service, nameHold.Method)

	results := make(chan error, limit)
	for i := 0; i < limit; i++ {
		requireNoError(t, c.Go(context.Background(), hold, Raw{byte(i)}, nil, func(err error) { results <- err }), "Go")
	}
	start := time.Now()
	err := c.Call(context.Background(), hold, Raw("over"), nil)
	requireCode(t, err, CodePendingLimit, "call over the limit")
	if !errors.Is(err, ErrPendingLimit) || time.Since(start) > time.Second {
		t.Fatalf("over-limit call: %v after %v", err, time.Since(start))
	}
	requireCode(t, c.Go(context.Background(), hold, nil, nil, func(error) { t.Error("done called") }),
		CodePendingLimit, "Go over the limit")

	h.wait(t, limit)
	h.release([]int{3, 2, 1, 0})
	for i := 0; i < limit; i++ {
		requireNoError(t, <-results, "held call")
	}
	go func() { h.wait(t, 1); h.release([]int{0}) }()
	requireNoError(t, c.Call(context.Background(), hold, Raw("again"), nil), "call after the queue drained")
}

// TestServerKilledMidFlight closes the server while calls are pending: every one of them fails
// with CodeConnLost at once, long before its 30 s timeout.
func TestServerKilledMidFlight(t *testing.T) {
	const n = 50
	h := newHolder(n)
	srv, addr := startServer(t, ServerConfig{}, func(s *Server) {
		requireNoError(t, s.Handle(nameHold, h.handle), "Handle")
	})
	c := newClient(t, addr, ClientConfig{Timeout: 30 * time.Second, MaxBackoff: 50 * time.Millisecond})
	hold, _ := c.Method(nameHold.Namespace, nameHold.Service, nameHold.Method)

	results := make(chan error, n)
	for i := 0; i < n; i++ {
		requireNoError(t, c.Go(context.Background(), hold, Raw{byte(i)}, nil, func(err error) { results <- err }), "Go")
	}
	h.wait(t, n)
	start := time.Now()
	srv.Close()
	for i := 0; i < n; i++ {
		select {
		case err := <-results:
			requireCode(t, err, CodeConnLost, "pending call after the server died")
			if !errors.Is(err, ErrConnLost) {
				t.Fatalf("errors.Is(%v, ErrConnLost) is false", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d pending calls failed within 5s of the server dying", i, n)
		}
	}
	t.Logf("all %d pending calls failed %v after Close", n, time.Since(start))
	h.release(nil)
	requireEqual(t, c.Stats().Pending, int64(0), "pending")

	// With the server gone, calls fail fast (connect refused) instead of waiting for a timeout.
	start = time.Now()
	err := c.Call(context.Background(), hold, nil, nil)
	if !errors.Is(err, ErrConnect) && !errors.Is(err, ErrConnLost) {
		t.Fatalf("call to a dead server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("call to a dead server took %v", d)
	}
}

// TestReconnect restarts the server on the same address: the client reconnects and calls work
// again.
func TestReconnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err, "listen")
	addr := ln.Addr().String()
	reg := func(s *Server) { requireNoError(t, s.Handle(nameForward, echoHandler()), "Handle") }
	srv := serveOn(t, ln, ServerConfig{Name: "first"}, reg)
	var lost atomic.Int32
	c := newClient(t, addr, ClientConfig{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
		WithErrorHook(func(error) { lost.Add(1) }))
	fwd, _ := c.Method(nameForward.Namespace, nameForward.Service, nameForward.Method)
	call := func() error {
		var res fwdResp
		return c.Call(context.Background(), fwd, &fwdMsg{Body: []byte("ping")}, &res)
	}
	requireNoError(t, call(), "first call")

	srv.Close()
	eventually(t, 5*time.Second, "the client to notice", func() bool { return call() != nil })

	ln2, err := net.Listen("tcp", addr)
	requireNoError(t, err, "listen again on "+addr)
	serveOn(t, ln2, ServerConfig{Name: "second"}, reg)
	eventually(t, 10*time.Second, "a call to succeed after the restart", func() bool { return call() == nil })
	for i := 0; i < 20; i++ {
		requireNoError(t, call(), "call after reconnecting")
	}
	if c.Stats().Dials < 2 || lost.Load() == 0 {
		t.Fatalf("dials %d, reported failures %d", c.Stats().Dials, lost.Load())
	}
}

// TestKeepaliveDetectsSilentServer talks to a peer that accepts and reads but never answers:
// the keepalive closes the connection and the pending call fails long before its timeout.
func TestKeepaliveDetectsSilentServer(t *testing.T) {
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
				buf := make([]byte, 1024)
				for {
					if _, err := nc.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	c := newClient(t, ln.Addr().String(), ClientConfig{Keepalive: 50 * time.Millisecond, Timeout: 20 * time.Second})
	m, _ := c.Method("user", "x", "y")
	start := time.Now()
	err = c.Call(context.Background(), m, nil, nil)
	requireCode(t, err, CodeConnLost, "call to a silent server")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("silent server detected after %v", d)
	}
}

func TestNoDelay(t *testing.T) {
	_, addr := startServer(t, ServerConfig{}, func(s *Server) {
		requireNoError(t, s.Handle(nameForward, echoHandler()), "Handle")
	})
	c := newClient(t, addr, ClientConfig{})
	fwd, _ := c.Method(nameForward.Namespace, nameForward.Service, nameForward.Method)
	requireNoError(t, c.Call(context.Background(), fwd, &fwdMsg{}, &fwdResp{}), "call")
	cc := c.cur.Load()
	cc.mu.Lock()
	nc := cc.nc
	cc.mu.Unlock()
	raw, err := nc.(*net.TCPConn).SyscallConn()
	requireNoError(t, err, "SyscallConn")
	var v int
	var gerr error
	requireNoError(t, raw.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
	}), "Control")
	requireNoError(t, gerr, "getsockopt")
	if v == 0 {
		t.Fatal("TCP_NODELAY is off on the client connection")
	}
}

func TestClosedClient(t *testing.T) {
	_, addr := startServer(t, ServerConfig{}, nil)
	c, err := NewClient(addr, ClientConfig{})
	requireNoError(t, err, "NewClient")
	m, _ := c.Method("a", "b", "c")
	requireNoError(t, c.Close(), "Close")
	requireNoError(t, c.Close(), "second Close")
	requireCode(t, c.Call(context.Background(), m, nil, nil), CodeNotStarted, "call after Close")
	requireCode(t, c.Notify(context.Background(), m, nil), CodeNotStarted, "notify after Close")

	other := NewMethods().MustMethod("a", "b", "c")
	c2 := newClient(t, addr, ClientConfig{})
	err = c2.Call(context.Background(), other, nil, nil)
	requireCode(t, err, CodeNoMethod, "foreign method handle")
	if !errors.Is(err, ErrForeignMethod) {
		t.Fatalf("foreign handle error %v does not wrap ErrForeignMethod", err)
	}
	requireCode(t, c2.Call(context.Background(), Method{}, nil, nil), CodeNoMethod, "zero Method")
}

func TestConfigValidate(t *testing.T) {
	long := string(make([]byte, MaxNameLen+1))
	for _, cfg := range []ClientConfig{{Name: long}, {MaxPending: -1}, {MaxFrame: MaxFrameLimit + 1},
		{MinBackoff: time.Second, MaxBackoff: time.Millisecond}, {BufferInterval: -1}} {
		if _, err := NewClient("127.0.0.1:1", cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("NewClient(%+v): %v, want ErrConfig", cfg, err)
		}
	}
	for _, cfg := range []ServerConfig{{Name: long}, {MaxFrame: -1}, {BufferInterval: -1}} {
		if _, err := NewServer(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("NewServer(%+v): %v, want ErrConfig", cfg, err)
		}
	}
}

// TestOutboundLimit: against a server that stops reading, queued bytes stop at MaxOutbound and
// further sends fail at once with CodeSend instead of growing the queue.
func TestOutboundLimit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err, "listen")
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		if nc, err := ln.Accept(); err == nil {
			accepted <- nc // never read
		}
	}()
	const limit = 1 << 20
	c := newClient(t, ln.Addr().String(), ClientConfig{MaxOutbound: limit, WriteTimeout: -1, Keepalive: -1})
	m, _ := c.Method("user", "x", "push")
	payload := Raw(make([]byte, 64<<10))
	errs := make(chan error, 2)
	for g := 0; g < 2; g++ { // one of them ends up blocked in the write as the flusher
		go func() {
			for {
				if err := c.Notify(context.Background(), m, payload); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	select {
	case err := <-errs:
		requireCode(t, err, CodeSend, "send to a server that does not read")
		if !errors.Is(err, ErrOutboundFull) {
			t.Fatalf("%v is not ErrOutboundFull", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the outbound queue never filled")
	}
	cc := c.cur.Load()
	cc.mu.Lock()
	queued := len(cc.out.buf)
	cc.mu.Unlock()
	if queued > limit+len(payload)+64 {
		t.Fatalf("%d bytes queued, limit %d", queued, limit)
	}
	c.Close()
	select { // the other sender was either blocked writing (then Close fails it) or also refused
	case err := <-errs:
		if !errors.Is(err, ErrNotStarted) && !errors.Is(err, ErrOutboundFull) {
			t.Fatalf("second sender: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the blocked sender did not return after Close")
	}
	select {
	case nc := <-accepted:
		nc.Close()
	default:
	}
}
