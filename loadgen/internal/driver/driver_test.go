package driver

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/codec/pomelopb"
)

func TestRingOutOfOrder(t *testing.T) {
	var r ring
	for id := uint32(1); id <= 5; id++ {
		if !r.push(id, int64(id)*10, kindMain, 8) {
			t.Fatal("push refused")
		}
	}
	if i, res := r.find(3); res != found || r.s[i].sent != 30 {
		t.Fatalf("find(3) = %d %d", i, res)
	} else {
		r.complete(i)
	}
	if _, res := r.find(3); res != late {
		t.Fatal("answered id not late")
	}
	if _, res := r.find(9); res != unknown {
		t.Fatal("unsent id not unknown")
	}
	if _, res := r.find(0); res != unknown {
		t.Fatal("id 0 not unknown")
	}
	i, _ := r.find(1)
	r.complete(i)
	if r.headID != 2 || r.n != 4 || r.live != 3 {
		t.Fatalf("head %d n %d live %d", r.headID, r.n, r.live)
	}
	if sent, _ := r.oldest(); sent != 20 {
		t.Fatalf("oldest %d", sent)
	}
	var n [numKinds]int
	r.expire(40, &n) // 2 and 4 time out; 3 was answered
	if n[kindMain] != 2 || r.live != 1 || r.headID != 5 {
		t.Fatalf("expired %v live %d head %d", n, r.live, r.headID)
	}
	if _, res := r.find(2); res != late {
		t.Fatal("timed-out id not late")
	}
	for id := uint32(6); id <= 12; id++ {
		if !r.push(id, 100, kindSend, 8) {
			t.Fatalf("push %d refused", id)
		}
	}
	if r.push(13, 100, kindMain, 8) {
		t.Fatal("push beyond the limit accepted")
	}
	if i, res := r.find(12); res != found || r.s[i].kind != kindSend {
		t.Fatal("find after growth")
	}
	if r.reset() != 8 || r.n != 0 {
		t.Fatal("reset")
	}
}

func TestWheel(t *testing.T) {
	var w wheel
	conns := make([]conn, 4)
	whens := []int64{3e6, 12e6, 30e9, 12e6} // the third is three revolutions away
	for i := range conns {
		w.arm(&conns[i], whens[i])
	}
	w.arm(&conns[3], 50e6) // later: ignored, stays at 12 ms
	var fired []int
	fire := func(c *conn) {
		for i := range conns {
			if &conns[i] == c {
				fired = append(fired, i)
			}
		}
	}
	w.advance(2e6, fire)
	if len(fired) != 0 {
		t.Fatalf("fired early: %v", fired)
	}
	w.advance(5e6, fire)
	if len(fired) != 1 || fired[0] != 0 {
		t.Fatalf("at 5ms fired %v", fired)
	}
	w.remove(&conns[1])
	w.advance(20e6, fire)
	if len(fired) != 2 || fired[1] != 3 {
		t.Fatalf("at 20ms fired %v", fired)
	}
	w.advance(29e9, fire)
	if len(fired) != 2 || w.n != 1 {
		t.Fatalf("at 29s fired %v (n=%d)", fired, w.n)
	}
	w.advance(31e9, fire)
	if len(fired) != 3 || fired[2] != 2 || w.n != 0 || w.nextTick() != -1 {
		t.Fatalf("at 31s fired %v (n=%d)", fired, w.n)
	}
}

func TestEchoExchange(t *testing.T) {
	for _, tr := range []Transport{TCP, WS} {
		cfg := testConfig(Echo, tr)
		cfg.Depth = 3
		l := handshakenLoop(t, cfg)
		c := l.c
		if got := clientPackets(t, tr, l.sent(t)); len(got) != 1 || got[0].Type != codec.TypeHandshakeAck {
			t.Fatalf("after the handshake the client sent %v", got)
		}
		if c.state != stReady || l.g.Open != 1 || l.st.C[Handshakes] != 1 {
			t.Fatalf("state %v open %d", c.state, l.g.Open)
		}
		l.enter(PhaseHold)
		reqs := clientPackets(t, tr, l.sent(t))
		if len(reqs) != 3 {
			t.Fatalf("%d requests for depth 3", len(reqs))
		}
		for i, p := range reqs {
			var m codec.Message
			if err := codec.ParseMessage(p.Body, &m); err != nil || m.Type != codec.Request || m.ID != uint32(i+1) ||
				!m.Compressed || m.Code != 3 || string(m.Body) != `{"msg":"hello"}` {
				t.Fatalf("request %d: %+v %v", i, m, err)
			}
		}
		// Answer 2 first, then 1 and 3 in one read, then a late duplicate of 2.
		resp := func(id uint32, body string) []byte {
			return pkt(codec.TypeData, codec.AppendResponse(nil, id, []byte(body)))
		}
		l.input(c, serverBytes(tr, resp(2, `{"msg":"hello"}`)))
		l.input(c, serverBytes(tr, resp(1, `{"code":500}`), resp(3, `{"code":200,"x":1}`), resp(2, `{}`),
			pkt(codec.TypeHeartbeat, nil)))
		st := &l.st.C
		if st[Responses] != 3 || st[ErrResponses] != 1 || st[Late] != 1 || st[Requests] != 6 || l.st.Lat.Count() != 3 {
			t.Fatalf("%v: responses %d err %d late %d requests %d", tr, st[Responses], st[ErrResponses], st[Late], st[Requests])
		}
		if c.ring.live != 3 || l.g.Inflight != 3 || c.hbSendAt == 0 {
			t.Fatalf("live %d inflight %d hbSendAt %d", c.ring.live, l.g.Inflight, c.hbSendAt)
		}
		if got := clientPackets(t, tr, l.sent(t)); len(got) != 3 {
			t.Fatalf("%d new requests, want 3", len(got))
		}
	}
}

func TestHeartbeatRules(t *testing.T) {
	l := handshakenLoop(t, testConfig(Idle, TCP))
	c := l.c
	l.sent(t)
	l.now = 1e9
	l.input(c, pkt(codec.TypeHeartbeat, nil))
	if c.hbSendAt != 4e9 || c.hbArmed || len(l.sent(t)) != 0 {
		t.Fatalf("hbSendAt %d armed %v", c.hbSendAt, c.hbArmed)
	}
	l.now = 4e9
	fire(l.loop, c)
	if got := clientPackets(t, TCP, l.sent(t)); !c.hbArmed || c.hbDeadline != 10e9 || len(got) != 1 || got[0].Type != codec.TypeHeartbeat {
		t.Fatalf("after the interval: armed %v deadline %d sent %v", c.hbArmed, c.hbDeadline, got)
	}
	l.now = 7e9
	l.input(c, pkt(codec.TypeData, codec.AppendPushCode(nil, 7, []byte(`{}`)))) // any package pushes the deadline
	if c.hbDeadline != 13e9 {
		t.Fatalf("deadline %d after a push, want 13e9", c.hbDeadline)
	}
	l.now = 12.8e9
	fire(l.loop, c)
	if c.state == stClosed || !c.tArmed || c.tWhen != 12.9e9 {
		t.Fatalf("state %v timer %v at %d", c.state, c.tArmed, c.tWhen)
	}
	l.now = 12.95e9 // within the JS client's 100 ms gap
	fire(l.loop, c)
	if c.state != stClosed || l.st.C[DropHeartbeat] != 1 || l.g.Open != 0 {
		t.Fatalf("state %v drops %d open %d", c.state, l.st.C[DropHeartbeat], l.g.Open)
	}
}

func TestHeartbeatAlign(t *testing.T) {
	cfg := testConfig(Idle, TCP)
	cfg.HeartbeatAlign = 50e6
	l := handshakenLoop(t, cfg)
	c := l.c
	for _, tc := range []struct{ now, want int64 }{
		{1.01e9, 4.05e9}, // 4.01 s rounded up to the next 50 ms
		{5.3e9, 8.3e9},   // already on the grid: unchanged
	} {
		c.hbSendAt = 0
		l.now = tc.now
		l.input(c, pkt(codec.TypeHeartbeat, nil))
		if c.hbSendAt != tc.want || !c.tArmed {
			t.Fatalf("heartbeat at %d: hbSendAt %d armed %v, want %d", tc.now, c.hbSendAt, c.tArmed, tc.want)
		}
	}
}

func TestChatExchange(t *testing.T) {
	cfg := testConfig(Chat, TCP)
	cfg.RoomSize = 4
	cfg.FirstIndex = 9
	l := handshakenLoop(t, cfg)
	c := l.c
	pk := clientPackets(t, TCP, l.sent(t))
	if len(pk) != 2 {
		t.Fatalf("%d packages after the handshake, want ack + entry", len(pk))
	}
	var m codec.Message
	if err := codec.ParseMessage(pk[1].Body, &m); err != nil || m.Code != 5 || m.ID != 1 {
		t.Fatalf("entry %+v %v", m, err)
	}
	// Entry body: pomelo-protobuf {username:"u9", rid:"r2"}.
	if string(m.Body) != "\x0a\x02u9\x12\x02r2" {
		t.Fatalf("entry body %q", m.Body)
	}
	entry, _ := c.sess.srv.ServerProtos.Lookup("connector.entryHandler.entry").AppendWire(nil, []byte(`{"code":200,"users":["u8","u9"]}`))
	l.input(c, pkt(codec.TypeData, codec.AppendResponse(nil, 1, entry)))
	if c.state != stReady || c.members != 2 {
		t.Fatalf("state %v members %d", c.state, c.members)
	}
	l.input(c, pkt(codec.TypeData, codec.AppendPushCode(nil, 7, []byte(`{"user":"u10"}`))))
	if c.members != 3 {
		t.Fatalf("members %d after onAdd", c.members)
	}
	l.phase = PhaseHold
	l.sendChat(c, 0)
	pk = clientPackets(t, TCP, l.sent(t))
	if err := codec.ParseMessage(pk[0].Body, &m); err != nil || m.Code != 2 {
		t.Fatalf("send %+v %v", m, err)
	}
	send := c.sess.srv.ClientProtos.Lookup("chat.chatHandler.send")
	js, err := send.AppendJSON(nil, m.Body)
	if err != nil || !strings.Contains(string(js), `"rid":"r2"`) || !strings.Contains(string(js), `"from":"u9","target":"*"`) {
		t.Fatalf("send body %s %v", js, err)
	}
	l.input(c, pkt(codec.TypeData, codec.AppendResponse(nil, 2, []byte(`{}`))))
	if l.st.C[ChatExpected] != 3 {
		t.Fatalf("expected %d", l.st.C[ChatExpected])
	}
	var d pomelopb.Decoder
	d.Reset(send, m.Body)
	content := ""
	for f, _ := d.Next(); f != nil; f, _ = d.Next() {
		if f.Name() == "content" {
			b, _ := d.BytesUnsafe()
			content = string(b)
		}
	}
	push, _ := c.sess.srv.ServerProtos.Lookup("onChat").AppendWire(nil, []byte(`{"msg":"`+content+`","from":"u9","target":"*"}`))
	l.input(c, pkt(codec.TypeData, codec.AppendPushCode(nil, 6, push)))
	if l.st.C[PushesMatched] != 1 || l.st.Push.Count() != 1 || l.st.Push.Max() > 10e9 {
		t.Fatalf("onChat: matched %d latency n=%d max=%d", l.st.C[PushesMatched], l.st.Push.Count(), l.st.Push.Max())
	}
}

// fire runs c's timer as the wheel would: unlinked first.
func fire(l *loop, c *conn) {
	l.wheel.remove(c)
	l.onTimer(c)
}

// TestConnSize keeps the per-connection state small: it is the floor of loadgen's memory per
// connection.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 400 {
		t.Fatalf("conn is %d bytes", n)
	}
}

func TestPushMustDecodeWithServerProto(t *testing.T) {
	l := handshakenLoop(t, testConfig(Push, TCP))
	c := l.c
	good, _ := c.sess.srv.ServerProtos.Lookup("onChat").AppendWire(nil, []byte(`{"msg":"1","from":"u","target":"*"}`))
	l.input(c, pkt(codec.TypeData, codec.AppendPushCode(nil, 6, good)))
	l.input(c, pkt(codec.TypeData, codec.AppendPushCode(nil, 6, []byte(`{"msg":"json, not protobuf"}`))))
	l.input(c, pkt(codec.TypeData, codec.AppendPushCode(nil, 7, []byte(`{"user":"json route"}`))))
	if l.st.C[Pushes] != 2 || l.st.C[ProtoErrors] != 1 || c.state != stReady {
		t.Fatalf("pushes %d proto errors %d state %v", l.st.C[Pushes], l.st.C[ProtoErrors], c.state)
	}
	l.input(c, pkt(codec.TypeData, codec.AppendPushCode(nil, 99, nil)))
	if c.state != stClosed || l.st.C[ProtoErrors] != 2 {
		t.Fatalf("unknown route code: state %v", c.state)
	}
}
