// Package ws is the RFC 6455 WebSocket protocol layer of the hybrid
// connector: the opening handshake, frame headers, masking, Close payloads
// message assembly and permessage-deflate. It is pure: no I/O, no goroutines,
// and no package state apart from pools of (de)compressors.
// Parsers take the bytes received so far, which may hold an incomplete unit,
// and either decode a whole unit or report ErrShortBuffer without consuming,
// copying or allocating; encoders append to a caller's slice. This fits a
// reader that peeks at buffered bytes and releases them only once a whole
// unit has been decoded (a read buffer decoded in place), and it serves
// both the server (the connector) and a client (the load generator): see
// Config.Role.
//
// # Handshake
//
// Config.ParseUpgrade reads the HTTP/1.1 Upgrade request up to the blank
// line, bounded by Config.MaxHeaderSize. The server answers with
// AppendUpgradeResponse (101 Switching Protocols) or, on error, with
// AppendHTTPError(dst, HTTPStatus(err)): 400, 426 for a version other than
// 13, 431 for an oversized header block. Bytes after the blank line are
// frames. A client writes AppendUpgradeRequest and checks the answer with
// Config.ParseUpgradeResponse.
//
// # Frame layout (RFC 6455 §5.2)
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-------+-+-------------+-------------------------------+
//	|F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//	|I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//	|N|V|V|V|       |S|             |   (if payload len==126/127)   |
//	| |1|2|3|       |K|             |                               |
//	+-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//	|     Extended payload length continued, if payload len == 127  |
//	+ - - - - - - - - - - - - - - - +-------------------------------+
//	|                               |Masking-key, if MASK set to 1  |
//	+-------------------------------+-------------------------------+
//	| Masking-key (continued)       |          Payload Data         |
//	+-------------------------------- - - - - - - - - - - - - - - - +
//	:                     Payload Data continued ...                :
//	+ - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - +
//
//	byte 0: FIN (0x80) | RSV1 (0x40) | RSV2 (0x20) | RSV3 (0x10) | opcode (0x0F)
//	byte 1: MASK (0x80) | len7 (0x7F)
//	len7 0-125: the payload length
//	len7 126:   a 16-bit big-endian length follows (bytes 2-3)
//	len7 127:   a 64-bit big-endian length follows (bytes 2-9), top bit 0
//	then, if MASK: the 4-byte masking key; then the payload.
//	opcode: 0x0 continuation, 0x1 text, 0x2 binary, 0x8 close, 0x9 ping,
//	        0xA pong; 0x3-0x7 and 0xB-0xF reserved.
//
// A header is 2 to 14 bytes (MaxFrameHeaderSize). Frames from a client are
// masked: payload byte i is XORed with key[i%4] (Unmask). Frames from a
// server are not. Control frames (close, ping, pong) have FIN set and at most 125 bytes
// of payload. A Close payload is empty or a 2-byte status code followed by a
// UTF-8 reason (ParseCloseData, AppendCloseFrame).
//
// Config.ParseHeader rejects, before any payload is read, every header that
// breaks the rules above, and data frames longer than Config.MaxMessageSize.
// Each rejection is a ProtocolError whose Code is the status code for the
// Close frame that answers it (CloseCode): 1002 for protocol violations, 1009
// for oversized messages, 1007 for invalid UTF-8.
//
// # Messages
//
// An Assembler joins the frames of one connection into messages:
//
//	Text|Binary FIN=1                          a whole message, returned as is
//	Text|Binary FIN=0, Continuation FIN=0 ..., Continuation FIN=1
//	                                           one message, copied into the
//	                                           Assembler's buffer
//	Close|Ping|Pong (FIN=1, anywhere, also between fragments)
//	                                           returned at once
//
// Payloads returned without copying alias the caller's bytes; payloads of
// fragmented messages live in the Assembler's buffer until its next call.
// Pomelo clients send one pomelo package per binary message and never
// fragment, so in the steady state the Assembler copies nothing.
//
// # What this package does not do
//
//   - One extension only: permessage-deflate (RFC 7692), offered by browsers
//     and by the Node ws client, in the form without context takeover either
//     way (DeflateExtension), so that a connection keeps no compression state
//     between messages. UpgradeRequest.Deflate reports an offer it can
//     answer; AppendUpgradeResponseDeflate accepts it. With Config.Deflate,
//     RSV1 on a message's first frame marks it compressed (Inflate); RSV2,
//     RSV3, and RSV1 elsewhere are rejected. Other extensions are ignored:
//     the response omits them, which RFC 6455 §9.1 allows.
//   - No subprotocol selection: the response never carries
//     Sec-WebSocket-Protocol (UpgradeRequest.Protocol is recorded for the
//     caller).
//   - No I/O, timeouts, ping scheduling or closing handshake state: those
//     belong to the connection that uses these functions.
//   - No HTTP beyond the Upgrade request and the fixed responses above: no
//     other methods, no bodies, no chunked encoding, no HTTP/2.
package ws
