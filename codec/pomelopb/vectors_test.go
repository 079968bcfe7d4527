package pomelopb

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

type vectorFile struct {
	ServerProtos json.RawMessage `json:"server_protos"`
	ClientProtos json.RawMessage `json:"client_protos"`
	ParsedJSON   string          `json:"parsed_json"`
	ProtoVersion string          `json:"protoVersion"`
	ServerCases  []struct {
		Route   string          `json:"route"`
		Msg     json.RawMessage `json:"msg"`
		Hex     string          `json:"hex"`
		Decoded json.RawMessage `json:"decoded"`
	} `json:"server_cases"`
	ClientCases []struct {
		Route      string          `json:"route"`
		Msg        json.RawMessage `json:"msg"`
		HexNode    string          `json:"hex_node"`
		HexBrowser string          `json:"hex_browser"`
		Decoded    json.RawMessage `json:"decoded"`
	} `json:"client_cases"`
}

func loadVectors(t testing.TB) *vectorFile {
	t.Helper()
	b, err := os.ReadFile("testdata/protobuf.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func TestVectorParsedJSON(t *testing.T) {
	v := loadVectors(t)
	server, err := Parse(v.ServerProtos)
	if err != nil {
		t.Fatal(err)
	}
	client, err := Parse(v.ClientProtos)
	if err != nil {
		t.Fatal(err)
	}
	got := `{"server":` + string(server.AppendParsedJSON(nil)) + `,"client":` + string(client.AppendParsedJSON(nil)) + `}`
	if got != v.ParsedJSON {
		t.Fatalf("parsed JSON\n got %s\nwant %s", got, v.ParsedJSON)
	}
	if got := Version(client, server); got != v.ProtoVersion {
		t.Fatalf("version %s, want %s", got, v.ProtoVersion)
	}
}

func mustTables(t testing.TB) (server, client *Table, v *vectorFile) {
	t.Helper()
	v = loadVectors(t)
	var err error
	if server, err = Parse(v.ServerProtos); err != nil {
		t.Fatal(err)
	}
	if client, err = Parse(v.ClientProtos); err != nil {
		t.Fatal(err)
	}
	return server, client, v
}

// jsonEqual compares two JSON texts as values (numbers compared as float64).
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("invalid JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func TestVectorServerCases(t *testing.T) {
	server, _, v := mustTables(t)
	for i, c := range v.ServerCases {
		m := server.Lookup(c.Route)
		if m == nil {
			t.Fatalf("case %d: no message for %q", i, c.Route)
		}
		wire, err := m.AppendWire(nil, c.Msg)
		if err != nil {
			t.Fatalf("case %d: encode: %v", i, err)
		}
		if got := hex.EncodeToString(wire); got != c.Hex {
			t.Errorf("case %d %s: encode\n got %s\nwant %s", i, c.Route, got, c.Hex)
		}
		want, _ := hex.DecodeString(c.Hex)
		js, err := m.AppendJSON(nil, want)
		if err != nil {
			t.Fatalf("case %d: decode: %v", i, err)
		}
		if !jsonEqual(t, js, c.Decoded) {
			t.Errorf("case %d %s: decode\n got %s\nwant %s", i, c.Route, js, c.Decoded)
		}
	}
}

func TestVectorClientCases(t *testing.T) {
	_, client, v := mustTables(t)
	for i, c := range v.ClientCases {
		m := client.Lookup(c.Route)
		wire, err := m.AppendWire(nil, c.Msg)
		if err != nil {
			t.Fatalf("case %d: encode: %v", i, err)
		}
		if got := hex.EncodeToString(wire); got != c.HexNode {
			t.Errorf("case %d %s: encode\n got %s\nwant %s", i, c.Route, got, c.HexNode)
		}
		for _, h := range []string{c.HexNode, c.HexBrowser} {
			b, _ := hex.DecodeString(h)
			js, err := m.AppendJSON(nil, b)
			if err != nil {
				t.Fatalf("case %d %s: decode: %v", i, h, err)
			}
			if !jsonEqual(t, js, c.Decoded) {
				t.Errorf("case %d %s: decode %s\n got %s\nwant %s", i, c.Route, h, js, c.Decoded)
			}
		}
	}
}

// TestVectorRecord decodes every vector into a Record, checks it against the JSON decoder and
// re-encodes it to the Node encoder's bytes.
func TestVectorRecord(t *testing.T) {
	server, client, v := mustTables(t)
	type c struct {
		m          *Message
		wire, node string
	}
	var cases []c
	for _, x := range v.ServerCases {
		cases = append(cases, c{server.Lookup(x.Route), x.Hex, x.Hex})
	}
	for _, x := range v.ClientCases {
		m := client.Lookup(x.Route)
		cases = append(cases, c{m, x.HexNode, x.HexNode}, c{m, x.HexBrowser, x.HexNode})
	}
	for i, x := range cases {
		wire, _ := hex.DecodeString(x.wire)
		r := NewRecord(x.m)
		if err := r.UnmarshalUnsafe(wire); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		want, _ := x.m.AppendJSON(nil, wire)
		if got := r.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("case %d: record JSON\n got %s\nwant %s", i, got, want)
		}
		out, err := r.AppendWire(nil)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got := hex.EncodeToString(out); got != x.node {
			t.Errorf("case %d: re-encode\n got %s\nwant %s", i, got, x.node)
		}
		// Round trip JSON -> wire gives the Node bytes too.
		out, err = x.m.AppendWire(nil, want)
		if err != nil || hex.EncodeToString(out) != x.node {
			t.Errorf("case %d: JSON re-encode %x, %v; want %s", i, out, err, x.node)
		}
	}
}
