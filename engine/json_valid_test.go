package engine

import (
	"encoding/binary"
	"encoding/json"
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

// plain8 agrees with the byte-wise table on every byte value in every position.
func TestPlain8(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			want := true
			for _, x := range w {
				want = want && jsonStringPlain[x]
			}
			if got := plain8(binary.LittleEndian.Uint64(w)); got != want {
				t.Fatalf("plain8(%q) = %v, want %v", w, got, want)
			}
		}
	}
}
