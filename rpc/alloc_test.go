//go:build !race

package rpc

import (
	"context"
	"testing"
)

// TestAllocFrameRoundTrip: encoding a forwardMessage CALL frame into a reused buffer, and
// decoding it back (stream decoder, then the arguments in place), allocates nothing.
func TestAllocFrameRoundTrip(t *testing.T) {
	args := sampleForward(64)
	buf := make([]byte, 0, 512)
	var d FrameDecoder
	var out fwdMsg
	n := testing.AllocsPerRun(1000, func() {
		b := AppendCallHeader(buf[:0], 7, 3)
		b, _ = args.AppendRPC(b)
		b, err := EndFrame(b, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		d.Feed(b)
		f, err := d.Next()
		if err != nil || f.ID != 7 || f.Method != 3 {
			t.Fatalf("decoded %+v, %v", f, err)
		}
		if err := out.DecodeRPC(f.Payload); err != nil || out.SID != args.SID {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per frame round trip, want 0", n)
	}
}

// TestAllocDecoderStraddle: a frame cut in two pieces is reassembled in the decoder's own
// buffer, which is reused, so split delivery allocates nothing either.
func TestAllocDecoderStraddle(t *testing.T) {
	wire := AppendCall(nil, 1, 1, make([]byte, 300))
	a, b := append([]byte{}, wire[:100]...), append([]byte{}, wire[100:]...)
	var d FrameDecoder
	n := testing.AllocsPerRun(1000, func() {
		d.Feed(a)
		if _, err := d.Next(); err != ErrNeedMore {
			t.Fatal(err)
		}
		d.Feed(b)
		if f, err := d.Next(); err != nil || len(f.Payload) != 300 {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per straddling frame, want 0", n)
	}
}

// TestAllocServerDispatch: a read batch of CALL frames goes through the server connection's
// decoder, dispatch, a handler using the fast path (arguments decoded in place, a reused result
// encoded straight into the outbound buffer) and the batch-end write, without allocating.
func TestAllocServerDispatch(t *testing.T) {
	s, err := NewServer(ServerConfig{}, WithBefore(func(context.Context, CallInfo) error { return nil }),
		WithAfter(func(context.Context, CallInfo, error) {}))
	requireNoError(t, err, "NewServer")
	var res fwdResp // the handler answers synchronously, so one result value is enough
	var handled int
	requireNoError(t, s.Handle(nameForward, func(_ context.Context, args []byte, r Reply) {
		var m fwdMsg
		if err := m.DecodeRPC(args); err != nil {
			r.Error(err)
			return
		}
		handled++
		res.Code, res.Body = 200, m.Body
		r.Return(&res)
	}), "Handle")
	var written int
	sc := newServerConnWith(s, func(b []byte) error { written += len(b); return nil }, func() {})
	requireNoError(t, sc.onBytes(helloDeclare(t, nameForward)), "setup")

	var batch []byte
	for i := 0; i < 8; i++ {
		batch = AppendCall(batch, uint32(i+1), 0, mustAppend(t, sampleForward(32)))
	}
	n := testing.AllocsPerRun(1000, func() {
		if err := sc.onBytes(batch); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per dispatched batch of 8 calls, want 0", n)
	}
	if handled < 8*1000 || written == 0 {
		t.Fatalf("handled %d calls, wrote %d bytes", handled, written)
	}
}

// TestAllocClientReply: the client's side of a reply (frame decoded, call taken from the
// pending table, result decoded into the caller's value, completion signalled) allocates
// nothing; neither does queuing the call.
func TestAllocClientReply(t *testing.T) {
	c := &Client{cfg: ClientConfig{}.withDefaults()}
	c.calls.New = func() any { return new(call) }
	c.waiters.New = func() any { return newWaiter() }
	cc := newClientConn(c)
	cc.state, cc.out.holds = stateUp, 1 // up, but nothing is written
	m, _ := c.Method("sys", "msgRemote", "forwardMessage")
	args, res := sampleForward(32), new(fwdResp)
	reply := AppendReply(nil, 0, mustAppend(t, &fwdResp{Code: 200, Body: make([]byte, 32)}))
	w := newWaiter()
	var dec FrameDecoder
	n := testing.AllocsPerRun(1000, func() {
		cl := c.calls.Get().(*call)
		cl.method, cl.result, cl.done, cl.ctx = m, res, w.fn, context.Background()
		id, err := cc.call(cl, args)
		if err != nil {
			t.Fatal(err)
		}
		cc.out.buf = cc.out.buf[:0]
		reply[FrameHeaderSize+3] = byte(id) // patch the id (ids stay below 65536 here)
		reply[FrameHeaderSize+2] = byte(id >> 8)
		dec.Feed(reply)
		if err := cc.drainHello(&dec); err != nil {
			t.Fatal(err)
		}
		if err := <-w.ch; err != nil || res.Code != 200 {
			t.Fatalf("reply: %v", err)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per call and reply, want 0", n)
	}
}

// drainHello is drain for a connection that skipped the HELLO exchange.
func (cc *clientConn) drainHello(dec *FrameDecoder) error {
	cc.hello.Store(true)
	return cc.drain(dec)
}

func mustAppend(t testing.TB, a Appender) []byte {
	b, err := a.AppendRPC(nil)
	requireNoError(t, err, "AppendRPC")
	return b
}
