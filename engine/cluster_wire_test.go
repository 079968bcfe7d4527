package engine

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/rpc"
)

// annotatedHex strips spaces and comments ("#" to the end of a line) from an annotated hex string.
func annotatedHex(t testing.TB, annotated string) []byte {
	t.Helper()
	var clean strings.Builder
	for _, line := range strings.Split(annotated, "\n") {
		line, _, _ = strings.Cut(line, "#")
		clean.WriteString(strings.ReplaceAll(strings.ReplaceAll(line, " ", ""), "\t", ""))
	}
	b, err := hex.DecodeString(clean.String())
	requireNoError(t, err)
	return b
}

// The forwardMessage layouts drawn in doc.go, byte for byte, both ways.
func TestForwardWire(t *testing.T) {
	args := forwardArgs{id: 300, typ: codec.Request, route: "chat.h.echo", body: []byte(`{}`), sid: 7,
		frontend: "c-1", uid: "u1", settings: appendSettingsMap(nil, map[string]any{"rid": "r"})}
	want := annotatedHex(t, `
		89 08                               # array of 8
		83 d8 04                            # id 300 (zigzag 600)
		00                                  # type 0: request
		87 0b 636861742e682e6563686f        # route "chat.h.echo"
		88 02 7b7d                          # body {} (bytes)
		07                                  # session id 7
		87 03 632d31                        # frontend id "c-1"
		87 02 7531                          # uid "u1" (nil when unbound)
		8a 01 03 726964 87 01 72            # settings {"rid": "r"}`)
	got, err := args.AppendRPC(nil)
	requireNoError(t, err)
	requireEqual(t, hex.EncodeToString(got), hex.EncodeToString(want))
	var in forwardIn
	requireNoError(t, in.decode(got))
	requireEqual(t, in.id, uint32(300))
	requireEqual(t, in.typ, codec.Request)
	requireEqual(t, string(in.route)+string(in.body)+string(in.frontend)+string(in.uid), `chat.h.echo{}c-1u1`)
	requireEqual(t, in.sid, uint64(7))
	requireEqual(t, hex.EncodeToString(in.settings), "8a0103726964870172")

	unbound := args
	unbound.uid, unbound.typ, unbound.settings = "", codec.Notify, nil
	got, _ = unbound.AppendRPC(nil)
	requireNoError(t, in.decode(got))
	requireEqual(t, in.uid == nil, true)
	requireEqual(t, in.typ, codec.Notify)
	for _, bad := range []string{"8900", "8908 00 05", "8908 8405 00 87016188007087016180 8a00"} {
		if in.decode(annotatedHex(t, bad)) == nil {
			t.Fatalf("%s decoded", bad)
		}
	}

	res := forwardOut{code: 501, msg: "nope", body: []byte(`{"code":501}`)}
	got, _ = res.AppendRPC(nil)
	requireEqual(t, hex.EncodeToString(got), hex.EncodeToString(annotatedHex(t, `
		89 03                               # array of 3
		83 ea 07                            # code 501 (0: success)
		87 04 6e6f7065                      # message "nope"
		88 0c 7b22636f6465223a3530317d      # body {"code":501}`)))
	var fr forwardRes
	requireNoError(t, fr.DecodeRPC(got))
	requireEqual(t, fr.code, 501)
	requireEqual(t, string(fr.msg)+string(fr.body), `nope{"code":501}`)
}

// sessionRemote's errors carry the sentinel's code, so that errors.Is works after the hop.
func TestSessionWireErrors(t *testing.T) {
	for _, s := range sessionErrors {
		wire := toWireError(s)
		re, ok := wire.(*rpc.Error)
		if !ok || re.Code < codeSessionErrors {
			t.Fatalf("%v crossed as %v", s, wire)
		}
		back := fromWireError(&rpc.Error{Code: re.Code, Message: re.Message})
		requireErrorIs(t, back, s)
		requireErrorIs(t, back, &rpc.Error{Code: re.Code})
	}
	requireErrorIs(t, fromWireError(rpc.NewError(rpc.CodeTimeout, "t")), rpc.ErrTimeout)
}

// Settings values that package pack cannot encode travel as their JSON form.
func TestSettingsJSONFallback(t *testing.T) {
	type pos struct {
		X, Y int
	}
	b := appendSettingsMap(nil, map[string]any{"pos": pos{1, 2}, "ch": make(chan int)})
	var in forwardIn
	args := forwardArgs{route: "a.b.c", frontend: "f", settings: b}
	enc, _ := args.AppendRPC(nil)
	requireNoError(t, in.decode(enc))
	bs := newBackendSession(nil, 1, "f", "", in.settings)
	requireDeepEqual(t, bs.Get("pos"), any(map[string]any{"X": float64(1), "Y": float64(2)}))
	requireEqual(t, bs.Get("ch"), any(nil))
}
