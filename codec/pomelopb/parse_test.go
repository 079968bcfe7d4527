package pomelopb

import (
	"testing"
)

func TestTableAPI(t *testing.T) {
	var absent *Table
	if absent.Len() != 0 || absent.Lookup("x") != nil || absent.LookupBytes([]byte("x")) != nil {
		t.Error("nil Table must be empty")
	}
	if got := string(absent.AppendParsedJSON([]byte("p:"))); got != "p:{}" {
		t.Errorf("nil Table parsed form %q", got)
	}
	empty, err := Parse([]byte(" {} "))
	if err != nil {
		t.Fatal(err)
	}
	const emptyVersion = "xT9OvpsqULwrUv2IpdUD4Q==" // pomelo's version for two {} files
	if Version(empty, empty) != emptyVersion || Version(nil, empty) != emptyVersion || Version(empty, nil) != emptyVersion {
		t.Errorf("empty versions %q %q %q", Version(empty, empty), Version(nil, empty), Version(empty, nil))
	}
	if Version(nil, nil) != "" {
		t.Errorf("Version(nil, nil) = %q, want \"\"", Version(nil, nil))
	}

	tab, err := Parse([]byte(`{"b":{},"10":{},"message M":{"required sInt32 v":3},"2":{"repeated M ms":5,"optional double d":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := 0; i < tab.Len(); i++ {
		keys = append(keys, tab.Key(i))
	}
	if got := string(joinKeys(keys)); got != "2,10,b,message M" {
		t.Errorf("key order %s", got)
	}
	m := tab.LookupBytes([]byte("2"))
	if m == nil || m.Name() != "2" || m.NumFields() != 2 {
		t.Fatalf("Lookup 2: %v", m)
	}
	ms := m.FieldByName("ms")
	if ms.Name() != "ms" || ms.Tag() != 5 || ms.Rule() != Repeated || ms.Type() != TypeMessage ||
		ms.TypeName() != "M" || ms.Message() != tab.Lookup("message M") || ms.Parent() != m || ms.Index() != 0 {
		t.Errorf("field ms: %+v", ms)
	}
	if d := m.FieldByTag(1); d == nil || d.Name() != "d" || d.Type() != TypeDouble || d.Message() != nil {
		t.Errorf("FieldByTag(1) = %v", d)
	}
	if m.FieldByTag(2) != nil || m.FieldByTag(1<<27) != nil || m.FieldByName("zz") != nil {
		t.Error("lookups of absent fields must return nil")
	}
	for typ, name := range map[Type]string{TypeUInt32: "uInt32", TypeInt32: "int32", TypeMessage: "message", 0: "type(0)", 99: "type(99)"} {
		if typ.String() != name {
			t.Errorf("Type(%d).String() = %q", typ, typ.String())
		}
	}
	for r, name := range map[Rule]string{Required: "required", Optional: "optional", Repeated: "repeated", 0: "rule(0)"} {
		if r.String() != name {
			t.Errorf("Rule(%d).String() = %q", r, r.String())
		}
	}
}

func joinKeys(keys []string) []byte {
	var b []byte
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, k...)
	}
	return b
}

// TestLargeMessages covers the map-based lookups (more than 8 fields, sparse tags) and field sets
// beyond the 256 inline bits.
func TestLargeMessages(t *testing.T) {
	for _, n := range []int{9, 300, 700} {
		desc := []byte(`{"big":{`)
		for i := 0; i < n; i++ {
			if i > 0 {
				desc = append(desc, ',')
			}
			desc = append(desc, `"required uInt32 f`...)
			desc = appendInt(desc, i)
			desc = append(desc, `":`...)
			desc = appendInt(desc, i*1000+1) // sparse tags: map lookup
		}
		desc = append(desc, "}}"...)
		tab, err := Parse(desc)
		if err != nil {
			t.Fatal(err)
		}
		m := tab.Lookup("big")
		r := NewRecord(m)
		for i := n - 1; i >= 0; i-- {
			r.SetNumber(m.Field(i), float64(i))
		}
		wire, err := r.AppendWire(nil)
		if err != nil {
			t.Fatal(err)
		}
		got := NewRecord(m)
		if err := got.UnmarshalUnsafe(wire); err != nil || !recordsEqual(r, got) {
			t.Fatalf("n=%d: round trip: %v", n, err)
		}
		checkJSONPath(t, m, wire, r, true)
		// Drop the last field written (f0): ErrMissingRequired names it.
		last := wire[:len(wire)-len(m.Field(0).head[:m.Field(0).headLen])-1]
		if _, err := m.AppendJSON(nil, last); err == nil {
			t.Fatalf("n=%d: missing required field not detected", n)
		}
		if _, err := m.AppendJSON(nil, append(wire[:len(wire):len(wire)], wire[:3]...)); err == nil {
			t.Fatalf("n=%d: duplicate field not detected", n)
		}
	}
}

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}
