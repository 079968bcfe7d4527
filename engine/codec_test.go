package engine

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/codec/pomelopb"
)

type pbVectors struct {
	ServerProtos json.RawMessage `json:"server_protos"`
	ClientProtos json.RawMessage `json:"client_protos"`
	ServerCases  []struct {
		Route string          `json:"route"`
		Msg   json.RawMessage `json:"msg"`
		Hex   string          `json:"hex"`
	} `json:"server_cases"`
	ClientCases []struct {
		Route      string          `json:"route"`
		HexNode    string          `json:"hex_node"`
		HexBrowser string          `json:"hex_browser"`
		Decoded    json.RawMessage `json:"decoded"`
	} `json:"client_cases"`
}

func loadPBVectors(t testing.TB) (*pbVectors, AppConfig) {
	t.Helper()
	data, err := os.ReadFile("testdata/protobuf.json")
	requireNoError(t, err)
	var v pbVectors
	requireNoError(t, json.Unmarshal(data, &v))
	var cfg AppConfig
	cfg.ServerProtos, err = pomelopb.Parse(v.ServerProtos)
	requireNoError(t, err)
	cfg.ClientProtos, err = pomelopb.Parse(v.ClientProtos)
	requireNoError(t, err)
	return &v, cfg
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	requireNoError(t, err)
	return b
}

// Requests with a client description are decoded from pomelo-protobuf, whichever JS encoder
// produced them (the browser encoder writes wire type 2 on varint fields).
func TestProtobufRequests(t *testing.T) {
	v, cfg := loadPBVectors(t)
	var mu sync.Mutex
	var got []string
	record := func(_ *Context, req *json.RawMessage) (*json.RawMessage, error) {
		mu.Lock()
		got = append(got, string(*req))
		mu.Unlock()
		return &json.RawMessage{'{', '}'}, nil
	}
	e := newEnv(t, cfg, func(app *App) {
		mustHandle(t, Handle(app, "chat.chatHandler.send", record))
		mustHandle(t, Handle(app, "area.playerHandler.move", record))
		mustHandle(t, Handle(app, "connector.entryHandler.entry", func(_ *Context, req *struct {
			Username string `json:"username"`
			Rid      string `json:"rid"`
		}) (*json.RawMessage, error) {
			b, _ := json.Marshal(req)
			return record(nil, (*json.RawMessage)(&b))
		}))
	}, ServerConfig{Type: "any", UseProtobuf: true})
	// The server type "any" runs none of these routes: make them local by using their types.
	for _, typ := range []string{"chat", "area", "connector"} {
		srv, err := e.app.NewServer(ServerConfig{ID: typ + "-1", Type: typ, UseProtobuf: true, Logger: e.srv.log})
		requireNoError(t, err)
		c := newFakeConn()
		s := srv.open(c)
		for _, tc := range v.ClientCases {
			if r := e.app.routes[tc.Route]; r.serverType != typ {
				continue
			}
			for _, h := range []string{tc.HexNode, tc.HexBrowser} {
				body, err := codec.AppendRequest(nil, 1, tc.Route, unhex(t, h))
				requireNoError(t, err)
				srv.data(s, body)
				srv.readBatchDone(s)
				mu.Lock()
				requireEqual(t, len(got), 1)
				requireJSON(t, []byte(got[0]), string(tc.Decoded))
				got = nil
				mu.Unlock()
			}
		}
		srv.sched.Close()
	}
	// A body that is not valid pomelo-protobuf answers 500.
	srv, err := e.app.NewServer(ServerConfig{ID: "chat-2", Type: "chat", UseProtobuf: true, Logger: e.srv.log})
	requireNoError(t, err)
	c := newFakeConn()
	s := srv.open(c)
	body, _ := codec.AppendRequest(nil, 9, "chat.chatHandler.send", []byte{0xff, 0xff})
	srv.data(s, body)
	srv.readBatchDone(s)
	msgs, _ := c.messages(t)
	requireEqual(t, string(msgs[0].Body), `{"code":500}`)
	// Without UseProtobuf the same route takes JSON.
	srv2, err := e.app.NewServer(ServerConfig{ID: "chat-3", Type: "chat", Logger: e.srv.log})
	requireNoError(t, err)
	s2 := srv2.open(newFakeConn())
	body, _ = codec.AppendRequest(nil, 1, "chat.chatHandler.send", []byte(`{"content":"x"}`))
	srv2.data(s2, body)
	mu.Lock()
	requireDeepEqual(t, got, []string{`{"content":"x"}`})
	mu.Unlock()
}

type entryResp struct {
	Code  int      `json:"code"`
	Msg   string   `json:"msg,omitempty"`
	Users []string `json:"users,omitempty"`
}

// Responses are encoded with serverProtos keyed by the request route, pushes by the push route;
// the output is byte-identical to pomelo's Node encoder.
func TestProtobufResponsesAndPushes(t *testing.T) {
	v, cfg := loadPBVectors(t)
	cfg.Dictionary = []string{"onChat"}
	var next entryResp
	e := newEnv(t, cfg, func(app *App) {
		mustHandle(t, Handle(app, "connector.entryHandler.entry", func(*Context, *json.RawMessage) (*entryResp, error) {
			if next.Code < 0 {
				return nil, &CodeError{Code: -next.Code}
			}
			r := next
			return &r, nil
		}))
	}, ServerConfig{UseProtobuf: true, UseDict: true})
	c, s := e.connect()
	entry := unhex(t, v.ClientCases[0].HexNode)
	for i, tc := range v.ServerCases {
		switch tc.Route {
		case "connector.entryHandler.entry":
			next = entryResp{}
			requireNoError(t, json.Unmarshal(tc.Msg, &next))
			e.call(c, s, uint32(i+1), tc.Route, string(entry))
			msgs, _ := c.messages(t)
			requireEqual(t, hex.EncodeToString(msgs[len(msgs)-1].Body), tc.Hex)
		case "onChat", "onMove":
			var m map[string]any // json.Marshal sorts keys, and these vectors list keys sorted
			requireNoError(t, json.Unmarshal(tc.Msg, &m))
			if tc.Route == "onMove" {
				continue // its key order is not sorted; see the typed push below
			}
			requireNoError(t, e.srv.PushToSessions(tc.Route, m, s.ID()))
			msgs, _ := c.messages(t)
			p := msgs[len(msgs)-1]
			requireEqual(t, p.Type, codec.Push)
			requireEqual(t, p.Compressed, true) // onChat is in the dictionary
			requireEqual(t, hex.EncodeToString(p.Body), tc.Hex)
		}
	}
	type path struct {
		X int `json:"x"`
		Y int `json:"y"`
	}
	type move struct {
		EntityID int     `json:"entityId"`
		Path     []path  `json:"path"`
		Speed    float64 `json:"speed"`
	}
	requireNoError(t, e.srv.PushToSessions("onMove", &move{14, []path{{128, 796}, {677, 895}}, 160}, s.ID()))
	msgs, _ := c.messages(t)
	p := msgs[len(msgs)-1]
	requireEqual(t, p.Compressed, false) // not in the dictionary
	requireEqual(t, string(p.Route), "onMove")
	requireEqual(t, hex.EncodeToString(p.Body), "080e1206088001109c06120608a50510ff061d00002043")
	// An error response on a route with a server description is protobuf too: {code: 500}.
	next = entryResp{Code: -500}
	m := e.call(c, s, 50, "connector.entryHandler.entry", string(entry))
	requireEqual(t, hex.EncodeToString(m.Body), "08f403")
	// A response the description cannot hold (missing required code) goes out empty, as pomelo.
	next = entryResp{}
	raw := e.app.routes["connector.entryHandler.entry"]
	out, err := raw.appendResp(nil, raw.respPB, json.RawMessage(`{"msg":"x"}`))
	if err == nil {
		t.Fatalf("encoded %x without the required field", out)
	}
}

// Generated Google protobuf types travel as standard protobuf.
func TestGoogleProtobuf(t *testing.T) {
	e := newEnv(t, AppConfig{}, func(app *App) {
		mustHandle(t, Handle(app, "connector.h.upper", func(_ *Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
			return wrapperspb.String(req.GetValue() + "!"), nil
		}))
	}, ServerConfig{})
	c, s := e.connect()
	in, err := proto.Marshal(wrapperspb.String("hi"))
	requireNoError(t, err)
	m := e.call(c, s, 1, "connector.h.upper", string(in))
	var out wrapperspb.StringValue
	requireNoError(t, proto.Unmarshal(m.Body, &out))
	requireEqual(t, out.GetValue(), "hi!")
	// Garbage answers 500.
	requireEqual(t, string(e.call(c, s, 2, "connector.h.upper", "\xff\xff\xff").Body), `{"code":500}`)
	// A route with a pomelo-protobuf description cannot use a Google protobuf type.
	protos, err := pomelopb.Parse([]byte(`{"connector.h.pb":{"required string value":1}}`))
	requireNoError(t, err)
	app, err := NewApp(AppConfig{ClientProtos: protos})
	requireNoError(t, err)
	requireErrorIs(t, Handle(app, "connector.h.pb", func(*Context, *wrapperspb.StringValue) (*json.RawMessage, error) {
		return nil, nil
	}), ErrCodecConflict)
}
