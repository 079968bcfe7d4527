package pomelopb

import (
	"math"
	"strconv"
	"unicode/utf8"
)

const lowerHex = "0123456789abcdef"

// appendJSString appends s as a JSON string exactly as JavaScript's JSON.stringify writes it:
// only ", \ and control characters are escaped (<, >, & and non-ASCII are written as they are),
// with \b \t \n \f \r short forms and lowercase \u00xx for the rest. s is read as UTF-8 with
// invalid sequences replaced by U+FFFD the way Node decodes a Buffer. With wtf8 set, the 3-byte
// generalized UTF-8 form of a lone surrogate (which unescape keeps in wtf8 mode) is written as a
// lowercase \udxxx escape, as JSON.stringify writes lone surrogates.
func appendJSString(dst, s []byte, wtf8 bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := decodeRune(s[i:])
			if r != utf8.RuneError || (n == 3 && s[i] == 0xEF) {
				i += n // valid, possibly U+FFFD itself
				continue
			}
			dst = append(dst, s[start:i]...)
			if wtf8 && isWTF8Surrogate(s[i:]) {
				dst = appendUnicodeEscape(dst, rune(s[i]&0x0F)<<12|rune(s[i+1]&0x3F)<<6|rune(s[i+2]&0x3F))
				n = 3
			} else {
				dst = append(dst, "\uFFFD"...)
			}
			i += n
			start = i
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = appendEscape(dst, c)
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\t':
		return append(dst, '\\', 't')
	case '\n':
		return append(dst, '\\', 'n')
	case '\f':
		return append(dst, '\\', 'f')
	case '\r':
		return append(dst, '\\', 'r')
	}
	return appendUnicodeEscape(dst, rune(c))
}

func appendUnicodeEscape(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', lowerHex[r>>12&0xF], lowerHex[r>>8&0xF], lowerHex[r>>4&0xF], lowerHex[r&0xF])
}

// isWTF8Surrogate reports whether b starts with ED A0..BF 80..BF, a surrogate code point.
func isWTF8Surrogate(b []byte) bool {
	return len(b) >= 3 && b[0] == 0xED && b[1] >= 0xA0 && b[1] <= 0xBF && b[2] >= 0x80 && b[2] <= 0xBF
}

// appendJSNumber appends v as JavaScript's Number.prototype.toString (and JSON.stringify) writes
// it: the shortest digits that round-trip, in plain notation for 1e-7 < |v| < 1e21 and in
// d.ddde±n notation outside. -0 is written 0. NaN and ±Infinity, which JSON cannot hold, are
// written null, as JSON.stringify does.
func appendJSNumber(dst []byte, v float64) []byte {
	switch {
	case v == 0:
		return append(dst, '0')
	case math.IsNaN(v) || math.IsInf(v, 0):
		return append(dst, "null"...)
	case v == math.Trunc(v) && math.Abs(v) < 1<<53:
		return strconv.AppendInt(dst, int64(v), 10)
	}
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], v, 'e', -1, 64) // d[.ddd]e±xx
	mant, exp := splitExp(e)
	var digs [24]byte
	d := append(digs[:0], mant[0])
	if len(mant) > 2 {
		d = append(d, mant[2:]...)
	}
	return appendDecimal(dst, d, exp+1)
}

// splitExp splits the output of AppendFloat(..., 'e', -1, 64) into mantissa text and exponent.
func splitExp(e []byte) (mant []byte, exp int) {
	i := len(e) - 1
	for e[i] != 'e' {
		i--
	}
	neg := e[i+1] == '-'
	for _, c := range e[i+2:] {
		exp = exp*10 + int(c-'0')
	}
	if neg {
		exp = -exp
	}
	return e[:i], exp
}

// appendDecimal writes the digits d (no leading or trailing zeros) times 10^(n-len(d)) following
// the ECMAScript Number::toString algorithm.
func appendDecimal(dst, d []byte, n int) []byte {
	k := len(d)
	switch {
	case k <= n && n <= 21:
		dst = append(dst, d...)
		for i := k; i < n; i++ {
			dst = append(dst, '0')
		}
		return dst
	case 0 < n && n <= 21:
		dst = append(dst, d[:n]...)
		dst = append(dst, '.')
		return append(dst, d[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for i := n; i < 0; i++ {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	}
	dst = append(dst, d[0])
	if k > 1 {
		dst = append(dst, '.')
		dst = append(dst, d[1:]...)
	}
	dst = append(dst, 'e')
	if n-1 >= 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(n-1), 10)
}
