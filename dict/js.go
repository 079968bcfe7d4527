package dict

import (
	"cmp"
	"slices"
	"strconv"
	"unicode/utf8"
)

// This file holds the three pieces of JavaScript behaviour the table must
// reproduce to match pomelo byte for byte: the default Array.prototype.sort
// order, own-property key order of plain objects, and JSON.stringify's
// string escaping.

// compareUTF16 orders a and b as JavaScript's default sort does: by UTF-16
// code units. Both strings must be valid UTF-8.
func compareUTF16(a, b string) int {
	for len(a) > 0 && len(b) > 0 {
		if a[0] < utf8.RuneSelf && b[0] < utf8.RuneSelf {
			if a[0] != b[0] {
				return cmp.Compare(a[0], b[0])
			}
			a, b = a[1:], b[1:]
			continue
		}
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return cmp.Compare(utf16Key(ra), utf16Key(rb))
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// utf16Key maps a rune to a number that orders like its UTF-16 code units:
// the first unit in the high half, the second (if any) in the low half. A
// BMP character never shares its first unit with a supplementary one
// (those start with a surrogate), so comparing keys compares unit
// sequences.
func utf16Key(r rune) uint32 {
	if r < 0x10000 {
		return uint32(r) << 16
	}
	r -= 0x10000
	hi := 0xD800 + uint32(r>>10)
	lo := 0xDC00 + uint32(r&0x3FF)
	return hi<<16 | lo
}

// maxArrayIndex is the largest array index, 2^32-2. JavaScript lists keys
// that are canonical decimal numbers up to it before all other keys.
const maxArrayIndex = 1<<32 - 2

// arrayIndex reports whether s is a canonical array index ("0", or digits
// without a leading zero, at most maxArrayIndex) and returns its value.
func arrayIndex(s string) (uint32, bool) {
	if len(s) == 0 || len(s) > len("4294967294") || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > maxArrayIndex {
		return 0, false
	}
	return uint32(n), true
}

// appendRouteToCode appends JSON.stringify of the object pomelo fills with
// dict[routes[i]] = i+1: array-index keys first in numeric order, then the
// rest in code order.
func appendRouteToCode(dst []byte, routes []string) []byte {
	type indexKey struct {
		n    uint32
		code int
	}
	var indexKeys []indexKey
	for i, r := range routes {
		if n, ok := arrayIndex(r); ok {
			indexKeys = append(indexKeys, indexKey{n, i + 1})
		}
	}
	slices.SortFunc(indexKeys, func(a, b indexKey) int { return cmp.Compare(a.n, b.n) })

	dst = append(dst, '{')
	first := true
	entry := func(route string, code int) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, route)
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, int64(code), 10)
	}
	for _, k := range indexKeys {
		entry(routes[k.code-1], k.code)
	}
	for i, r := range routes {
		if _, ok := arrayIndex(r); !ok {
			entry(r, i+1)
		}
	}
	return append(dst, '}')
}

// appendCodeToRoute appends JSON.stringify of the object pomelo fills with
// abbrs[i+1] = routes[i]. Every key is an array index, so the order is
// ascending code order.
func appendCodeToRoute(dst []byte, routes []string) []byte {
	dst = append(dst, '{')
	for i, r := range routes {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, int64(i+1), 10)
		dst = append(dst, '"', ':')
		dst = appendJSONString(dst, r)
	}
	return append(dst, '}')
}

const lowerHex = "0123456789abcdef"

// appendJSONString appends s as JSON.stringify quotes a string: escape '"',
// '\\' and the C0 controls (short forms where JSON has one, else \u00xx),
// leave everything else, non-ASCII included, as it is. s must be valid
// UTF-8.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
