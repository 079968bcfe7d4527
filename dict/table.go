package dict

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"unicode/utf8"
)

// MaxCode is the largest route code. Codes travel as two big-endian bytes
// and start at 1, so a table holds at most MaxCode routes.
const MaxCode = 0xFFFF

var (
	// ErrDuplicateRoute is returned by Build when a route appears twice.
	// Pomelo silently keeps the last code; we refuse.
	ErrDuplicateRoute = errors.New("dict: duplicate route")
	// ErrTooManyRoutes is returned by Build when the routes would need a
	// code above MaxCode.
	ErrTooManyRoutes = errors.New("dict: too many routes")
	// ErrInvalidRoute is returned by Build for a route that a JavaScript
	// peer could not hold as the same string: invalid UTF-8, or "__proto__".
	ErrInvalidRoute = errors.New("dict: invalid route")
)

// protoKey is the one key a plain JavaScript object does not store: the
// assignment dict["__proto__"] = code goes to the prototype setter, which
// ignores numbers, so pomelo's table would silently lose the route.
const protoKey = "__proto__"

// emptyJSON is the JSON of an empty table and emptyVersion its version,
// base64(md5("{}")); a nil *Table reports these.
const (
	emptyJSON    = "{}"
	emptyVersion = "mZFLkyvTelC5g8XnyQrpOw=="
)

// Table is an immutable route dictionary. Build it with Build; a nil
// *Table (and the zero Table) is an empty dictionary. All methods are safe
// for concurrent use.
type Table struct {
	routes      []string          // routes[code-1]
	routeBytes  [][]byte          // the same routes as bytes, for decoders that work on []byte
	codes       map[string]uint16 // route -> code
	routeToCode string            // JSON.stringify of the route->code object
	codeToRoute string            // JSON.stringify of the code->route object
	version     string            // base64(md5(routeToCode))
}

// Build numbers handlerRoutes (sorted in JavaScript's UTF-16 order) from 1,
// then userDict (the entries of config/dictionary.json) in the order given,
// and returns the table. Neither slice is modified or retained.
//
// It returns an error wrapping ErrDuplicateRoute if any route occurs twice
// anywhere in the two lists, ErrTooManyRoutes if there are more than
// MaxCode routes in total, and ErrInvalidRoute for a route that is not
// valid UTF-8 or is "__proto__".
func Build(handlerRoutes, userDict []string) (*Table, error) {
	n := len(handlerRoutes) + len(userDict)
	if n > MaxCode {
		return nil, fmt.Errorf("%w: %d handler routes and %d dictionary entries exceed %d codes",
			ErrTooManyRoutes, len(handlerRoutes), len(userDict), MaxCode)
	}
	if err := checkRoutes("handler route", handlerRoutes); err != nil {
		return nil, err
	}
	if err := checkRoutes("dictionary entry", userDict); err != nil {
		return nil, err
	}

	routes := make([]string, 0, n)
	routes = append(routes, handlerRoutes...)
	slices.SortFunc(routes, compareUTF16)
	routes = append(routes, userDict...)

	codes := make(map[string]uint16, n)
	for i, r := range routes {
		code := uint16(i + 1)
		if prev, dup := codes[r]; dup {
			return nil, fmt.Errorf("%w %q: %s and %s", ErrDuplicateRoute, r,
				origin(prev, len(handlerRoutes)), origin(code, len(handlerRoutes)))
		}
		codes[r] = code
	}

	t := &Table{routes: routes, codes: codes, routeBytes: make([][]byte, len(routes))}
	for i, r := range routes {
		t.routeBytes[i] = []byte(r)
	}
	t.routeToCode = string(appendRouteToCode(nil, routes))
	t.codeToRoute = string(appendCodeToRoute(nil, routes))
	sum := md5.Sum([]byte(t.routeToCode))
	t.version = base64.StdEncoding.EncodeToString(sum[:])
	return t, nil
}

// checkRoutes reports the first route of list that a JavaScript peer could
// not hold unchanged.
func checkRoutes(what string, list []string) error {
	for i, r := range list {
		if !utf8.ValidString(r) {
			return fmt.Errorf("%w: %s %d (%q) is not valid UTF-8", ErrInvalidRoute, what, i, r)
		}
		if r == protoKey {
			return fmt.Errorf("%w: %s %d is %q, which a JavaScript object cannot store",
				ErrInvalidRoute, what, i, r)
		}
	}
	return nil
}

// origin describes where the route with the given code came from, for
// error messages.
func origin(code uint16, handlers int) string {
	if int(code) <= handlers {
		return "handler route (code " + strconv.Itoa(int(code)) + ")"
	}
	return "dictionary entry " + strconv.Itoa(int(code)-handlers-1) +
		" (code " + strconv.Itoa(int(code)) + ")"
}

// Code returns the code of route. It does not allocate and does not retain
// route.
func (t *Table) Code(route []byte) (uint16, bool) {
	if t == nil {
		return 0, false
	}
	code, ok := t.codes[string(route)]
	return code, ok
}

// CodeString returns the code of route. It does not allocate.
func (t *Table) CodeString(route string) (uint16, bool) {
	if t == nil {
		return 0, false
	}
	code, ok := t.codes[route]
	return code, ok
}

// Route returns the route with the given code, or "" and false when the
// code is 0 or not in the table. It does not allocate.
func (t *Table) Route(code uint16) (string, bool) {
	if t == nil {
		return "", false
	}
	i := int(code) - 1
	if uint(i) >= uint(len(t.routes)) {
		return "", false
	}
	return t.routes[i], true
}

// RouteBytes is Route returning the route's bytes, so that a decoder can resolve a compressed
// route without converting (it implements codec.RouteTable). The bytes belong to the table and must
// not be modified.
func (t *Table) RouteBytes(code uint16) ([]byte, bool) {
	if t == nil {
		return nil, false
	}
	i := int(code) - 1
	if uint(i) >= uint(len(t.routeBytes)) {
		return nil, false
	}
	return t.routeBytes[i], true
}

// Len returns the number of routes, which is also the highest code.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.routes)
}

// All yields every (code, route) pair in ascending code order.
func (t *Table) All() iter.Seq2[uint16, string] {
	return func(yield func(uint16, string) bool) {
		if t == nil {
			return
		}
		for i, r := range t.routes {
			if !yield(uint16(i+1), r) {
				return
			}
		}
	}
}

// Version returns the dictionary version sent as sys.dictVersion:
// base64(md5(RouteToCodeJSON())).
func (t *Table) Version() string {
	if t.empty() {
		return emptyVersion
	}
	return t.version
}

// RouteToCodeJSON returns a new copy of the route-to-code object as
// JSON.stringify writes it (sent as sys.dict and sys.routeToCode).
func (t *Table) RouteToCodeJSON() []byte {
	return t.AppendRouteToCodeJSON(nil)
}

// AppendRouteToCodeJSON appends the route-to-code JSON to dst and returns
// the extended slice. It allocates only if dst lacks capacity.
func (t *Table) AppendRouteToCodeJSON(dst []byte) []byte {
	if t.empty() {
		return append(dst, emptyJSON...)
	}
	return append(dst, t.routeToCode...)
}

// CodeToRouteJSON returns a new copy of the code-to-route object as
// JSON.stringify writes it (sent as sys.codeToRoute).
func (t *Table) CodeToRouteJSON() []byte {
	return t.AppendCodeToRouteJSON(nil)
}

// AppendCodeToRouteJSON appends the code-to-route JSON to dst and returns
// the extended slice. It allocates only if dst lacks capacity.
func (t *Table) AppendCodeToRouteJSON(dst []byte) []byte {
	if t.empty() {
		return append(dst, emptyJSON...)
	}
	return append(dst, t.codeToRoute...)
}

// empty reports whether t was not made by Build (nil or the zero Table);
// such a table renders as the empty dictionary.
func (t *Table) empty() bool {
	return t == nil || t.version == ""
}
