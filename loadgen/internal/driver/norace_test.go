//go:build !race

package driver

import (
	"syscall"
	"testing"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
)

// TestAllocResponsePath checks that the steady-state client path does not allocate: the server's
// response arrives on the socket, is read, parsed, matched to its request, its latency recorded,
// its code checked, and the next request (closed loop) is encoded and written.
func TestAllocResponsePath(t *testing.T) {
	for _, tr := range []Transport{TCP, WS} {
		cfg := testConfig(Echo, tr)
		l := handshakenLoop(t, cfg)
		c := l.c
		l.enter(PhaseHold)
		l.sent(t)
		id := uint32(1)
		in := make([]byte, 0, 256)
		pk := make([]byte, 0, 256)
		buf := make([]byte, 4096)
		step := func() {
			var at int
			pk, at = codec.BeginPacket(pk[:0], codec.TypeData)
			pk = codec.AppendResponse(pk, id, []byte(`{"code":200,"msg":"hello"}`))
			codec.EndPacket(pk, at)
			in = pk
			if tr == WS {
				in = ws.AppendFrame(in[len(in):], ws.OpBinary, pk)
			}
			syscall.Write(l.peer, in)
			l.readable(c)
			if n, _ := syscall.Read(l.peer, buf); n <= 0 {
				t.Fatal("no request written")
			}
			id++
		}
		step()
		if n := testing.AllocsPerRun(2000, step); n != 0 {
			t.Errorf("%v: %v allocations per response", tr, n)
		}
		if l.st.C[Responses] != uint64(id-1) || l.st.C[ErrResponses] != 0 || c.state != stReady {
			t.Fatalf("%v: %d responses for %d, errors %d", tr, l.st.C[Responses], id-1, l.st.C[ErrResponses])
		}
	}
}

// TestAllocChatPush checks the onChat path: a pomelo-protobuf push decoded for its timestamp.
func TestAllocChatPush(t *testing.T) {
	cfg := testConfig(Chat, TCP)
	l := handshakenLoop(t, cfg)
	c := l.c
	entry, _ := c.sess.srv.ServerProtos.Lookup("connector.entryHandler.entry").AppendWire(nil, []byte(`{"code":200,"users":["u0"]}`))
	l.input(c, pkt(codec.TypeData, codec.AppendResponse(nil, 1, entry)))
	body, _ := c.sess.srv.ServerProtos.Lookup("onChat").AppendWire(nil, []byte(`{"msg":"`+itoa(wallNow())+`","from":"u1","target":"*"}`))
	push := pkt(codec.TypeData, codec.AppendPushCode(nil, 6, body))
	if n := testing.AllocsPerRun(2000, func() { l.input(c, push) }); n != 0 {
		t.Errorf("%v allocations per onChat", n)
	}
	if l.st.C[PushesMatched] < 2000 || l.st.Push.Count() != l.st.C[PushesMatched] {
		t.Fatalf("matched %d, timed %d", l.st.C[PushesMatched], l.st.Push.Count())
	}
}
