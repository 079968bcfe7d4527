package pomelopb

import "strconv"

// Type is the declared type of a field.
type Type uint8

// Field types. pomelo's int32 is zigzag encoded exactly like sInt32.
const (
	TypeUInt32  Type = iota + 1 // "uInt32": unsigned varint
	TypeSInt32                  // "sInt32": zigzag varint
	TypeInt32                   // "int32": zigzag varint (not two's complement)
	TypeFloat                   // "float": 4 bytes little-endian IEEE 754
	TypeDouble                  // "double": 8 bytes little-endian IEEE 754
	TypeString                  // "string": varint length + UTF-8
	TypeMessage                 // any declared message: varint length + encoded message
)

var typeNames = [...]string{"", "uInt32", "sInt32", "int32", "float", "double", "string", "message"}

// String returns the type's name as written in description files ("message" for messages).
func (t Type) String() string {
	if t >= TypeUInt32 && t <= TypeMessage {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// numeric reports whether values of t are JavaScript numbers (pomelo's "simple" types).
func (t Type) numeric() bool { return t >= TypeUInt32 && t <= TypeDouble }

// wireType is the wire type pomelo's Node encoder writes in the field key.
func (t Type) wireType() uint32 {
	switch t {
	case TypeFloat:
		return wireFixed32
	case TypeDouble:
		return wireFixed64
	case TypeString, TypeMessage:
		return wireBytes
	}
	return wireVarint
}

// minSize is the smallest number of bytes one value of a numeric type takes on the wire.
func (t Type) minSize() int {
	switch t {
	case TypeFloat:
		return sizeOfFixed32
	case TypeDouble:
		return sizeOfFixed64
	}
	return 1
}

// Rule is a field's rule: required, optional or repeated.
type Rule uint8

// Field rules.
const (
	Required Rule = iota + 1
	Optional
	Repeated
)

var ruleNames = [...]string{"", "required", "optional", "repeated"}

// String returns the rule as written in description files.
func (r Rule) String() string {
	if r >= Required && r <= Repeated {
		return ruleNames[r]
	}
	return "rule(" + strconv.Itoa(int(r)) + ")"
}

// Field is one field of a Message. It is immutable and safe for concurrent use.
type Field struct {
	name     string
	typeName string   // as declared: "uInt32", ..., or a message type name
	typ      Type     // resolved
	rule     Rule     //
	tag      uint32   //
	index    int      // position in parent.fields
	parent   *Message // the message that declares the field
	msg      *Message // the field's message type, for TypeMessage
	key      []byte   // JSON.stringify(name) + ":", for JSON output
	head     [maxVarint32Size]byte
	headLen  uint8 // head[:headLen] is the field key varint: tag<<3 | wire type
	packed   bool  // repeated numeric: one key, a count, then the elements
}

// Name returns the field name.
func (f *Field) Name() string { return f.name }

// Type returns the resolved type.
func (f *Field) Type() Type { return f.typ }

// TypeName returns the type as declared in the description file, e.g. "uInt32" or "Path".
func (f *Field) TypeName() string { return f.typeName }

// Rule returns the field's rule.
func (f *Field) Rule() Rule { return f.rule }

// Tag returns the field tag.
func (f *Field) Tag() uint32 { return f.tag }

// Index returns the field's position in its message, 0 <= Index < Message.NumFields().
func (f *Field) Index() int { return f.index }

// Parent returns the message that declares the field.
func (f *Field) Parent() *Message { return f.parent }

// Message returns the field's message type, or nil when the field is not a message.
func (f *Field) Message() *Message { return f.msg }

// appendHead appends the field key (tag and wire type) as pomelo's Node encoder writes it.
func (f *Field) appendHead(dst []byte) []byte { return append(dst, f.head[:f.headLen]...) }

// Message is a parsed message type: a route's message, a top-level "message X" definition or a
// nested one. It is immutable and safe for concurrent use.
type Message struct {
	name     string
	fields   []Field
	nested   []*Message // the "message X" definitions inside this one, in JS key order
	required []int      // indexes of required fields
	byTag    []int32    // dense tag -> index+1, when tags are small
	tagMap   map[uint32]int32
	byName   map[string]int32 // name -> index, for messages with more than linearNames fields
}

// linearNames is the field count up to which name lookups scan instead of using a map.
const linearNames = 8

// Name returns the message's key: the route, "message X" for top-level definitions, or X for a
// definition nested in another message.
func (m *Message) Name() string { return m.name }

// NumFields returns the number of fields.
func (m *Message) NumFields() int { return len(m.fields) }

// Field returns field i, in declaration order, 0 <= i < NumFields().
func (m *Message) Field(i int) *Field { return &m.fields[i] }

// FieldByTag returns the field with the given tag, or nil.
func (m *Message) FieldByTag(tag uint32) *Field {
	if m.byTag != nil {
		if tag < uint32(len(m.byTag)) && m.byTag[tag] != 0 {
			return &m.fields[m.byTag[tag]-1]
		}
		return nil
	}
	if i, ok := m.tagMap[tag]; ok {
		return &m.fields[i]
	}
	return nil
}

// FieldByName returns the field with the given name, or nil.
func (m *Message) FieldByName(name string) *Field {
	if m.byName == nil {
		for i := range m.fields {
			if m.fields[i].name == name {
				return &m.fields[i]
			}
		}
		return nil
	}
	if i, ok := m.byName[name]; ok {
		return &m.fields[i]
	}
	return nil
}

// fieldByNameBytes is FieldByName for a name held in bytes; it does not allocate.
func (m *Message) fieldByNameBytes(name []byte) *Field {
	if m.byName == nil {
		for i := range m.fields {
			if m.fields[i].name == string(name) {
				return &m.fields[i]
			}
		}
		return nil
	}
	if i, ok := m.byName[string(name)]; ok {
		return &m.fields[i]
	}
	return nil
}

// index builds the lookup tables once the fields are final.
func (m *Message) index() {
	maxTag := uint32(0)
	for i := range m.fields {
		f := &m.fields[i]
		f.index, f.parent = i, m
		maxTag = max(maxTag, f.tag)
		if f.rule == Required {
			m.required = append(m.required, i)
		}
	}
	if int(maxTag) <= 4*len(m.fields)+32 {
		m.byTag = make([]int32, maxTag+1)
		for i := range m.fields {
			m.byTag[m.fields[i].tag] = int32(i + 1)
		}
	} else {
		m.tagMap = make(map[uint32]int32, len(m.fields))
		for i := range m.fields {
			m.tagMap[m.fields[i].tag] = int32(i)
		}
	}
	if len(m.fields) > linearNames {
		m.byName = make(map[string]int32, len(m.fields))
		for i := range m.fields {
			m.byName[m.fields[i].name] = int32(i)
		}
	}
}

// Table is a parsed description file (serverProtos.json or clientProtos.json): every top-level key
// with its message. It is immutable and safe for concurrent use. A nil *Table stands for an absent
// file: it has no messages and its parsed form is {}.
type Table struct {
	keys   []string // top-level keys, in JavaScript own-key order
	byKey  map[string]*Message
	parsed []byte // JSON.stringify of the parsed form
}

// Len returns the number of top-level keys.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.keys)
}

// Key returns top-level key i, 0 <= i < Len(), in the order JavaScript enumerates them: keys that
// are array indexes ("7") in numeric order, then the others in file order.
func (t *Table) Key(i int) string { return t.keys[i] }

// Lookup returns the message for a route or a "message X" key, or nil.
func (t *Table) Lookup(key string) *Message {
	if t == nil {
		return nil
	}
	return t.byKey[key]
}

// LookupBytes is Lookup for a key held in bytes, such as a route read from the wire. It does not
// allocate.
func (t *Table) LookupBytes(key []byte) *Message {
	if t == nil {
		return nil
	}
	return t.byKey[string(key)]
}

// AppendParsedJSON appends the parsed form of the table, the JSON text the server sends in the
// handshake as sys.protos.server or .client. It is byte-identical to JSON.stringify of the object
// pomelo-protobuf's parser returns; a nil Table appends {}.
func (t *Table) AppendParsedJSON(dst []byte) []byte {
	if t == nil {
		return append(dst, "{}"...)
	}
	return append(dst, t.parsed...)
}
