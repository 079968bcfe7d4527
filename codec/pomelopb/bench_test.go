package pomelopb

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"testing"
)

// benchCase is one message in wire and JSON form.
type benchCase struct {
	name string
	m    *Message
	wire []byte
	js   []byte
}

// benchCases returns the onChat push, and t.all messages with n-element repeated fields of every
// kind (numbers, doubles, strings, sub-messages) for the size ladder.
func benchCases(b *testing.B) []benchCase {
	server, _, _ := mustTables(b)
	chat := server.Lookup("onChat")
	chatWire, _ := hex.DecodeString("0a05616c696365120868692074686572651a012a")
	cases := []benchCase{{name: "onChat", m: chat, wire: chatWire}}
	all := allMessage(b)
	f := all.FieldByName
	sub := f("subs").Message()
	for _, n := range []int{10, 100, 1000} {
		r := NewRecord(all)
		r.SetNumber(f("u"), 7)
		r.SetBytes(f("str"), []byte("hello, world"))
		for i := 0; i < n; i++ {
			r.AppendNumber(f("ru"), float64(i*7919))
			r.AppendNumber(f("rd"), float64(i)/3)
			r.AppendBytes(f("rstr"), []byte("player-"+strconv.Itoa(i)))
			s := r.AppendSub(f("subs"))
			s.SetNumber(sub.FieldByName("x"), float64(i))
			s.SetBytes(sub.FieldByName("name"), []byte("sub"))
		}
		wire, err := r.AppendWire(nil)
		if err != nil {
			b.Fatal(err)
		}
		cases = append(cases, benchCase{name: "repeated-" + strconv.Itoa(n), m: all, wire: wire})
	}
	for i := range cases {
		js, err := cases[i].m.AppendJSON(nil, cases[i].wire)
		if err != nil {
			b.Fatal(err)
		}
		cases[i].js = js
	}
	return cases
}

func BenchmarkDecodeJSON(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.wire)))
			dst := make([]byte, 0, 2*len(c.js))
			for b.Loop() {
				var err error
				if dst, err = c.m.AppendJSON(dst[:0], c.wire); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeJSON(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.js)))
			dst := make([]byte, 0, 2*len(c.wire))
			for b.Loop() {
				var err error
				if dst, err = c.m.AppendWire(dst[:0], c.js); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeRecord(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.wire)))
			r := NewRecord(c.m)
			_ = r.UnmarshalUnsafe(c.wire) // warm up: the Record grows its sub-records once
			for b.Loop() {
				if err := r.UnmarshalUnsafe(c.wire); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeRecord(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			r := NewRecord(c.m)
			if err := r.UnmarshalUnsafe(c.wire); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(c.wire)))
			dst := make([]byte, 0, 2*len(c.wire))
			for b.Loop() {
				var err error
				if dst, err = r.AppendWire(dst[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchChat is a hand-written Go type for onChat, the fastest path: Decoder and Encoder driven
// by the schema, fields picked by tag.
type benchChat struct {
	from, msg, target []byte
	fFrom, fMsg, fTgt *Field
}

func (c *benchChat) UnmarshalPomelo(d *Decoder) error {
	c.from, c.msg, c.target = nil, nil, nil
	for {
		f, err := d.Next()
		if f == nil || err != nil {
			return err
		}
		b, err := d.BytesUnsafe()
		if err != nil {
			return err
		}
		switch f.Tag() {
		case 1:
			c.from = b
		case 2:
			c.msg = b
		case 3:
			c.target = b
		}
	}
}

func (c *benchChat) MarshalPomelo(e *Encoder) {
	e.Bytes(c.fFrom, c.from)
	e.Bytes(c.fMsg, c.msg)
	if c.target != nil {
		e.Bytes(c.fTgt, c.target)
	}
}

func BenchmarkStructOnChat(b *testing.B) {
	c := benchCases(b)[0]
	v := &benchChat{fFrom: c.m.FieldByTag(1), fMsg: c.m.FieldByTag(2), fTgt: c.m.FieldByTag(3)}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(c.wire)))
		var d Decoder
		for b.Loop() {
			d.Reset(c.m, c.wire)
			if err := v.UnmarshalPomelo(&d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(c.wire)))
		var e Encoder
		dst := make([]byte, 0, 64)
		for b.Loop() {
			e.Reset(dst[:0], c.m)
			v.MarshalPomelo(&e)
			var err error
			if dst, err = e.Finish(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBaselineStdJSON is the baseline twin of the JSON path: encoding/json decoding the same
// JSON text into a generic value, as a JSON-only engine would per message.
func BenchmarkBaselineStdJSON(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.js)))
			for b.Loop() {
				var v any
				if err := json.Unmarshal(c.js, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
