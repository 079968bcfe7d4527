package pomelopb

import (
	"encoding/json"
	"os"
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
