// Package pack is the self-describing binary value encoding that RPC arguments and results use
// when they do not bring their own (see rpc.Appender / rpc.Decoder for the fast path). It covers
// what pomelo's JSON arguments carry: nil, booleans, integers, floats, strings, byte strings,
// arrays and string-keyed maps.
//
// Encoders are pure append-style functions (AppendInt(dst, v) and friends). Decoding is done in
// place by a Decoder over a caller's buffer: scalar reads do not allocate, and the *Unsafe
// variants return slices that alias the input (valid as long as the input is). Nothing here does
// I/O or holds global state.
//
// # Encoding
//
// Every value starts with one tag byte:
//
//	tag        value                    followed by
//	0x00-0x7f  integer 0..127           nothing (the tag is the value: "fixint")
//	0x80       nil                      nothing
//	0x81       false                    nothing
//	0x82       true                     nothing
//	0x83       integer (int64)          zigzag uvarint; never a value in 0..127
//	0x84       integer (uint64)         uvarint; only values above math.MaxInt64
//	0x85       float64                  8 bytes, IEEE 754, little endian
//	0x86       float32                  4 bytes, IEEE 754, little endian
//	0x87       string                   uvarint length, then that many bytes (UTF-8, not checked)
//	0x88       byte string              uvarint length, then that many bytes
//	0x89       array                    uvarint count, then count values
//	0x8a       map                      uvarint count, then count pairs:
//	                                    key (uvarint length + bytes, no tag), value
//	0x8b-0xff  invalid
//
// A uvarint is the unsigned LEB128 of encoding/binary: 7 bits per byte, least significant group
// first, 0x80 set on every byte but the last. Zigzag maps 0,-1,1,-2,... to 0,1,2,3,...
//
// Examples:
//
//	5                  05
//	-1                 83 01
//	300                83 d8 04              (zigzag 600)
//	"hi"               87 02 68 69
//	[1, nil]           89 02 01 80
//	{"uid": 7}         8a 01 03 75 69 64 07
//
// The encoding is canonical: each value has exactly one encoding, and the Decoder rejects every
// other form (an overlong uvarint, 0x83 carrying 0..127, 0x84 carrying a value that fits int64)
// with ErrNonCanonical. So decoding and re-encoding any accepted input reproduces it byte for
// byte. Map keys keep their wire order; AppendAny writes Go maps with sorted keys so that equal
// maps encode equally.
//
// # Limits
//
// Nesting deeper than MaxDepth is ErrTooDeep, both when decoding and in AppendAny. A count is
// checked against the bytes that remain before anything is allocated for it, so a short input
// cannot make the decoder allocate more than the input could describe.
package pack
