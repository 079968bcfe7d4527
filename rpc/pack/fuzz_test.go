package pack

import (
	"bytes"
	"testing"
)

// FuzzDecode checks the decoder on arbitrary input: it never panics, Skip, RawUnsafe and Any agree
// on what is a value and how long it is, and every accepted input re-encodes to the same bytes
// (token by token, and through Any/AppendAny when it holds no map whose key order or repeated
// keys a Go map would lose).
func FuzzDecode(f *testing.F) {
	for _, c := range cases {
		f.Add(unhex(f, c.wire))
	}
	f.Add(unhex(f, "83 80 00"))
	f.Add(unhex(f, "8a 02 01 62 01 01 61 02"))
	f.Add(unhex(f, "89 03 01 02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(b)
		v := d.Any()
		errAny := d.Done()

		d.Reset(b)
		d.Skip()
		errSkip := d.Done()
		d.Reset(b)
		raw := d.RawUnsafe()
		if (errAny == nil) != (errSkip == nil) || (errAny == nil) != (d.Done() == nil) {
			t.Fatalf("Any (%v), Skip (%v) and RawUnsafe (%v) disagree on % x", errAny, errSkip, d.Err(), b)
		}
		if errAny != nil {
			return
		}
		if !bytes.Equal(raw, b) {
			t.Fatalf("RawUnsafe returned % x of % x", raw, b)
		}
		re, err := reencode(b)
		if err != nil || !bytes.Equal(re, b) {
			t.Fatalf("token re-encoding of % x: % x, %v", b, re, err)
		}
		if again, err := AppendAny(nil, v); err != nil || (!bytes.Equal(again, b) && sortedUnique(b)) {
			t.Fatalf("AppendAny(Any(% x)) = % x, %v", b, again, err)
		}
	})
}

// sortedUnique reports whether every map in the encoded value b has strictly increasing keys (the
// order AppendAny writes), so that Any/AppendAny must reproduce b.
func sortedUnique(b []byte) bool {
	d := NewDecoder(b)
	return walkSorted(&d)
}

func walkSorted(d *Decoder) bool {
	switch d.Kind() {
	case KindArray:
		for n := d.ArrayLen(); n > 0; n-- {
			if !walkSorted(d) {
				return false
			}
		}
		return true
	case KindMap:
		var prev []byte
		for i, n := 0, d.MapLen(); i < n; i++ {
			k := d.KeyUnsafe()
			if i > 0 && bytes.Compare(prev, k) >= 0 {
				return false
			}
			prev = k
			if !walkSorted(d) {
				return false
			}
		}
		return true
	}
	d.Skip()
	return true
}
