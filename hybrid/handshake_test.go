package hybrid

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseHandshake(t *testing.T) {
	n := "c2a9f3" + strings.Repeat("0f", 60)
	nInt, _ := new(big.Int).SetString(n, 16)
	cases := []struct {
		name string
		body string
		err  error
		want HandshakeRequest
		rsaE int // 0: no key
	}{
		{name: "js client", body: `{"sys":{"type":"js-websocket","version":"0.0.1","rsa":{}},"user":{}}`,
			want: HandshakeRequest{Type: "js-websocket", Version: "0.0.1", User: json.RawMessage(`{}`)}},
		{name: "unity", body: `{"sys":{"type":"unity-socket","version":"0.3.0"},"user":{"a":[1,2]}}`,
			want: HandshakeRequest{Type: "unity-socket", Version: "0.3.0", User: json.RawMessage(`{"a":[1,2]}`)}},
		{name: "libpomelo2 versions", body: `{"sys":{"type":"desktop","version":"0.3.5-release","protoVersion":"p1","dictVersion":"d1"}}`,
			want: HandshakeRequest{Type: "desktop", Version: "0.3.5-release", ProtoVersion: "p1", DictVersion: "d1"}},
		{name: "protoVersion 0 is falsy", body: `{"sys":{"protoVersion":0,"dictVersion":""}}`, want: HandshakeRequest{}},
		{name: "numeric protoVersion", body: `{"sys":{"protoVersion":12345}}`, want: HandshakeRequest{ProtoVersion: "12345"}},
		{name: "false/null versions", body: `{"sys":{"protoVersion":false,"dictVersion":null}}`, want: HandshakeRequest{}},
		{name: "wrong types read as empty", body: `{"sys":{"type":5,"version":{"x":1},"protoVersion":[1]}}`, want: HandshakeRequest{}},
		{name: "user null", body: `{"sys":{},"user":null}`, want: HandshakeRequest{}},
		{name: "escaped type", body: `{"sys":{"type":"a\"b\u00e9"}}`, want: HandshakeRequest{Type: "a\"bé"}},
		{name: "rsa number e", body: `{"sys":{"rsa":{"rsa_n":"` + n + `","rsa_e":65537}}}`, rsaE: 65537},
		{name: "rsa string e is hex", body: `{"sys":{"rsa":{"rsa_n":"` + strings.ToUpper(n) + `","rsa_e":"10001"}}}`, rsaE: 65537},
		{name: "rsa bad n", body: `{"sys":{"rsa":{"rsa_n":"xyz","rsa_e":65537}}}`},
		{name: "rsa zero n", body: `{"sys":{"rsa":{"rsa_n":"00","rsa_e":65537}}}`},
		{name: "rsa e too small", body: `{"sys":{"rsa":{"rsa_n":"` + n + `","rsa_e":1}}}`},
		{name: "rsa e fraction", body: `{"sys":{"rsa":{"rsa_n":"` + n + `","rsa_e":3.5}}}`},
		{name: "rsa not object", body: `{"sys":{"rsa":"abc"}}`},
		{name: "not json", body: `{"sys":`, err: ErrHandshakeNotJSON},
		{name: "empty", body: ``, err: ErrHandshakeNotJSON},
		{name: "array", body: `[1]`, err: ErrHandshakeNotJSON},
		{name: "number", body: `5`, err: ErrHandshakeNotJSON},
		{name: "null", body: `null`, err: ErrHandshakeNotJSON},
		{name: "no sys", body: `{"user":{}}`, err: ErrHandshakeNoSys},
		{name: "sys null", body: `{"sys":null}`, err: ErrHandshakeNoSys},
		{name: "sys string", body: `{"sys":"x"}`, err: ErrHandshakeNoSys},
		{name: "SYS is another key", body: `{"SYS":{}}`, err: ErrHandshakeNoSys},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var req HandshakeRequest
			err := parseHandshake([]byte(c.body), &req)
			requireEqual(t, err, c.err, "error")
			if err != nil {
				return
			}
			requireEqual(t, req.Type, c.want.Type, "type")
			requireEqual(t, req.Version, c.want.Version, "version")
			requireEqual(t, req.ProtoVersion, c.want.ProtoVersion, "protoVersion")
			requireEqual(t, req.DictVersion, c.want.DictVersion, "dictVersion")
			requireEqual(t, string(req.User), string(c.want.User), "user")
			if c.rsaE == 0 {
				if req.RSA != nil {
					t.Fatalf("rsa: got %v, want nil", req.RSA)
				}
				return
			}
			if req.RSA == nil {
				t.Fatal("rsa: got nil")
			}
			requireEqual(t, req.RSA.E, c.rsaE, "rsa e")
			requireEqual(t, req.RSA.N.Cmp(nInt), 0, "rsa n")
		})
	}
}

func TestAppendHandshakeBody(t *testing.T) {
	extra := []byte(`"dict":{"a.b.c":1},"useDict":true`)
	cases := []struct {
		code, hb    int
		extra, user []byte
		want        string
	}{
		{200, 3, nil, nil, `{"code":200,"sys":{"heartbeat":3}}`}, // the 34-byte body of §16
		{200, 0, nil, nil, `{"code":200,"sys":{}}`},
		{200, 3, extra, nil, `{"code":200,"sys":{"heartbeat":3,"dict":{"a.b.c":1},"useDict":true}}`},
		{200, 0, extra, nil, `{"code":200,"sys":{"dict":{"a.b.c":1},"useDict":true}}`},
		{200, 10, nil, []byte(`{"k":"v"}`), `{"code":200,"sys":{"heartbeat":10},"user":{"k":"v"}}`},
		{500, 3, extra, []byte(`{}`), `{"code":500}`},
		{501, 3, nil, nil, `{"code":501}`},
	}
	for _, c := range cases {
		got := string(appendHandshakeBody(nil, c.code, c.hb, c.extra, c.user))
		requireEqual(t, got, c.want, "body")
		if !json.Valid([]byte(got)) {
			t.Errorf("%s is not JSON", got)
		}
	}
	requireEqual(t, len(appendHandshakeBody(nil, 200, 3, nil, nil)), 34, "§16 minimal response length")
}

func TestAppendKickBody(t *testing.T) {
	requireEqual(t, string(appendKickBody(nil, "kick")), `{"reason":"kick"}`, "§4.3 example")
	for _, r := range []string{"", "a\"b\\c", "line\nbreak\ttab\r", "\x00\x01\x1f", "héllo 世界", "\u2028\u2029", "bad \xff utf8", strings.Repeat("é", 1000)} {
		b := appendKickBody(nil, r)
		var v struct{ Reason string }
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%q: %s is not JSON: %v", r, b, err)
		}
		want := strings.ToValidUTF8(r, "\ufffd")
		if len(want) > maxKickReason {
			want = want[:maxKickReason]
			for !utf8.ValidString(want) {
				want = want[:len(want)-1]
			}
		}
		requireEqual(t, v.Reason, want, "reason round trip")
		if strings.ContainsAny(string(b), "\u2028\u2029\n") {
			t.Errorf("%q: unescaped line separator in %s", r, b)
		}
	}
}
