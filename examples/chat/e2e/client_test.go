package e2e

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/codec/pomelopb"
	"github.com/shaddock-io/shaddock/examples/chat/chatapp"
	"github.com/shaddock-io/shaddock/internal/pomeloclient"
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

// demoBin and sessionBin are the programs, built once by TestMain.
var demoBin, sessionBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chat-e2e-")
	if err != nil {
		panic(err)
	}
	demoBin, err = Build(dir, DemoPackage, raceEnabled)
	if err == nil {
		sessionBin, err = Build(dir, SessionAppPackage, raceEnabled)
	}
	code := 0
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		code = 1
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// startCluster writes a config for l and runs the demo in master mode until the test ends.
func startCluster(t *testing.T, l Layout) *Cluster { return startProgram(t, demoBin, l) }

// startProgram writes a config for l and runs bin (in master mode unless args say otherwise)
// until the test ends.
func startProgram(t *testing.T, bin string, l Layout, args ...string) *Cluster {
	t.Helper()
	dir := t.TempDir()
	requireNoError(t, WriteConfig(dir, l))
	c, err := Start(bin, dir, 60*time.Second, append([]string{"-quiet"}, args...)...)
	requireNoError(t, err)
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if t.Failed() {
			t.Logf("cluster output:\n%s", c.Log.String())
		}
	})
	return c
}

// protos are the demo's pomelo-protobuf descriptions, read from a config directory.
type protos struct{ client, server *pomelopb.Table }

func loadProtos(t testing.TB, dir string) protos {
	t.Helper()
	app, err := chatapp.LoadApp(os.DirFS(dir))
	requireNoError(t, err)
	return protos{app.Config().ClientProtos, app.Config().ServerProtos}
}

// client is one simulated chat user: a pomeloclient connection that keeps the pushes it reads
// while waiting for responses.
type client struct {
	t      testing.TB
	c      *pomeloclient.Client
	p      protos
	routes map[uint16]string // dictionary from the handshake
	id     uint32
	pushes []push
}

type push struct {
	route string
	body  json.RawMessage // JSON (onChat decoded from pomelo-protobuf)
}

// dial connects to addr, handshakes, acknowledges and reads the heartbeat sent after the ACK.
// timeout bounds every later read.
func dial(t testing.TB, addr string, p protos, timeout time.Duration) *client {
	t.Helper()
	c, err := pomeloclient.Dial(addr, pomeloclient.Options{Timeout: timeout})
	requireNoError(t, err)
	t.Cleanup(func() { c.Close() })
	hs, err := c.Handshake(nil)
	requireNoError(t, err)
	requireNoError(t, c.Ack())
	var sys struct {
		Dict map[string]uint16 `json:"dict"`
	}
	requireNoError(t, json.Unmarshal(hs.Sys, &sys))
	cl := &client{t: t, c: c, p: p, routes: make(map[uint16]string)}
	for r, code := range sys.Dict {
		cl.routes[code] = r
	}
	pkt, err := c.ReadPacket()
	requireNoError(t, err)
	requireEqual(t, pkt.Type, codec.TypeHeartbeat)
	return cl
}

// encode returns body as the route's request body: pomelo-protobuf when a client proto covers
// the route.
func (cl *client) encode(route string, body any) []byte {
	js, err := json.Marshal(body)
	requireNoError(cl.t, err)
	if m := cl.p.client.Lookup(route); m != nil {
		js, err = m.AppendWire(nil, js)
		requireNoError(cl.t, err)
	}
	return js
}

// request sends a request and returns the response body as JSON (decoded with the server proto
// of the route when there is one), keeping the pushes read meanwhile.
func (cl *client) request(route string, body any) (json.RawMessage, error) {
	cl.id++
	id := cl.id
	if err := cl.c.Request(id, route, cl.encode(route, body)); err != nil {
		return nil, err
	}
	for {
		m, err := cl.read()
		if err != nil {
			return nil, err
		}
		if m.Type != codec.Response {
			continue
		}
		if m.ID != id {
			cl.t.Errorf("response to %d while waiting for %d", m.ID, id)
			continue
		}
		if pm := cl.p.server.Lookup(route); pm != nil {
			if js, err := pm.AppendJSON(nil, m.Body); err == nil {
				return js, nil
			}
		}
		return append(json.RawMessage(nil), m.Body...), nil
	}
}

// read reads the next DATA message; pushes are also kept in cl.pushes.
func (cl *client) read() (codec.Message, error) {
	m, err := cl.c.ReadMessage(true)
	if err != nil || m.Type != codec.Push {
		return m, err
	}
	route := string(m.Route)
	if m.Compressed {
		route = cl.routes[m.Code]
	}
	body := append(json.RawMessage(nil), m.Body...)
	if pm := cl.p.server.Lookup(route); pm != nil {
		js, err := pm.AppendJSON(nil, m.Body)
		if err != nil {
			return m, err
		}
		body = js
	}
	cl.pushes = append(cl.pushes, push{route, body})
	return m, nil
}

// mustRequest is request that fails the test on an error.
func (cl *client) mustRequest(route string, body any) json.RawMessage {
	cl.t.Helper()
	resp, err := cl.request(route, body)
	requireNoError(cl.t, err)
	return resp
}

// untilPush reads until a push satisfying match arrives (it may already have) and returns the
// pushes read up to and including it, removing them.
func (cl *client) untilPush(match func(push) bool) []push {
	cl.t.Helper()
	for i := 0; ; {
		for ; i < len(cl.pushes); i++ {
			if match(cl.pushes[i]) {
				got := slices.Clone(cl.pushes[:i+1])
				cl.pushes = slices.Clone(cl.pushes[i+1:])
				return got
			}
		}
		if _, err := cl.read(); err != nil {
			cl.t.Fatalf("waiting for a push: %v (pushes so far: %v)", err, cl.pushes)
		}
	}
}

// chatPush is onChat's body.
type chatPush struct {
	Msg    string `json:"msg"`
	From   string `json:"from"`
	Target string `json:"target"`
}

// userPush is onAdd's and onLeave's.
type userPush struct {
	Route string `json:"route"`
	User  string `json:"user"`
}

func isChat(msg string) func(push) bool {
	return func(p push) bool {
		var c chatPush
		return p.route == "onChat" && json.Unmarshal(p.body, &c) == nil && c.Msg == msg
	}
}

func isCode(body json.RawMessage, code int) bool {
	var r struct {
		Code *int `json:"code"`
	}
	return json.Unmarshal(body, &r) == nil && r.Code != nil && *r.Code == code
}

func name(prefix string, i int) string { return prefix + strconv.Itoa(i) }
