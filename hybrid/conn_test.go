package hybrid

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	pc "github.com/shaddock-io/shaddock/internal/pomeloclient"
)

// echoHandler answers every request with a response carrying the request's body.
func echoHandler() *testHandler {
	h := newTestHandler()
	h.onData = func(c *Conn, body []byte) {
		var m codec.Message
		if codec.ParseMessage(body, &m) != nil || m.Type != codec.Request {
			return
		}
		pkt, at := codec.BeginPacket(nil, codec.TypeData)
		pkt = codec.AppendResponse(pkt, m.ID, m.Body)
		codec.EndPacket(pkt, at)
		c.Enqueue(pkt)
	}
	return h
}

// readType reads one package and checks its type.
func readType(t testing.TB, c *pc.Client, want codec.Type) codec.Packet {
	t.Helper()
	p, err := c.ReadPacket()
	requireNoError(t, err, "read "+want.String())
	requireEqual(t, p.Type, want, "package type")
	return p
}

// readResponse reads one DATA package and checks it is the response to id.
func readResponse(t testing.TB, c *pc.Client, id uint32) codec.Message {
	t.Helper()
	p := readType(t, c, codec.TypeData)
	var m codec.Message
	requireNoError(t, codec.ParseMessage(p.Body, &m), "parse response")
	requireEqual(t, m.Type, codec.Response, "message type")
	requireEqual(t, m.ID, id, "response id")
	return m
}

func TestHandshakeVariants(t *testing.T) {
	h := newTestHandler()
	h.onHandshake = func(c *Conn, req *HandshakeRequest) HandshakeResult {
		switch req.Type {
		case "refuse500":
			return HandshakeResult{Code: 500}
		case "refuse501":
			return HandshakeResult{Code: 501}
		case "extra":
			return HandshakeResult{Code: 200, SysExtra: []byte(`"dict":{"a.b.c":1},"useDict":true`)}
		case "user":
			return HandshakeResult{Code: 200, User: json.RawMessage(`{"uid":42,"name":"é"}`)}
		}
		return HandshakeResult{Code: 200}
	}
	s, addr := startServer(t, Config{Heartbeat: 3 * time.Second}, h)
	cases := []struct {
		name, body string
		want       string // exact response body
		called     bool   // Handler.Handshake is called
		refused    bool
	}{
		{"plain", `{"sys":{"type":"unity-socket","version":"0.3.0"},"user":{}}`, `{"code":200,"sys":{"heartbeat":3}}`, true, false},
		{"sys extra", `{"sys":{"type":"extra"}}`, `{"code":200,"sys":{"heartbeat":3,"dict":{"a.b.c":1},"useDict":true}}`, true, false},
		{"user", `{"sys":{"type":"user"},"user":{"x":1}}`, `{"code":200,"sys":{"heartbeat":3},"user":{"uid":42,"name":"é"}}`, true, false},
		{"500", `{"sys":{"type":"refuse500"}}`, `{"code":500}`, true, true},
		{"501", `{"sys":{"type":"refuse501"}}`, `{"code":501}`, true, true},
		{"not json", `{"sys":{"type":`, `{"code":500}`, false, true},
		{"no sys", `{"user":{"type":"x"}}`, `{"code":500}`, false, true},
	}
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		for _, cs := range cases {
			t.Run(cs.name, func(t *testing.T) {
				c := dial(t, addr, tr)
				requireNoError(t, c.SendHandshake([]byte(cs.body)), "send handshake")
				p := readType(t, c, codec.TypeHandshake)
				requireEqual(t, string(p.Body), cs.want, "response body")
				var hc *Conn
				if cs.called {
					e := h.next(t, "handshake")
					hc = e.c
					if cs.name == "plain" {
						requireEqual(t, e.req.Type, "unity-socket", "sys.type")
						requireEqual(t, e.req.Version, "0.3.0", "sys.version")
						requireEqual(t, string(e.req.User), `{}`, "user")
						requireEqual(t, e.c.Transport(), hybridTransport[tr], "transport")
					}
				}
				if !cs.refused {
					requireNoError(t, c.Ack(), "ack")
					readType(t, c, codec.TypeHeartbeat)
					h.next(t, "open")
					return
				}
				expectEOF(t, c)
				if cs.called {
					requireEqual(t, h.closedOf(t, hc).reason, CloseHandshakeRefused, "close reason")
				}
			})
		}
	})
	st := s.Stats()
	n := uint64(len(transports))
	requireEqual(t, st.HandshakeOK.Load(), 3*n, "handshakes ok")
	requireEqual(t, st.Handshake500.Load(), 3*n, "handshakes 500")
	requireEqual(t, st.Handshake501.Load(), n, "handshakes 501")
	requireEqual(t, st.HandshakeInvalid.Load(), 2*n, "invalid handshakes")
}

func TestHeartbeatsOff(t *testing.T) {
	h := echoHandler()
	_, addr := startServer(t, Config{}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := dial(t, addr, tr)
		r, err := c.Handshake(nil)
		requireNoError(t, err, "handshake")
		requireEqual(t, string(r.Raw), `{"code":200,"sys":{}}`, "no heartbeat key")
		requireNoError(t, c.Ack(), "ack")
		requireNoError(t, c.SendHeartbeat(), "heartbeat")
		requireNoError(t, c.Request(1, "a.b.c", []byte(`{}`)), "request")
		readResponse(t, c, 1) // no heartbeat after the ACK, no echo
	})
}

// TestStateMachine sends packages in the wrong states: they are ignored, and counted.
func TestStateMachine(t *testing.T) {
	h := echoHandler()
	s, addr := startServer(t, Config{Heartbeat: 5 * time.Second}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		before := s.Stats().OutOfState.Load()
		c := dial(t, addr, tr)
		requireNoError(t, c.WritePackage(codec.TypeHandshakeAck, nil), "ack in INITED")
		requireNoError(t, c.WritePackage(codec.TypeHeartbeat, nil), "heartbeat in INITED")
		requireNoError(t, c.Request(1, "a.b.c", []byte(`"early"`)), "data in INITED")
		_, err := c.Handshake(nil)
		requireNoError(t, err, "handshake")
		requireNoError(t, c.SendHandshake(pc.HandshakeBody("", nil)), "second handshake")
		requireNoError(t, c.Request(2, "a.b.c", []byte(`"before ack"`)), "data in WAIT_ACK")
		requireNoError(t, c.SendHeartbeat(), "heartbeat in WAIT_ACK")
		requireNoError(t, c.Ack(), "ack")
		requireNoError(t, c.Request(3, "a.b.c", []byte(`"working"`)), "data in WORKING")
		readType(t, c, codec.TypeHeartbeat) // the one after the ACK, and no other
		m := readResponse(t, c, 3)
		requireEqual(t, string(m.Body), `"working"`, "body")
		e := h.next(t, "data")
		requireEqual(t, strings.Contains(string(e.body), "working"), true, "first Data is the one sent when WORKING")
		requireEqual(t, s.Stats().OutOfState.Load()-before, uint64(6), "ignored packages")
	})
}

func TestClientKickCloses(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		requireNoError(t, c.WritePackage(codec.TypeKick, []byte(`{"reason":"x"}`)), "kick")
		expectEOF(t, c)
		requireEqual(t, h.next(t, "closed").reason, CloseProtocolError, "reason")
	})
	requireEqual(t, s.Stats().ErrClientKick.Load(), uint64(len(transports)), "client kicks")
}

func TestBadPackageType(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		requireNoError(t, c.WritePackage(codec.Type(6), nil), "type 6")
		expectEOF(t, c)
		requireEqual(t, h.next(t, "closed").reason, CloseProtocolError, "reason")
	})
	requireEqual(t, s.Stats().ErrBadType.Load(), uint64(len(transports)), "bad types")
}

func TestHeartbeat(t *testing.T) {
	h := echoHandler()
	s, addr := startServer(t, Config{Heartbeat: time.Second}, h) // timeout 2 s
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		requireEqual(t, c.Heartbeat, time.Second, "announced interval")
		readType(t, c, codec.TypeHeartbeat) // right after the ACK
		for i := 0; i < 3; i++ {
			requireNoError(t, c.SendHeartbeat(), "heartbeat")
			readType(t, c, codec.TypeHeartbeat) // echoed at once, nothing in between
		}
		requireNoError(t, c.Request(9, "a.b.c", nil), "request")
		readResponse(t, c, 9)
		last := time.Now()
		expectEOF(t, c) // no KICK package: expectEOF fails on any package
		if el := time.Since(last); el < 1900*time.Millisecond {
			t.Fatalf("closed %v after the last heartbeat, before the 2 s timeout", el)
		}
		requireEqual(t, h.next(t, "closed").reason, CloseHeartbeatTimeout, "reason")
	})
	requireEqual(t, s.Stats().HeartbeatTimeouts.Load(), uint64(len(transports)), "heartbeat timeouts")
}

// TestHeartbeatOnlyHeartbeatsRearm keeps sending data but no heartbeat: pomelo drops such a client.
func TestHeartbeatOnlyHeartbeatsRearm(t *testing.T) {
	h := newTestHandler()
	_, addr := startServer(t, Config{Heartbeat: time.Second, HeartbeatTimeout: time.Second}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		readType(t, c, codec.TypeHeartbeat)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if c.Request(0, "a.b.c", []byte(`{}`)) != nil {
						return
					}
				}
			}
		}()
		expectEOF(t, c)
		close(stop)
		wg.Wait()
		requireEqual(t, h.next(t, "closed").reason, CloseHeartbeatTimeout, "reason")
	})
}

func TestKick(t *testing.T) {
	h := newTestHandler()
	opened := make(chan *Conn, 1)
	h.onOpen = func(c *Conn) { opened <- c }
	s, addr := startServer(t, Config{}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		sc := <-opened
		push, at := codec.BeginPacket(nil, codec.TypeData)
		push, _ = codec.AppendPush(push, "onX", []byte(`{}`))
		codec.EndPacket(push, at)
		requireNoError(t, sc.Enqueue(push), "enqueue")
		sc.Kick("bye \"now\"")
		requireEqual(t, errors.Is(sc.Send(push), ErrConnClosed), true, "send after kick")
		readType(t, c, codec.TypeData) // queued before the kick: delivered first
		p := readType(t, c, codec.TypeKick)
		requireEqual(t, string(p.Body), `{"reason":"bye \"now\""}`, "kick body")
		expectEOF(t, c)
		requireEqual(t, h.next(t, "closed").reason, CloseKicked, "reason")
	})
	requireEqual(t, s.Stats().Kicks.Load(), uint64(len(transports)), "kicks")
}

// TestKickBeforeWorking: pomelo sends nothing unless WORKING; a kick then just closes.
func TestKickBeforeWorking(t *testing.T) {
	h := newTestHandler()
	h.onHandshake = func(c *Conn, req *HandshakeRequest) HandshakeResult {
		c.Kick("too early")
		return HandshakeResult{Code: 200}
	}
	s, addr := startServer(t, Config{}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := dial(t, addr, tr)
		requireNoError(t, c.SendHandshake(pc.HandshakeBody("", nil)), "handshake")
		expectEOF(t, c)
		requireEqual(t, h.next(t, "closed").reason, CloseKicked, "reason")
	})
	requireEqual(t, s.Stats().Kicks.Load(), uint64(0), "kicks delivered")
}

func TestCloseAndIDs(t *testing.T) {
	h := newTestHandler()
	opened := make(chan *Conn, 8)
	h.onOpen = func(c *Conn) { opened <- c }
	s, addr := startServer(t, Config{}, h)
	var ids []uint64
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		sc := <-opened
		ids = append(ids, sc.ID())
		requireEqual(t, sc.Working(), true, "working")
		requireEqual(t, sc.RemoteAddr().String(), c.Conn().LocalAddr().String(), "remote address")
		requireEqual(t, sc.TLSState() != nil, tr.IsTLS(), "TLS state")
		requireNoError(t, sc.Close(), "close")
		requireEqual(t, sc.Close(), ErrConnClosed, "second close")
		expectEOF(t, c)
		requireEqual(t, h.next(t, "closed").reason, CloseByApp, "reason")
	})
	for i, id := range ids {
		requireEqual(t, id, uint64(i+1), "connection ids count from 1")
	}
	requireEqual(t, s.Len(), 0, "open connections")
}

func TestShutdownClosesConnections(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{}, h)
	var clients []*pc.Client
	for _, tr := range transports {
		clients = append(clients, connect(t, addr, tr))
		h.next(t, "open")
	}
	requireNoError(t, s.Close(), "shutdown")
	for i := range clients {
		expectEOF(t, clients[i])
		requireEqual(t, h.next(t, "closed").reason, CloseServerShutdown, "reason")
	}
	requireEqual(t, s.Len(), 0, "open connections")
}

// TestOneByteAtATime writes every byte with its own write: the upgrade, the TLS plaintext, the
// handshake, the ACK and a request.
func TestOneByteAtATime(t *testing.T) {
	h := echoHandler()
	_, addr := startServer(t, Config{Heartbeat: 5 * time.Second}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c, err := pc.Dial(addr, pc.Options{Transport: tr, SplitWrites: true, Timeout: waitTimeout})
		requireNoError(t, err, "dial")
		defer c.Close()
		_, err = c.Handshake(pc.HandshakeBody(`"protoVersion":"p"`, json.RawMessage(`{"a":"bcd"}`)))
		requireNoError(t, err, "handshake")
		requireNoError(t, c.Ack(), "ack")
		readType(t, c, codec.TypeHeartbeat)
		requireNoError(t, c.Request(5, "area.handler.method", []byte(`{"k":"v"}`)), "request")
		m := readResponse(t, c, 5)
		requireEqual(t, string(m.Body), `{"k":"v"}`, "body")
	})
}

// TestSeveralPackagesOneWrite sends handshake, ACK, heartbeat and two requests in one write.
func TestSeveralPackagesOneWrite(t *testing.T) {
	h := echoHandler()
	_, addr := startServer(t, Config{Heartbeat: 5 * time.Second}, h)
	for _, tr := range []pc.Transport{pc.TCP, pc.TLS} {
		t.Run(tr.String(), func(t *testing.T) {
			c := dial(t, addr, tr)
			var b []byte
			b, _ = codec.AppendPacket(b, codec.TypeHandshake, pc.HandshakeBody("", nil))
			b, _ = codec.AppendPacket(b, codec.TypeHandshakeAck, nil)
			b, _ = codec.AppendPacket(b, codec.TypeHeartbeat, nil)
			for id := uint32(1); id <= 2; id++ {
				m, _ := codec.AppendRequest(nil, id, "a.b.c", []byte(`{}`))
				b, _ = codec.AppendPacket(b, codec.TypeData, m)
			}
			requireNoError(t, c.WriteRaw(b), "write")
			readType(t, c, codec.TypeHandshake)
			readType(t, c, codec.TypeHeartbeat) // after the ACK
			readType(t, c, codec.TypeHeartbeat) // echo
			readResponse(t, c, 1)
			readResponse(t, c, 2)
		})
	}
}

func TestPublicKey(t *testing.T) {
	h := newTestHandler()
	opened := make(chan *Conn, 1)
	h.onOpen = func(c *Conn) { opened <- c }
	_, addr := startServer(t, Config{}, h)
	c := dial(t, addr, pc.TCP)
	_, err := c.Handshake(pc.HandshakeBody(`"rsa":{"rsa_n":"`+strings.Repeat("ab", 128)+`","rsa_e":65537}`, nil))
	requireNoError(t, err, "handshake")
	requireNoError(t, c.Ack(), "ack")
	sc := <-opened
	if sc.PublicKey() == nil {
		t.Fatal("no public key")
	}
	requireEqual(t, sc.PublicKey().E, 65537, "e")
	requireEqual(t, sc.PublicKey().N.BitLen(), 1024, "modulus bits")
}

// queueBuffer returns the connection's queued buffer, under its lock.
func queueBuffer(c *Conn) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.buf
}

// TestQueueBufferReturned is the pool-leak regression test: the outbound buffer goes back to its
// pool when a flush empties the queue, and when the connection closes with data still queued.
func TestQueueBufferReturned(t *testing.T) {
	h := newTestHandler()
	opened := make(chan *Conn, 1)
	h.onOpen = func(c *Conn) { opened <- c }
	_, addr := startServer(t, Config{}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		sc := <-opened
		requireEqual(t, queueBuffer(sc) == nil, true, "no buffer while idle")
		requireNoError(t, sc.Enqueue(pushPkt), "enqueue")
		requireEqual(t, cap(queueBuffer(sc)), outClass0, "smallest class while queued")
		requireNoError(t, sc.Flush(), "flush")
		readType(t, c, codec.TypeData) // a TLS connection is flushed by a goroutine
		// ... which may still be in its loop when the client has the data: a package queued
		// before it ends would be taken by that flush, not kept in the queue.
		eventually(t, "the flush to end", func() bool {
			sc.mu.Lock()
			defer sc.mu.Unlock()
			return !sc.out.flushing
		})
		requireEqual(t, queueBuffer(sc) == nil, true, "buffer returned after the flush")

		big := batchOf(1, 10<<10)
		requireNoError(t, sc.Enqueue(big), "enqueue 10 KiB")
		requireEqual(t, cap(queueBuffer(sc)), outClass2, "grown to the 32 KiB class")
		requireNoError(t, sc.Close(), "close with data queued")
		h.next(t, "closed")
		requireEqual(t, queueBuffer(sc) == nil, true, "buffer returned at close")
	})
}
