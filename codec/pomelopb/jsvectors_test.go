package pomelopb

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// jsVectors is testdata/jsvectors.json, produced by testdata/gen_jsvectors.js running npm
// pomelo-protobuf@0.4.0: every expected byte in it comes from the JavaScript library.
type jsVectors struct {
	Protos     string `json:"protos"`
	ParseCases []struct {
		Name            string `json:"name"`
		Description     string `json:"description"`
		Parsed          string `json:"parsed"`
		VersionAsServer string `json:"version_as_server"`
		VersionAsClient string `json:"version_as_client"`
	} `json:"parse_cases"`
	DecodeCases []struct {
		Hex  string `json:"hex"`
		JSON string `json:"json"`
	} `json:"decode_cases"`
	EncodeCases []struct {
		Msg string `json:"msg"`
		Hex string `json:"hex"`
	} `json:"encode_cases"`
}

func loadJSVectors(t testing.TB) *jsVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/jsvectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v jsVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// allMessage returns the t.all message of the jsvectors schema, which has every type.
func allMessage(t testing.TB) *Message {
	t.Helper()
	tab, err := Parse([]byte(loadJSVectors(t).Protos))
	if err != nil {
		t.Fatal(err)
	}
	return tab.Lookup("t.all")
}

func TestJSParse(t *testing.T) {
	for _, c := range loadJSVectors(t).ParseCases {
		tab, err := Parse([]byte(c.Description))
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if got := string(tab.AppendParsedJSON(nil)); got != c.Parsed {
			t.Errorf("%s: parsed\n got %s\nwant %s", c.Name, got, c.Parsed)
		}
		if got := Version(nil, tab); got != c.VersionAsServer {
			t.Errorf("%s: Version(nil, t) = %s, want %s", c.Name, got, c.VersionAsServer)
		}
		if got := Version(tab, nil); got != c.VersionAsClient {
			t.Errorf("%s: Version(t, nil) = %s, want %s", c.Name, got, c.VersionAsClient)
		}
	}
}

func TestJSDecode(t *testing.T) {
	v := loadJSVectors(t)
	m := allMessage(t)
	r := NewRecord(m)
	for _, c := range v.DecodeCases {
		wire, _ := hex.DecodeString(c.Hex)
		got, err := m.AppendJSON(nil, wire)
		if err != nil || string(got) != c.JSON {
			t.Errorf("%s: got %s, %v; want %s", c.Hex, got, err, c.JSON)
		}
		if err := r.UnmarshalUnsafe(wire); err != nil {
			t.Fatalf("%s: record: %v", c.Hex, err)
		}
		if got := r.AppendJSON(nil); string(got) != c.JSON {
			t.Errorf("%s: record JSON %s, want %s", c.Hex, got, c.JSON)
		}
	}
}

func TestJSEncode(t *testing.T) {
	v := loadJSVectors(t)
	m := allMessage(t)
	for _, c := range v.EncodeCases {
		got, err := m.AppendWire(nil, []byte(c.Msg))
		if err != nil || hex.EncodeToString(got) != c.Hex {
			t.Errorf("%s:\n got %x, %v\nwant %s", c.Msg, got, err, c.Hex)
		}
	}
}
