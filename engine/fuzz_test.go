package engine

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/rpc"
)

// FuzzData feeds arbitrary DATA bodies through the whole pipeline (dictionary, protobuf and
// crypto on): no input may panic, and every request that gets an answer gets exactly one.
func FuzzData(f *testing.F) {
	v, cfg := loadPBVectors(f)
	cfg.Dictionary = []string{"onChat"}
	for _, tc := range v.ClientCases {
		for _, h := range []string{tc.HexNode, tc.HexBrowser} {
			b, _ := codec.AppendRequest(nil, 1, tc.Route, unhex(f, h))
			f.Add(b)
		}
	}
	cv, pub := loadCryptoVectors(f)
	for _, tc := range cv.Cases {
		f.Add(request(2, "connector.entryHandler.echo", tc.SignedBodyJSON))
	}
	f.Add(codec.AppendRequestCode(nil, 3, 1, []byte(`{}`)))
	f.Add(request(0, "a.b.constructor", `{}`))
	f.Add([]byte{0x01, 0x80, 0x80, 0x80, 0x80, 0x10})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, crypto := range []bool{false, true} {
			e := newEnv(t, cfg, func(app *App) {
				mustHandle(t, Handle(app, "connector.entryHandler.echo", echoRaw))
				mustHandle(t, Handle(app, "connector.entryHandler.entry", echoRaw))
				mustHandle(t, Handle(app, "area.playerHandler.move", echoRaw))
			}, ServerConfig{UseDict: true, UseProtobuf: true, UseCrypto: crypto})
			c, s := e.connect()
			c.pub = pub
			in := bytes.Clone(body)
			e.send(s, in)
			msgs, pending := c.messages(t)
			if len(msgs) > 1 || pending != 0 {
				t.Fatalf("%d responses, %d bytes pending", len(msgs), pending)
			}
			var m codec.Message
			if len(msgs) == 1 && (codec.ParseMessage(body, &m) != nil || m.Type != codec.Request || msgs[0].ID != m.ID) {
				t.Fatalf("answered a message that is not a request, or with the wrong id")
			}
		}
	})
}

// FuzzStripMember checks the __crypto__ remover: no panic, and for JSON objects with the member
// appended as the JS client appends it, the original text comes back exactly.
func FuzzStripMember(f *testing.F) {
	data, err := os.ReadFile("testdata/crypto.json")
	if err != nil {
		f.Fatal(err)
	}
	var v cryptoVectors
	if err := json.Unmarshal(data, &v); err != nil {
		f.Fatal(err)
	}
	for _, tc := range v.Cases {
		f.Add([]byte(tc.BodyJSON), []byte(tc.SignatureHex))
	}
	f.Add([]byte(`{}`), []byte("ab"))
	f.Add([]byte(`{"__crypto__":"x"}`), []byte("cd"))
	f.Add([]byte(`{"":"" }`), []byte("0"))                  // Case found by the fuzzer: space before the closing brace
	f.Add([]byte("{\"__crypto__\":\"\x01\"}"), []byte("0")) // Case found by the fuzzer: control character in the value
	f.Fuzz(func(t *testing.T, obj, sig []byte) {
		out, val, err := stripMember(nil, obj, cryptoKey)
		if err == nil {
			// Removing a member keeps valid JSON valid. (Invalid input may become valid when the
			// fault was inside the removed member; its value then fails the hex decoding.)
			if json.Valid(obj) && !json.Valid(out) {
				t.Fatalf("valid %q stripped to invalid %q", obj, out)
			}
			if bytes.Contains(val, []byte{'"'}) {
				t.Fatalf("value %q holds a quote", val)
			}
		}
		// Round trip: a JSON object without the member, with one appended the way the client does.
		if !json.Valid(obj) || len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' ||
			bytes.Contains(obj, []byte(cryptoKey)) || bytes.ContainsAny(sig, "\"\\") || !validJSONString(sig) {
			return
		}
		signed := append([]byte(nil), obj[:len(obj)-1]...)
		if len(bytes.TrimSpace(obj[1:len(obj)-1])) > 0 {
			signed = append(signed, ',')
		}
		signed = append(signed, `"__crypto__":"`...)
		signed = append(signed, sig...)
		signed = append(signed, `"}`...)
		out, val, err = stripMember(nil, signed, cryptoKey)
		if err != nil {
			t.Fatalf("stripMember(%q): %v", signed, err)
		}
		if !bytes.Equal(out, obj) || !bytes.Equal(val, sig) {
			t.Fatalf("stripMember(%q) = %q, %q; want %q, %q", signed, out, val, obj, sig)
		}
		// In place gives the same.
		in := bytes.Clone(signed)
		out2, _, _ := stripMember(in[:0], in, cryptoKey)
		if !bytes.Equal(out2, obj) {
			t.Fatalf("in place: %q, want %q", out2, obj)
		}
	})
}

func validJSONString(s []byte) bool { return json.Valid(append(append([]byte{'"'}, s...), '"')) }

// FuzzValidJSON is a differential test of validJSON against encoding/json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, c := range validJSONCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.Count(b, []byte("[")) > maxJSONDepth-2 || bytes.Count(b, []byte("{")) > maxJSONDepth-2 {
			return // the nesting limit is ours only
		}
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

// FuzzSysRemotes feeds arbitrary bytes to every sys remote decoder: none may panic, and what
// decodes re-encodes to the same bytes (forwardMessage's arguments and result; pack is
// canonical and settings travel raw) or to a fixed point (the rest, whose maps re-encode with
// sorted keys).
func FuzzSysRemotes(f *testing.F) {
	fa := forwardArgs{id: 9, route: "chat.h.send", body: []byte(`{"a":1}`), sid: 3, frontend: "c-1", uid: "u",
		settings: appendSettingsMap(nil, map[string]any{"rid": "r", "n": 5, "l": []any{1.5, nil, "x"}})}
	for _, a := range []rpc.Appender{&fa, &forwardOut{code: 501, msg: "m", body: []byte(`{}`)},
		&exportList{{ID: 1, FrontendID: "f", UID: "u", Settings: map[string]any{"k": "v"}}},
		&sessionOp{sid: 4, uid: "u", key: "k", value: map[string]any{"z": true, "a": int64(-3)}, reason: "bye"},
		&uidList{"a", "b"}, &castArgs{route: "onX", msg: []byte(`{}`), binded: true, param: "red"}} {
		b, err := a.AppendRPC(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(appendPushArgsHeader(nil, "onChat", []byte(`{"msg":"hi"}`), 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		var in forwardIn
		if in.decode(b) == nil {
			out := forwardArgs{id: in.id, typ: in.typ, route: string(in.route), body: in.body, sid: in.sid,
				frontend: string(in.frontend), uid: string(in.uid), settings: in.settings}
			again, _ := out.AppendRPC(nil)
			if !bytes.Equal(again, b) && !(len(in.uid) == 0 && in.uid != nil) { // "" and nil both mean unbound
				t.Fatalf("forwardMessage args %x re-encode as %x", b, again)
			}
			newBackendSession(nil, in.sid, "f", string(in.uid), in.settings)
		}
		var fr forwardRes
		if fr.DecodeRPC(b) == nil {
			again, _ := (&forwardOut{code: fr.code, msg: string(fr.msg), body: fr.body}).AppendRPC(nil)
			if !bytes.Equal(again, b) {
				t.Fatalf("forwardMessage result %x re-encodes as %x", b, again)
			}
		}
		fixedPoint(t, "exports", b, new(exportList), func() rpc.Decoder { return new(exportList) })
		fixedPoint(t, "sessionOp", b, new(sessionOp), func() rpc.Decoder { return new(sessionOp) })
		fixedPoint(t, "uids", b, new(uidList), func() rpc.Decoder { return new(uidList) })
		var p pushIn
		if p.decode(b) == nil {
			for i := 0; i < p.count; i++ {
				p.uids.StringBytesUnsafe()
			}
			_ = p.uids.Done()
		}
		var c castIn
		_ = c.decode(b)
	})
}

// fixedPoint checks that a value decoded from b re-encodes to bytes that decode and re-encode to
// themselves.
func fixedPoint(t *testing.T, what string, b []byte, v interface {
	rpc.Appender
	rpc.Decoder
}, fresh func() rpc.Decoder) {
	t.Helper()
	if v.DecodeRPC(b) != nil {
		return
	}
	once, err := v.AppendRPC(nil)
	if err != nil {
		return
	}
	w := fresh()
	if err := w.DecodeRPC(once); err != nil {
		t.Fatalf("%s: re-encoding %x does not decode: %v", what, once, err)
	}
	twice, _ := w.(rpc.Appender).AppendRPC(nil)
	if !bytes.Equal(once, twice) {
		t.Fatalf("%s: %x re-encodes as %x, then %x", what, b, once, twice)
	}
}
