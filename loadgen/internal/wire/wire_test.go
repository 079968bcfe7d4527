package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec/pomelopb"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}

func TestHandshakeRequestMatchesJSClient(t *testing.T) {
	// protocol §16: the JS client's 68-byte handshake body.
	want, _ := hex.DecodeString("7b22737973223a7b2274797065223a226a732d776562736f636b6574222c2276657273696f6e223a22302e302e31222c22727361223a7b7d7d2c2275736572223a7b7d7d")
	r := HandshakeRequest{Type: "js-websocket", Version: "0.0.1", SysExtra: []byte(` {"rsa":{}} `)}
	got, err := r.AppendJSON(nil)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("got %s (%v), want %s", got, err, want)
	}
	r = HandshakeRequest{Type: "unity-socket", Version: "0.3.0", User: []byte(`{"name":"x"}`)}
	got, _ = r.AppendJSON([]byte("pre"))
	if string(got) != `pre{"sys":{"type":"unity-socket","version":"0.3.0"},"user":{"name":"x"}}` {
		t.Fatalf("got %s", got)
	}
	for _, bad := range []HandshakeRequest{{SysExtra: []byte(`[1]`)}, {SysExtra: []byte(`{`)}, {User: []byte(`{"a":}`)}} {
		if out, err := bad.AppendJSON([]byte("x")); err == nil || string(out) != "x" {
			t.Errorf("%+v: got %q, %v; want an error and dst unchanged", bad, out, err)
		}
	}
}

func TestParseServerTemplate(t *testing.T) {
	s, err := ParseServer(readFile(t, "handshake_template.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Code != 200 || s.Heartbeat != 3*time.Second || s.DictVersion != "vhs1TJfFaUAZcUaS9t3zTQ==" || s.ProtoVersion != "xT9OvpsqULwrUv2IpdUD4Q==" {
		t.Fatalf("got %+v", s)
	}
	if c, ok := s.RouteCode("connector.entryHandler.publish"); !ok || c != 2 {
		t.Fatalf("RouteCode = %d %v", c, ok)
	}
	if r, ok := s.RouteBytes(3); !ok || string(r) != "connector.entryHandler.subscribe" {
		t.Fatalf("RouteBytes(3) = %q %v", r, ok)
	}
	if _, ok := s.RouteBytes(4); ok {
		t.Fatal("code 4 resolved")
	}
	if s.ClientProtos.Len() != 0 || s.ServerProtos.Len() != 0 || s.DictLen() != 3 {
		t.Fatal("protos or dict size wrong")
	}
}

func TestParseServerVariants(t *testing.T) {
	// nano-style: dict only, free codes, no protos, extra fields.
	s, err := ParseServer([]byte(`{"code":200,"sys":{"heartbeat":1.5,"servertime":123,"dict":{"a.b.c":70,"onX":9}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := s.RouteBytes(70); string(r) != "a.b.c" || s.Heartbeat != 1500*time.Millisecond || s.ClientProtos != nil {
		t.Fatalf("got %+v", s)
	}
	// libpomelo2 style: routeToCode/codeToRoute only.
	s, err = ParseServer([]byte(`{"code":200,"sys":{"routeToCode":{"x.y.z":1},"codeToRoute":{"1":"x.y.z"},"useDict":true},"user":{"k":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := s.RouteCode("x.y.z"); c != 1 || s.Heartbeat != 0 || string(s.User) != `{"k":1}` {
		t.Fatalf("got %+v", s)
	}
	s, err = ParseServer([]byte(`{"code":501}`))
	if !errors.Is(err, ErrHandshakeRefused) || s == nil || s.Code != 501 {
		t.Fatalf("501: %v %+v", err, s)
	}
	for _, bad := range []string{``, `[]`, `{}`, `{"code":200,"sys":{"dict":{"a":70000}}}`, `{"code":200,"sys":{"codeToRoute":{"x":"a"}}}`,
		`{"code":200,"sys":{"protos":{"client":{"r":{"f":{"type":"string","tag":1}}}}}}`} {
		if _, err := ParseServer([]byte(bad)); !errors.Is(err, ErrBadHandshake) {
			t.Errorf("%s: err %v, want ErrBadHandshake", bad, err)
		}
	}
}

// parsedOf returns the parsed form of a description file, as a pomelo server sends it.
func parsedOf(t testing.TB, desc []byte) (*pomelopb.Table, []byte) {
	t.Helper()
	tab, err := pomelopb.Parse(desc)
	if err != nil {
		t.Fatal(err)
	}
	return tab, tab.AppendParsedJSON(nil)
}

func TestParsedRoundTrip(t *testing.T) {
	for _, name := range []string{"chat_client_protos.json", "chat_server_protos.json", "nested_protos.json"} {
		t.Run(name, func(t *testing.T) {
			orig, parsed := parsedOf(t, readFile(t, name))
			desc, err := ParsedToDescription(parsed)
			if err != nil {
				t.Fatal(err)
			}
			back, parsed2 := parsedOf(t, desc)
			if !bytes.Equal(parsed, parsed2) {
				t.Fatalf("parsed form changed:\n%s\n%s", parsed, parsed2)
			}
			if orig.Len() != back.Len() {
				t.Fatal("table sizes differ")
			}
		})
	}
}

func TestParseServerChatProtos(t *testing.T) {
	_, client := parsedOf(t, readFile(t, "chat_client_protos.json"))
	_, server := parsedOf(t, readFile(t, "chat_server_protos.json"))
	body := `{"code":200,"sys":{"heartbeat":3,"dict":{"chat.chatHandler.send":2,"onChat":6},"protos":{"server":` + string(server) + `,"client":` + string(client) + `,"version":"v"},"useProto":true}}`
	s, err := ParseServer([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	m := s.ClientProtos.Lookup("chat.chatHandler.send")
	if m == nil {
		t.Fatal("no client proto for chat.chatHandler.send")
	}
	wire, err := m.AppendWire(nil, []byte(`{"rid":"r","content":"hi","from":"u","target":"*"}`))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(wire) != "0a0172120268691a017522012a" {
		t.Fatalf("wire %x", wire)
	}
	push := s.ServerProtos.Lookup("onChat")
	out, err := push.AppendJSON(nil, []byte("\x0a\x02hi\x12\x01u\x1a\x01*"))
	if err != nil || string(out) != `{"msg":"hi","from":"u","target":"*"}` {
		t.Fatalf("onChat: %s %v", out, err)
	}
}

func TestTopField(t *testing.T) {
	obj := []byte(` { "a" : {"code":1,"x":[1,{"code":2}]}, "s":"co\"de", "code" : 200 , "t":true, "n":null, "f":-1.5e3 } `)
	cases := map[string]string{"code": "200", "a": `{"code":1,"x":[1,{"code":2}]}`, "s": `"co\"de"`, "t": "true", "n": "null", "f": "-1.5e3"}
	for k, want := range cases {
		if got, ok := TopField(obj, k); !ok || string(got) != want {
			t.Errorf("%s: got %q %v, want %q", k, got, ok, want)
		}
	}
	for _, miss := range []struct{ obj, key string }{
		{`{"a":{"code":200}}`, "code"}, {`[{"code":200}]`, "code"}, {`{}`, "code"}, {`{"code"}`, "code"},
		{`{"x":[1,2,"code"],"y":1}`, "code"}, {`{"x":"unterminated`, "x"}, {``, "code"}, {`{"a":1 "code":2}`, "code"},
	} {
		if got, ok := TopField([]byte(miss.obj), miss.key); ok {
			t.Errorf("%s: found %q", miss.obj, got)
		}
	}
}

func TestParseIntAndUnquote(t *testing.T) {
	for in, want := range map[string]int64{"200": 200, "-7": -7, "1.5e3": 1, `"1700000000123"`: 1700000000123, "0": 0} {
		if v, ok := ParseInt([]byte(in)); !ok || v != want {
			t.Errorf("%s: %d %v", in, v, ok)
		}
	}
	for _, bad := range []string{"", "x", "-", `"`, "99999999999999999999"} {
		if v, ok := ParseInt([]byte(bad)); ok {
			t.Errorf("%q parsed as %d", bad, v)
		}
	}
	if s, ok := Unquote([]byte(`"abc"`)); !ok || string(s) != "abc" {
		t.Fatal("Unquote")
	}
	if _, ok := Unquote([]byte(`"a\"b"`)); ok {
		t.Fatal("escaped string unquoted")
	}
}

func TestTopFieldAgreesWithEncodingJSON(t *testing.T) {
	for _, obj := range []string{`{"code":500,"msg":"x"}`, `{"b":[{"code":1}],"code":"200"}`, `{"users":["a","b"],"code":200}`} {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(obj), &m); err != nil {
			t.Fatal(err)
		}
		got, ok := TopField([]byte(obj), "code")
		if !ok || !bytes.Equal(got, m["code"]) {
			t.Errorf("%s: %q, want %q", obj, got, m["code"])
		}
	}
}

func TestArrayLen(t *testing.T) {
	for in, want := range map[string]int{`[]`: 0, ` [ ] `: 0, `["a"]`: 1, `["a",{"b":[1,2]},3]`: 3, `[[],[]]`: 2} {
		if n, ok := ArrayLen([]byte(in)); !ok || n != want {
			t.Errorf("%s: %d %v, want %d", in, n, ok, want)
		}
	}
	for _, bad := range []string{``, `{}`, `[1,`, `[1 2]`, `["a]`} {
		if n, ok := ArrayLen([]byte(bad)); ok {
			t.Errorf("%s: %d", bad, n)
		}
	}
}
