package main

// A minimal pomelo server, written here from the protocol alone (not the engine), for loadgen to
// load in tests: handshake with a dictionary and protos, heartbeats, echo, a code-500 route, a
// tiny chat room, pushes, and misbehaviour on demand (closing, kicking, not answering heartbeats).

import (
	"encoding/json"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/codec/pomelopb"
	"github.com/shaddock-io/shaddock/hybrid/ws"
)

type testServer struct {
	ln            net.Listener
	ws            bool
	heartbeat     int           // seconds; 0: none
	muteHeartbeat bool          // send one heartbeat after the ACK, never answer the client's
	closeAfter    time.Duration // close each connection this long after its ACK
	kickAfter     time.Duration // kick each connection this long after its ACK
	pushEvery     time.Duration // push "onPush" {"ts": <unix ms>} this often after the ACK ...
	pushCount     int           // ... this many times
	refuse        bool          // answer the handshake with code 500
	deflate       bool          // ws: accept permessage-deflate when offered and compress every frame

	dict     map[string]uint16
	codes    map[uint16]string
	cproto   *pomelopb.Table
	sproto   *pomelopb.Table
	requests atomic.Int64 // requests and notifies received
	pushes   atomic.Int64 // pushes written
	acks     atomic.Int64
	mu       sync.Mutex
	rooms    map[string][]*tconn
	remotes  map[string]int // remote IPs seen
	all      []net.Conn
	wg       sync.WaitGroup
}

var testRoutes = []string{"chat.chatHandler.send", "connector.entryHandler.echo", "connector.entryHandler.entry",
	"test.h.fail", "test.h.pb", "test.h.silent", "test.h.slow", "onChat", "onPush", "onAdd"}

const testClientProtos = `{"connector.entryHandler.entry":{"required string username":1,"required string rid":2},
 "chat.chatHandler.send":{"required string rid":1,"required string content":2,"required string from":3,"required string target":4},
 "test.h.pb":{"required string msg":1,"optional uInt32 n":2}}`
const testServerProtos = `{"connector.entryHandler.entry":{"required uInt32 code":1,"repeated string users":2},
 "onChat":{"required string msg":1,"required string from":2,"required string target":3},
 "test.h.pb":{"required string msg":1,"optional uInt32 n":2}}`

func newTestServer(t testing.TB, setup func(*testServer)) *testServer {
	s := &testServer{heartbeat: 1, dict: map[string]uint16{}, codes: map[uint16]string{}, rooms: map[string][]*tconn{},
		remotes: map[string]int{}}
	for i, r := range testRoutes {
		s.dict[r], s.codes[uint16(i+1)] = uint16(i+1), r
	}
	var err error
	if s.cproto, err = pomelopb.Parse([]byte(testClientProtos)); err != nil {
		t.Fatal(err)
	}
	if s.sproto, err = pomelopb.Parse([]byte(testServerProtos)); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(s)
	}
	if s.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go s.accept()
	t.Cleanup(func() { s.ln.Close(); s.closeAll(); s.wg.Wait() })
	return s
}

func (s *testServer) addr() string { return s.ln.Addr().String() }

func (s *testServer) accept() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		host, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
		s.mu.Lock()
		s.remotes[host]++
		s.all = append(s.all, nc)
		s.mu.Unlock()
		c := &tconn{s: s, nc: nc, done: make(chan struct{})}
		s.wg.Add(1)
		go c.serve()
	}
}

func (s *testServer) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, nc := range s.all {
		nc.Close()
	}
}

func (s *testServer) handshakeBody() []byte {
	if s.refuse {
		return []byte(`{"code":500}`)
	}
	d, _ := json.Marshal(s.dict)
	sys := `{"dict":` + string(d) + `,"useDict":true,"protos":{"client":` + string(s.cproto.AppendParsedJSON(nil)) +
		`,"server":` + string(s.sproto.AppendParsedJSON(nil)) + `,"version":"t"},"useProto":true`
	if s.heartbeat > 0 {
		sys += `,"heartbeat":` + string(rune('0'+s.heartbeat))
	}
	return []byte(`{"code":200,"sys":` + sys + `}}`)
}

type tconn struct {
	s       *testServer
	deflate bool // permessage-deflate negotiated
	nc      net.Conn
	wmu     sync.Mutex
	done    chan struct{}
	name    string
	rid     string
}

// send writes one package (in its own ws frame on WebSocket).
func (c *tconn) send(t codec.Type, body []byte) {
	pkt, _ := codec.AppendPacket(nil, t, body)
	switch {
	case c.deflate:
		z, _ := ws.Deflate(nil, pkt)
		pkt = append(ws.AppendCompressedFrameHeader(nil, true, ws.OpBinary, len(z), nil), z...)
	case c.s.ws:
		pkt = ws.AppendFrame(nil, ws.OpBinary, pkt)
	}
	c.wmu.Lock()
	c.nc.Write(pkt)
	c.wmu.Unlock()
}

func (c *tconn) serve() {
	defer c.s.wg.Done()
	defer close(c.done)
	defer c.nc.Close()
	defer c.leave()
	var dec codec.Decoder
	var asm ws.Assembler
	cfg := &ws.Config{}
	buf, pending := make([]byte, 64<<10), []byte(nil)
	upgraded := !c.s.ws
	for {
		n, err := c.nc.Read(buf)
		if err != nil {
			return
		}
		if upgraded && !c.s.ws {
			dec.Feed(buf[:n])
			if !c.packets(&dec) {
				return
			}
			continue
		}
		pending = append(pending, buf[:n]...)
		if !upgraded {
			var req ws.UpgradeRequest
			m, err := cfg.ParseUpgrade(pending, &req)
			if err == ws.ErrShortBuffer {
				continue
			}
			if err != nil {
				return
			}
			if c.deflate = c.s.deflate && req.Deflate; c.deflate {
				c.nc.Write(ws.AppendUpgradeResponseDeflate(nil, req.Key))
			} else {
				c.nc.Write(ws.AppendUpgradeResponse(nil, req.Key))
			}
			pending, upgraded = pending[m:], true
		}
		for {
			h, hn, err := cfg.ParseHeader(pending)
			if err == ws.ErrShortBuffer || err == nil && len(pending) < hn+h.Length {
				break
			}
			if err != nil {
				return
			}
			payload := pending[hn : hn+h.Length]
			ws.Unmask(h.Mask, 0, payload)
			msg, ok, err := asm.Push(h, payload)
			if err != nil || ok && msg.Op == ws.OpClose {
				return
			}
			if ok && msg.Op == ws.OpBinary {
				var d codec.Decoder
				d.Feed(msg.Payload)
				if !c.packets(&d) {
					return
				}
			}
			pending = pending[hn+h.Length:]
		}
		pending = append([]byte(nil), pending...)
	}
}

// packets handles every whole package in d; false closes the connection.
func (c *tconn) packets(d *codec.Decoder) bool {
	for {
		p, err := d.Next()
		if err == codec.ErrNeedMore {
			return true
		}
		if err != nil {
			return false
		}
		switch p.Type {
		case codec.TypeHandshake:
			if !strings.Contains(string(p.Body), `"sys":{"type":`) {
				return false
			}
			c.send(codec.TypeHandshake, c.s.handshakeBody())
			if c.s.refuse {
				return false
			}
		case codec.TypeHandshakeAck:
			c.s.acks.Add(1)
			if c.s.heartbeat > 0 {
				c.send(codec.TypeHeartbeat, nil)
			}
			c.afterAck()
		case codec.TypeHeartbeat:
			if !c.s.muteHeartbeat {
				c.send(codec.TypeHeartbeat, nil)
			}
		case codec.TypeData:
			if !c.message(p.Body) {
				return false
			}
		default:
			return false
		}
	}
}

func (c *tconn) afterAck() {
	later := func(d time.Duration, f func()) {
		go func() {
			select {
			case <-time.After(d):
				f()
			case <-c.done:
			}
		}()
	}
	if c.s.closeAfter > 0 {
		later(c.s.closeAfter, func() { c.nc.Close() })
	}
	if c.s.kickAfter > 0 {
		later(c.s.kickAfter, func() { c.send(codec.TypeKick, []byte(`{"reason":"kick"}`)); c.nc.Close() })
	}
	if c.s.pushEvery > 0 {
		go func() {
			for i := 0; i < c.s.pushCount; i++ {
				select {
				case <-time.After(c.s.pushEvery):
				case <-c.done:
					return
				}
				body := []byte(`{"seq":` + itoa(i) + `,"ts":` + itoa(int(time.Now().UnixMilli())) + `}`)
				c.send(codec.TypeData, codec.AppendPushCode(nil, c.s.dict["onPush"], body))
				c.s.pushes.Add(1)
			}
		}()
	}
}

func itoa(v int) string { b, _ := json.Marshal(v); return string(b) }

// message handles a request or notify.
func (c *tconn) message(b []byte) bool {
	var m codec.Message
	if codec.ParseMessage(b, &m) != nil || (m.Type != codec.Request && m.Type != codec.Notify) {
		return false
	}
	route := string(m.Route)
	if m.Compressed {
		route = c.s.codes[m.Code]
	}
	c.s.requests.Add(1)
	body := m.Body
	if pm := c.s.cproto.Lookup(route); pm != nil {
		j, err := pm.AppendJSON(nil, body)
		if err != nil {
			return false // a body that should have been pomelo-protobuf was not
		}
		body = j
	}
	var resp []byte
	switch route {
	case "connector.entryHandler.echo", "test.h.pb":
		resp = body
	case "test.h.fail":
		resp = []byte(`{"code":500}`)
	case "test.h.silent":
		return true
	case "test.h.slow": // answer after 300 ms
		id := m.ID
		go func() {
			select {
			case <-time.After(300 * time.Millisecond):
				c.send(codec.TypeData, codec.AppendResponse(nil, id, []byte(`{}`)))
			case <-c.done:
			}
		}()
		return true
	case "connector.entryHandler.entry":
		var in struct{ Username, Rid string }
		json.Unmarshal(body, &in)
		c.name, c.rid = in.Username, in.Rid
		c.s.mu.Lock()
		users := []string{}
		for _, o := range c.s.rooms[in.Rid] {
			users = append(users, o.name)
			o.send(codec.TypeData, codec.AppendPushCode(nil, c.s.dict["onAdd"], []byte(`{"user":"`+in.Username+`"}`)))
		}
		c.s.rooms[in.Rid] = append(c.s.rooms[in.Rid], c)
		users = append(users, in.Username)
		c.s.mu.Unlock()
		resp, _ = json.Marshal(map[string]any{"code": 200, "users": users})
	case "chat.chatHandler.send":
		var in struct{ Rid, Content, From, Target string }
		json.Unmarshal(body, &in)
		push, _ := json.Marshal(map[string]string{"msg": in.Content, "from": in.From, "target": in.Target})
		wire, err := c.s.sproto.Lookup("onChat").AppendWire(nil, push)
		if err != nil {
			return false
		}
		c.s.mu.Lock()
		for _, o := range c.s.rooms[in.Rid] {
			o.send(codec.TypeData, codec.AppendPushCode(nil, c.s.dict["onChat"], wire))
		}
		c.s.mu.Unlock()
		resp = []byte(`{}`)
	default:
		resp = []byte(`{"code":500}`)
	}
	if m.Type == codec.Notify {
		return true
	}
	if pm := c.s.sproto.Lookup(route); pm != nil {
		w, err := pm.AppendWire(nil, resp)
		if err != nil {
			return false
		}
		resp = w
	}
	c.send(codec.TypeData, codec.AppendResponse(nil, m.ID, resp))
	return true
}

func (c *tconn) leave() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	room := c.s.rooms[c.rid]
	for i, o := range room {
		if o == c {
			c.s.rooms[c.rid] = append(room[:i], room[i+1:]...)
			break
		}
	}
}
