package pack

import (
	"encoding/binary"
	"math"
)

// Tags, the first byte of every value (see the package documentation).
const (
	tagFixMax  = 0x7f
	tagNil     = 0x80
	tagFalse   = 0x81
	tagTrue    = 0x82
	tagInt     = 0x83
	tagUint    = 0x84
	tagFloat64 = 0x85
	tagFloat32 = 0x86
	tagString  = 0x87
	tagBytes   = 0x88
	tagArray   = 0x89
	tagMap     = 0x8a

	sizeOfFloat64 = 8
	sizeOfFloat32 = 4
	maxUvarintLen = binary.MaxVarintLen64
)

// MaxDepth is the deepest nesting of arrays and maps that the Decoder and AppendAny accept.
const MaxDepth = 64

// Kind is the type of an encoded value, as told by its tag.
type Kind uint8

// Kinds. A fixint is KindInt.
const (
	KindInvalid Kind = iota // not a value: bad tag, or no input left
	KindNil
	KindBool
	KindInt     // int64: fixint or tag 0x83
	KindUint    // uint64 above math.MaxInt64
	KindFloat64 // float64
	KindFloat32 // float32
	KindString  // string
	KindBytes   // byte string
	KindArray   // array
	KindMap     // map with string keys
)

var kindNames = [...]string{"invalid", "nil", "bool", "int", "uint", "float64", "float32", "string",
	"bytes", "array", "map"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// kindOfTag maps a tag byte to its kind.
func kindOfTag(t byte) Kind {
	switch {
	case t <= tagFixMax:
		return KindInt
	case t == tagNil:
		return KindNil
	case t == tagFalse || t == tagTrue:
		return KindBool
	case t <= tagMap:
		return Kind(t-tagInt) + KindInt
	}
	return KindInvalid
}

// AppendNil appends nil.
func AppendNil(dst []byte) []byte { return append(dst, tagNil) }

// AppendBool appends v.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, tagTrue)
	}
	return append(dst, tagFalse)
}

// AppendInt appends the integer v: one byte for 0..127, else tag 0x83 and a zigzag uvarint.
func AppendInt(dst []byte, v int64) []byte {
	if v >= 0 && v <= tagFixMax {
		return append(dst, byte(v))
	}
	return binary.AppendUvarint(append(dst, tagInt), uint64(v<<1)^uint64(v>>63))
}

// AppendUint appends the integer v. Values that fit int64 are encoded as by AppendInt, so an
// unsigned and a signed integer of the same value encode the same.
func AppendUint(dst []byte, v uint64) []byte {
	if v <= math.MaxInt64 {
		return AppendInt(dst, int64(v))
	}
	return binary.AppendUvarint(append(dst, tagUint), v)
}

// AppendFloat64 appends v as 8 little-endian bytes after tag 0x85.
func AppendFloat64(dst []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(append(dst, tagFloat64), math.Float64bits(v))
}

// AppendFloat32 appends v as 4 little-endian bytes after tag 0x86.
func AppendFloat32(dst []byte, v float32) []byte {
	return binary.LittleEndian.AppendUint32(append(dst, tagFloat32), math.Float32bits(v))
}

// AppendString appends the string s.
func AppendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(append(dst, tagString), uint64(len(s))), s...)
}

// AppendStringBytes appends b as a string (same bytes as AppendString(dst, string(b))).
func AppendStringBytes(dst []byte, b []byte) []byte {
	return append(binary.AppendUvarint(append(dst, tagString), uint64(len(b))), b...)
}

// AppendBytes appends b as a byte string.
func AppendBytes(dst []byte, b []byte) []byte {
	return append(binary.AppendUvarint(append(dst, tagBytes), uint64(len(b))), b...)
}

// AppendArrayHeader appends the header of an array of n values; the caller appends the n values.
func AppendArrayHeader(dst []byte, n int) []byte {
	return binary.AppendUvarint(append(dst, tagArray), uint64(n))
}

// AppendMapHeader appends the header of a map of n pairs; the caller appends n times a key
// (AppendKey) followed by a value.
func AppendMapHeader(dst []byte, n int) []byte {
	return binary.AppendUvarint(append(dst, tagMap), uint64(n))
}

// AppendKey appends a map key: its length and bytes, without a tag.
func AppendKey(dst []byte, k string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(k))), k...)
}
