package chatapp

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/engine"
	"github.com/shaddock-io/shaddock/hybrid"
	"github.com/shaddock-io/shaddock/internal/pomeloclient"
	"github.com/shaddock-io/shaddock/scheduler"
)

func requireNoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
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

// startDemo runs the demo's cluster (config/servers.json: a connector and a chat server) in
// this process on free loopback ports until the test ends.
func startDemo(t testing.TB, sched scheduler.Config, opts ...engine.ServerOption) *Demo {
	t.Helper()
	return startDemoConfig(t, Config{Files: os.DirFS("../config"), Scheduler: sched}, opts...)
}

// startDemoConfig runs the cluster described by cfg (FreePorts and a discarding logger are
// set) until the test ends.
func startDemoConfig(t testing.TB, cfg Config, opts ...engine.ServerOption) *Demo {
	t.Helper()
	cfg.FreePorts = true
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d, err := New(cfg, opts...)
	requireNoError(t, err)
	requireNoError(t, d.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		requireNoError(t, d.Shutdown(ctx))
	})
	return d
}

var transports = []pomeloclient.Transport{pomeloclient.TCP, pomeloclient.WS}

// connect dials, handshakes, acknowledges and reads the heartbeat that follows the ACK.
func connect(t testing.TB, d *Demo, tr pomeloclient.Transport) (*pomeloclient.Client, *pomeloclient.HandshakeResponse) {
	t.Helper()
	c, err := pomeloclient.Dial(d.Connector.Addr().String(), pomeloclient.Options{Transport: tr, Timeout: 5 * time.Second})
	requireNoError(t, err)
	t.Cleanup(func() { c.Close() })
	hs, err := c.Handshake(nil)
	requireNoError(t, err)
	requireNoError(t, c.Ack())
	p, err := c.ReadPacket()
	requireNoError(t, err)
	requireEqual(t, p.Type, codec.TypeHeartbeat) // pomelo sends one right after the ACK
	return c, hs
}

// call sends a request and returns its response (skipping pushes, answering heartbeats).
func call(t testing.TB, c *pomeloclient.Client, id uint32, route string, body []byte) codec.Message {
	t.Helper()
	requireNoError(t, c.Request(id, route, body))
	for {
		m, err := c.ReadMessage(true)
		requireNoError(t, err)
		if m.Type == codec.Response {
			requireEqual(t, m.ID, id)
			return m
		}
	}
}

// nextPush reads until a push arrives.
func nextPush(t testing.TB, c *pomeloclient.Client) codec.Message {
	t.Helper()
	m, err := c.ReadMessage(true)
	requireNoError(t, err)
	requireEqual(t, m.Type, codec.Push)
	return m
}

// entryBody is {username, rid} encoded by pomelo-protobuf (the Node and the browser encoders
// give the same bytes for string fields).
func entryBody(t testing.TB, d *Demo, username, rid string) []byte {
	t.Helper()
	m := d.App.Config().ClientProtos.Lookup("connector.entryHandler.entry")
	b, err := m.AppendWire(nil, []byte(`{"username":"`+username+`","rid":"`+rid+`"}`))
	requireNoError(t, err)
	return b
}

// entryResponse decodes a protobuf entry response.
func entryResponse(t testing.TB, d *Demo, body []byte) EntryResponse {
	t.Helper()
	js, err := d.App.Config().ServerProtos.Lookup("connector.entryHandler.entry").AppendJSON(nil, body)
	requireNoError(t, err)
	var r EntryResponse
	requireNoError(t, json.Unmarshal(js, &r))
	return r
}

// The dictionary is exactly the one chat-demo.md lists.
func TestDictionary(t *testing.T) {
	app, err := LoadApp(os.DirFS("../config"))
	requireNoError(t, err)
	table, err := app.Dictionary()
	requireNoError(t, err)
	want := []string{"chat.chatHandler.echo", "chat.chatHandler.send", "connector.entryHandler.echo",
		"connector.entryHandler.enter", "connector.entryHandler.entry", "onChat", "onAdd", "onLeave"}
	var got []string
	for code, r := range table.All() {
		requireEqual(t, int(code), len(got)+1)
		got = append(got, r)
	}
	requireDeepEqual(t, got, want)
}

func TestHandshake(t *testing.T) {
	d := startDemo(t, scheduler.Config{})
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			_, hs := connect(t, d, tr)
			var sys struct {
				Heartbeat   json.RawMessage   `json:"heartbeat"`
				Dict        map[string]int    `json:"dict"`
				RouteToCode map[string]int    `json:"routeToCode"`
				CodeToRoute map[string]string `json:"codeToRoute"`
				DictVersion string            `json:"dictVersion"`
				UseDict     bool              `json:"useDict"`
				Protos      struct {
					Server  map[string]json.RawMessage `json:"server"`
					Client  map[string]json.RawMessage `json:"client"`
					Version string                     `json:"version"`
				} `json:"protos"`
				UseProto bool `json:"useProto"`
			}
			requireNoError(t, json.Unmarshal(hs.Sys, &sys))
			requireEqual(t, string(sys.Heartbeat), "3") // an integer, in seconds
			requireEqual(t, sys.Dict["connector.entryHandler.entry"], 5)
			requireEqual(t, sys.Dict["onLeave"], 8)
			requireDeepEqual(t, sys.RouteToCode, sys.Dict)
			requireEqual(t, sys.CodeToRoute["6"], "onChat")
			requireEqual(t, sys.DictVersion, d.Connector.Dictionary().Version())
			requireEqual(t, sys.UseDict, true)
			requireEqual(t, sys.UseProto, true)
			// The parsed form: fields with option/type/tag, __messages, __tags.
			var entry map[string]json.RawMessage
			requireNoError(t, json.Unmarshal(sys.Protos.Client["connector.entryHandler.entry"], &entry))
			requireEqual(t, string(entry["username"]), `{"option":"required","type":"string","tag":1}`)
			requireEqual(t, string(entry["__tags"]), `{"1":"username","2":"rid"}`)
			requireEqual(t, string(entry["__messages"]), `{}`)
			if _, ok := sys.Protos.Server["onChat"]; !ok {
				t.Fatal("server protos lack onChat")
			}
			// A client holding both versions gets the short response.
			c2, err := pomeloclient.Dial(d.Connector.Addr().String(), pomeloclient.Options{Transport: tr})
			requireNoError(t, err)
			defer c2.Close()
			hs2, err := c2.Handshake(pomeloclient.HandshakeBody(`"dictVersion":"`+sys.DictVersion+
				`","protoVersion":"`+sys.Protos.Version+`"`, nil))
			requireNoError(t, err)
			requireEqual(t, string(hs2.Raw), `{"code":200,"sys":{"heartbeat":3,"useDict":true,"useProto":true}}`)
		})
	}
}

func TestHandshakeHooks(t *testing.T) {
	d := startDemo(t, scheduler.Config{},
		engine.WithCheckClient(func(typ, version string) bool { return version != "0.0.1-old" }),
		engine.WithHandshake(func(c engine.Conn, req *hybrid.HandshakeRequest) (json.RawMessage, error) {
			if strings.Contains(string(req.User), "banned") {
				return nil, errors.New("banned")
			}
			return json.RawMessage(`{"motd":"hello"}`), nil
		}))
	addr := d.Connector.Addr().String()
	for _, tr := range transports {
		c, err := pomeloclient.Dial(addr, pomeloclient.Options{Transport: tr})
		requireNoError(t, err)
		hs, err := c.Handshake([]byte(`{"sys":{"type":"js-websocket","version":"0.0.1-old"},"user":{}}`))
		requireEqual(t, errors.Is(err, pomeloclient.ErrHandshake), true)
		requireEqual(t, string(hs.Raw), `{"code":501}`)
		c.Close()

		c, err = pomeloclient.Dial(addr, pomeloclient.Options{Transport: tr})
		requireNoError(t, err)
		hs, err = c.Handshake(pomeloclient.HandshakeBody("", json.RawMessage(`{"who":"banned"}`)))
		requireEqual(t, errors.Is(err, pomeloclient.ErrHandshake), true)
		requireEqual(t, string(hs.Raw), `{"code":500}`)
		c.Close()

		c, err = pomeloclient.Dial(addr, pomeloclient.Options{Transport: tr})
		requireNoError(t, err)
		hs, err = c.Handshake(nil)
		requireNoError(t, err)
		requireEqual(t, string(hs.User), `{"motd":"hello"}`)
		c.Close()
	}
}

func TestEntryEchoAndRoom(t *testing.T) {
	d := startDemo(t, scheduler.Config{})
	for i, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			rid := "room" + string(rune('A'+i))
			alice, _ := connect(t, d, tr)
			// entry, with the body from the Node encoder and the browser encoder (identical for
			// string fields; the varint quirk is covered by the engine tests).
			body := entryBody(t, d, "alice", rid)
			requireEqual(t, hex.EncodeToString(body), "0a05616c69636512"+hex.EncodeToString([]byte{byte(len(rid))})+hex.EncodeToString([]byte(rid)))
			m := call(t, alice, 1, "connector.entryHandler.entry", body)
			requireDeepEqual(t, entryResponse(t, d, m.Body), EntryResponse{Code: 200, Users: []string{"alice"}})
			sessions := d.Connector.Sessions().GetByUID("alice*" + rid)
			requireEqual(t, len(sessions), 1)
			requireEqual(t, sessions[0].Get("rid"), any(rid))

			// Echo, by string route and by dictionary code (3).
			m = call(t, alice, 2, "connector.entryHandler.echo", []byte(`{"x":1,"s":"frontend echo"}`))
			requireEqual(t, string(m.Body), `{"x":1,"s":"frontend echo"}`)
			requireNoError(t, alice.RequestCode(3, 3, []byte(`{"y":[true,null]}`)))
			m, err := alice.ReadMessage(true)
			requireNoError(t, err)
			requireEqual(t, string(m.Body), `{"y":[true,null]}`)

			// Bob enters through .enter (JSON response): alice gets onAdd (code 7, JSON).
			bob, _ := connect(t, d, tr)
			m = call(t, bob, 1, "connector.entryHandler.enter", entryBody(t, d, "bob", rid))
			var er EntryResponse
			requireNoError(t, json.Unmarshal(m.Body, &er))
			sort.Strings(er.Users)
			requireDeepEqual(t, er, EntryResponse{Code: 200, Users: []string{"alice", "bob"}})
			p := nextPush(t, alice)
			requireEqual(t, p.Compressed, true)
			requireEqual(t, p.Code, uint16(7))
			requireEqual(t, string(p.Body), `{"route":"onAdd","user":"bob"}`)

			// The same user again: {code: 500, users: []}, protobuf encoded.
			alice2, _ := connect(t, d, tr)
			m = call(t, alice2, 1, "connector.entryHandler.entry", entryBody(t, d, "alice", rid))
			requireEqual(t, hex.EncodeToString(m.Body), "08f403")

			// Through the chat server: forwarded over RPC and answered.
			m = call(t, alice, 4, "chat.chatHandler.echo", []byte(`{"x":2,"s":"backend echo"}`))
			requireEqual(t, string(m.Body), `{"x":2,"s":"backend echo"}`)

			// Notifies are never answered: the next response is the request's.
			requireNoError(t, alice.Request(0, "connector.entryHandler.echo", []byte(`{"n":1}`)))
			requireNoError(t, alice.Request(0, "chat.chatHandler.send", []byte(`{}`)))
			m = call(t, alice, 5, "connector.entryHandler.echo", []byte(`{"n":2}`))
			requireEqual(t, string(m.Body), `{"n":2}`)

			// Bob leaves: alice gets onLeave (code 8).
			bob.Close()
			p = nextPush(t, alice)
			requireEqual(t, p.Code, uint16(8))
			requireEqual(t, string(p.Body), `{"route":"onLeave","user":"bob"}`)
		})
	}
}

// The application rows of the protocol's §4.4 table, over the wire.
func TestBadInput(t *testing.T) {
	d := startDemo(t, scheduler.Config{})
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			c, _ := connect(t, d, tr)
			before := d.Connector.Stats()
			requireNoError(t, c.RequestCode(1, 999, []byte(`{}`)))         // unknown code: dropped
			requireNoError(t, c.RequestCode(2, 6, []byte(`{}`)))           // onChat: no '.', dropped
			requireNoError(t, c.Request(3, "nodot", []byte(`{}`)))         // dropped
			m := call(t, c, 4, "connector.entryHandler", []byte(`{}`))     // two parts
			requireEqual(t, string(m.Body), `{"code":500}`)                //
			m = call(t, c, 5, "connector.entryHandler.nope", []byte(`{}`)) // unknown handler
			requireEqual(t, string(m.Body), `{"code":500}`)
			m = call(t, c, 6, "connector.entryHandler.echo", []byte(`{bad json`)) // processed as {}
			requireEqual(t, string(m.Body), `{}`)
			after := d.Connector.Stats()
			requireEqual(t, after.UnknownCode-before.UnknownCode, uint64(1))
			requireEqual(t, after.NoDot-before.NoDot, uint64(2))
			// constructor: kicked with reason "attack".
			requireNoError(t, c.Request(7, "connector.entryHandler.constructor", []byte(`{}`)))
			_, err := c.ReadMessage(true)
			var kick *pomeloclient.KickError
			if !errors.As(err, &kick) {
				t.Fatalf("got %v, want a kick", err)
			}
			requireEqual(t, string(kick.Body), `{"reason":"attack"}`)
		})
	}
}

func TestKickByUID(t *testing.T) {
	d := startDemo(t, scheduler.Config{})
	for i, tr := range transports {
		c, _ := connect(t, d, tr)
		rid := "k" + string(rune('0'+i))
		m := call(t, c, 1, "connector.entryHandler.entry", entryBody(t, d, "kim", rid))
		requireEqual(t, entryResponse(t, d, m.Body).Code, 200)
		requireNoError(t, d.Connector.Sessions().Kick("kim*"+rid, "relogin"))
		_, err := c.ReadMessage(true)
		var kick *pomeloclient.KickError
		if !errors.As(err, &kick) {
			t.Fatalf("%v: got %v, want a kick", tr, err)
		}
		requireEqual(t, string(kick.Body), `{"reason":"relogin"}`)
		requireEqual(t, len(d.Connector.Sessions().GetByUID("kim*"+rid)), 0)
	}
}

// Pipelined requests read in one batch are answered with one write; with the buffered scheduler,
// pushes of one interval leave together too. On WebSocket each package is a message of its own
// within that write (the official browser client reads one package per message), which is what
// the client can check.
func TestBatching(t *testing.T) {
	for _, sched := range []scheduler.Config{{}, {Kind: scheduler.Buffered, FlushInterval: 50 * time.Millisecond}} {
		t.Run(sched.Kind.String(), func(t *testing.T) {
			d := startDemo(t, sched)
			c, _ := connect(t, d, pomeloclient.WS)
			// Five WebSocket messages of one package each (as clients must send them), written
			// with one write so that the server reads them in one batch.
			var raw []byte
			for i := uint32(1); i <= 5; i++ {
				m, _ := codec.AppendRequest(nil, i, "connector.entryHandler.echo", []byte(`{}`))
				pkg, _ := codec.AppendPacket(nil, codec.TypeData, m)
				raw = append(raw, maskedFrame(pkg)...)
			}
			requireNoError(t, c.WriteRaw(raw))
			// 5 responses, one per message.
			for range 5 {
				op, payload, err := c.ReadFrame()
				requireNoError(t, err)
				requireEqual(t, int(op), 2)
				requireEqual(t, countPackages(t, payload), 1)
			}
			var payload []byte
			var err error
			var id uint64
			d.Connector.Sessions().ForEach(func(s *engine.Session) { id = s.ID() })
			for i := 0; i < 4; i++ {
				requireNoError(t, d.Connector.PushToSessions("onTick", map[string]int{"i": i}, id))
			}
			// Buffered: one write per interval (two if a flush tick falls between the pushes);
			// direct: a write per push, or fewer when pushes join a write in progress. Either
			// way, 4 messages of one package each.
			for range 4 {
				_, payload, err = c.ReadFrame()
				requireNoError(t, err)
				requireEqual(t, countPackages(t, payload), 1)
			}
		})
	}
}

func countPackages(t testing.TB, b []byte) int {
	t.Helper()
	n := 0
	for len(b) > 0 {
		_, k, err := codec.ParsePacket(b, 0)
		requireNoError(t, err)
		b = b[k:]
		n++
	}
	return n
}

// maskedFrame wraps payload in one masked binary WebSocket frame (payload < 126 bytes).
func maskedFrame(payload []byte) []byte {
	key := [4]byte{1, 2, 3, 4}
	f := []byte{0x82, 0x80 | byte(len(payload)), key[0], key[1], key[2], key[3]}
	for i, b := range payload {
		f = append(f, b^key[i%4])
	}
	return f
}
