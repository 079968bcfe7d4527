package wire

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzTopField checks TopField against encoding/json on valid objects without duplicate keys,
// and that it never panics on anything else.
func FuzzTopField(f *testing.F) {
	for _, s := range []string{`{"code":200}`, `{"a":{"code":1},"code":[1,{"x":"}"}]}`, `{"s":"\"code\":1","code":-3.5e2}`, `[1]`, `{"code":`} {
		f.Add([]byte(s), "code")
	}
	f.Fuzz(func(t *testing.T, obj []byte, key string) {
		got, ok := TopField(obj, key)
		var m map[string]json.RawMessage
		if json.Unmarshal(obj, &m) != nil || duplicateKeys(obj) || bytes.ContainsRune(obj, '\\') {
			return
		}
		want, has := m[key]
		if has != ok || ok && !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) && compact(got) != compact(want) {
			t.Fatalf("%s key %q: got %q %v, want %q %v", obj, key, got, ok, want, has)
		}
	})
}

func compact(b []byte) string {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return "!"
	}
	return out.String()
}

func duplicateKeys(obj []byte) bool {
	d := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return true
	}
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return true
		}
		k, _ := tok.(string)
		if seen[k] {
			return true
		}
		seen[k] = true
		var skip json.RawMessage
		if d.Decode(&skip) != nil {
			return true
		}
	}
	return false
}

// FuzzParseServer feeds arbitrary handshake responses: an error or a usable Server, never a panic.
func FuzzParseServer(f *testing.F) {
	f.Add([]byte(`{"code":200,"sys":{"heartbeat":3,"dict":{"a.b.c":1}}}`))
	f.Add([]byte(`{"code":200,"sys":{"protos":{"client":{"r":{"f":{"option":"required","type":"string","tag":1},"__messages":{},"__tags":{"1":"f"}}},"server":{}}}}`))
	f.Add([]byte(`{"code":200,"sys":{"protos":{"server":{"r":{"p":{"option":"repeated","type":"P","tag":1},"__messages":{"P":{"x":{"option":"required","type":"uInt32","tag":1}}}}}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseServer(b)
		if err == nil {
			for code := range uint16(8) {
				if r, ok := s.RouteBytes(code); ok {
					if c, ok := s.RouteCode(string(r)); ok && c != code && s.DictLen() == 0 {
						t.Fatal("inconsistent dictionary")
					}
				}
			}
		}
	})
}
