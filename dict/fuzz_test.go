package dict

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSep splits a fuzz string into a route list. It is a byte that cannot
// occur inside valid UTF-8, so every valid route can still be produced.
const fuzzSep = "\xff"

func splitRoutes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, fuzzSep)
}

// FuzzBuild builds tables from arbitrary route lists. Build must never
// panic; an error must be one of the sentinels and justified by the input;
// a table must round-trip every route through both lookups, keep handler
// routes in JavaScript order, and render JSON that parses back to exactly
// its own mapping, with a version that is the MD5 of that JSON.
func FuzzBuild(f *testing.F) {
	for _, file := range []string{"dict.json", "dict_edge.json"} {
		v := loadVectors(f, file)
		for _, c := range append(v.Cases, v.Refused...) {
			f.Add(strings.Join(c.HandlerRoutes, fuzzSep), strings.Join(c.UserDictionary, fuzzSep))
		}
	}
	f.Add("a.\uE000\xffa.\U0001F600", "7\xff0\xff__proto__")
	f.Add("a\xfe", "")

	f.Fuzz(func(t *testing.T, handlerList, userList string) {
		handler, user := splitRoutes(handlerList), splitRoutes(userList)
		tab, err := Build(handler, user)
		if err != nil {
			checkBuildError(t, err, handler, user)
			return
		}
		all := append(append([]string(nil), handler...), user...)
		if tab.Len() != len(all) {
			t.Fatalf("Len = %d, want %d", tab.Len(), len(all))
		}
		for _, r := range all {
			code, ok := tab.CodeString(r)
			if !ok {
				t.Fatalf("route %q has no code", r)
			}
			back, ok := tab.Route(code)
			if !ok || back != r {
				t.Fatalf("Route(CodeString(%q)=%d) = %q, %v", r, code, back, ok)
			}
			if c2, ok := tab.Code([]byte(back)); !ok || c2 != code {
				t.Fatalf("Code(%q) = %d, %v; want %d", back, c2, ok, code)
			}
		}
		// Handler routes come first, in UTF-16 order; user routes keep theirs.
		for code := uint16(2); int(code) <= len(handler); code++ {
			prev, _ := tab.Route(code - 1)
			cur, _ := tab.Route(code)
			if jsLess(prev, cur) >= 0 {
				t.Fatalf("codes %d, %d out of UTF-16 order: %+q, %+q", code-1, code, prev, cur)
			}
		}
		for i, r := range user {
			if code, _ := tab.CodeString(r); int(code) != len(handler)+i+1 {
				t.Fatalf("user route %d %q has code %d", i, r, code)
			}
		}
		checkJSON(t, tab)
	})
}

func checkBuildError(t *testing.T, err error, handler, user []string) {
	t.Helper()
	all := append(append([]string(nil), handler...), user...)
	switch {
	case errors.Is(err, ErrTooManyRoutes):
		if len(all) <= MaxCode {
			t.Fatalf("%v with %d routes", err, len(all))
		}
	case errors.Is(err, ErrInvalidRoute):
		for _, r := range all {
			if !utf8.ValidString(r) || r == "__proto__" {
				return
			}
		}
		t.Fatalf("%v but every route is valid", err)
	case errors.Is(err, ErrDuplicateRoute):
		seen := make(map[string]bool, len(all))
		for _, r := range all {
			if seen[r] {
				return
			}
			seen[r] = true
		}
		t.Fatalf("%v but no route repeats", err)
	default:
		t.Fatalf("unexpected error %v", err)
	}
}

func checkJSON(t *testing.T, tab *Table) {
	t.Helper()
	r2cJSON, c2rJSON := tab.RouteToCodeJSON(), tab.CodeToRouteJSON()
	var r2c map[string]uint16
	if err := json.Unmarshal(r2cJSON, &r2c); err != nil {
		t.Fatalf("routeToCode %q: %v", r2cJSON, err)
	}
	var c2r map[string]string
	if err := json.Unmarshal(c2rJSON, &c2r); err != nil {
		t.Fatalf("codeToRoute %q: %v", c2rJSON, err)
	}
	if len(r2c) != tab.Len() || len(c2r) != tab.Len() {
		t.Fatalf("JSON has %d and %d entries, table %d", len(r2c), len(c2r), tab.Len())
	}
	for code, route := range tab.All() {
		if r2c[route] != code {
			t.Fatalf("routeToCode[%q] = %d, want %d", route, r2c[route], code)
		}
		if got, ok := c2r[strconv.Itoa(int(code))]; !ok || got != route {
			t.Fatalf("codeToRoute[%d] = %q, want %q", code, got, route)
		}
	}
	sum := md5.Sum(r2cJSON)
	if v := base64.StdEncoding.EncodeToString(sum[:]); tab.Version() != v {
		t.Fatalf("Version = %s, md5 of JSON = %s", tab.Version(), v)
	}
}
