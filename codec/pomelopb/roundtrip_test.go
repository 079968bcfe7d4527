package pomelopb

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/rand"
	"testing"
	"unicode/utf8"
)

// recordGen builds random Records over a schema, in random field order.
type recordGen struct {
	rng   *rand.Rand
	valid bool // only valid UTF-8 strings and finite numbers, so that JSON round-trips too
}

func (g *recordGen) fill(r *Record, depth int) {
	m := r.Message()
	for _, i := range g.rng.Perm(m.NumFields()) {
		f := m.Field(i)
		if f.Rule() != Required && g.rng.Intn(3) == 0 {
			continue
		}
		if f.Type() == TypeMessage && depth >= 4 && f.Rule() != Required {
			continue
		}
		if f.Rule() != Repeated {
			g.set(r, f, depth)
			continue
		}
		n := 1 + g.rng.Intn(3)
		if f.Type() != TypeMessage && g.rng.Intn(10) == 0 {
			n = 100 + g.rng.Intn(200) // counts of two varint bytes
		}
		for j := 0; j < n; j++ {
			g.add(r, f, depth)
		}
	}
}

func (g *recordGen) set(r *Record, f *Field, depth int) {
	switch f.Type() {
	case TypeString:
		r.SetBytes(f, g.str())
	case TypeMessage:
		g.fill(r.SetSub(f), depth+1)
	default:
		r.SetNumber(f, g.num(f.Type()))
	}
}

func (g *recordGen) add(r *Record, f *Field, depth int) {
	switch f.Type() {
	case TypeString:
		r.AppendBytes(f, g.str())
	case TypeMessage:
		g.fill(r.AppendSub(f), depth+1)
	default:
		r.AppendNumber(f, g.num(f.Type()))
	}
}

func (g *recordGen) num(t Type) float64 {
	rng := g.rng
	switch t {
	case TypeUInt32:
		return float64([]uint32{0, 1, 127, 128, 16383, 16384, math.MaxUint32, rng.Uint32(), uint32(rng.Intn(300))}[rng.Intn(9)])
	case TypeSInt32, TypeInt32:
		return float64([]int32{0, -1, 1, -64, 64, math.MinInt32, math.MaxInt32, int32(rng.Uint32()), int32(rng.Intn(300) - 150)}[rng.Intn(9)])
	case TypeFloat:
		f := math.Float32frombits(rng.Uint32())
		if g.valid && (math.IsNaN(float64(f)) || math.IsInf(float64(f), 0)) {
			f = rng.Float32()
		}
		return float64(f)
	}
	d := math.Float64frombits(rng.Uint64())
	if g.valid && (math.IsNaN(d) || math.IsInf(d, 0)) || rng.Intn(2) == 0 {
		d = (rng.Float64() - 0.5) * math.Pow(10, float64(rng.Intn(40)-20))
	}
	return d
}

func (g *recordGen) str() []byte {
	n := g.rng.Intn(20)
	if g.rng.Intn(8) == 0 {
		n = 100 + g.rng.Intn(200)
	}
	b := make([]byte, 0, n)
	for len(b) < n {
		switch g.rng.Intn(6) {
		case 0:
			b = utf8.AppendRune(b, rune(0x80+g.rng.Intn(0x10FFFF-0x80)))
		case 1:
			b = append(b, byte(g.rng.Intn(0x20)), '"', '\\')
		case 2:
			if !g.valid {
				b = append(b, byte(0x80+g.rng.Intn(0x80)))
			}
		default:
			b = append(b, byte('a'+g.rng.Intn(26)))
		}
	}
	if g.valid {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return b
}

// recordsEqual compares field order and values; numbers by their bits.
func recordsEqual(a, b *Record) bool {
	if a.msg != b.msg || len(a.order) != len(b.order) {
		return false
	}
	for k, i := range a.order {
		if b.order[k] != i || !valuesEqual(&a.vals[i], &b.vals[i]) {
			return false
		}
	}
	return true
}

func valuesEqual(x, y *value) bool {
	if x.set != y.set || math.Float64bits(x.num) != math.Float64bits(y.num) || !bytes.Equal(x.str, y.str) {
		return false
	}
	if len(x.nums) != len(y.nums) || len(x.strs) != len(y.strs) || len(x.subs) != len(y.subs) {
		return false
	}
	for i := range x.nums {
		if math.Float64bits(x.nums[i]) != math.Float64bits(y.nums[i]) {
			return false
		}
	}
	for i := range x.strs {
		if !bytes.Equal(x.strs[i], y.strs[i]) {
			return false
		}
	}
	for i := range x.subs {
		if !recordsEqual(x.subs[i], y.subs[i]) {
			return false
		}
	}
	return (x.sub == nil) == (y.sub == nil) && (x.sub == nil || !x.set || recordsEqual(x.sub, y.sub))
}

// TestRoundTripRandom: decode(encode(v)) == v for random values over a schema with every type,
// nested and recursive messages and repeated fields, through every path: Record, Encoder via
// MarshalPomelo, and JSON text.
func TestRoundTripRandom(t *testing.T) {
	m := allMessage(t)
	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	rng := rand.New(rand.NewSource(20240601))
	got := NewRecord(m)
	var e Encoder
	for it := 0; it < iterations; it++ {
		g := recordGen{rng: rng, valid: it%2 == 0}
		want := NewRecord(m)
		g.fill(want, 0)
		wire, err := want.AppendWire(nil)
		if err != nil {
			t.Fatalf("iteration %d: encode: %v", it, err)
		}
		if err := got.UnmarshalUnsafe(wire); err != nil {
			t.Fatalf("iteration %d: decode %x: %v", it, wire, err)
		}
		if !recordsEqual(want, got) {
			t.Fatalf("iteration %d: round trip\n got %s\nwant %s", it, got.AppendJSON(nil), want.AppendJSON(nil))
		}
		e.Reset([]byte("prefix"), m)
		want.MarshalPomelo(&e)
		viaEncoder, err := e.Finish()
		if err != nil || string(viaEncoder[6:]) != string(wire) || string(viaEncoder[:6]) != "prefix" {
			t.Fatalf("iteration %d: Encoder gives %x, %v; want %x", it, viaEncoder, err, wire)
		}
		checkJSONPath(t, m, wire, want, g.valid)
	}
}

// checkJSONPath checks the wire <-> JSON path against a Record: the JSON decoder writes what the
// Record holds, and for valid values encoding that JSON gives the same wire bytes back.
func checkJSONPath(t *testing.T, m *Message, wire []byte, want *Record, valid bool) {
	t.Helper()
	js, err := m.AppendJSON(nil, wire)
	if err != nil {
		t.Fatalf("AppendJSON %x: %v", wire, err)
	}
	if rj := want.AppendJSON(nil); !bytes.Equal(js, rj) {
		t.Fatalf("AppendJSON\n got %s\nwant %s", js, rj)
	}
	if !valid {
		return
	}
	back, err := m.AppendWire(nil, js)
	if err != nil || !bytes.Equal(back, wire) {
		t.Fatalf("AppendWire(%s)\n got %x, %v\nwant %x", js, back, err, wire)
	}
}

// TestRoundTripLengths crosses the one-, two- and three-byte varint boundaries of string lengths,
// nested message lengths and repeated counts, where the encoders move bytes to widen a
// reserved length.
func TestRoundTripLengths(t *testing.T) {
	m := allMessage(t)
	sub, name, pos := m.FieldByName("sub"), m.FieldByName("sub").Message().FieldByName("name"), m.FieldByName("sub").Message().FieldByName("pos")
	ru, str := m.FieldByName("ru"), m.FieldByName("str")
	for _, n := range []int{0, 1, 120, 127, 128, 129, 16383 - 4, 16383, 16384, 20000} {
		r := NewRecord(m)
		s := r.SetSub(sub)
		s.SetNumber(s.Message().FieldByName("x"), 1)
		s.SetBytes(name, bytes.Repeat([]byte("é"), n/2))
		for i := 0; i < n%300; i++ {
			s.AppendNumber(pos, float64(i))
		}
		r.SetBytes(str, bytes.Repeat([]byte{'s'}, n))
		for i := 0; i < n; i++ {
			r.AppendNumber(ru, float64(i))
		}
		wire, err := r.AppendWire(nil)
		if err != nil {
			t.Fatal(err)
		}
		got := NewRecord(m)
		if err := got.UnmarshalUnsafe(wire); err != nil || !recordsEqual(r, got) {
			t.Fatalf("n=%d: round trip failed: %v", n, err)
		}
		checkJSONPath(t, m, wire, r, true)
	}
}

// lossyJSON lists the vectors whose values JSON text cannot carry, so that encoding the JSON
// decoded from them cannot give the same bytes (pomelo has the same loss).
var lossyJSON = map[string]bool{
	// rf holds a float that overflowed to Infinity (JSON null) and rd a double -0 (JSON 0).
	"5005010002ffffffff0ffeffffff0f58020d0e65050000003f000080be0000804b000000000000807f69039a9999999999b93f00000000000000809c7500883ce4377e": true,
	// f is the float -0, which JavaScript prints as 0.
	"c03effffffff0f0800100018ffffffff0f2948afbc9af2d77abe2500000080": true,
}

// TestRoundTripVectors: encode(decode(x)) == x for every Node-encoded vector, through the Record
// and through JSON text.
func TestRoundTripVectors(t *testing.T) {
	server, client, v := mustTables(t)
	all := allMessage(t)
	type vec struct {
		m    *Message
		wire string
	}
	var vs []vec
	for _, c := range v.ServerCases {
		vs = append(vs, vec{server.Lookup(c.Route), c.Hex})
	}
	for _, c := range v.ClientCases {
		vs = append(vs, vec{client.Lookup(c.Route), c.HexNode})
	}
	for _, c := range loadJSVectors(t).EncodeCases {
		vs = append(vs, vec{all, c.Hex})
	}
	for _, x := range vs {
		wire, _ := hex.DecodeString(x.wire)
		r := NewRecord(x.m)
		if err := r.UnmarshalUnsafe(wire); err != nil {
			t.Fatalf("%s: %v", x.wire, err)
		}
		if out, err := r.AppendWire(nil); err != nil || !bytes.Equal(out, wire) {
			t.Errorf("%s: record re-encode %x, %v", x.wire, out, err)
		}
		js, err := x.m.AppendJSON(nil, wire)
		if err != nil {
			t.Fatal(err)
		}
		if lossyJSON[x.wire] {
			continue
		}
		if out, err := x.m.AppendWire(nil, js); err != nil || !bytes.Equal(out, wire) {
			t.Errorf("%s: JSON re-encode %x, %v", x.wire, out, err)
		}
	}
}
