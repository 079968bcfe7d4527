//go:build !race

package pomelopb

import (
	"encoding/hex"
	"math/rand"
	"testing"
)

// raceEnabled is false: allocation counts are checked (see race_test.go).
const raceEnabled = false

// Allocation budgets: decoding into a reused value and encoding into a reused buffer allocate
// nothing in steady state. (Allocation counts differ under -race, hence the build tag.)

func requireZeroAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	f() // warm up: grow buffers and sub-records
	if n := testing.AllocsPerRun(200, f); n != 0 {
		t.Errorf("%s: %v allocations per run, want 0", name, n)
	}
}

func TestAllocRecord(t *testing.T) {
	server, client, v := mustTables(t)
	all := allMessage(t)
	var wires []struct {
		m    *Message
		wire []byte
	}
	add := func(m *Message, h string) {
		b, _ := hex.DecodeString(h)
		wires = append(wires, struct {
			m    *Message
			wire []byte
		}{m, b})
	}
	for _, c := range v.ServerCases {
		add(server.Lookup(c.Route), c.Hex)
	}
	for _, c := range v.ClientCases {
		add(client.Lookup(c.Route), c.HexBrowser)
	}
	for _, c := range loadJSVectors(t).EncodeCases {
		add(all, c.Hex)
	}
	for _, w := range wires {
		r := NewRecord(w.m)
		var out, js []byte
		requireZeroAllocs(t, "Record.UnmarshalUnsafe "+w.m.Name(), func() {
			if err := r.UnmarshalUnsafe(w.wire); err != nil {
				t.Fatal(err)
			}
		})
		requireZeroAllocs(t, "Record.AppendWire "+w.m.Name(), func() {
			var err error
			if out, err = r.AppendWire(out[:0]); err != nil {
				t.Fatal(err)
			}
		})
		requireZeroAllocs(t, "Message.AppendJSON "+w.m.Name(), func() {
			var err error
			if js, err = w.m.AppendJSON(js[:0], w.wire); err != nil {
				t.Fatal(err)
			}
		})
		if _, err := w.m.AppendWire(nil, js); err != nil {
			continue // a float that overflowed to Infinity reads back as null
		}
		requireZeroAllocs(t, "Message.AppendWire "+w.m.Name(), func() {
			var err error
			if out, err = w.m.AppendWire(out[:0], js); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAllocStructAndLookup(t *testing.T) {
	server, _, _ := mustTables(t)
	m := server.Lookup("onChat")
	wire, _ := hex.DecodeString("0a05616c696365120868692074686572651a012a")
	v := &benchChat{fFrom: m.FieldByTag(1), fMsg: m.FieldByTag(2), fTgt: m.FieldByTag(3)}
	var d Decoder
	requireZeroAllocs(t, "Decoder into a Go type", func() {
		d.Reset(m, wire)
		if err := v.UnmarshalPomelo(&d); err != nil {
			t.Fatal(err)
		}
	})
	var e Encoder
	var out []byte
	requireZeroAllocs(t, "Encoder from a Go type", func() {
		e.Reset(out[:0], m)
		v.MarshalPomelo(&e)
		var err error
		if out, err = e.Finish(); err != nil {
			t.Fatal(err)
		}
	})
	if hex.EncodeToString(out) != hex.EncodeToString(wire) {
		t.Fatalf("struct round trip %x", out)
	}
	route := []byte("onChat")
	requireZeroAllocs(t, "Table.LookupBytes", func() {
		if server.LookupBytes(route) != m {
			t.Fatal("lookup")
		}
	})
	all := allMessage(t)
	r := NewRecord(all)
	g := recordGen{rng: rand.New(rand.NewSource(1)), valid: true}
	g.fill(r, 0)
	requireZeroAllocs(t, "Encoder from a Record", func() {
		e.Reset(out[:0], all)
		r.MarshalPomelo(&e)
		var err error
		if out, err = e.Finish(); err != nil {
			t.Fatal(err)
		}
	})
}
