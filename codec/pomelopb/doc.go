// Package pomelopb implements pomelo-protobuf, the message body encoding pomelo uses when the
// connector runs with useProtobuf: a protobuf-like binary form driven by JSON description files
// (config/serverProtos.json for what the server sends, config/clientProtos.json for what clients
// send). It is byte-compatible with npm pomelo-protobuf@0.4.0: its tests compare against bytes
// produced by that library (testdata/protobuf.json, testdata/jsvectors.json).
//
// # Description files and the handshake form
//
// A description file maps message keys (routes, and "message X" shared definitions) to messages
// whose keys are "<rule> <type> <name>": <tag> or nested "message X": {...}:
//
//	{"onMove": {"required uInt32 entityId": 1,
//	            "message Path": {"required uInt32 x": 1, "required uInt32 y": 2},
//	            "repeated Path path": 2,
//	            "required float speed": 3}}
//
// Parse turns it into an immutable Table. The server sends every client the parsed form (in the
// handshake, as sys.protos.server and .client) and its version; Table.AppendParsedJSON writes it
// byte for byte as JavaScript's JSON.stringify writes pomelo's parser output, because the version
// is an MD5 over that text:
//
//	{"onMove":{"entityId":{"option":"required","type":"uInt32","tag":1},
//	           "path":{"option":"repeated","type":"Path","tag":2},
//	           "speed":{"option":"required","type":"float","tag":3},
//	           "__messages":{"Path":{"x":{...,"tag":1},"y":{...,"tag":2},"__messages":{},"__tags":{"1":"x","2":"y"}}},
//	           "__tags":{"1":"entityId","2":"path","3":"speed"}}}
//
//	Version(client, server) = base64(md5(parsed client text + parsed server text))
//
// JavaScript object key order is kept: keys that are array indexes ("7", and every __tags key)
// come first in numeric order, the others in file order; a key repeated in the file keeps its
// first position and its last value. Strings are escaped as JSON.stringify escapes them (only ",
// \ and control characters; <, >, & and non-ASCII are written as they are).
//
// # Wire form
//
// A message is a sequence of fields, each a key varint (tag<<3 | wire type) then a value.
// Varints are base-128, low group first, 0x80 on every byte but the last. The onMove message
// {entityId:14, path:[{x:128,y:796},{x:677,y:895}], speed:160}:
//
//	08                key: tag 1 (entityId), wire type 0
//	0e                14
//	12                key: tag 2 (path), wire type 2: one element of a repeated message
//	06                length of the element
//	   08 80 01       x = 128
//	   10 9c 06       y = 796
//	12 06 08 a5 05 10 ff 06     second element: x = 677, y = 895
//	1d                key: tag 3 (speed), wire type 5
//	00 00 20 43       160 as a little-endian float32
//
// Value encodings: uInt32 unsigned varint; sInt32 and int32 zigzag varint; float and double
// little-endian IEEE 754; string varint byte length + UTF-8; message varint byte length + the
// encoded message. Field order is the order of the object's keys, not tag order.
//
// Where pomelo differs from Google protobuf:
//
// int32 is zigzag encoded like sInt32: -1 is 01, not ten bytes of two's complement.
//
// A repeated number field is written once: a key with the element's own wire type (0, 1 or 5,
// not 2), then the element COUNT (not a byte length), then the elements. Repeated strings and
// messages take one key per element. An empty array is left out.
//
//	d: [1, 2, 300]  repeated uInt32, tag 4   20 03 01 02 ac 02     key, count 3, elements
//	g: [-1, 1]      repeated int32, tag 8    40 02 01 02           key, count 2, zigzag elements
//	e: ["x", "yz"]  repeated string, tag 5   2a 01 78 2a 02 79 7a  key and value per element
//
// Decoding is driven by the schema: the key's tag picks the field and the value is read as the
// field's declared type, ignoring the wire-type bits. This matters: pomelo's browser client
// writes wire type 2 on every varint field (uInt32 tag 1 as 0a, not 08), and decodes the same.
//
// Only the types above exist: no bool, bytes, 64-bit integers, enums or defaults.
//
// # Three ways to encode and decode
//
//   - JSON text, for handlers that speak JSON: Message.AppendWire (JSON object to wire) and
//     Message.AppendJSON (wire to the JSON text pomelo's decoder yields).
//   - Record, a reusable holder for any message in Go values (numbers as float64, strings as
//     bytes, nested Records), decoded in place from the wire.
//   - Decoder and Encoder, schema-checked cursors over one message, on which Go types implement
//     Unmarshaler and Marshaler by hand or by generated code (see the examples).
//
// All of them allocate nothing in steady state: decoding into a reused Record or type, and
// encoding into a reused buffer, is tested at zero allocations.
//
// # Choices where pomelo is silent, lenient or broken
//
// Decoders reject what pomelo's Node decoder would throw on, read wrong or accept silently, with
// errors named after this package: an unknown tag (ErrUnknownTag), input that ends inside a
// value, including a string whose length runs past the end, which pomelo silently shortens
// (ErrTruncated), a varint above 32 bits (ErrVarintOverflow), a missing required field, which
// pomelo does not check (ErrMissingRequired), a field that occurs again after another field, which
// no pomelo encoder writes (ErrDuplicateField), and nesting deeper than MaxDepth (ErrTooDeep).
//
// The JSON encoder treats null as an absent field; requires values of the field's kind where
// pomelo would coerce or throw (ErrBadValue: no numeric strings, no booleans); truncates a
// fractional number toward zero as pomelo's parseInt does and rejects numbers out of the field's
// 32-bit range (ErrRange); and rejects a repeated key (ErrDuplicateKey) where JSON.parse keeps
// the last value. A float outside float32 range is written as ±Infinity, as Node does, and reads
// back as null. Unlike pomelo's Node encoder, it has no fixed output budget: pomelo fails on
// messages whose binary form is more than twice their JSON text (long arrays of small doubles).
//
// Parse rejects description files that pomelo would accept and then mis-encode at run time:
// field types that are neither scalars nor messages declared in the field's own message or at
// the top level (pomelo writes a key and no value), uInt64 and sInt64 (same), tags that are not
// integers from 0 to MaxTag, duplicate or reserved field names. It keeps pomelo's silent skipping
// of malformed keys and duplicate tags.
//
// # Lifetimes and concurrency
//
// Tables, Messages and Fields are immutable and safe for concurrent use. Decoder, Encoder and
// Record are not; each belongs to one goroutine. Byte slices a Decoder or a Record returns alias
// the wire input (hence BytesUnsafe, UnmarshalUnsafe) and are valid as long as that input is not
// modified; slices a Record returns are valid until its next Reset or unmarshal.
package pomelopb
