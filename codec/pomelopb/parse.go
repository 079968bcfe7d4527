package pomelopb

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Description file errors. Parse wraps them with the message and field concerned.
var (
	ErrNotObject       = errors.New("pomelopb: description is not a JSON object")
	ErrBadTag          = errors.New("pomelopb: field tag is not an integer from 0 to 2^28-1")
	ErrBadName         = errors.New("pomelopb: empty or reserved name")
	ErrDuplicateName   = errors.New("pomelopb: duplicate field name")
	ErrUnknownType     = errors.New("pomelopb: field type is neither a scalar nor a declared message")
	ErrUnsupportedType = errors.New("pomelopb: field type not supported by pomelo's encoder")
)

// jsNode is a JSON value as JSON.parse builds it, reduced to what the parser looks at: objects
// keep their members (a repeated key keeps its first position and its last value), numbers their
// value, everything else only its kind.
type jsNode struct {
	kind byte // '{' object, '0' number, 'x' anything else
	num  float64
	keys []string
	vals []*jsNode
}

// Parse parses a pomelo-protobuf description file (serverProtos.json or clientProtos.json) as
// pomelo-protobuf 0.4.0's parser does, and resolves every field type.
//
// pomelo's quirks are kept: a key that does not split on single spaces into exactly three words
// (two for "message X") is ignored, as is a key whose first word is not required, optional,
// repeated or message, and a field whose tag is already used in the same message. A value that is
// not an object, at the top level or after "message X", parses to a message with no fields. A
// leading UTF-8 byte order mark is skipped, as Node's require does.
//
// Where pomelo would accept a file and then fail or write corrupt bytes at run time, Parse
// returns an error instead: a tag that is not an integer in [0, MaxTag] (ErrBadTag), two fields of
// one message with the same name, an empty field name, or one of __messages, __tags, __proto__
// (ErrDuplicateName, ErrBadName), uInt64 and sInt64 fields, which pomelo's encoder cannot write
// (ErrUnsupportedType), and a type that is neither a scalar nor a message declared in the field's
// own message or at the top level (ErrUnknownType).
func Parse(description []byte) (*Table, error) {
	description = trimBOM(description)
	s := scanner{buf: description}
	root, err := parseNode(&s, 0)
	if err != nil {
		return nil, err
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	if root.kind != '{' {
		return nil, ErrNotObject
	}
	t := &Table{byKey: make(map[string]*Message, len(root.keys))}
	for _, i := range jsOrder(root.keys) {
		key := root.keys[i]
		if key == "__proto__" {
			return nil, fmt.Errorf("%w: top-level key %q", ErrBadName, key)
		}
		m, err := parseMessage(key, root.vals[i], 0)
		if err != nil {
			return nil, err
		}
		t.keys = append(t.keys, key)
		t.byKey[key] = m
	}
	for _, key := range t.keys {
		if err := t.resolve(t.byKey[key]); err != nil {
			return nil, err
		}
	}
	t.parsed = t.appendParsed(nil)
	return t, nil
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

// parseNode reads one JSON value into a jsNode.
func parseNode(s *scanner, depth int) (*jsNode, error) {
	switch s.peek() {
	case '{':
		if depth >= maxSkipDepth {
			return nil, ErrTooDeep
		}
		return parseObjectNode(s, depth)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		raw, err := s.number()
		if err != nil {
			return nil, err
		}
		return &jsNode{kind: '0', num: numberValue(raw)}, nil
	}
	if err := s.skip(depth); err != nil {
		return nil, err
	}
	return &jsNode{kind: 'x'}, nil
}

func parseObjectNode(s *scanner, depth int) (*jsNode, error) {
	n := &jsNode{kind: '{'}
	s.off++
	if s.eat('}') {
		return n, nil
	}
	pos := map[string]int{}
	for {
		raw, _, err := s.str()
		if err != nil {
			return nil, err
		}
		key := string(unescape(nil, raw, true))
		if !s.eat(':') {
			return nil, ErrSyntax
		}
		v, err := parseNode(s, depth+1)
		if err != nil {
			return nil, err
		}
		if i, dup := pos[key]; dup {
			n.vals[i] = v // JSON.parse: last value, first position
		} else {
			pos[key] = len(n.keys)
			n.keys = append(n.keys, key)
			n.vals = append(n.vals, v)
		}
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return n, nil
		}
		return nil, ErrSyntax
	}
}

// parseMessage turns one description object into a Message, following parser.js parseObject.
// Types are resolved later, once every top-level definition is known.
func parseMessage(name string, n *jsNode, depth int) (*Message, error) {
	m := &Message{name: name}
	if n.kind != '{' {
		return m, nil
	}
	if depth >= MaxDepth {
		return nil, fmt.Errorf("%w: message definitions in %q", ErrTooDeep, name)
	}
	tags := map[uint32]bool{}
	names := map[string]bool{}
	for _, i := range jsOrder(n.keys) {
		params := strings.Split(n.keys[i], " ")
		switch params[0] {
		case "message":
			if len(params) != 2 {
				continue
			}
			if params[1] == "__proto__" {
				return nil, fmt.Errorf("%w: message %q in %q", ErrBadName, params[1], name)
			}
			sub, err := parseMessage(params[1], n.vals[i], depth+1)
			if err != nil {
				return nil, err
			}
			m.nested = append(m.nested, sub)
		case "required", "optional", "repeated":
			if len(params) != 3 {
				continue
			}
			f, err := parseField(params, n.vals[i], m)
			if err != nil {
				return nil, err
			}
			if tags[f.tag] {
				continue // pomelo ignores a field whose tag is taken
			}
			switch f.name {
			case "", "__messages", "__tags", "__proto__":
				return nil, fmt.Errorf("%w: field %q in %q", ErrBadName, f.name, name)
			}
			if names[f.name] {
				return nil, fmt.Errorf("%w: %q in %q", ErrDuplicateName, f.name, name)
			}
			tags[f.tag], names[f.name] = true, true
			m.fields = append(m.fields, f)
		}
	}
	return m, nil
}

func parseField(params []string, v *jsNode, m *Message) (Field, error) {
	f := Field{name: params[2], typeName: params[1]}
	switch params[0] {
	case "required":
		f.rule = Required
	case "optional":
		f.rule = Optional
	default:
		f.rule = Repeated
	}
	if v.kind != '0' || v.num != math.Trunc(v.num) || v.num < 0 || v.num > MaxTag {
		return f, fmt.Errorf("%w: field %q in %q", ErrBadTag, f.name, m.name)
	}
	f.tag = uint32(v.num)
	return f, nil
}

// resolve resolves the field types of m and of its nested definitions, and builds their indexes.
// A message type is looked up among m's own nested definitions, then among the top-level
// "message X" definitions, as pomelo's encoder and decoder do.
func (t *Table) resolve(m *Message) error {
	for i := range m.fields {
		f := &m.fields[i]
		if err := t.resolveType(m, f); err != nil {
			return err
		}
		key := f.tag<<tagShift | f.typ.wireType()
		f.headLen = uint8(len(appendVarint(f.head[:0], key)))
		f.packed = f.rule == Repeated && f.typ.numeric()
		f.key = append(appendJSString(nil, []byte(f.name), true), ':')
	}
	m.index()
	for _, sub := range m.nested {
		if err := t.resolve(sub); err != nil {
			return err
		}
	}
	return nil
}

func (t *Table) resolveType(m *Message, f *Field) error {
	switch f.typeName {
	case "uInt32":
		f.typ = TypeUInt32
	case "sInt32":
		f.typ = TypeSInt32
	case "int32":
		f.typ = TypeInt32
	case "float":
		f.typ = TypeFloat
	case "double":
		f.typ = TypeDouble
	case "string":
		f.typ = TypeString
	case "uInt64", "sInt64":
		return fmt.Errorf("%w: %s %s %s in %q", ErrUnsupportedType, f.rule, f.typeName, f.name, m.name)
	default:
		f.typ, f.msg = TypeMessage, m.nestedMessage(f.typeName)
		if f.msg == nil {
			f.msg = t.byKey["message "+f.typeName]
		}
		if f.msg == nil {
			return fmt.Errorf("%w: %s %s %s in %q", ErrUnknownType, f.rule, f.typeName, f.name, m.name)
		}
	}
	return nil
}

func (m *Message) nestedMessage(name string) *Message {
	for _, n := range m.nested {
		if n.name == name {
			return n
		}
	}
	return nil
}
