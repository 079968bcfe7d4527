package codec

import (
	"errors"
	"strconv"
)

// Type is a package type, the first byte of every package.
type Type byte

// Package types, as numbered by pomelo-protocol.
const (
	TypeHandshake    Type = 1 // handshake request (C→S) and response (S→C), JSON body
	TypeHandshakeAck Type = 2 // C→S, empty body
	TypeHeartbeat    Type = 3 // both directions, empty body
	TypeData         Type = 4 // a message (see ParseMessage)
	TypeKick         Type = 5 // S→C, JSON body {"reason": ...}
)

const (
	sizeOfType   = 1
	sizeOfLength = 3

	// HeaderSize is the size of a package header: type and 24-bit length.
	HeaderSize = sizeOfType + sizeOfLength

	// MaxBodySize is the largest body the 24-bit length field can describe.
	MaxBodySize = 1<<(8*sizeOfLength) - 1
)

// Package-layer errors.
var (
	ErrUnknownType     = errors.New("codec: unknown package type")
	ErrShortHeader     = errors.New("codec: truncated package header")
	ErrShortBody       = errors.New("codec: truncated package body")
	ErrBodyTooLarge    = errors.New("codec: package body exceeds the size limit")
	ErrPacketTooLarge  = errors.New("codec: package body larger than 16 MiB - 1")
	ErrBadPacketOffset = errors.New("codec: EndPacket offset does not point at a header")
)

// Valid reports whether t is one of the five package types.
func (t Type) Valid() bool { return t >= TypeHandshake && t <= TypeKick }

var typeNames = [...]string{"", "handshake", "handshake-ack", "heartbeat", "data", "kick"}

func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Packet is a decoded package. Body aliases the decoder's input (see the function that returned it
// for how long it stays valid).
type Packet struct {
	Type Type
	Body []byte
}

// ParseHeader reads a package header from the start of b. It returns the type and the body length.
// ErrShortHeader means b holds fewer than HeaderSize bytes (wait for more); ErrUnknownType means the
// stream is not pomelo (close it).
func ParseHeader(b []byte) (t Type, n int, err error) {
	if len(b) < HeaderSize {
		return 0, 0, ErrShortHeader
	}
	t = Type(b[0])
	if !t.Valid() {
		return t, 0, ErrUnknownType
	}
	return t, int(b[1])<<16 | int(b[2])<<8 | int(b[3]), nil
}

// ParsePacket decodes one whole package from the start of b and returns it with the number of bytes
// it took. The body aliases b. ErrShortHeader and ErrShortBody mean b ends inside the package;
// ErrBodyTooLarge means the header announces more than maxBody bytes (checked before the body is
// looked at; maxBody <= 0 means MaxBodySize).
func ParsePacket(b []byte, maxBody int) (p Packet, n int, err error) {
	t, size, err := ParseHeader(b)
	if err != nil {
		return Packet{}, 0, err
	}
	if size > limitOf(maxBody) {
		return Packet{}, 0, ErrBodyTooLarge
	}
	end := HeaderSize + size
	if len(b) < end {
		return Packet{}, 0, ErrShortBody
	}
	return Packet{Type: t, Body: b[HeaderSize:end:end]}, end, nil
}

func limitOf(maxBody int) int {
	if maxBody <= 0 || maxBody > MaxBodySize {
		return MaxBodySize
	}
	return maxBody
}

// AppendHeader appends a package header for a body of n bytes. It returns ErrPacketTooLarge when n
// does not fit the 24-bit length field, leaving dst unchanged.
func AppendHeader(dst []byte, t Type, n int) ([]byte, error) {
	if n < 0 || n > MaxBodySize {
		return dst, ErrPacketTooLarge
	}
	return append(dst, byte(t), byte(n>>16), byte(n>>8), byte(n)), nil
}

// AppendPacket appends a whole package: header and body.
func AppendPacket(dst []byte, t Type, body []byte) ([]byte, error) {
	dst, err := AppendHeader(dst, t, len(body))
	if err != nil {
		return dst, err
	}
	return append(dst, body...), nil
}

// BeginPacket appends a header whose length is not known yet and returns the offset to hand to
// EndPacket once the body has been appended after it. Together they build a package in place with
// no intermediate copy of the body:
//
//	buf, at := codec.BeginPacket(buf, codec.TypeData)
//	buf = codec.AppendResponse(buf, id, body)
//	err := codec.EndPacket(buf, at)
func BeginPacket(dst []byte, t Type) ([]byte, int) {
	return append(dst, byte(t), 0, 0, 0), len(dst)
}

// EndPacket fills in the length of the package started at offset at by BeginPacket: everything in
// pkt after that header is its body. ErrPacketTooLarge means the body grew past MaxBodySize; the
// caller should truncate pkt back to at.
func EndPacket(pkt []byte, at int) error {
	if at < 0 || len(pkt) < at+HeaderSize {
		return ErrBadPacketOffset
	}
	n := len(pkt) - at - HeaderSize
	if n > MaxBodySize {
		return ErrPacketTooLarge
	}
	pkt[at+1], pkt[at+2], pkt[at+3] = byte(n>>16), byte(n>>8), byte(n)
	return nil
}
