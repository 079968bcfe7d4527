package pomelopb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Decoding errors. Errors about one field are wrapped with its name; test with errors.Is.
var (
	ErrNoMessage       = errors.New("pomelopb: no message type (zero Decoder, or nil Message)")
	ErrUnknownTag      = errors.New("pomelopb: tag not in the message")
	ErrDuplicateField  = errors.New("pomelopb: field repeated out of place")
	ErrMissingRequired = errors.New("pomelopb: required field missing")
	ErrWrongType       = errors.New("pomelopb: value read or written as the wrong type")
	ErrNoValue         = errors.New("pomelopb: no value left to read in the current field")
)

// Decoder reads one pomelo-protobuf message field by field, driven by its schema. The field key
// only selects the field by its tag: its wire-type bits are ignored and the value is read as the
// field's declared type says, as pomelo's decoders do (the JS browser client writes wire type 2
// on varint fields).
//
// A field may occur once, except that a repeated field may occur in consecutive runs (one per
// string or message element, or several counted runs of numbers). A field that occurs again
// after another field is ErrDuplicateField: no pomelo encoder produces it. When the message ends,
// Next reports ErrMissingRequired if a required field did not occur.
//
// Usage:
//
//	d.Reset(m, wire)
//	for {
//		f, err := d.Next()
//		if err != nil { ... }
//		if f == nil { break } // end of message, all required fields seen
//		switch f.Tag() { case 1: v, err := d.Uint32() ... }
//	}
//
// Values of a field that the caller does not read are skipped by the next call to Next (nested
// messages are then skipped whole, without checking their contents). A Decoder is not safe for
// concurrent use. The zero Decoder is ready for Reset; reusing one does not allocate (a message
// with more than 256 fields costs one allocation the first time).
type Decoder struct {
	msg   *Message
	buf   []byte
	off   int
	depth int
	field *Field // current field
	left  int    // values of the current field not yet read
	last  int    // index of the previous field, -1 at the start
	seen  fieldSet
}

// Reset makes d read a message of type m from wire. Slices the Decoder returns alias wire and are
// valid as long as wire is not modified.
func (d *Decoder) Reset(m *Message, wire []byte) { d.reset(m, wire, 0) }

func (d *Decoder) reset(m *Message, wire []byte, depth int) {
	d.msg, d.buf, d.off, d.depth = m, wire, 0, depth
	d.field, d.left, d.last = nil, 0, -1
	if m != nil {
		d.seen.reset(len(m.fields))
	}
}

// Message returns the message type being read.
func (d *Decoder) Message() *Message { return d.msg }

// Field returns the current field, the one the last call to Next returned.
func (d *Decoder) Field() *Field { return d.field }

// Remaining returns how many values of the current field are left to read: 1 for a single value,
// a string or a message element; the element count of the run for a repeated number field (a
// run may hold 0 elements).
func (d *Decoder) Remaining() int { return d.left }

// Next skips what is left of the current field and moves to the next one. At the end of the
// message it returns (nil, nil), or ErrMissingRequired.
func (d *Decoder) Next() (*Field, error) {
	if d.msg == nil {
		return nil, ErrNoMessage
	}
	if d.left > 0 {
		if err := d.skip(); err != nil {
			return nil, err
		}
	}
	d.field = nil
	if d.off >= len(d.buf) {
		if i := d.seen.missing(d.msg); i >= 0 {
			return nil, d.fieldErr(ErrMissingRequired, &d.msg.fields[i])
		}
		return nil, nil
	}
	key, off, err := readVarint(d.buf, d.off)
	if err != nil {
		return nil, err
	}
	f := d.msg.FieldByTag(key >> tagShift)
	if f == nil {
		return nil, fmt.Errorf("%w: tag %d in %q", ErrUnknownTag, key>>tagShift, d.msg.name)
	}
	if d.seen.has(f.index) && (f.rule != Repeated || f.index != d.last) {
		return nil, d.fieldErr(ErrDuplicateField, f)
	}
	d.off = off
	if err := d.start(f); err != nil {
		return nil, err
	}
	d.seen.add(f.index)
	d.last, d.field = f.index, f
	return f, nil
}

// start reads the element count of a repeated number run; other fields have one value.
func (d *Decoder) start(f *Field) error {
	if !f.packed {
		d.left = 1
		return nil
	}
	n, off, err := readVarint(d.buf, d.off)
	if err != nil {
		return err
	}
	if uint64(n) > uint64((len(d.buf)-off)/f.typ.minSize()) {
		return ErrTruncated // the count cannot fit: refuse before anyone sizes a slice by it
	}
	d.off, d.left = off, int(n)
	return nil
}

func (d *Decoder) fieldErr(err error, f *Field) error {
	return fmt.Errorf("%w: %q in %q", err, f.name, d.msg.name)
}

// take checks that a value of the current field is left and that the field's type is want or
// alt, and counts the value as read.
func (d *Decoder) take(want, alt Type) error {
	if d.left == 0 {
		return ErrNoValue
	}
	if d.field.typ != want && d.field.typ != alt {
		return ErrWrongType
	}
	d.left--
	return nil
}

func (d *Decoder) varint() (uint32, error) {
	v, off, err := readVarint(d.buf, d.off)
	if err != nil {
		return 0, err
	}
	d.off = off
	return v, nil
}

func (d *Decoder) fixed(n int) ([]byte, error) {
	if len(d.buf)-d.off < n {
		return nil, ErrTruncated
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b, nil
}

// lengthPrefixed reads a varint length and the bytes it covers.
func (d *Decoder) lengthPrefixed() ([]byte, error) {
	n, off, err := readVarint(d.buf, d.off)
	if err != nil {
		return nil, err
	}
	if uint64(n) > uint64(len(d.buf)-off) {
		return nil, ErrTruncated
	}
	d.off = off + int(n)
	return d.buf[off:d.off:d.off], nil
}

// Uint32 reads a value of a uInt32 field.
func (d *Decoder) Uint32() (uint32, error) {
	if err := d.take(TypeUInt32, TypeUInt32); err != nil {
		return 0, err
	}
	return d.varint()
}

// Int32 reads a value of an sInt32 or int32 field (both zigzag encoded).
func (d *Decoder) Int32() (int32, error) {
	if err := d.take(TypeSInt32, TypeInt32); err != nil {
		return 0, err
	}
	u, err := d.varint()
	return unzigzag(u), err
}

// Float32 reads a value of a float field.
func (d *Decoder) Float32() (float32, error) {
	if err := d.take(TypeFloat, TypeFloat); err != nil {
		return 0, err
	}
	b, err := d.fixed(sizeOfFixed32)
	if err != nil {
		return 0, err
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b)), nil
}

// Float64 reads a value of a double field.
func (d *Decoder) Float64() (float64, error) {
	if err := d.take(TypeDouble, TypeDouble); err != nil {
		return 0, err
	}
	b, err := d.fixed(sizeOfFixed64)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
}

// Number reads a value of any number field as the JavaScript number pomelo's decoder yields.
// Every uInt32, sInt32, int32, float and double value is exact in a float64.
func (d *Decoder) Number() (float64, error) {
	if d.field == nil {
		return 0, ErrNoValue
	}
	switch d.field.typ {
	case TypeUInt32:
		v, err := d.Uint32()
		return float64(v), err
	case TypeSInt32, TypeInt32:
		v, err := d.Int32()
		return float64(v), err
	case TypeFloat:
		v, err := d.Float32()
		return float64(v), err
	}
	return d.Float64()
}

// BytesUnsafe reads a value of a string field. The bytes alias the wire input (valid as long as
// it is) and are not checked for UTF-8.
func (d *Decoder) BytesUnsafe() ([]byte, error) {
	if err := d.take(TypeString, TypeString); err != nil {
		return nil, err
	}
	return d.lengthPrefixed()
}

// Sub reads a value of a message field: it resets sub to read the nested message, and moves
// d past it. sub aliases the same input.
func (d *Decoder) Sub(sub *Decoder) error {
	if err := d.take(TypeMessage, TypeMessage); err != nil {
		return err
	}
	if d.depth >= MaxDepth {
		return ErrTooDeep
	}
	b, err := d.lengthPrefixed()
	if err != nil {
		return err
	}
	sub.reset(d.field.msg, b, d.depth+1)
	return nil
}

// skip discards the unread values of the current field.
func (d *Decoder) skip() error {
	for ; d.left > 0; d.left-- {
		var err error
		switch d.field.typ {
		case TypeUInt32, TypeSInt32, TypeInt32:
			_, err = d.varint()
		case TypeFloat:
			_, err = d.fixed(sizeOfFixed32)
		case TypeDouble:
			_, err = d.fixed(sizeOfFixed64)
		default:
			_, err = d.lengthPrefixed()
		}
		if err != nil {
			return err
		}
	}
	return nil
}
