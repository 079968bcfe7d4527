package pack

import (
	"encoding/binary"
	"errors"
	"math"
)

// Decoding errors. The Decoder keeps the first one (see Decoder.Err).
var (
	ErrShort        = errors.New("pack: truncated value")
	ErrTag          = errors.New("pack: invalid tag")
	ErrType         = errors.New("pack: value has another kind")
	ErrRange        = errors.New("pack: integer out of range")
	ErrNonCanonical = errors.New("pack: non-canonical encoding")
	ErrTooDeep      = errors.New("pack: nesting deeper than MaxDepth")
	ErrTrailing     = errors.New("pack: bytes after the last value")
)

// Decoder reads values in place from a byte slice. Errors are sticky: after the first one every
// read returns a zero value and Err reports that error, so a sequence of reads needs one check
// at the end (usually Done).
//
// The zero Decoder has no input. A Decoder is a small value meant to live on the stack; it is not
// safe for concurrent use. Slices returned by the *Unsafe methods alias the input and are valid as
// long as the input is.
type Decoder struct {
	b   []byte // unread input (borrowed)
	err error  // first error
}

// NewDecoder returns a Decoder reading b.
func NewDecoder(b []byte) Decoder { return Decoder{b: b} }

// Reset makes d read b and clears its error.
func (d *Decoder) Reset(b []byte) { d.b, d.err = b, nil }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Len returns how many input bytes are left.
func (d *Decoder) Len() int { return len(d.b) }

// Done returns the first error met, or ErrTrailing if input is left over.
func (d *Decoder) Done() error {
	if d.err == nil && len(d.b) > 0 {
		d.err = ErrTrailing
	}
	return d.err
}

// fail records err (if it is the first) and drops the input.
func (d *Decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

// Kind returns the kind of the next value without consuming it; KindInvalid at the end of the
// input, after an error, or on a bad tag.
func (d *Decoder) Kind() Kind {
	if len(d.b) == 0 {
		return KindInvalid
	}
	return kindOfTag(d.b[0])
}

// tag consumes the next tag byte.
func (d *Decoder) tag() (byte, bool) {
	if len(d.b) == 0 {
		d.fail(ErrShort)
		return 0, false
	}
	t := d.b[0]
	d.b = d.b[1:]
	return t, true
}

// uvarint consumes a canonical (shortest) uvarint.
func (d *Decoder) uvarint() uint64 {
	var v uint64
	for i := 0; i < len(d.b) && i < maxUvarintLen; i++ {
		c := d.b[i]
		if i == maxUvarintLen-1 && c > 1 {
			break // more than 64 bits
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 && i > 0 {
				d.fail(ErrNonCanonical)
				return 0
			}
			d.b = d.b[i+1:]
			return v
		}
	}
	if len(d.b) < maxUvarintLen {
		d.fail(ErrShort)
	} else {
		d.fail(ErrRange)
	}
	return 0
}

// IsNil consumes the next value and reports true if it is nil; otherwise it consumes nothing and
// reports false.
func (d *Decoder) IsNil() bool {
	if len(d.b) > 0 && d.b[0] == tagNil {
		d.b = d.b[1:]
		return true
	}
	return false
}

// Nil consumes a nil.
func (d *Decoder) Nil() {
	if t, ok := d.tag(); ok && t != tagNil {
		d.fail(ErrType)
	}
}

// Bool consumes a boolean.
func (d *Decoder) Bool() bool {
	t, ok := d.tag()
	switch {
	case !ok:
	case t == tagTrue:
		return true
	case t != tagFalse:
		d.fail(ErrType)
	}
	return false
}

// Int consumes an integer that fits int64.
func (d *Decoder) Int() int64 {
	t, ok := d.tag()
	switch {
	case !ok:
		return 0
	case t <= tagFixMax:
		return int64(t)
	case t == tagInt:
		return d.zigzag()
	case t == tagUint:
		d.fail(ErrRange)
	default:
		d.fail(ErrType)
	}
	return 0
}

// zigzag consumes the payload of tag 0x83.
func (d *Decoder) zigzag() int64 {
	u := d.uvarint()
	v := int64(u>>1) ^ -int64(u&1)
	if d.err == nil && v >= 0 && v <= tagFixMax {
		d.fail(ErrNonCanonical)
		return 0
	}
	return v
}

// Uint consumes a non-negative integer.
func (d *Decoder) Uint() uint64 {
	t, ok := d.tag()
	switch {
	case !ok:
	case t <= tagFixMax:
		return uint64(t)
	case t == tagInt:
		if v := d.zigzag(); v >= 0 {
			return uint64(v)
		}
		d.fail(ErrRange)
	case t == tagUint:
		v := d.uvarint()
		if d.err == nil && v <= math.MaxInt64 {
			d.fail(ErrNonCanonical)
		}
		return v
	default:
		d.fail(ErrType)
	}
	return 0
}

// Float consumes a float64 or float32, or an integer converted to float64.
func (d *Decoder) Float() float64 {
	switch d.Kind() {
	case KindInt:
		return float64(d.Int())
	case KindUint:
		return float64(d.Uint())
	case KindFloat32:
		return float64(d.Float32())
	}
	t, ok := d.tag()
	if ok && t != tagFloat64 {
		d.fail(ErrType)
	}
	if b := d.fixed(ok && d.err == nil, sizeOfFloat64); b != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	return 0
}

// Float32 consumes a float32.
func (d *Decoder) Float32() float32 {
	t, ok := d.tag()
	if ok && t != tagFloat32 {
		d.fail(ErrType)
	}
	if b := d.fixed(ok && d.err == nil, sizeOfFloat32); b != nil {
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	}
	return 0
}

// fixed consumes n bytes if ok, or returns nil.
func (d *Decoder) fixed(ok bool, n int) []byte {
	if !ok {
		return nil
	}
	if len(d.b) < n {
		d.fail(ErrShort)
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

// lengthPrefixed consumes a uvarint length and that many bytes.
func (d *Decoder) lengthPrefixed() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(ErrShort)
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

// tagged consumes tag want and its length-prefixed bytes.
func (d *Decoder) tagged(want byte) []byte {
	t, ok := d.tag()
	if !ok {
		return nil
	}
	if t != want {
		d.fail(ErrType)
		return nil
	}
	return d.lengthPrefixed()
}

// StringBytesUnsafe consumes a string and returns its bytes, aliasing the input.
func (d *Decoder) StringBytesUnsafe() []byte { return d.tagged(tagString) }

// String consumes a string and returns a copy.
func (d *Decoder) String() string { return string(d.tagged(tagString)) }

// BytesUnsafe consumes a byte string and returns it, aliasing the input.
func (d *Decoder) BytesUnsafe() []byte { return d.tagged(tagBytes) }

// Bytes consumes a byte string and returns a copy (nil for an empty one).
func (d *Decoder) Bytes() []byte {
	b := d.tagged(tagBytes)
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// KeyUnsafe consumes a map key and returns its bytes, aliasing the input.
func (d *Decoder) KeyUnsafe() []byte {
	if d.err != nil {
		return nil
	}
	return d.lengthPrefixed()
}

// Key consumes a map key and returns a copy.
func (d *Decoder) Key() string { return string(d.KeyUnsafe()) }

// count consumes tag want and a count of items of at least minSize bytes each, checked against
// the remaining input.
func (d *Decoder) count(want byte, minSize int) int {
	t, ok := d.tag()
	if !ok {
		return 0
	}
	if t != want {
		d.fail(ErrType)
		return 0
	}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/minSize) {
		d.fail(ErrShort)
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

// ArrayLen consumes an array header and returns the number of values that follow.
func (d *Decoder) ArrayLen() int { return d.count(tagArray, 1) }

// MapLen consumes a map header and returns the number of key/value pairs that follow.
func (d *Decoder) MapLen() int { return d.count(tagMap, 2) }

// Skip consumes the next value, whatever it is.
func (d *Decoder) Skip() { d.skip(0) }

// RawUnsafe consumes the next value and returns its encoding, aliasing the input.
func (d *Decoder) RawUnsafe() []byte {
	start := d.b
	d.skip(0)
	if d.err != nil {
		return nil
	}
	n := len(start) - len(d.b)
	return start[:n:n]
}

func (d *Decoder) skip(depth int) {
	switch d.Kind() {
	case KindNil:
		d.Nil()
	case KindBool:
		d.Bool()
	case KindInt:
		d.Int()
	case KindUint:
		d.Uint()
	case KindFloat64:
		d.Float()
	case KindFloat32:
		d.Float32()
	case KindString:
		d.StringBytesUnsafe()
	case KindBytes:
		d.BytesUnsafe()
	case KindArray, KindMap:
		d.skipContainer(depth)
	default:
		d.invalid()
	}
}

func (d *Decoder) skipContainer(depth int) {
	if depth >= MaxDepth {
		d.fail(ErrTooDeep)
		return
	}
	if d.Kind() == KindArray {
		for n := d.ArrayLen(); n > 0 && d.err == nil; n-- {
			d.skip(depth + 1)
		}
		return
	}
	for n := d.MapLen(); n > 0 && d.err == nil; n-- {
		d.KeyUnsafe()
		d.skip(depth + 1)
	}
}

// invalid records why no value could be read at the current position.
func (d *Decoder) invalid() {
	if len(d.b) == 0 {
		d.fail(ErrShort)
		return
	}
	d.fail(ErrTag)
}
