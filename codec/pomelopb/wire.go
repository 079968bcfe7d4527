package pomelopb

import (
	"encoding/binary"
	"errors"
	"math"
)

// Wire types written in the low three bits of a field key, as pomelo's Node encoder writes them
// (constant.js). Decoders ignore them: the schema decides how a value is read.
const (
	wireVarint  = 0 // uInt32, sInt32, int32
	wireFixed64 = 1 // double
	wireBytes   = 2 // string, message
	wireFixed32 = 5 // float

	sizeOfFixed32   = 4
	sizeOfFixed64   = 8
	maxVarint32Size = 5 // 32 bits in 7-bit groups
	tagShift        = 3

	// MaxTag is the largest field tag pomelo can encode: its encoder computes tag<<3 in JavaScript
	// 32-bit signed arithmetic, so 1<<28 and above would turn negative.
	MaxTag = 1<<28 - 1

	// MaxDepth is how deep messages may nest, counting the outermost message as depth 0, in wire
	// input, JSON input and Records. Deeper input is ErrTooDeep, so that hostile input cannot
	// exhaust the stack.
	MaxDepth = 100
)

// Wire-level errors.
var (
	ErrTruncated      = errors.New("pomelopb: truncated input")
	ErrVarintOverflow = errors.New("pomelopb: varint does not fit 32 bits")
)

// appendVarint appends v as a base-128 varint, low group first.
func appendVarint(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// varintLen is the number of bytes appendVarint writes for v.
func varintLen(v uint32) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// readVarint reads a varint from b[off:]. Values must fit 32 bits: a fifth byte above 0x0f, or a
// sixth byte, is ErrVarintOverflow. Non-minimal forms (80 00 for 0) are accepted, as pomelo does.
func readVarint(b []byte, off int) (v uint32, next int, err error) {
	for i := 0; i < maxVarint32Size; i++ {
		if off+i >= len(b) {
			return 0, off, ErrTruncated
		}
		c := b[off+i]
		if i == maxVarint32Size-1 && c > 0x0f {
			return 0, off, ErrVarintOverflow
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, off + i + 1, nil
		}
	}
	return 0, off, ErrVarintOverflow
}

// zigzag maps pomelo's sInt32 and int32 values to their unsigned varint form: n<0 ? -2n-1 : 2n.
func zigzag(v int32) uint32 { return uint32(v<<1) ^ uint32(v>>31) }

// unzigzag is the inverse of zigzag.
func unzigzag(u uint32) int32 { return int32(u>>1) ^ -int32(u&1) }

func appendFixed32(dst []byte, v float32) []byte {
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
}

func appendFixed64(dst []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
}

// reserveLen reserves one byte for a length or count whose value is not known yet, and returns
// its offset, to be passed to patchLen.
func reserveLen(dst []byte) ([]byte, int) {
	return append(dst, 0), len(dst)
}

// patchLen writes n as a varint at mark, the byte reserved by reserveLen, moving everything after
// it when n needs more than one byte.
func patchLen(dst []byte, mark int, n uint32) []byte {
	if n < 0x80 {
		dst[mark] = byte(n)
		return dst
	}
	extra := varintLen(n) - 1
	end := len(dst)
	for i := 0; i < extra; i++ {
		dst = append(dst, 0)
	}
	copy(dst[mark+1+extra:], dst[mark+1:end])
	appendVarint(dst[:mark], n)
	return dst
}

// fieldSet is a set of field indexes. Indexes below 256 live inline; larger messages keep the
// rest in big, which is allocated once per set and reused by reset.
type fieldSet struct {
	small [fieldSetInline / 64]uint64
	big   []uint64 // bit i-fieldSetInline for index i >= fieldSetInline
}

const fieldSetInline = 256

func (s *fieldSet) reset(n int) {
	s.small = [fieldSetInline / 64]uint64{}
	if n <= fieldSetInline {
		s.big = s.big[:0]
		return
	}
	words := (n - fieldSetInline + 63) / 64
	if cap(s.big) < words {
		s.big = make([]uint64, words)
		return
	}
	s.big = s.big[:words]
	clear(s.big)
}

func (s *fieldSet) has(i int) bool {
	if i < fieldSetInline {
		return s.small[i>>6]&(1<<(uint(i)&63)) != 0
	}
	i -= fieldSetInline
	return s.big[i>>6]&(1<<(uint(i)&63)) != 0
}

func (s *fieldSet) add(i int) {
	if i < fieldSetInline {
		s.small[i>>6] |= 1 << (uint(i) & 63)
		return
	}
	i -= fieldSetInline
	s.big[i>>6] |= 1 << (uint(i) & 63)
}

// missing returns the index of the first field of m that is required but not in s, or -1.
func (s *fieldSet) missing(m *Message) int {
	for _, i := range m.required {
		if !s.has(i) {
			return i
		}
	}
	return -1
}
