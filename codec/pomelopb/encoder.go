package pomelopb

import (
	"errors"
	"fmt"
)

// ErrUnbalanced reports Begin and End calls that do not pair up.
var ErrUnbalanced = errors.New("pomelopb: Begin and End do not pair up")

// Marshaler is implemented by Go types that write themselves as a pomelo-protobuf message through
// an Encoder whose current message is theirs. Errors are recorded in the Encoder.
type Marshaler interface {
	MarshalPomelo(e *Encoder)
}

// Unmarshaler is implemented by Go types that read themselves from a Decoder positioned at the
// start of their message.
type Unmarshaler interface {
	UnmarshalPomelo(d *Decoder) error
}

// Encoder writes one pomelo-protobuf message, field by field, in pomelo's Node encoder format,
// checking each call against the schema: the field must belong to the message being written and
// the method must match its type (ErrForeignField, ErrWrongType); a field may be written once,
// and a repeated string or message field once per element in consecutive calls
// (ErrDuplicateField); required fields must all be written before End or Finish
// (ErrMissingRequired). The first error is kept, later calls do nothing, and Finish returns it.
//
// Fields are written in call order. Nested messages are written between Begin and End: the
// length is back-patched, so no size pass is needed. An Encoder is not safe for concurrent use.
// The zero Encoder is ready for Reset; reusing one does not allocate once its buffer and nesting
// stack have grown to size.
type Encoder struct {
	buf    []byte
	start  int
	frames []encFrame // open messages, the root first
	err    error
}

type encFrame struct {
	msg  *Message
	mark int // offset of the reserved length byte; -1 for the root
	last int // index of the last field written
	seen fieldSet
}

// Reset starts a message of type m, to be appended to dst.
func (e *Encoder) Reset(dst []byte, m *Message) {
	e.buf, e.start, e.err = dst, len(dst), nil
	e.frames = e.frames[:0]
	if m == nil {
		e.err = ErrNoMessage
		return
	}
	e.push(m, -1)
}

func (e *Encoder) push(m *Message, mark int) {
	if n := len(e.frames); n < cap(e.frames) {
		e.frames = e.frames[:n+1]
	} else {
		e.frames = append(e.frames, encFrame{})
	}
	fr := &e.frames[len(e.frames)-1]
	fr.msg, fr.mark, fr.last = m, mark, -1
	fr.seen.reset(len(m.fields))
}

// Current returns the message being written: the root, or the one opened by the last Begin.
func (e *Encoder) Current() *Message {
	if len(e.frames) == 0 {
		return nil
	}
	return e.frames[len(e.frames)-1].msg
}

func (e *Encoder) depth() int { return len(e.frames) - 1 }

func (e *Encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// Err returns the first error recorded.
func (e *Encoder) Err() error { return e.err }

// claim checks that f may be written now and marks it written.
func (e *Encoder) claim(f *Field) bool {
	if e.err != nil {
		return false
	}
	if len(e.frames) == 0 || f == nil || f.parent != e.Current() {
		e.fail(ErrForeignField)
		return false
	}
	fr := &e.frames[len(e.frames)-1]
	if fr.seen.has(f.index) && (f.rule != Repeated || fr.last != f.index) {
		e.fail(fmt.Errorf("%w: %q in %q", ErrDuplicateField, f.name, fr.msg.name))
		return false
	}
	fr.seen.add(f.index)
	fr.last = f.index
	return true
}

// single checks a call that writes one value of a field of type want or alt, and writes its key.
func (e *Encoder) single(f *Field, want, alt Type) bool {
	if f != nil && (f.packed || f.typ != want && f.typ != alt) {
		e.fail(ErrWrongType)
		return false
	}
	if !e.claim(f) {
		return false
	}
	e.buf = f.appendHead(e.buf)
	return true
}

// run checks a call that writes a repeated number field of type want or alt, and writes its key
// and count. An empty run writes nothing.
func (e *Encoder) run(f *Field, want, alt Type, n int) bool {
	if f != nil && (!f.packed || f.typ != want && f.typ != alt) {
		e.fail(ErrWrongType)
		return false
	}
	if n == 0 || !e.claim(f) {
		return false
	}
	e.buf = appendVarint(f.appendHead(e.buf), uint32(n))
	return true
}

// Uint32 writes a uInt32 field.
func (e *Encoder) Uint32(f *Field, v uint32) {
	if e.single(f, TypeUInt32, TypeUInt32) {
		e.buf = appendVarint(e.buf, v)
	}
}

// Int32 writes an sInt32 or int32 field.
func (e *Encoder) Int32(f *Field, v int32) {
	if e.single(f, TypeSInt32, TypeInt32) {
		e.buf = appendVarint(e.buf, zigzag(v))
	}
}

// Float32 writes a float field.
func (e *Encoder) Float32(f *Field, v float32) {
	if e.single(f, TypeFloat, TypeFloat) {
		e.buf = appendFixed32(e.buf, v)
	}
}

// Float64 writes a double field.
func (e *Encoder) Float64(f *Field, v float64) {
	if e.single(f, TypeDouble, TypeDouble) {
		e.buf = appendFixed64(e.buf, v)
	}
}

// String writes a string field, or one element of a repeated string field.
func (e *Encoder) String(f *Field, s string) {
	if e.single(f, TypeString, TypeString) {
		e.buf = append(appendVarint(e.buf, uint32(len(s))), s...)
	}
}

// Bytes writes a string field, or one element of a repeated string field, from bytes.
func (e *Encoder) Bytes(f *Field, b []byte) {
	if e.single(f, TypeString, TypeString) {
		e.buf = appendString(e.buf, b)
	}
}

// Uint32s writes a repeated uInt32 field; an empty slice writes nothing.
func (e *Encoder) Uint32s(f *Field, vs []uint32) {
	if e.run(f, TypeUInt32, TypeUInt32, len(vs)) {
		for _, v := range vs {
			e.buf = appendVarint(e.buf, v)
		}
	}
}

// Int32s writes a repeated sInt32 or int32 field; an empty slice writes nothing.
func (e *Encoder) Int32s(f *Field, vs []int32) {
	if e.run(f, TypeSInt32, TypeInt32, len(vs)) {
		for _, v := range vs {
			e.buf = appendVarint(e.buf, zigzag(v))
		}
	}
}

// Float32s writes a repeated float field; an empty slice writes nothing.
func (e *Encoder) Float32s(f *Field, vs []float32) {
	if e.run(f, TypeFloat, TypeFloat, len(vs)) {
		for _, v := range vs {
			e.buf = appendFixed32(e.buf, v)
		}
	}
}

// Float64s writes a repeated double field; an empty slice writes nothing.
func (e *Encoder) Float64s(f *Field, vs []float64) {
	if e.run(f, TypeDouble, TypeDouble, len(vs)) {
		for _, v := range vs {
			e.buf = appendFixed64(e.buf, v)
		}
	}
}

// Begin opens a message field, or one element of a repeated message field: the calls up to the
// matching End write its fields.
func (e *Encoder) Begin(f *Field) {
	if e.depth() >= MaxDepth {
		e.fail(ErrTooDeep)
		return
	}
	if !e.single(f, TypeMessage, TypeMessage) {
		return
	}
	var mark int
	e.buf, mark = reserveLen(e.buf)
	e.push(f.msg, mark)
}

// End closes the message opened by the last Begin.
func (e *Encoder) End() {
	if e.err != nil {
		return
	}
	if len(e.frames) < 2 {
		e.fail(ErrUnbalanced)
		return
	}
	if !e.checkRequired() {
		return
	}
	fr := &e.frames[len(e.frames)-1]
	e.buf = patchLen(e.buf, fr.mark, uint32(len(e.buf)-fr.mark-1))
	e.frames = e.frames[:len(e.frames)-1]
}

// Marshal writes a message field, or one element of a repeated message field, from v.
func (e *Encoder) Marshal(f *Field, v Marshaler) {
	e.Begin(f)
	if e.err == nil {
		v.MarshalPomelo(e)
	}
	e.End()
}

func (e *Encoder) checkRequired() bool {
	fr := &e.frames[len(e.frames)-1]
	if i := fr.seen.missing(fr.msg); i >= 0 {
		e.fail(fmt.Errorf("%w: %q in %q", ErrMissingRequired, fr.msg.fields[i].name, fr.msg.name))
		return false
	}
	return true
}

// Finish checks the message and returns dst with it appended. On error it returns dst as given
// to Reset, and the first error. The returned slice belongs to the caller; the Encoder keeps no
// reference to it after the next Reset.
func (e *Encoder) Finish() ([]byte, error) {
	if e.err == nil && len(e.frames) != 1 {
		e.fail(ErrUnbalanced)
	}
	if e.err == nil {
		e.checkRequired()
	}
	out := e.buf
	e.buf = nil
	if e.err != nil {
		return out[:e.start], e.err
	}
	return out, nil
}
