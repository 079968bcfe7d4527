package pomelopb

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// decodeBoth decodes wire with the JSON decoder and the Record, requires them to agree, and
// returns the JSON and the error.
func decodeBoth(t *testing.T, m *Message, wire []byte) ([]byte, error) {
	t.Helper()
	js, err := m.AppendJSON([]byte("keep"), wire)
	if string(js[:4]) != "keep" {
		t.Fatalf("%x: dst prefix overwritten", wire)
	}
	r := NewRecord(m)
	rerr := r.UnmarshalUnsafe(wire)
	if (err == nil) != (rerr == nil) || err != nil && rerr.Error() != err.Error() {
		t.Fatalf("%x: JSON decoder says %v, Record says %v", wire, err, rerr)
	}
	if err != nil {
		if string(js) != "keep" {
			t.Fatalf("%x: dst changed on error: %q", wire, js)
		}
		return nil, err
	}
	if rj := r.AppendJSON(nil); !bytes.Equal(rj, js[4:]) {
		t.Fatalf("%x: JSON decoder gives %s, Record %s", wire, js[4:], rj)
	}
	if !json.Valid(js[4:]) {
		t.Fatalf("%x: invalid JSON %s", wire, js[4:])
	}
	return js[4:], nil
}

// TestTruncatedVectors cuts every vector at every length: each prefix is either an error or a
// valid message made of the fields before the cut (and then the Node encoder writes it back as
// that prefix). Never a panic.
func TestTruncatedVectors(t *testing.T) {
	server, client, v := mustTables(t)
	all := allMessage(t)
	type vec struct {
		m    *Message
		wire string
		node bool // written by the Node encoder: a valid prefix re-encodes to itself
	}
	var vs []vec
	for _, c := range v.ServerCases {
		vs = append(vs, vec{server.Lookup(c.Route), c.Hex, true})
	}
	for _, c := range v.ClientCases {
		vs = append(vs, vec{client.Lookup(c.Route), c.HexNode, true}, vec{client.Lookup(c.Route), c.HexBrowser, false})
	}
	js := loadJSVectors(t)
	for _, c := range js.EncodeCases {
		vs = append(vs, vec{all, c.Hex, !lossyJSON[c.Hex]})
	}
	for _, c := range js.DecodeCases {
		vs = append(vs, vec{all, c.Hex, false})
	}
	valid := 0
	for _, x := range vs {
		wire, _ := hex.DecodeString(x.wire)
		for k := 0; k < len(wire); k++ {
			got, err := decodeBoth(t, x.m, wire[:k])
			if err != nil {
				if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMissingRequired) {
					t.Fatalf("%s[:%d]: unexpected error %v", x.wire, k, err)
				}
				continue
			}
			valid++
			if x.node {
				if back, err := x.m.AppendWire(nil, got); err != nil || !bytes.Equal(back, wire[:k]) {
					t.Fatalf("%s[:%d] decoded to %s which encodes to %x, %v", x.wire, k, got, back, err)
				}
			}
		}
	}
	if valid == 0 {
		t.Fatal("no prefix decoded: the test checks nothing")
	}
}

func TestDecodeErrors(t *testing.T) {
	all := allMessage(t)
	server, _, _ := mustTables(t)
	deep := func(n int) string { // t.all.top with n nested children
		inner := "0a0161"
		for i := 0; i < n; i++ {
			b, _ := hex.DecodeString(inner)
			inner = "0a0161" + "12" + hex.EncodeToString(appendVarint(nil, uint32(len(b)))) + inner
		}
		b, _ := hex.DecodeString(inner)
		return "7a" + hex.EncodeToString(appendVarint(nil, uint32(len(b)))) + inner
	}
	cases := []struct {
		name string
		m    *Message
		wire string
		want error
	}{
		{"unknown tag", all, "8001", ErrUnknownTag},
		{"unknown tag after fields", all, "0801" + "a006" + "01", ErrUnknownTag},
		{"tag 0", all, "0001", ErrUnknownTag},
		{"truncated key", all, "c0", ErrTruncated},
		{"truncated varint", all, "0880", ErrTruncated},
		{"varint 5th byte too big", all, "08ffffffff1f", ErrVarintOverflow},
		{"varint 6 bytes", all, "0880808080800001", ErrVarintOverflow},
		{"key varint overflow", all, "ffffffffff01", ErrVarintOverflow},
		{"string past end", all, "320561", ErrTruncated},
		{"string length overflow", all, "32ffffffff1f", ErrVarintOverflow},
		{"huge string length", all, "32ffffffff0f61", ErrTruncated},
		{"short float", all, "250000", ErrTruncated},
		{"short double", all, "2900000000000000", ErrTruncated},
		{"count past end", all, "480501", ErrTruncated},
		{"huge count", all, "48ffffffff0f01", ErrTruncated},
		{"double count past end", all, "690201" + "0000000000000000", ErrTruncated},
		{"truncated element", all, "480201", ErrTruncated},
		{"message past end", all, "3a050801", ErrTruncated},
		{"string past nested end", all, "3a0408011205" + "6161616161", ErrTruncated},
		{"nested required missing", all, "3a00", ErrMissingRequired},
		{"nested required missing, repeated", all, "42020801" + "4200", ErrMissingRequired},
		{"recursive required missing", all, "7a00", ErrMissingRequired},
		{"required missing", server.Lookup("onChat"), "0a0161", ErrMissingRequired},
		{"required missing, empty", server.Lookup("onChat"), "", ErrMissingRequired},
		{"field twice", all, "08010802", ErrDuplicateField},
		{"message twice", all, "3a0208013a020801", ErrDuplicateField},
		{"repeated split by another field", all, "4801010801480102", ErrDuplicateField},
		{"repeated string split", all, "720161" + "0801" + "720162", ErrDuplicateField},
		{"too deep", all, deep(MaxDepth + 5), ErrTooDeep},
	}
	for _, c := range cases {
		_, err := decodeBoth(t, c.m, mustHex(c.wire))
		if !errors.Is(err, c.want) {
			t.Errorf("%s (%s): got %v, want %v", c.name, c.wire, err, c.want)
		}
	}
	if _, err := decodeBoth(t, all, mustHex(deep(MaxDepth-2))); err != nil {
		t.Errorf("depth %d: %v", MaxDepth-1, err)
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestDecoderMisuse(t *testing.T) {
	all := allMessage(t)
	var d Decoder
	if _, err := d.Next(); !errors.Is(err, ErrNoMessage) {
		t.Errorf("zero Decoder: %v", err)
	}
	d.Reset(all, mustHex("0801"+"320161"))
	if _, err := d.Uint32(); !errors.Is(err, ErrNoValue) {
		t.Errorf("read before Next: %v", err)
	}
	f, err := d.Next()
	if err != nil || f.Name() != "u" || d.Field() != f || d.Remaining() != 1 {
		t.Fatalf("Next: %v %v", f, err)
	}
	if _, err := d.BytesUnsafe(); !errors.Is(err, ErrWrongType) {
		t.Errorf("string read of uInt32: %v", err)
	}
	if _, err := d.Int32(); !errors.Is(err, ErrWrongType) {
		t.Errorf("int32 read of uInt32: %v", err)
	}
	if v, err := d.Uint32(); v != 1 || err != nil {
		t.Errorf("Uint32: %v %v", v, err)
	}
	if _, err := d.Uint32(); !errors.Is(err, ErrNoValue) {
		t.Errorf("second read: %v", err)
	}
	var sub Decoder
	if f, _ = d.Next(); f.Name() != "str" {
		t.Fatal(f.Name())
	}
	if err := d.Sub(&sub); !errors.Is(err, ErrWrongType) {
		t.Errorf("Sub of string: %v", err)
	}
	if f, err = d.Next(); f != nil || err != nil { // str left unread: skipped
		t.Errorf("end: %v %v", f, err)
	}
}

func TestEncodeJSONErrors(t *testing.T) {
	all := allMessage(t)
	server, _, _ := mustTables(t)
	chat := server.Lookup("onChat")
	nest := func(n int) string {
		s := `{"id":"a"}`
		for i := 0; i < n; i++ {
			s = `{"id":"a","children":[` + s + `]}`
		}
		return `{"top":` + s + `}`
	}
	cases := []struct {
		m    *Message
		json string
		want error
	}{
		{chat, `{"from":"a"}`, ErrMissingRequired},
		{chat, `{"from":"a","msg":null}`, ErrMissingRequired},
		{chat, `{}`, ErrMissingRequired},
		{all, `{"sub":{}}`, ErrMissingRequired},
		{all, `{"subs":[{"x":1},{"name":"a"}]}`, ErrMissingRequired},
		{all, `{"top":{"id":"a","children":[{}]}}`, ErrMissingRequired},
		{all, `{"u":"1"}`, ErrBadValue},
		{all, `{"u":true}`, ErrBadValue},
		{all, `{"u":{}}`, ErrBadValue},
		{all, `{"str":1}`, ErrBadValue},
		{all, `{"sub":[]}`, ErrBadValue},
		{all, `{"sub":"x"}`, ErrBadValue},
		{all, `{"ru":1}`, ErrBadValue},
		{all, `{"ru":[null]}`, ErrBadValue},
		{all, `{"ru":[1,"2"]}`, ErrBadValue},
		{all, `{"rstr":[1]}`, ErrBadValue},
		{all, `{"rstr":"abc"}`, ErrBadValue},
		{all, `{"subs":{}}`, ErrBadValue},
		{all, `[]`, ErrBadValue},
		{all, `null`, ErrBadValue},
		{all, `1`, ErrBadValue},
		{all, `{"u":-1}`, ErrRange},
		{all, `{"u":4294967296}`, ErrRange},
		{all, `{"u":1e300}`, ErrRange},
		{all, `{"u":12345678901234567890}`, ErrRange},
		{all, `{"s":2147483648}`, ErrRange},
		{all, `{"i":-2147483649}`, ErrRange},
		{all, `{"ri":[1,2147483648]}`, ErrRange},
		{all, `{"u":1,"u":2}`, ErrDuplicateKey},
		{all, `{"sub":{"x":1,"x":1}}`, ErrDuplicateKey},
		{all, nest(MaxDepth + 1), ErrTooDeep},
		{all, `{"zz":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, ErrTooDeep},
	}
	syntax := []string{``, ` `, `{`, `{"u":}`, `{"u":1,}`, `{"u" 1}`, `{"u":1 "s":2}`, `{"u":01}`, `{"u":1.}`,
		`{"u":-}`, `{"u":1e}`, `{"u":.5}`, `{"u":+1}`, `{"str":"\x"}`, `{"str":"\u12"}`, "{\"str\":\"a\nb\"}",
		`{"u":1} x`, `{"u":1}}`, `{'u':1}`, `{"str":"abc}`, `{"zz":tru}`, `{"zz":nul}`, `{"zz":[1,]}`,
		`{"zz":{"a"}}`, `{"zz":{"a":1,}}`, `{u:1}`, `{"ru":[1 2]}`, `{"rstr":["a" "b"]}`, `{"sub":{"x":1}`,
		`{"u":NaN}`, `{"u":Infinity}`, "\xef\xbb\xbf{}", `{"u":1}` + "\x00"}
	for _, s := range syntax {
		cases = append(cases, struct {
			m    *Message
			json string
			want error
		}{all, s, ErrSyntax})
	}
	for _, c := range cases {
		out, err := c.m.AppendWire([]byte("keep"), []byte(c.json))
		if !errors.Is(err, c.want) && !(c.want == ErrSyntax && errors.Is(err, errTrailing)) {
			t.Errorf("%.80s: got %v, want %v", c.json, err, c.want)
		}
		if string(out) != "keep" {
			t.Errorf("%.80s: dst changed on error: %q", c.json, out)
		}
	}
	if _, err := all.AppendWire(nil, []byte(nest(MaxDepth-2))); err != nil {
		t.Errorf("depth %d: %v", MaxDepth-1, err)
	}
}

func TestParseErrors(t *testing.T) {
	nested := func(n int) string {
		s := `{}`
		for i := 0; i < n; i++ {
			s = `{"message M":` + s + `}`
		}
		return `{"r":` + s + `}`
	}
	cases := []struct {
		desc string
		want error
	}{
		{`[]`, ErrNotObject},
		{`1`, ErrNotObject},
		{`null`, ErrNotObject},
		{`"x"`, ErrNotObject},
		{``, ErrSyntax},
		{`{`, ErrSyntax},
		{`{"r":}`, ErrSyntax},
		{`{"r":{"required uInt32 x":1,}}`, ErrSyntax},
		{`{} {}`, errTrailing},
		{`{"r":{"required uInt32 x":"1"}}`, ErrBadTag},
		{`{"r":{"required uInt32 x":-1}}`, ErrBadTag},
		{`{"r":{"required uInt32 x":1.5}}`, ErrBadTag},
		{`{"r":{"required uInt32 x":268435456}}`, ErrBadTag},
		{`{"r":{"required uInt32 x":1e400}}`, ErrBadTag},
		{`{"r":{"required uInt32 x":true}}`, ErrBadTag},
		{`{"r":{"required uInt32 x":{}}}`, ErrBadTag},
		{`{"r":{"required uInt32 x":null}}`, ErrBadTag},
		{`{"r":{"required uInt32 __tags":1}}`, ErrBadName},
		{`{"r":{"optional string __messages":1}}`, ErrBadName},
		{`{"r":{"optional string __proto__":1}}`, ErrBadName},
		{`{"r":{"optional string ":1}}`, ErrBadName},
		{`{"__proto__":{}}`, ErrBadName},
		{`{"r":{"message __proto__":{}}}`, ErrBadName},
		{`{"r":{"required uInt32 x":1,"optional string x":2}}`, ErrDuplicateName},
		{`{"r":{"optional Foo f":1}}`, ErrUnknownType},
		{`{"r":{"optional uint32 f":1}}`, ErrUnknownType},
		{`{"r":{"message A":{}},"s":{"optional A a":1}}`, ErrUnknownType},
		{`{"r":{"message A":{"message B":{}},"optional A a":1,"optional B b":2}}`, ErrUnknownType},
		{`{"r":{"message A":{"optional A self":1}},"s":{}}`, ErrUnknownType},
		{`{"r":{"optional uInt64 f":1}}`, ErrUnsupportedType},
		{`{"r":{"repeated sInt64 f":1}}`, ErrUnsupportedType},
		{nested(MaxDepth + 1), ErrTooDeep},
		{`{"r":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, ErrTooDeep},
	}
	for _, c := range cases {
		tab, err := Parse([]byte(c.desc))
		if !errors.Is(err, c.want) || tab != nil {
			t.Errorf("%.60s: got %v, %v; want %v", c.desc, tab, err, c.want)
		}
	}
	if _, err := Parse([]byte(nested(MaxDepth - 1))); err != nil {
		t.Errorf("depth %d: %v", MaxDepth-1, err)
	}
}

func TestEncoderMisuse(t *testing.T) {
	all := allMessage(t)
	chat, _ := Parse([]byte(`{"c":{"required string a":1,"optional uInt32 b":2}}`))
	c := chat.Lookup("c")
	f := func(name string) *Field { return all.FieldByName(name) }
	cases := []struct {
		name  string
		m     *Message
		calls func(e *Encoder)
		want  error
	}{
		{"nil message", nil, func(e *Encoder) {}, ErrNoMessage},
		{"nil field", all, func(e *Encoder) { e.Uint32(nil, 1) }, ErrForeignField},
		{"foreign field", all, func(e *Encoder) { e.Uint32(c.FieldByName("b"), 1) }, ErrForeignField},
		{"nested field at root", all, func(e *Encoder) { e.Uint32(f("sub").Message().FieldByName("x"), 1) }, ErrForeignField},
		{"wrong type", all, func(e *Encoder) { e.String(f("u"), "x") }, ErrWrongType},
		{"int32 on uInt32", all, func(e *Encoder) { e.Int32(f("u"), 1) }, ErrWrongType},
		{"single on repeated number", all, func(e *Encoder) { e.Uint32(f("ru"), 1) }, ErrWrongType},
		{"run on single", all, func(e *Encoder) { e.Uint32s(f("u"), []uint32{1}) }, ErrWrongType},
		{"Begin on number", all, func(e *Encoder) { e.Begin(f("u")) }, ErrWrongType},
		{"twice", all, func(e *Encoder) { e.Uint32(f("u"), 1); e.Uint32(f("u"), 2) }, ErrDuplicateField},
		{"repeated split", all, func(e *Encoder) { e.String(f("rstr"), "a"); e.Uint32(f("u"), 1); e.String(f("rstr"), "b") }, ErrDuplicateField},
		{"required missing", c, func(e *Encoder) { e.Uint32(c.FieldByName("b"), 1) }, ErrMissingRequired},
		{"nested required missing", all, func(e *Encoder) { e.Begin(f("sub")); e.End() }, ErrMissingRequired},
		{"End at root", all, func(e *Encoder) { e.End() }, ErrUnbalanced},
		{"Begin without End", all, func(e *Encoder) { e.Begin(f("sub")) }, ErrUnbalanced},
		{"too deep", all, func(e *Encoder) {
			e.Begin(f("top"))
			for i := 0; i < MaxDepth+1; i++ {
				e.String(e.Current().FieldByName("id"), "a")
				e.Begin(e.Current().FieldByName("children"))
			}
		}, ErrTooDeep},
		{"record of another message", all, func(e *Encoder) { NewRecord(c).MarshalPomelo(e) }, ErrForeignField},
	}
	for _, x := range cases {
		var e Encoder
		e.Reset([]byte("keep"), x.m)
		x.calls(&e)
		out, err := e.Finish()
		if !errors.Is(err, x.want) || string(out) != "keep" {
			t.Errorf("%s: got %q, %v; want %v", x.name, out, err, x.want)
		}
	}
	// After an error every call is a no-op and the first error stays.
	var e Encoder
	e.Reset(nil, all)
	e.String(f("u"), "x")
	e.Uint32(f("u"), 1)
	if !errors.Is(e.Err(), ErrWrongType) {
		t.Errorf("sticky error: %v", e.Err())
	}
}

func TestRecordMisuse(t *testing.T) {
	all := allMessage(t)
	other, _ := Parse([]byte(`{"c":{"required string a":1}}`))
	c := other.Lookup("c")
	f := func(name string) *Field { return all.FieldByName(name) }
	cases := []struct {
		name string
		fill func(r *Record)
		want error
	}{
		{"number on string", func(r *Record) { r.SetNumber(f("str"), 1) }, ErrWrongType},
		{"bytes on number", func(r *Record) { r.SetBytes(f("u"), nil) }, ErrWrongType},
		{"single on repeated", func(r *Record) { r.SetNumber(f("ru"), 1) }, ErrWrongType},
		{"append on single", func(r *Record) { r.AppendNumber(f("u"), 1) }, ErrWrongType},
		{"sub on number", func(r *Record) { r.SetSub(f("u")) }, ErrWrongType},
		{"foreign field", func(r *Record) { r.SetBytes(c.FieldByName("a"), nil) }, ErrForeignField},
		{"nil field", func(r *Record) { r.AppendBytes(nil, nil) }, ErrForeignField},
		{"out of range", func(r *Record) { r.SetNumber(f("u"), -1) }, ErrRange},
		{"NaN integer", func(r *Record) { r.AppendNumber(f("ri"), math.NaN()) }, ErrRange},
		{"nested required", func(r *Record) { r.AppendSub(f("subs")) }, ErrMissingRequired},
	}
	for _, x := range cases {
		r := NewRecord(all)
		x.fill(r)
		out, err := r.AppendWire([]byte("keep"))
		if !errors.Is(err, x.want) || string(out) != "keep" {
			t.Errorf("%s: got %q, %v; want %v", x.name, out, err, x.want)
		}
		r.Reset()
		if out, err := r.AppendWire(nil); err != nil || len(out) != 0 {
			t.Errorf("%s: after Reset: %x, %v", x.name, out, err)
		}
	}
	var d Decoder
	d.Reset(c, nil)
	if err := NewRecord(all).UnmarshalPomelo(&d); !errors.Is(err, ErrForeignField) {
		t.Errorf("decoder of another message: %v", err)
	}
	r := NewRecord(all)
	if r.Number(f("str")) != 0 || r.BytesUnsafe(f("u")) != nil || r.Sub(f("sub")) != nil || r.Has(c.FieldByName("a")) {
		t.Error("getters on unset or mismatched fields must return zero values")
	}
}
