package pomelopb

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// fuzzMessages is the fixed schema of FuzzDecode: the first input byte picks one of these.
func fuzzMessages(t testing.TB) []*Message {
	server, client, _ := mustTables(t)
	return []*Message{
		allMessage(t),
		server.Lookup("onChat"),
		server.Lookup("onMove"),
		server.Lookup("area.playerHandler.list"),
		server.Lookup("test.scalars"),
		server.Lookup("connector.entryHandler.entry"),
		client.Lookup("area.playerHandler.move"),
		client.Lookup("chat.chatHandler.send"),
	}
}

// fuzzSeeds returns every vector as selector byte + wire bytes.
func fuzzSeeds(t testing.TB) [][]byte {
	msgs := fuzzMessages(t)
	sel := map[*Message]byte{}
	for i, m := range msgs {
		sel[m] = byte(i)
	}
	server, client, v := mustTables(t)
	var seeds [][]byte
	add := func(m *Message, h string) {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, append([]byte{sel[m]}, b...))
	}
	for _, c := range v.ServerCases {
		add(server.Lookup(c.Route), c.Hex)
	}
	for _, c := range v.ClientCases {
		add(client.Lookup(c.Route), c.HexNode)
		add(client.Lookup(c.Route), c.HexBrowser)
	}
	js := loadJSVectors(t)
	for _, c := range js.DecodeCases {
		add(msgs[0], c.Hex)
	}
	for _, c := range js.EncodeCases {
		add(msgs[0], c.Hex)
	}
	return seeds
}

// FuzzDecode decodes arbitrary bytes as one of a fixed set of messages, through the JSON decoder,
// the Record and a Decoder that skips every value. They must agree; a successful decode must
// re-encode (from the Record and from the JSON) to bytes that decode to the same value; and
// decoding again into the warm Record must not allocate.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	msgs := fuzzMessages(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		m, wire := msgs[int(data[0])%len(msgs)], data[1:]
		js, jerr := m.AppendJSON(nil, wire)
		r := NewRecord(m)
		rerr := r.UnmarshalUnsafe(wire)
		if (jerr == nil) != (rerr == nil) {
			t.Fatalf("JSON decoder: %v, Record: %v", jerr, rerr)
		}
		if jerr != nil {
			return
		}
		if skipAll(m, wire) != nil {
			t.Fatalf("skipping decoder fails where the full decode succeeded")
		}
		if rj := r.AppendJSON(nil); !bytes.Equal(rj, js) || !json.Valid(js) {
			t.Fatalf("JSON decoder %s, Record %s", js, rj)
		}
		fuzzReencode(t, m, r, js)
		if !raceEnabled {
			var buf []byte
			n := testing.AllocsPerRun(2, func() {
				_ = r.UnmarshalUnsafe(wire)
				buf, _ = m.AppendJSON(buf[:0], wire)
			})
			if n != 0 {
				t.Fatalf("re-decoding allocates %v times", n)
			}
		}
	})
}

// fuzzReencode checks that a decoded value encodes and decodes back to itself.
func fuzzReencode(t *testing.T, m *Message, r *Record, js []byte) {
	w2, err := r.AppendWire(nil)
	if err != nil {
		t.Fatalf("re-encode of a decoded Record: %v", err)
	}
	r2 := NewRecord(m)
	if err := r2.UnmarshalUnsafe(w2); err != nil {
		t.Fatalf("decode of re-encoded %x: %v", w2, err)
	}
	if !recordsEqual(canonical(r), r2) {
		t.Fatalf("round trip changed the value:\n%s\n%s", r.AppendJSON(nil), r2.AppendJSON(nil))
	}
	if w3, err := r2.AppendWire(nil); err != nil || !bytes.Equal(w3, w2) {
		t.Fatalf("second re-encode differs: %x, %v; want %x", w3, err, w2)
	}
	if bytes.Contains(js, []byte("null")) {
		return // NaN or Infinity: JSON cannot carry them
	}
	w4, err := m.AppendWire(nil, js)
	if err != nil {
		t.Fatalf("encoding decoded JSON %s: %v", js, err)
	}
	j2, _ := m.AppendJSON(nil, w2)
	if j4, err := m.AppendJSON(nil, w4); err != nil || !bytes.Equal(j4, j2) {
		t.Fatalf("JSON round trip: %s, %v; want %s", j4, err, j2)
	}
}

// canonical returns a copy of r without its empty repeated fields (a zero-count run of numbers
// decodes to an empty array that encoders leave out), with sub-records canonical too.
func canonical(r *Record) *Record {
	c := NewRecord(r.msg)
	for _, i := range r.order {
		f, v := &r.msg.fields[i], &r.vals[i]
		switch {
		case f.rule == Repeated && v.len(f.typ) == 0:
		case f.typ == TypeMessage && f.rule == Repeated:
			for _, s := range v.subs {
				*c.AppendSub(f) = *canonical(s)
			}
		case f.typ == TypeMessage:
			*c.SetSub(f) = *canonical(v.sub)
		default:
			c.order = append(c.order, i)
			c.vals[i] = *v
		}
	}
	return c
}

// skipAll walks the message reading no value: Next skips them.
func skipAll(m *Message, wire []byte) error {
	var d Decoder
	d.Reset(m, wire)
	for {
		f, err := d.Next()
		if f == nil || err != nil {
			return err
		}
	}
}

// FuzzEncodeJSON encodes arbitrary text as a t.all message. Whatever it accepts must be valid
// JSON, must decode, and must encode again to the same value.
func FuzzEncodeJSON(f *testing.F) {
	for _, c := range loadJSVectors(f).EncodeCases {
		f.Add([]byte(c.Msg))
	}
	f.Add([]byte(`{"u":1,"zz":{"a":[1,{"b":null}],"c":"\ud800"}}`))
	m := allMessage(f)
	f.Fuzz(func(t *testing.T, text []byte) {
		wire, err := m.AppendWire(nil, text)
		if err != nil {
			return
		}
		if !json.Valid(text) {
			t.Fatalf("accepted invalid JSON %q", text)
		}
		js, err := m.AppendJSON(nil, wire)
		if err != nil {
			t.Fatalf("encoded %q to %x, which does not decode: %v", text, wire, err)
		}
		if bytes.Contains(js, []byte("null")) {
			return
		}
		w2, err := m.AppendWire(nil, js)
		if err != nil {
			t.Fatalf("re-encoding %s: %v", js, err)
		}
		if j2, _ := m.AppendJSON(nil, w2); !bytes.Equal(j2, js) {
			t.Fatalf("JSON round trip %s, want %s", j2, js)
		}
	})
}

// FuzzParse parses arbitrary description files. It must never panic; a table it returns must have
// a valid parsed form with one member per key, and consistent field lookups.
func FuzzParse(f *testing.F) {
	v := loadVectors(f)
	f.Add([]byte(v.ServerProtos))
	f.Add([]byte(v.ClientProtos))
	js := loadJSVectors(f)
	f.Add([]byte(js.Protos))
	for _, c := range js.ParseCases {
		f.Add([]byte(c.Description))
	}
	f.Fuzz(func(t *testing.T, desc []byte) {
		tab, err := Parse(desc)
		if err != nil {
			return
		}
		parsed := tab.AppendParsedJSON(nil)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(parsed, &obj); err != nil {
			t.Fatalf("parsed form %s is not a JSON object: %v", parsed, err)
		}
		if len(obj) != tab.Len() {
			t.Fatalf("parsed form has %d members, table %d keys", len(obj), tab.Len())
		}
		for i := 0; i < tab.Len(); i++ {
			checkLookups(t, tab.Lookup(tab.Key(i)))
		}
		if Version(tab, tab) == "" {
			t.Fatal("empty version")
		}
	})
}

func checkLookups(t *testing.T, m *Message) {
	if m == nil {
		t.Fatal("key without a message")
	}
	for i := 0; i < m.NumFields(); i++ {
		f := m.Field(i)
		if m.FieldByTag(f.Tag()) != f || m.FieldByName(f.Name()) != f || f.Parent() != m || f.Index() != i {
			t.Fatalf("inconsistent lookups for field %q", f.Name())
		}
		if (f.Type() == TypeMessage) != (f.Message() != nil) {
			t.Fatalf("field %q: type %v, message %v", f.Name(), f.Type(), f.Message())
		}
	}
}
