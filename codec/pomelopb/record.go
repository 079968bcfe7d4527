package pomelopb

import (
	"errors"
	"fmt"
)

// ErrForeignField reports a Field used with a Record, Decoder or Encoder of another message type.
var ErrForeignField = errors.New("pomelopb: field belongs to another message")

// Record holds one message in Go values, reusable across decodes without allocating. Numbers are
// float64, as JavaScript holds them (every uInt32, sInt32, int32, float and double value is exact);
// strings are byte slices; nested messages are Records. Fields remember the order in which they
// were first set or decoded, and are encoded in that order, as pomelo's encoder walks an object's
// keys, so that decoding and re-encoding pomelo output gives back the same bytes.
//
// Fields are addressed by *Field (look them up once with Message.FieldByName). Getters return
// zero values for a field of the wrong type or message; setters given one record ErrWrongType or
// ErrForeignField, which the next AppendWire returns.
//
// Lifetimes: after UnmarshalUnsafe, string values alias the wire input; SetBytes and AppendBytes
// keep the caller's slice. Slices returned by getters are valid until the next Reset or
// unmarshal. Sub-records and slices are kept and reused: after a warm-up a Record decodes
// and encodes messages of similar shape without allocating. A Record is not safe for concurrent
// use.
type Record struct {
	msg   *Message
	vals  []value // by field index
	order []int   // indexes of the fields set, in the order they were first set
	err   error   // first misuse of a setter
}

type value struct {
	set  bool
	num  float64
	str  []byte
	sub  *Record
	nums []float64
	strs [][]byte
	subs []*Record // len: elements in use; the backing array keeps spare Records for reuse
}

// NewRecord returns an empty Record for messages of type m.
func NewRecord(m *Message) *Record {
	return &Record{msg: m, vals: make([]value, len(m.fields)), order: make([]int, 0, len(m.fields))}
}

// Message returns the Record's message type.
func (r *Record) Message() *Message { return r.msg }

// Reset clears every field, keeping the storage for reuse.
func (r *Record) Reset() {
	for _, i := range r.order {
		v := &r.vals[i]
		v.set, v.num, v.str = false, 0, nil
		clear(v.strs) // drop references to old input
		v.nums, v.strs, v.subs = v.nums[:0], v.strs[:0], v.subs[:0]
	}
	r.order, r.err = r.order[:0], nil
}

// value returns the value slot of f after checking that f is a field of r's message of one of the
// given kinds, or nil.
func (r *Record) value(f *Field, typ Type, rep bool) *value {
	if f == nil || f.parent != r.msg {
		return nil
	}
	if f.rule == Repeated != rep || !(f.typ == typ || typ.numeric() && f.typ.numeric()) {
		return nil
	}
	return &r.vals[f.index]
}

// setter is value for setters: it marks the field set, or records the misuse.
func (r *Record) setter(f *Field, typ Type, rep bool) *value {
	v := r.value(f, typ, rep)
	if v == nil {
		if r.err == nil {
			r.err = ErrWrongType
			if f == nil || f.parent != r.msg {
				r.err = ErrForeignField
			}
		}
		return nil
	}
	if !v.set {
		v.set = true
		r.order = append(r.order, f.index)
	}
	return v
}

// Has reports whether f is set.
func (r *Record) Has(f *Field) bool {
	return f != nil && f.parent == r.msg && r.vals[f.index].set
}

// Number returns the value of a number field (uInt32, sInt32, int32, float or double).
func (r *Record) Number(f *Field) float64 {
	if v := r.value(f, TypeDouble, false); v != nil {
		return v.num
	}
	return 0
}

// SetNumber sets a number field. The value is checked when the Record is encoded: integers are
// truncated toward zero and must fit the field type (ErrRange); a float is rounded to float32.
func (r *Record) SetNumber(f *Field, x float64) {
	if v := r.setter(f, TypeDouble, false); v != nil {
		v.num = x
	}
}

// BytesUnsafe returns the value of a string field, aliasing whatever was decoded or set.
func (r *Record) BytesUnsafe(f *Field) []byte {
	if v := r.value(f, TypeString, false); v != nil {
		return v.str
	}
	return nil
}

// SetBytes sets a string field to b, which the Record keeps (no copy).
func (r *Record) SetBytes(f *Field, b []byte) {
	if v := r.setter(f, TypeString, false); v != nil {
		v.str = b
	}
}

// Sub returns the Record of a message field, or nil when it is not set.
func (r *Record) Sub(f *Field) *Record {
	if v := r.value(f, TypeMessage, false); v != nil && v.set {
		return v.sub
	}
	return nil
}

// SetSub sets a message field and returns its Record, emptied, for the caller to fill.
func (r *Record) SetSub(f *Field) *Record {
	v := r.setter(f, TypeMessage, false)
	if v == nil {
		return nil
	}
	if v.sub == nil {
		v.sub = NewRecord(f.msg)
	}
	v.sub.Reset()
	return v.sub
}

// Numbers returns the elements of a repeated number field.
func (r *Record) Numbers(f *Field) []float64 {
	if v := r.value(f, TypeDouble, true); v != nil {
		return v.nums
	}
	return nil
}

// AppendNumber appends an element to a repeated number field.
func (r *Record) AppendNumber(f *Field, x float64) {
	if v := r.setter(f, TypeDouble, true); v != nil {
		v.nums = append(v.nums, x)
	}
}

// StringsUnsafe returns the elements of a repeated string field, aliasing what was decoded or set.
func (r *Record) StringsUnsafe(f *Field) [][]byte {
	if v := r.value(f, TypeString, true); v != nil {
		return v.strs
	}
	return nil
}

// AppendBytes appends an element, which the Record keeps, to a repeated string field.
func (r *Record) AppendBytes(f *Field, b []byte) {
	if v := r.setter(f, TypeString, true); v != nil {
		v.strs = append(v.strs, b)
	}
}

// Subs returns the elements of a repeated message field.
func (r *Record) Subs(f *Field) []*Record {
	if v := r.value(f, TypeMessage, true); v != nil {
		return v.subs
	}
	return nil
}

// AppendSub appends an element to a repeated message field and returns it, emptied, to be filled.
func (r *Record) AppendSub(f *Field) *Record {
	v := r.setter(f, TypeMessage, true)
	if v == nil {
		return nil
	}
	n := len(v.subs)
	if n < cap(v.subs) && v.subs[:n+1][n] != nil {
		v.subs = v.subs[:n+1]
		v.subs[n].Reset()
	} else {
		v.subs = append(v.subs, NewRecord(f.msg))
	}
	return v.subs[n]
}

// UnmarshalUnsafe decodes wire into r, replacing its contents. Strings alias wire.
func (r *Record) UnmarshalUnsafe(wire []byte) error {
	var d Decoder
	d.Reset(r.msg, wire)
	return r.UnmarshalPomelo(&d)
}

// UnmarshalPomelo reads the rest of d's message into r, replacing its contents; it implements
// Unmarshaler. Strings alias d's input.
func (r *Record) UnmarshalPomelo(d *Decoder) error {
	if d.msg != r.msg {
		return ErrForeignField
	}
	r.Reset()
	for {
		f, err := d.Next()
		if f == nil || err != nil {
			return err
		}
		if err := r.decodeField(d, f); err != nil {
			return err
		}
	}
}

func (r *Record) decodeField(d *Decoder, f *Field) error {
	rep := f.rule == Repeated
	switch f.typ {
	case TypeString:
		b, err := d.BytesUnsafe()
		if rep {
			r.AppendBytes(f, b)
		} else {
			r.SetBytes(f, b)
		}
		return err
	case TypeMessage:
		var sub Decoder
		if err := d.Sub(&sub); err != nil {
			return err
		}
		if rep {
			return r.AppendSub(f).UnmarshalPomelo(&sub)
		}
		return r.SetSub(f).UnmarshalPomelo(&sub)
	}
	if rep {
		r.setter(f, f.typ, true) // a run of zero elements still sets the field, as in pomelo
	}
	for d.Remaining() > 0 {
		x, err := d.Number()
		if err != nil {
			return err
		}
		if rep {
			r.AppendNumber(f, x)
		} else {
			r.SetNumber(f, x)
		}
	}
	return nil
}

// AppendWire appends r encoded as pomelo's Node encoder would encode the same object: fields in
// the order they were first set, repeated fields with no elements left out. It returns
// ErrMissingRequired for an unset required field at any level, ErrRange for a number the field
// type cannot hold, and a setter misuse recorded earlier. On error dst is returned unchanged.
func (r *Record) AppendWire(dst []byte) ([]byte, error) {
	out, err := r.appendWire(dst, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// MarshalPomelo writes r's fields through e; it implements Marshaler.
func (r *Record) MarshalPomelo(e *Encoder) {
	if r.msg != e.Current() {
		e.fail(ErrForeignField)
		return
	}
	if r.err != nil {
		e.fail(r.err)
		return
	}
	for _, i := range r.order {
		if !e.claim(&r.msg.fields[i]) {
			return
		}
	}
	var err error
	e.buf, err = r.appendFields(e.buf, e.depth())
	if err != nil {
		e.fail(err)
	}
}

func (r *Record) appendWire(dst []byte, depth int) ([]byte, error) {
	if r.err != nil {
		return dst, r.err
	}
	if depth >= MaxDepth {
		return dst, ErrTooDeep
	}
	for _, i := range r.msg.required {
		if !r.vals[i].set {
			return dst, fmt.Errorf("%w: %q in %q", ErrMissingRequired, r.msg.fields[i].name, r.msg.name)
		}
	}
	return r.appendFields(dst, depth)
}

func (r *Record) appendFields(dst []byte, depth int) ([]byte, error) {
	var err error
	for _, i := range r.order {
		f, v := &r.msg.fields[i], &r.vals[i]
		switch {
		case f.packed:
			dst, err = appendNumbers(dst, f, v.nums)
		case f.typ == TypeString:
			dst = appendStrings(dst, f, v)
		case f.typ == TypeMessage:
			dst, err = appendSubs(dst, f, v, depth)
		default:
			dst = f.appendHead(dst)
			dst, err = appendNumber(dst, f, v.num)
		}
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func appendStrings(dst []byte, f *Field, v *value) []byte {
	if f.rule != Repeated {
		return appendString(f.appendHead(dst), v.str)
	}
	for _, s := range v.strs {
		dst = appendString(f.appendHead(dst), s)
	}
	return dst
}

func appendString(dst, s []byte) []byte {
	return append(appendVarint(dst, uint32(len(s))), s...)
}

func appendSubs(dst []byte, f *Field, v *value, depth int) ([]byte, error) {
	subs := v.subs
	if f.rule != Repeated {
		subs = []*Record{v.sub}[:]
	}
	for _, s := range subs {
		var mark int
		var err error
		dst, mark = reserveLen(f.appendHead(dst))
		if dst, err = s.appendWire(dst, depth+1); err != nil {
			return dst, err
		}
		dst = patchLen(dst, mark, uint32(len(dst)-mark-1))
	}
	return dst, nil
}

// appendNumbers writes a repeated number field: key, count, elements; nothing when empty.
func appendNumbers(dst []byte, f *Field, xs []float64) ([]byte, error) {
	if len(xs) == 0 {
		return dst, nil
	}
	dst = appendVarint(f.appendHead(dst), uint32(len(xs)))
	for _, x := range xs {
		var err error
		if dst, err = appendNumber(dst, f, x); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// appendNumber writes one number value of f's type, without its key.
func appendNumber(dst []byte, f *Field, x float64) ([]byte, error) {
	switch f.typ {
	case TypeFloat:
		return appendFixed32(dst, float32(x)), nil
	case TypeDouble:
		return appendFixed64(dst, x), nil
	case TypeUInt32:
		if u, ok := toUint32(x); ok {
			return appendVarint(dst, u), nil
		}
	default:
		if i, ok := toInt32(x); ok {
			return appendVarint(dst, zigzag(i)), nil
		}
	}
	return dst, fmt.Errorf("%w: %q in %q", ErrRange, f.name, f.parent.name)
}

// AppendJSON appends r as JSON text, fields in order, formatted as AppendJSON on the wire form
// formats them.
func (r *Record) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for n, i := range r.order {
		f, v := &r.msg.fields[i], &r.vals[i]
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, f.key...)
		if f.rule != Repeated {
			dst = v.appendJSON(dst, f.typ, -1)
			continue
		}
		dst = append(dst, '[')
		for j := 0; j < v.len(f.typ); j++ {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = v.appendJSON(dst, f.typ, j)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func (v *value) len(t Type) int {
	switch t {
	case TypeString:
		return len(v.strs)
	case TypeMessage:
		return len(v.subs)
	}
	return len(v.nums)
}

// appendJSON appends the single value (j < 0) or element j.
func (v *value) appendJSON(dst []byte, t Type, j int) []byte {
	switch t {
	case TypeString:
		s := v.str
		if j >= 0 {
			s = v.strs[j]
		}
		return appendJSString(dst, s, false)
	case TypeMessage:
		s := v.sub
		if j >= 0 {
			s = v.subs[j]
		}
		return s.AppendJSON(dst)
	}
	x := v.num
	if j >= 0 {
		x = v.nums[j]
	}
	return appendJSNumber(dst, x)
}
