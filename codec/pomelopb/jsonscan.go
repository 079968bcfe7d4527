package pomelopb

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// JSON input errors.
var (
	ErrSyntax   = errors.New("pomelopb: invalid JSON")
	ErrTooDeep  = errors.New("pomelopb: nesting too deep")
	errTrailing = errors.New("pomelopb: invalid JSON: data after the top-level value")
)

// maxSkipDepth bounds the nesting of JSON values that are skipped or kept as opaque (unknown keys,
// ignored description entries).
const maxSkipDepth = 1000

// byte classes inside a JSON string
const (
	strPlain   = 0 // printable ASCII other than " and \
	strSpecial = 1 // ", \ or a control character
	strHigh    = 2 // part of a multi-byte UTF-8 sequence (or an invalid byte)
)

var strClass = func() (t [256]byte) {
	for c := 0; c < 0x20; c++ {
		t[c] = strSpecial
	}
	t['"'], t['\\'] = strSpecial, strSpecial
	for c := 0x80; c < 0x100; c++ {
		t[c] = strHigh
	}
	return t
}()

// scanner reads JSON text (RFC 8259, as JavaScript's JSON.parse accepts it) from buf in place.
type scanner struct {
	buf []byte
	off int
}

// peek skips whitespace and returns the next byte without consuming it, or 0 at the end.
func (s *scanner) peek() byte {
	if s.off < len(s.buf) && s.buf[s.off] > ' ' {
		return s.buf[s.off]
	}
	return s.peekSlow()
}

func (s *scanner) peekSlow() byte {
	for s.off < len(s.buf) {
		switch c := s.buf[s.off]; c {
		case ' ', '\t', '\n', '\r':
			s.off++
		default:
			return c
		}
	}
	return 0
}

// eat consumes c, after whitespace, if it comes next.
func (s *scanner) eat(c byte) bool {
	if s.peek() == c {
		s.off++
		return true
	}
	return false
}

// end reports an error unless only whitespace is left.
func (s *scanner) end() error {
	if s.peek() != 0 || s.off < len(s.buf) {
		return errTrailing
	}
	return nil
}

// str reads a string and returns its raw contents, between the quotes. plain reports that the raw
// bytes are the string itself: no escapes and valid UTF-8. Escapes are validated here, so unescape
// cannot fail afterwards.
func (s *scanner) str() (raw []byte, plain bool, err error) {
	if !s.eat('"') {
		return nil, false, ErrSyntax
	}
	start, high := s.off, false
	plain = true
	b := s.buf
	for i := start; i < len(b); i++ {
		for i < len(b) && strClass[b[i]] == strPlain {
			i++
		}
		if i == len(b) {
			break
		}
		if strClass[b[i]] == strHigh {
			high = true
			continue
		}
		switch b[i] {
		case '"':
			raw = b[start:i]
			s.off = i + 1
			if high && plain {
				plain = utf8.Valid(raw)
			}
			return raw, plain, nil
		case '\\':
			n := escapeLen(b[i:])
			if n == 0 {
				return nil, false, ErrSyntax
			}
			plain = false
			i += n - 1
		default:
			return nil, false, ErrSyntax // raw control character
		}
	}
	return nil, false, ErrSyntax
}

// escapeLen returns the length of the escape sequence at the start of b (b[0] is '\'), or 0.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) < 6 {
			return 0
		}
		for _, c := range b[2:6] {
			if hexVal(c) < 0 {
				return 0
			}
		}
		return 6
	}
	return 0
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func hex4(b []byte) rune {
	return rune(hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3]))
}

// unescape appends the string whose raw contents str returned, as JavaScript would hold it:
// invalid UTF-8 becomes U+FFFD (WHATWG decoder rules) and a surrogate pair escape becomes one
// code point. A lone surrogate escape becomes U+FFFD too, unless wtf8 is set: then it is kept as
// its 3-byte generalized UTF-8 form, so that the JSON output can escape it again as JavaScript's
// JSON.stringify does (used for names from description files).
func unescape(dst, raw []byte, wtf8 bool) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			var n int
			dst, n = unescapeOne(dst, raw[i:], wtf8)
			i += n
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := decodeRune(raw[i:])
			if r == utf8.RuneError {
				dst = append(dst, "\uFFFD"...)
			} else {
				dst = append(dst, raw[i:i+n]...)
			}
			i += n
		}
	}
	return dst
}

// unescapeOne appends the character of the (valid) escape at the start of b and returns the
// number of bytes read.
func unescapeOne(dst, b []byte, wtf8 bool) ([]byte, int) {
	switch b[1] {
	case 'b':
		return append(dst, '\b'), 2
	case 'f':
		return append(dst, '\f'), 2
	case 'n':
		return append(dst, '\n'), 2
	case 'r':
		return append(dst, '\r'), 2
	case 't':
		return append(dst, '\t'), 2
	case 'u':
	default:
		return append(dst, b[1]), 2
	}
	r := hex4(b[2:6])
	if r < 0xD800 || r > 0xDFFF {
		return utf8.AppendRune(dst, r), 6
	}
	if r < 0xDC00 && len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
		if lo := hex4(b[8:12]); lo >= 0xDC00 && lo <= 0xDFFF {
			return utf8.AppendRune(dst, 0x10000+(r-0xD800)<<10+(lo-0xDC00)), 12
		}
	}
	if !wtf8 {
		return append(dst, "\uFFFD"...), 6
	}
	return append(dst, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F), 6
}

// decodeRune decodes the UTF-8 sequence at the start of b (len(b) > 0). On invalid input it
// returns utf8.RuneError and the length of the maximal subpart to replace by one U+FFFD, as the
// WHATWG decoder used by Node's Buffer.toString does (Go's utf8 package replaces byte by byte).
func decodeRune(b []byte) (rune, int) {
	c := b[0]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	var r rune
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need, r = 1, rune(c&0x1F)
	case c >= 0xE0 && c <= 0xEF:
		need, r = 2, rune(c&0x0F)
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
	case c >= 0xF0 && c <= 0xF4:
		need, r = 3, rune(c&0x07)
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
	default:
		return utf8.RuneError, 1
	}
	for i := 1; i <= need; i++ {
		if i >= len(b) || b[i] < lo || b[i] > hi {
			return utf8.RuneError, i
		}
		r = r<<6 | rune(b[i]&0x3F)
		lo, hi = 0x80, 0xBF
	}
	return r, need + 1
}

// number reads a number and returns its text, checked against the JSON grammar.
func (s *scanner) number() ([]byte, error) {
	s.peek()
	b, i := s.buf, s.off
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return nil, ErrSyntax
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); b[i-1] == '.' {
			return nil, ErrSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return nil, ErrSyntax
		}
		i = j
	}
	raw := b[s.off:i]
	s.off = i
	return raw, nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// numberValue returns the IEEE 754 double JSON.parse gives a number: correctly rounded, ±Inf when
// too large.
func numberValue(raw []byte) float64 {
	if v, ok := smallInt(raw); ok && (v != 0 || raw[0] != '-') {
		return float64(v)
	}
	f, _ := strconv.ParseFloat(string(raw), 64) // grammar already checked; ErrRange gives ±Inf
	return f
}

// smallInt parses an integer of at most 15 digits (exact in a double) with no fraction or exponent.
func smallInt(raw []byte) (int64, bool) {
	neg := len(raw) > 0 && raw[0] == '-'
	d := raw
	if neg {
		d = raw[1:]
	}
	if len(d) == 0 || len(d) > 15 {
		return 0, false
	}
	var v int64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// literal consumes the literal word (true, false, null).
func (s *scanner) literal(word string) error {
	s.peek()
	if len(s.buf)-s.off < len(word) || string(s.buf[s.off:s.off+len(word)]) != word {
		return ErrSyntax
	}
	s.off += len(word)
	return nil
}

// mismatch is the error for a value of the wrong kind where the caller expected another:
// ErrBadValue if a JSON value starts here, ErrSyntax if nothing valid does.
func (s *scanner) mismatch() error {
	switch s.peek() {
	case '{', '[', '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return ErrBadValue
	}
	return ErrSyntax
}

// skip reads and discards one value of any kind. depth is the nesting depth of the value.
func (s *scanner) skip(depth int) error {
	switch s.peek() {
	case '{':
		return s.skipContainer(depth, '}', true)
	case '[':
		return s.skipContainer(depth, ']', false)
	case '"':
		_, _, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	_, err := s.number()
	return err
}

func (s *scanner) skipContainer(depth int, closer byte, object bool) error {
	if depth >= maxSkipDepth {
		return ErrTooDeep
	}
	s.off++ // opener
	if s.eat(closer) {
		return nil
	}
	for {
		if object {
			if _, _, err := s.str(); err != nil {
				return err
			}
			if !s.eat(':') {
				return ErrSyntax
			}
		}
		if err := s.skip(depth + 1); err != nil {
			return err
		}
		if s.eat(',') {
			continue
		}
		if s.eat(closer) {
			return nil
		}
		return ErrSyntax
	}
}
