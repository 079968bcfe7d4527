package ws

import (
	"bytes"
	"testing"
)

// unmaskBytewise is the RFC 6455 §5.3 definition, one byte at a time.
func unmaskBytewise(key [4]byte, pos int, b []byte) {
	for i := range b {
		b[i] ^= key[(pos+i)%4]
	}
}

func TestUnmaskMatchesDefinition(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte(i*31 + 7)
	}
	for n := 0; n <= len(src); n++ {
		for pos := range 9 {
			got := bytes.Clone(src[:n])
			want := bytes.Clone(src[:n])
			Unmask(key, pos, got)
			unmaskBytewise(key, pos, want)
			if !bytes.Equal(got, want) {
				t.Fatalf("n=%d pos=%d:\n got % x\nwant % x", n, pos, got, want)
			}
		}
	}
}

// A payload unmasked in pieces, carrying pos, equals one unmasked whole; and
// masking twice restores the input.
func TestUnmaskPieces(t *testing.T) {
	key := [4]byte{1, 0x80, 0xff, 0x42}
	src := make([]byte, 1000)
	for i := range src {
		src[i] = byte(i)
	}
	whole := bytes.Clone(src)
	Unmask(key, 0, whole)
	for _, cuts := range [][]int{{1}, {3, 4}, {7, 8, 9}, {33, 100, 101, 513}, {999}} {
		got := bytes.Clone(src)
		prev := 0
		for _, c := range append(cuts, len(got)) {
			Unmask(key, prev, got[prev:c])
			prev = c
		}
		requireBytes(t, got, whole)
	}
	Unmask(key, 0, whole)
	requireBytes(t, whole, src)
}

// Unmask touches nothing outside the slice it is given.
func TestUnmaskBounds(t *testing.T) {
	buf := bytes.Repeat([]byte{0xee}, 100)
	Unmask([4]byte{1, 2, 3, 4}, 1, buf[10:90])
	requireBytes(t, buf[:10], bytes.Repeat([]byte{0xee}, 10))
	requireBytes(t, buf[90:], bytes.Repeat([]byte{0xee}, 10))
}
