package dict

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shaddock-io/shaddock/codec"
	"unicode/utf16"
	"unicode/utf8"
)

// vectorCase is one case of testdata/dict.json or dict_edge.json, produced
// by scripts/vectors/gen.js from pomelo's dictionary logic run in Node.
type vectorCase struct {
	Name            string   `json:"name"`
	HandlerRoutes   []string `json:"handler_routes"`
	UserDictionary  []string `json:"user_dictionary"`
	RouteToCodeJSON string   `json:"routeToCode_json"`
	CodeToRouteJSON string   `json:"codeToRoute_json"`
	DictVersion     string   `json:"dictVersion"`
	GoError         string   `json:"go_error"`
}

type vectorFile struct {
	Cases   []vectorCase `json:"cases"`
	Refused []vectorCase `json:"refused"`
}

func loadVectors(t testing.TB, name string) vectorFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	requireNoError(t, err)
	var v vectorFile
	requireNoError(t, json.Unmarshal(data, &v))
	if len(v.Cases) == 0 {
		t.Fatalf("%s: no cases", name)
	}
	return v
}

func requireNoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func requireEqual[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func requireErrorIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

// TestVectors checks every case made by pomelo's own logic in Node: the
// JSON must be byte-identical and the version equal.
func TestVectors(t *testing.T) {
	for _, file := range []string{"dict.json", "dict_edge.json"} {
		for i, c := range loadVectors(t, file).Cases {
			t.Run(fmt.Sprintf("%s/%d %s", file, i, c.Name), func(t *testing.T) {
				tab, err := Build(c.HandlerRoutes, c.UserDictionary)
				requireNoError(t, err)
				requireEqual(t, "routeToCode", string(tab.RouteToCodeJSON()), c.RouteToCodeJSON)
				requireEqual(t, "codeToRoute", string(tab.CodeToRouteJSON()), c.CodeToRouteJSON)
				requireEqual(t, "version", tab.Version(), c.DictVersion)
				checkAgainstCodeToRoute(t, tab, c.CodeToRouteJSON)
			})
		}
	}
}

// checkAgainstCodeToRoute checks both lookups against the code->route
// object that Node wrote.
func checkAgainstCodeToRoute(t *testing.T, tab *Table, codeToRoute string) {
	t.Helper()
	var m map[string]string
	requireNoError(t, json.Unmarshal([]byte(codeToRoute), &m))
	requireEqual(t, "Len", tab.Len(), len(m))
	for key, route := range m {
		n, err := strconv.Atoi(key)
		requireNoError(t, err)
		code := uint16(n)
		got, ok := tab.Route(code)
		if !ok || got != route {
			t.Fatalf("Route(%d) = %q, %v; want %q", code, got, ok, route)
		}
		c, ok := tab.CodeString(route)
		if !ok || c != code {
			t.Fatalf("CodeString(%q) = %d, %v; want %d", route, c, ok, code)
		}
		c, ok = tab.Code([]byte(route))
		if !ok || c != code {
			t.Fatalf("Code(%q) = %d, %v; want %d", route, c, ok, code)
		}
	}
}

// TestRefusedVectors checks that inputs pomelo accepts silently are
// refused, and that the Node output really shows the damage we refuse.
func TestRefusedVectors(t *testing.T) {
	refused := loadVectors(t, "dict_edge.json").Refused
	if len(refused) == 0 {
		t.Fatal("no refused cases")
	}
	for _, c := range refused {
		t.Run(c.Name, func(t *testing.T) {
			var r2c map[string]int
			var c2r map[string]string
			requireNoError(t, json.Unmarshal([]byte(c.RouteToCodeJSON), &r2c))
			requireNoError(t, json.Unmarshal([]byte(c.CodeToRouteJSON), &c2r))
			if len(r2c) == len(c2r) {
				t.Fatalf("pomelo's maps agree in size (%d); the case shows nothing", len(r2c))
			}
			_, err := Build(c.HandlerRoutes, c.UserDictionary)
			switch c.GoError {
			case "duplicate":
				requireErrorIs(t, err, ErrDuplicateRoute)
			case "invalid":
				requireErrorIs(t, err, ErrInvalidRoute)
			default:
				t.Fatalf("unknown go_error %q", c.GoError)
			}
		})
	}
}

// jsLess is the reference for JavaScript's default sort: compare the
// UTF-16 encodings.
func jsLess(a, b string) int {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

func TestSortIsUTF16NotBytes(t *testing.T) {
	const bmp, astral = "a.\uE000", "a.\U0001F600"
	// Go's byte order puts U+E000 (EE 80 80) before U+1F600 (F0 9F 98 80)...
	if !(bmp < astral) {
		t.Fatal("premise: Go byte order should put U+E000 first")
	}
	// ...JavaScript's order puts U+1F600 (D83D DE00) before U+E000.
	tab, err := Build([]string{bmp, astral}, nil)
	requireNoError(t, err)
	code, _ := tab.CodeString(astral)
	requireEqual(t, "code of the supplementary route", code, 1)
	code, _ = tab.CodeString(bmp)
	requireEqual(t, "code of the U+E000 route", code, 2)
}

// TestCompareUTF16Random compares the sort order with the UTF-16 reference
// on random strings drawn from ranges where the two orders can disagree.
func TestCompareUTF16Random(t *testing.T) {
	ranges := [][2]rune{{0, 0x7F}, {0x80, 0x7FF}, {0x800, 0xD7FF}, {0xE000, 0xFFFF}, {0x10000, 0x10FFFF}}
	rng := rand.New(rand.NewPCG(1, 2))
	randString := func() string {
		var sb strings.Builder
		for range rng.IntN(4) {
			r := ranges[rng.IntN(len(ranges))]
			sb.WriteRune(r[0] + rng.Int32N(r[1]-r[0]+1))
		}
		return sb.String()
	}
	for range 200000 {
		a, b := randString(), randString()
		if got, want := compareUTF16(a, b), jsLess(a, b); got != want {
			t.Fatalf("compareUTF16(%+q, %+q) = %d, want %d", a, b, got, want)
		}
	}
}

func TestDuplicateRoutes(t *testing.T) {
	tests := []struct {
		name          string
		handler, user []string
		route         string
	}{
		{"between handler routes", []string{"a.b.c", "x.y.z", "a.b.c"}, nil, "a.b.c"},
		{"handler and user", []string{"a.b.c", "onChat"}, []string{"onChat"}, "onChat"},
		{"within user", []string{"a.b.c"}, []string{"onChat", "onAdd", "onChat"}, "onChat"},
		{"empty route twice", nil, []string{"", ""}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := Build(tc.handler, tc.user)
			requireErrorIs(t, err, ErrDuplicateRoute)
			if tab != nil {
				t.Fatal("table returned with error")
			}
			if !strings.Contains(err.Error(), strconv.Quote(tc.route)) {
				t.Fatalf("error %q does not name route %q", err, tc.route)
			}
		})
	}
}

func TestInvalidRoutes(t *testing.T) {
	for _, tc := range []struct {
		handler, user []string
	}{
		{[]string{"a.b.\xff"}, nil},
		{nil, []string{"on\xed\xa0\x80"}}, // UTF-8 of a lone surrogate
		{nil, []string{"__proto__"}},
		{[]string{"__proto__"}, nil},
	} {
		_, err := Build(tc.handler, tc.user)
		requireErrorIs(t, err, ErrInvalidRoute)
	}
	// Neighbours of the refused key are fine.
	_, err := Build([]string{"__proto__x", "a.__proto__"}, []string{"__proto"})
	requireNoError(t, err)
}

func TestCodeLimit(t *testing.T) {
	routes := make([]string, MaxCode+1)
	for i := range routes {
		routes[i] = "r" + strconv.Itoa(i)
	}
	// Exactly MaxCode routes, split across both lists: the last code is 65535.
	tab, err := Build(routes[:40000], routes[40000:MaxCode])
	requireNoError(t, err)
	requireEqual(t, "Len", tab.Len(), MaxCode)
	last := routes[MaxCode-1]
	code, ok := tab.CodeString(last)
	if !ok || code != MaxCode {
		t.Fatalf("code of last route = %d, %v", code, ok)
	}
	got, ok := tab.Route(MaxCode)
	if !ok || got != last {
		t.Fatalf("Route(MaxCode) = %q, %v", got, ok)
	}

	for _, split := range []int{0, 40000, MaxCode + 1} {
		_, err = Build(routes[:split], routes[split:])
		requireErrorIs(t, err, ErrTooManyRoutes)
	}
}

func TestLookupMisses(t *testing.T) {
	tab, err := Build([]string{"a.b.c", "a.b.d"}, []string{"onChat"})
	requireNoError(t, err)
	for _, code := range []uint16{0, 4, 5, 1000, MaxCode} {
		if r, ok := tab.Route(code); ok || r != "" {
			t.Fatalf("Route(%d) = %q, %v; want miss", code, r, ok)
		}
	}
	for _, route := range []string{"", "a.b", "a.b.c ", "onchat", "a.b.c\x00"} {
		if c, ok := tab.CodeString(route); ok || c != 0 {
			t.Fatalf("CodeString(%q) = %d, %v; want miss", route, c, ok)
		}
		if c, ok := tab.Code([]byte(route)); ok || c != 0 {
			t.Fatalf("Code(%q) = %d, %v; want miss", route, c, ok)
		}
	}
	if c, ok := tab.Code(nil); ok || c != 0 {
		t.Fatalf("Code(nil) = %d, %v", c, ok)
	}
}

func TestEmptyTables(t *testing.T) {
	built, err := Build(nil, nil)
	requireNoError(t, err)
	sum := md5.Sum([]byte("{}"))
	requireEqual(t, "Build(nil, nil) version", built.Version(), base64.StdEncoding.EncodeToString(sum[:]))

	var zero Table
	for name, tab := range map[string]*Table{"nil": nil, "zero": &zero, "built": built} {
		t.Run(name, func(t *testing.T) {
			requireEqual(t, "Len", tab.Len(), 0)
			requireEqual(t, "routeToCode", string(tab.RouteToCodeJSON()), "{}")
			requireEqual(t, "codeToRoute", string(tab.CodeToRouteJSON()), "{}")
			requireEqual(t, "version", tab.Version(), built.Version())
			requireEqual(t, "append", string(tab.AppendCodeToRouteJSON([]byte("x="))), "x={}")
			if _, ok := tab.CodeString(""); ok {
				t.Fatal("CodeString hit")
			}
			if _, ok := tab.Code([]byte("a")); ok {
				t.Fatal("Code hit")
			}
			for _, code := range []uint16{0, 1, MaxCode} {
				if _, ok := tab.Route(code); ok {
					t.Fatalf("Route(%d) hit", code)
				}
			}
			for range tab.All() {
				t.Fatal("All yielded")
			}
		})
	}
}

func TestBuildLeavesInputAlone(t *testing.T) {
	handler := []string{"z.z.z", "a.a.a", "m.m.m"}
	user := []string{"onB", "onA"}
	tab, err := Build(handler, user)
	requireNoError(t, err)
	if !slices.Equal(handler, []string{"z.z.z", "a.a.a", "m.m.m"}) || !slices.Equal(user, []string{"onB", "onA"}) {
		t.Fatalf("input modified: %q %q", handler, user)
	}
	var got []string
	for code, route := range tab.All() {
		requireEqual(t, "All code", int(code), len(got)+1)
		got = append(got, route)
	}
	want := []string{"a.a.a", "m.m.m", "z.z.z", "onB", "onA"}
	if !slices.Equal(got, want) {
		t.Fatalf("All = %q, want %q", got, want)
	}
	// All stops when asked.
	n := 0
	for range tab.All() {
		n++
		break
	}
	requireEqual(t, "All after break", n, 1)
}

func TestJSONCopiesAndAppends(t *testing.T) {
	tab, err := Build([]string{"a.b.c"}, []string{"onChat"})
	requireNoError(t, err)
	first := tab.RouteToCodeJSON()
	first[0] = 'X'
	requireEqual(t, "after caller modified its copy", string(tab.RouteToCodeJSON()), `{"a.b.c":1,"onChat":2}`)
	dst := tab.AppendRouteToCodeJSON([]byte(`{"dict":`))
	requireEqual(t, "append", string(dst), `{"dict":{"a.b.c":1,"onChat":2}`)
	dst = tab.AppendCodeToRouteJSON(dst[:0])
	requireEqual(t, "append", string(dst), `{"1":"a.b.c","2":"onChat"}`)
}

// TestJSONStringMatchesGoForASCII is a differential check of the escaper
// against encoding/json (without HTML escaping) for every ASCII byte, where
// Go and JavaScript agree; non-ASCII, where they differ (Go escapes
// U+2028/U+2029), is covered by the Node vectors.
func TestJSONStringMatchesGoForASCII(t *testing.T) {
	for c := range utf8.RuneSelf {
		s := "a" + string(rune(c)) + "b"
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		requireNoError(t, enc.Encode(s))
		want := strings.TrimSuffix(buf.String(), "\n")
		requireEqual(t, fmt.Sprintf("byte %#x", c), string(appendJSONString(nil, s)), want)
	}
}

func TestArrayIndex(t *testing.T) {
	for _, tc := range []struct {
		s  string
		n  uint32
		ok bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"65535", 65535, true}, {"4294967294", 4294967294, true},
		{"4294967295", 0, false}, {"9999999999", 0, false}, {"00", 0, false}, {"07", 0, false},
		{"", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {"1.0", 0, false}, {" 1", 0, false},
		{"1e3", 0, false}, {"12345678901", 0, false}, {"١", 0, false},
	} {
		n, ok := arrayIndex(tc.s)
		if n != tc.n || ok != tc.ok {
			t.Errorf("arrayIndex(%q) = %d, %v; want %d, %v", tc.s, n, ok, tc.n, tc.ok)
		}
	}
}

func TestParseDictionaryFile(t *testing.T) {
	good := []struct {
		in   string
		want []string
	}{
		{`["onChat","onAdd","onLeave"]`, []string{"onChat", "onAdd", "onLeave"}},
		{"\xEF\xBB\xBF[\"onChat\"]", []string{"onChat"}},
		{` [ ] `, []string{}},
		{`null`, nil},
		{`["\u00e9\ud83d\ude00", ""]`, []string{"é😀", ""}},
	}
	for _, tc := range good {
		got, err := ParseDictionaryFile([]byte(tc.in))
		requireNoError(t, err)
		if !slices.Equal(got, tc.want) {
			t.Errorf("ParseDictionaryFile(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{``, `{"onChat":1}`, `["a",1]`, `["a",null]`, `"onChat"`, `["a"`, `[["a"]]`} {
		_, err := ParseDictionaryFile([]byte(in))
		requireErrorIs(t, err, ErrBadDictionaryFile)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "dictionary.json")
	requireNoError(t, os.WriteFile(p, []byte(`["onChat", "onAdd"]`), 0o600))
	got, err := LoadFile(p)
	requireNoError(t, err)
	if !slices.Equal(got, []string{"onChat", "onAdd"}) {
		t.Fatalf("LoadFile = %q", got)
	}

	_, err = LoadFile(filepath.Join(dir, "missing.json"))
	requireErrorIs(t, err, fs.ErrNotExist)

	bad := filepath.Join(dir, "bad.json")
	requireNoError(t, os.WriteFile(bad, []byte(`{"onChat":1}`), 0o600))
	_, err = LoadFile(bad)
	requireErrorIs(t, err, ErrBadDictionaryFile)
	if !strings.Contains(err.Error(), bad) {
		t.Fatalf("error %q does not name the file", err)
	}
}

func TestRouteBytesMatchesRoute(t *testing.T) {
	tb, err := Build([]string{"b.c.d", "a.b.c"}, []string{"onChat"})
	if err != nil {
		t.Fatal(err)
	}
	for code := uint16(0); code <= 4; code++ {
		s, ok1 := tb.Route(code)
		b, ok2 := tb.RouteBytes(code)
		if ok1 != ok2 || s != string(b) {
			t.Fatalf("code %d: Route=%q,%v RouteBytes=%q,%v", code, s, ok1, b, ok2)
		}
	}
	var nilTable *Table
	if _, ok := nilTable.RouteBytes(1); ok {
		t.Fatal("nil table resolved a code")
	}
	var _ codec.RouteTable = tb
}
