package pack

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func require[T comparable](t testing.TB, got, want T, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// unhex turns "83 d8 04" into bytes.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cases drives both directions: AppendAny(value) == wire and Any(wire) == decoded.
var cases = []struct {
	wire    string
	value   any // what is encoded
	decoded any // what Any returns (nil means same as value)
}{
	{"80", nil, nil},
	{"81", false, nil},
	{"82", true, nil},
	{"00", int64(0), nil},
	{"7f", int64(127), nil},
	{"83 80 02", int64(128), nil}, // zigzag 256
	{"83 01", int64(-1), nil},     // zigzag 1
	{"83 d8 04", int64(300), nil}, // zigzag 600
	{"83 ff ff ff ff ff ff ff ff ff 01", int64(math.MinInt64), nil},
	{"83 fe ff ff ff ff ff ff ff ff 01", int64(math.MaxInt64), nil},
	{"05", uint8(5), int64(5)},
	{"83 80 02", uint64(128), int64(128)},
	{"84 80 80 80 80 80 80 80 80 80 01", uint64(1 << 63), nil},
	{"84 ff ff ff ff ff ff ff ff ff 01", uint64(math.MaxUint64), nil},
	{"85 00 00 00 00 00 00 f8 3f", 1.5, nil},
	{"86 00 00 c0 3f", float32(1.5), nil},
	{"87 00", "", nil},
	{"87 02 68 69", "hi", nil},
	{"88 00", []byte{}, nil},
	{"88 03 01 02 03", []byte{1, 2, 3}, nil},
	{"89 00", []any{}, nil},
	{"89 02 01 80", []any{int64(1), nil}, nil},
	{"89 02 87 01 61 87 01 62", []string{"a", "b"}, []any{"a", "b"}},
	{"8a 00", map[string]any{}, nil},
	{"8a 01 03 75 69 64 07", map[string]any{"uid": int64(7)}, nil},
	{"8a 02 01 61 87 01 78 01 62 87 01 79", map[string]string{"b": "y", "a": "x"},
		map[string]any{"a": "x", "b": "y"}},
	{"8a 01 01 6b 89 01 8a 00", map[string]any{"k": []any{map[string]any{}}}, nil},
}

func TestTable(t *testing.T) {
	for _, c := range cases {
		wire := unhex(t, c.wire)
		got, err := AppendAny([]byte{0xee}, c.value)
		if err != nil || !bytes.Equal(got[1:], wire) || got[0] != 0xee {
			t.Errorf("AppendAny(%#v) = % x, %v; want % x", c.value, got, err, wire)
		}
		want := c.decoded
		if want == nil {
			want = c.value
		}
		d := NewDecoder(wire)
		v := d.Any()
		if err := d.Done(); err != nil || !reflect.DeepEqual(v, want) {
			t.Errorf("Any(% x) = %#v, %v; want %#v", wire, v, err, want)
		}
		d.Reset(wire)
		require(t, len(d.RawUnsafe()), len(wire), "RawUnsafe length of "+c.wire)
		require(t, d.Done(), error(nil), "Done after RawUnsafe")
	}
}

func TestKinds(t *testing.T) {
	want := map[string]Kind{"80": KindNil, "81": KindBool, "7f": KindInt, "83 01": KindInt,
		"84 80 80 80 80 80 80 80 80 80 01": KindUint, "85": KindFloat64, "86": KindFloat32,
		"87": KindString, "88": KindBytes, "89": KindArray, "8a": KindMap, "8b": KindInvalid,
		"ff": KindInvalid, "": KindInvalid}
	for w, k := range want {
		d := NewDecoder(unhex(t, w))
		require(t, d.Kind(), k, "Kind of "+w)
	}
}

// TestRejected lists inputs that must fail, and with which error.
func TestRejected(t *testing.T) {
	for _, c := range []struct {
		wire string
		err  error
	}{
		{"", ErrShort},
		{"8b", ErrTag},
		{"ff", ErrTag},
		{"83 0a", ErrNonCanonical},                     // zigzag 10 = 5
		{"83 80 00", ErrNonCanonical},                  // overlong uvarint
		{"84 01", ErrNonCanonical},                     // 1 fits int64
		{"83 80", ErrShort},                            // unterminated uvarint
		{"83 ff ff ff ff ff ff ff ff ff 02", ErrRange}, // 65 bits
		{"83 ff ff ff ff ff ff ff ff ff ff 01", ErrRange},
		{"85 00 00", ErrShort},
		{"86 00", ErrShort},
		{"87 03 61 62", ErrShort},
		{"89 05 01", ErrShort},       // count larger than the bytes left
		{"8a 02 01 61 01", ErrShort}, // two pairs need at least four bytes
		{"8a 01 05 61 01", ErrShort}, // key longer than the input
		{"01 02", ErrTrailing},
		{strings.Repeat("89 01 ", MaxDepth+1) + "80", ErrTooDeep},
	} {
		d := NewDecoder(unhex(t, c.wire))
		d.Any()
		if err := d.Done(); !errors.Is(err, c.err) {
			t.Errorf("Any(%s): error %v, want %v", c.wire, err, c.err)
		}
	}
	d := NewDecoder(unhex(t, "83 05")) // zigzag 5 is -3: canonical under 0x83
	if v := d.Int(); v != -3 || d.Done() != nil {
		t.Fatalf("Int(83 05) = %d, %v", v, d.Err())
	}
}

func TestTypeMismatchAndRange(t *testing.T) {
	d := NewDecoder(unhex(t, "87 01 61"))
	d.Int()
	require(t, d.Err(), ErrType, "Int on a string")
	require(t, d.Kind(), KindInvalid, "Kind after an error")
	require(t, d.String(), "", "reads after an error are zero")

	d.Reset(unhex(t, "84 80 80 80 80 80 80 80 80 80 01"))
	d.Int()
	require(t, d.Err(), ErrRange, "Int of 2^63")
	d.Reset(unhex(t, "83 01"))
	d.Uint()
	require(t, d.Err(), ErrRange, "Uint of -1")
	d.Reset(unhex(t, "05"))
	require(t, d.Float(), 5.0, "Float of an int")
	d.Reset(unhex(t, "86 00 00 c0 3f"))
	require(t, d.Float(), 1.5, "Float of a float32")
	d.Reset(unhex(t, "80"))
	require(t, d.IsNil(), true, "IsNil(nil)")
	d.Reset(unhex(t, "05"))
	require(t, d.IsNil(), false, "IsNil(5)")
	require(t, d.Int(), int64(5), "IsNil(false) consumed nothing")
}

func TestAppendAnyErrors(t *testing.T) {
	dst := []byte{1, 2}
	out, err := AppendAny(dst, struct{}{})
	require(t, err, ErrUnsupported, "struct")
	require(t, len(out), 2, "dst unchanged on error")
	out, err = AppendAny(dst, []any{1, map[string]any{"x": struct{}{}}})
	require(t, err, ErrUnsupported, "nested struct")
	require(t, len(out), 2, "dst unchanged on nested error")
	loop := []any{nil}
	loop[0] = loop
	_, err = AppendAny(nil, loop)
	require(t, err, ErrTooDeep, "cyclic list")
}

func TestListAndValue(t *testing.T) {
	in := List{"sys", int64(3), []byte("body"), map[string]any{"a": true}}
	b, err := in.AppendRPC(nil)
	if err != nil {
		t.Fatal(err)
	}
	var out List
	if err := out.DecodeRPC(b); err != nil || !reflect.DeepEqual([]any(out), []any(in)) {
		t.Fatalf("List round trip: %#v, %v", out, err)
	}
	require(t, out.DecodeRPC(unhex(t, "05")), ErrType, "List from a non-array")
	require(t, out.DecodeRPC(append(b, 0)), ErrTrailing, "List with trailing bytes")

	var v Value
	b, _ = Value{V: in}.AppendRPC(nil)
	if err := v.DecodeRPC(b); err != nil || !reflect.DeepEqual(v.V, []any(in)) {
		t.Fatalf("Value round trip: %#v, %v", v.V, err)
	}
	nested, err := AppendAny(nil, []any{Value{V: "x"}})
	if err != nil || !bytes.Equal(nested, unhex(t, "89 01 87 01 78")) {
		t.Fatalf("appender inside AppendAny: % x, %v", nested, err)
	}
}

// randValue builds a random value of the kinds Any returns, so that DeepEqual can compare.
func randValue(r *rand.Rand, depth int) any {
	n := 9
	if depth < 4 {
		n = 11
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return randInt(r)
	case 3:
		return uint64(1<<63) + r.Uint64()>>1
	case 4:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(20)))
	case 5:
		return float32(r.NormFloat64())
	case 6:
		return randString(r)
	case 7:
		return []byte(randString(r))
	case 8:
		return randInt(r)
	case 9:
		l := make([]any, r.IntN(5))
		for i := range l {
			l[i] = randValue(r, depth+1)
		}
		return l
	}
	m := make(map[string]any)
	for i := r.IntN(5); i > 0; i-- {
		m[randString(r)] = randValue(r, depth+1)
	}
	return m
}

func randInt(r *rand.Rand) int64 {
	switch r.IntN(3) {
	case 0:
		return int64(r.IntN(256)) - 128
	case 1:
		return r.Int64() >> r.IntN(63)
	}
	return -r.Int64()
}

func randString(r *rand.Rand) string {
	b := make([]byte, r.IntN(200)>>r.IntN(6))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

// TestRoundTripRandom is the property test: Any(AppendAny(v)) == v, and re-encoding the decoded
// value gives the same bytes, for random values.
func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		v := randValue(r, 0)
		b, err := AppendAny(nil, v)
		if err != nil {
			t.Fatalf("AppendAny(%#v): %v", v, err)
		}
		d := NewDecoder(b)
		got := d.Any()
		if err := d.Done(); err != nil || !reflect.DeepEqual(got, v) {
			t.Fatalf("round trip of %#v: got %#v, %v", v, got, err)
		}
		again, _ := AppendAny(nil, got)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n% x\n% x", b, again)
		}
		if re, err := reencode(b); err != nil || !bytes.Equal(re, b) {
			t.Fatalf("token re-encoding: % x, %v", re, err)
		}
	}
}

// TestTruncatedEverywhere cuts valid encodings at every byte: always an error, never a panic.
func TestTruncatedEverywhere(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		b, _ := AppendAny(nil, randValue(r, 0))
		for k := 0; k < len(b); k++ {
			d := NewDecoder(b[:k])
			d.Any()
			if d.Done() == nil {
				t.Fatalf("prefix %d of % x decoded without error", k, b)
			}
			d.Reset(b[:k])
			d.Skip()
			if d.Done() == nil {
				t.Fatalf("Skip of prefix %d of % x succeeded", k, b)
			}
		}
	}
}

// reencode walks one value token by token with the typed methods and appends it again, keeping
// map order and repeated keys: for every input the Decoder accepts, the result equals the input.
func reencode(b []byte) ([]byte, error) {
	d := NewDecoder(b)
	out := reencodeValue(&d, nil, 0)
	return out, d.Done()
}

func reencodeValue(d *Decoder, dst []byte, depth int) []byte {
	switch d.Kind() {
	case KindNil:
		d.Nil()
		return AppendNil(dst)
	case KindBool:
		return AppendBool(dst, d.Bool())
	case KindInt:
		return AppendInt(dst, d.Int())
	case KindUint:
		return AppendUint(dst, d.Uint())
	case KindFloat64:
		return AppendFloat64(dst, d.Float())
	case KindFloat32:
		return AppendFloat32(dst, d.Float32())
	case KindString:
		return AppendStringBytes(dst, d.StringBytesUnsafe())
	case KindBytes:
		return AppendBytes(dst, d.BytesUnsafe())
	case KindArray, KindMap:
		if depth >= MaxDepth {
			d.fail(ErrTooDeep)
			return dst
		}
		return reencodeContainer(d, dst, depth)
	}
	d.Skip()
	return dst
}

func reencodeContainer(d *Decoder, dst []byte, depth int) []byte {
	if d.Kind() == KindArray {
		n := d.ArrayLen()
		dst = AppendArrayHeader(dst, n)
		for ; n > 0 && d.Err() == nil; n-- {
			dst = reencodeValue(d, dst, depth+1)
		}
		return dst
	}
	n := d.MapLen()
	dst = AppendMapHeader(dst, n)
	for ; n > 0 && d.Err() == nil; n-- {
		dst = AppendKey(dst, string(d.KeyUnsafe()))
		dst = reencodeValue(d, dst, depth+1)
	}
	return dst
}
