// Package codec implements pomelo's two wire layers: the package layer that frames every unit on a
// raw TCP stream or inside a WebSocket message, and the message layer carried in the body of a DATA
// package. It is byte-compatible with the published pomelo-protocol@0.1.6 library that every pomelo
// client (JS, Unity C#, libpomelo2) speaks.
//
// Everything here is pure: encoders append to a caller's buffer, decoders read in place from a
// caller's buffer, nothing does I/O, nothing starts goroutines, nothing holds global state.
//
// # Package layer
//
//	 0        1        2        3        4
//	+--------+--------+--------+--------+------------ ...
//	|  type  | body length (24 bit, BE) |  body
//	+--------+--------+--------+--------+------------ ...
//	 sizeOfType sizeOfLength             length bytes
//
// Types: 1 HANDSHAKE, 2 HANDSHAKE_ACK, 3 HEARTBEAT, 4 DATA, 5 KICK. No other value is valid. The
// length counts the body only; 0 is legal (heartbeat, ack). The largest body the field can carry is
// MaxBodySize (16 MiB - 1); servers should use a much smaller limit, and a smaller still one before
// the handshake (see Decoder.SetMaxBody). The limit is checked on the header, before a body byte is
// buffered.
//
// # Message layer (body of a DATA package)
//
//	flag       id (requests, responses)   route (requests, notifies, pushes)   body
//	+--------+ +------------------------+ +---------------------------------+ +------ ...
//	|000GTTTR| | LE base-128, 1..5 bytes| | len(1) + UTF-8, or code(2, BE)  | | rest of the package
//	+--------+ +------------------------+ +---------------------------------+ +------ ...
//
//	bit 0    R    route is a 2-byte dictionary code instead of a length-prefixed string
//	bits 1-3 TTT  0 REQUEST, 1 NOTIFY, 2 RESPONSE, 3 PUSH
//	bit 4    G    pomelo-protocol 0.1.6's "gzip" bit: accepted on input, never produced, never acted on
//	bits 5-7      reserved: rejected on input (libpomelo2 drops such messages too), never produced
//
// The id is a little-endian base-128 varint: the low 7 bits first, 0x80 set on every byte but the
// last. 300 is ac 02. Ids up to 2^32-1 decode; a longer varint is ErrIDOverflow, never a wrap.
// Responses carry no route; pomelo never sets R on them and neither do we. Like pomelo-protocol's
// decoder, ParseMessage accepts two forms no encoder writes: R set on a response (ignored) and an id
// varint longer than needed (80 00 for 0). AppendMessage always writes the shortest form.
//
// Example: request id 1 to connector.entryHandler.entry, compressed to code 1, body {"uid":1}:
//
//	04 00 00 0d   01   01   00 01   7b 22 75 69 64 22 3a 31 7d
//	DATA 13 B     flag id=1 code=1  body
//
// # Lifetimes
//
// Decoders never copy: a decoded Packet.Body or Message.Route/Body aliases the input and is valid as
// long as the input is. The streaming Decoder copies only a package that straddles two reads, into a
// buffer it owns; what it returns is valid until the next call to Next or Feed.
package codec
