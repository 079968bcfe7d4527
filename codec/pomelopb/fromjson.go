package pomelopb

import (
	"errors"
	"fmt"
	"math"
)

// JSON encoding errors. Errors about one field are wrapped with its name; test with errors.Is.
var (
	ErrBadValue     = errors.New("pomelopb: JSON value does not fit the field type")
	ErrRange        = errors.New("pomelopb: number out of range for the field type")
	ErrDuplicateKey = errors.New("pomelopb: duplicate key in JSON object")
)

// AppendWire encodes jsonText, a JSON object, as a message of type m and appends the wire bytes,
// as pomelo's Node encoder does: fields in the order of the JSON text (a JavaScript object would
// put field names that are array indexes, such as "7", first), keys that are not fields
// skipped, an empty repeated array left out, repeated numbers as one key, a count and the
// elements.
//
// The object must hold every required field, at every level (ErrMissingRequired). A null value
// counts as absent. Values must match the field type (ErrBadValue): numbers for number fields
// (a fraction is dropped, as parseInt does; out of range is ErrRange), strings for strings,
// objects for messages, arrays for repeated fields. A key given twice is ErrDuplicateKey (where
// JSON.parse would keep the last value). Strings are written as UTF-8, with invalid bytes and
// lone surrogate escapes replaced by U+FFFD as Node does.
//
// On error dst is returned as given (its spare capacity may have been written). It does not
// allocate unless a message has more than 256 fields, a number is written with more than 32
// characters or an escaped key is longer than 64 bytes.
func (m *Message) AppendWire(dst, jsonText []byte) ([]byte, error) {
	s := scanner{buf: jsonText}
	out, err := encodeObject(dst, &s, m, 0)
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return dst, err
	}
	return out, nil
}

func encodeObject(dst []byte, s *scanner, m *Message, depth int) ([]byte, error) {
	if s.peek() != '{' {
		return dst, s.mismatch()
	}
	if depth >= MaxDepth {
		return dst, ErrTooDeep
	}
	s.off++
	var present fieldSet
	present.reset(len(m.fields))
	for more := !s.eat('}'); more; {
		f, err := readKey(s, m)
		if err != nil {
			return dst, err
		}
		if f == nil || s.peek() == 'n' {
			err = s.skip(depth + 1) // unknown key, or null: absent
		} else if present.has(f.index) {
			err = fmt.Errorf("%w: %q in %q", ErrDuplicateKey, f.name, m.name)
		} else {
			present.add(f.index)
			dst, err = encodeField(dst, s, f, depth)
		}
		if err != nil {
			return dst, err
		}
		if !s.eat(',') {
			if !s.eat('}') {
				return dst, ErrSyntax
			}
			more = false
		}
	}
	if i := present.missing(m); i >= 0 {
		return dst, fmt.Errorf("%w: %q in %q", ErrMissingRequired, m.fields[i].name, m.name)
	}
	return dst, nil
}

// readKey reads an object key and the colon after it, and returns the field it names, or nil.
func readKey(s *scanner, m *Message) (*Field, error) {
	raw, plain, err := s.str()
	if err != nil {
		return nil, err
	}
	if !s.eat(':') {
		return nil, ErrSyntax
	}
	if plain {
		return m.fieldByNameBytes(raw), nil
	}
	var buf [64]byte
	return m.fieldByNameBytes(unescape(buf[:0], raw, true)), nil
}

func encodeField(dst []byte, s *scanner, f *Field, depth int) ([]byte, error) {
	var err error
	switch {
	case f.rule != Repeated:
		dst = f.appendHead(dst)
		dst, err = encodeValue(dst, s, f, depth)
	case f.packed:
		dst, err = encodePacked(dst, s, f)
	default:
		dst, err = encodeElements(dst, s, f, depth)
	}
	if err != nil && (err == ErrBadValue || err == ErrRange) {
		err = fmt.Errorf("%w: %q in %q", err, f.name, f.parent.name)
	}
	return dst, err
}

// encodePacked writes a repeated number field: key, element count, elements.
func encodePacked(dst []byte, s *scanner, f *Field) ([]byte, error) {
	if !s.eat('[') {
		return dst, s.mismatch()
	}
	if s.eat(']') {
		return dst, nil
	}
	dst = f.appendHead(dst)
	dst, mark := reserveLen(dst)
	n := uint32(0)
	for {
		var err error
		if dst, err = encodeNumber(dst, s, f.typ); err != nil {
			return dst, err
		}
		n++
		if s.eat(',') {
			continue
		}
		if !s.eat(']') {
			return dst, ErrSyntax
		}
		return patchLen(dst, mark, n), nil
	}
}

// encodeElements writes a repeated string or message field: one key and value per element.
func encodeElements(dst []byte, s *scanner, f *Field, depth int) ([]byte, error) {
	if !s.eat('[') {
		return dst, s.mismatch()
	}
	if s.eat(']') {
		return dst, nil
	}
	for {
		var err error
		dst = f.appendHead(dst)
		if dst, err = encodeValue(dst, s, f, depth); err != nil {
			return dst, err
		}
		if s.eat(',') {
			continue
		}
		if !s.eat(']') {
			return dst, ErrSyntax
		}
		return dst, nil
	}
}

// encodeValue writes one value of f, without its key.
func encodeValue(dst []byte, s *scanner, f *Field, depth int) ([]byte, error) {
	switch f.typ {
	case TypeString:
		return encodeString(dst, s)
	case TypeMessage:
		dst, mark := reserveLen(dst)
		dst, err := encodeObject(dst, s, f.msg, depth+1)
		if err != nil {
			return dst, err
		}
		return patchLen(dst, mark, uint32(len(dst)-mark-1)), nil
	}
	return encodeNumber(dst, s, f.typ)
}

func encodeString(dst []byte, s *scanner) ([]byte, error) {
	if s.peek() != '"' {
		return dst, s.mismatch()
	}
	raw, plain, err := s.str()
	if err != nil {
		return dst, err
	}
	if plain {
		dst = appendVarint(dst, uint32(len(raw)))
		return append(dst, raw...), nil
	}
	dst, mark := reserveLen(dst)
	dst = unescape(dst, raw, false)
	return patchLen(dst, mark, uint32(len(dst)-mark-1)), nil
}

// encodeNumber reads a JSON number and writes it as a value of type t.
func encodeNumber(dst []byte, s *scanner, t Type) ([]byte, error) {
	switch s.peek() {
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
	default:
		return dst, s.mismatch()
	}
	raw, err := s.number()
	if err != nil {
		return dst, err
	}
	v := numberValue(raw)
	switch t {
	case TypeFloat:
		return appendFixed32(dst, float32(v)), nil
	case TypeDouble:
		return appendFixed64(dst, v), nil
	case TypeUInt32:
		u, ok := toUint32(v)
		if !ok {
			return dst, ErrRange
		}
		return appendVarint(dst, u), nil
	}
	i, ok := toInt32(v)
	if !ok {
		return dst, ErrRange
	}
	return appendVarint(dst, zigzag(i)), nil
}

// toUint32 truncates v toward zero, as pomelo's parseInt does, and checks the uInt32 range.
func toUint32(v float64) (uint32, bool) {
	v = math.Trunc(v)
	if !(v >= 0 && v <= math.MaxUint32) {
		return 0, false // also NaN
	}
	return uint32(v), true
}

// toInt32 truncates v toward zero and checks the int32 range.
func toInt32(v float64) (int32, bool) {
	v = math.Trunc(v)
	if !(v >= math.MinInt32 && v <= math.MaxInt32) {
		return 0, false
	}
	return int32(v), true
}
