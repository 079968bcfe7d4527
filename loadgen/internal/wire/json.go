package wire

import "errors"

// ErrBadJSON is returned for text that is not the JSON expected.
var ErrBadJSON = errors.New("wire: malformed JSON")

// TopField finds member key of the JSON object obj and returns its raw value text (a string value
// keeps its quotes). It looks only at the top level, skips nested values without decoding them and
// does not allocate. ok is false when obj is not an object or has no such member; malformed text is
// reported as not found. Keys are compared byte for byte, without unescaping.
func TopField(obj []byte, key string) (raw []byte, ok bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil, false
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return nil, false
		}
		end := skipString(obj, i)
		if end < 0 {
			return nil, false
		}
		name := obj[i+1 : end-1]
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false
		}
		i = skipSpace(obj, i+1)
		vend := skipValue(obj, i, 0)
		if vend < 0 {
			return nil, false
		}
		if string(name) == key {
			return obj[i:vend], true
		}
		i = skipSpace(obj, vend)
		if i >= len(obj) || obj[i] != ',' {
			return nil, false
		}
		i = skipSpace(obj, i+1)
	}
	return nil, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"', or -1.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

const maxJSONDepth = 64

// skipValue returns the index after the value starting at b[i], or -1. It checks structure
// (brackets, strings, commas) loosely: enough not to mistake a nested member for a top-level one.
func skipValue(b []byte, i, depth int) int {
	if i >= len(b) || depth > maxJSONDepth {
		return -1
	}
	switch c := b[i]; c {
	case '"':
		return skipString(b, i)
	case '{', '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1
		}
		for i < len(b) {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return -1
				}
				if i = skipString(b, i); i < 0 {
					return -1
				}
				if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
					return -1
				}
				i = skipSpace(b, i+1)
			}
			if i = skipValue(b, i, depth+1); i < 0 {
				return -1
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return -1
			}
			if b[i] == closer {
				return i + 1
			}
			if b[i] != ',' {
				return -1
			}
			i = skipSpace(b, i+1)
		}
		return -1
	default:
		start := i
		for i < len(b) && isScalarByte(b[i]) {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
}

func isScalarByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E'
}

// ParseInt parses a JSON number's integer part (digits before any '.', 'e' or 'E') as an int64,
// without allocating. A quoted number ("123") is accepted too, since timestamps travel as strings
// in some payloads.
func ParseInt(raw []byte) (int64, bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	neg := false
	if len(raw) > 0 && raw[0] == '-' {
		neg, raw = true, raw[1:]
	}
	var v int64
	n := 0
	for _, c := range raw {
		if c < '0' || c > '9' {
			break
		}
		if v > (1<<63-1-9)/10 {
			return 0, false
		}
		v = v*10 + int64(c-'0')
		n++
	}
	if n == 0 {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// Unquote returns the bytes between the quotes of a JSON string that has no escapes, and false for
// anything else. It does not allocate.
func Unquote(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	for _, c := range s {
		if c == '\\' || c == '"' {
			return nil, false
		}
	}
	return s, true
}

// ArrayLen returns the number of elements of the JSON array raw, without allocating.
func ArrayLen(raw []byte) (int, bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return 0, false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return 0, true
	}
	n := 0
	for i < len(raw) {
		if i = skipValue(raw, i, 1); i < 0 {
			return 0, false
		}
		n++
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return 0, false
		}
		if raw[i] == ']' {
			return n, true
		}
		if raw[i] != ',' {
			return 0, false
		}
		i = skipSpace(raw, i+1)
	}
	return 0, false
}
