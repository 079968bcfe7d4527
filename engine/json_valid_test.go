package engine

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
)

var validJSONCases = []string{
	``, ` `, `{}`, `[]`, `{"a":1}`, ` {"a" : [1, 2.5, -0.1e+3, true, false, null, "x\u00e9\n"]} `,
	`"s"`, `0`, `-0`, `1e5`, `1E-5`, `01`, `1.`, `.5`, `-`, `+1`, `1e`, `{"a":1,}`, `[1,]`, `{"a"}`,
	`{"a":1}}`, `{"a":1} x`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\x01\"", `tru`, `nul`, `[`, `{`, `"`,
	`{"a":{"b":[{"c":"\"\\\/\b\f\n\r\t"}]}}`, `{1:2}`, `[1 2]`, "\t\r\n[]\n", `truefalse`, `[-]`,
	strings.Repeat("[", 99) + strings.Repeat("]", 99),
}

// validJSON agrees with encoding/json.Valid.
func TestValidJSON(t *testing.T) {
	for _, c := range validJSONCases {
		if got, want := validJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%q) = %v, encoding/json says %v", c, got, want)
		}
	}
	deep := strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1)
	if validJSON([]byte(deep)) {
		t.Error("nesting beyond the limit accepted")
	}
}

// special8's lowest mark is the first byte the byte-wise table calls special, or there is none:
// one special byte of every value in every position, two of the borderline values in every pair
// of positions (a borrow from the first must not move the mark), and random words.
func TestSpecial8(t *testing.T) {
	check := func(w []byte) {
		t.Helper()
		want := -1
		for i, x := range w {
			if !jsonStringPlain[x] {
				want = i
				break
			}
		}
		got := -1
		if m := special8(binary.LittleEndian.Uint64(w)); m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if got != want {
			t.Fatalf("special8(%q): first special byte %d, want %d", w, got, want)
		}
	}
	for pos := range 8 {
		for c := range 256 {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			check(w)
		}
	}
	edge := []byte{0, 1, 0x1f, 0x20, 0x21, '"' - 1, '"', '"' + 1, '\\' - 1, '\\', '\\' + 1, 0x7f, 0x80, 0xa2, 0xdc, 0xff}
	for p := range 8 {
		for q := p + 1; q < 8; q++ {
			for _, a := range edge {
				for _, b := range edge {
					w := []byte("abcdefgh")
					w[p], w[q] = a, b
					check(w)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	w := make([]byte, 8)
	for range 100000 {
		binary.LittleEndian.PutUint64(w, r.Uint64())
		check(w)
	}
}
