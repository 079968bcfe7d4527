//go:build linux

package main

import (
	"bytes"
	"testing"

	"github.com/shaddock-io/shaddock/codec"
)

// feed gives answer the input in pieces of the given sizes (cycled), as reads would, and returns
// everything it answered and whether the connection survived.
func feed(in []byte, sizes []byte) ([]byte, bool) {
	c := &conn{in: make([]byte, 0, bufSize)}
	var all []byte
	for i := 0; len(in) > 0; i++ {
		n := len(in)
		if len(sizes) > 0 {
			n = min(int(sizes[i%len(sizes)])+1, len(in))
		}
		n = min(n, cap(c.in)-len(c.in))
		c.in = append(c.in, in[:n]...)
		in = in[n:]
		out, ok := answer(nil, c)
		all = append(all, out...)
		if !ok {
			return all, false
		}
		if len(c.in) == cap(c.in) { // a package larger than the buffer: answer closes first
			return all, false
		}
	}
	return all, true
}

// FuzzAnswer: whatever the bytes and however they are split, answer neither panics nor holds more
// than its buffer, and a stream it accepts is answered the same whole and in pieces.
func FuzzAnswer(f *testing.F) {
	hs, _ := codec.AppendPacket(nil, codec.TypeHandshake, []byte(`{}`))
	req, at := codec.BeginPacket(nil, codec.TypeData)
	req = codec.AppendRequestCode(req, 7, 3, []byte(`{"x":1}`))
	codec.EndPacket(req, at)
	f.Add(append(hs, req...), []byte{0})
	f.Add(req, []byte{2, 5})
	f.Add([]byte{4, 0, 0, 2, 0, 0x80}, []byte{})
	f.Fuzz(func(t *testing.T, in, sizes []byte) {
		whole, okWhole := feed(in, nil)
		pieces, okPieces := feed(in, sizes)
		if okWhole && okPieces && !bytes.Equal(whole, pieces) {
			t.Fatalf("answers differ: whole %x, in pieces %x", whole, pieces)
		}
	})
}
