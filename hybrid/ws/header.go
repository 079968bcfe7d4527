package ws

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// Opcode is the 4-bit frame type (RFC 6455 §5.2).
type Opcode uint8

// Opcodes defined by RFC 6455 §11.8. 0x3-0x7 and 0xB-0xF are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether o is a control opcode (high bit of the 4-bit
// field set): Close, Ping, Pong and the reserved 0xB-0xF.
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// IsData reports whether o starts a data message: Text or Binary.
func (o Opcode) IsData() bool { return o == OpText || o == OpBinary }

func (o Opcode) defined() bool {
	return o <= OpBinary || (o >= OpClose && o <= OpPong)
}

// String returns the RFC name of o ("text", "ping", ...).
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "opcode(" + strconv.Itoa(int(o)) + ")"
}

// Bits of the first two header bytes.
const (
	bitFin     = 0x80 // byte 0
	bitsRsv    = 0x70 // byte 0: RSV1 0x40, RSV2 0x20, RSV3 0x10
	bitRsv1    = 0x40
	bitsOpcode = 0x0f // byte 0
	bitMask    = 0x80 // byte 1
	bitsLen7   = 0x7f // byte 1
)

// Sizes of the header fields, in bytes, and the markers of the 7-bit length.
const (
	sizeOfFixed   = 2 // FIN RSV opcode, MASK len7
	sizeOfLen16   = 2
	sizeOfLen64   = 8
	sizeOfMaskKey = 4

	len7Max     = 125 // largest length carried in the 7-bit field itself
	len16Mark   = 126 // the length follows as a 16-bit big-endian integer
	len64Mark   = 127 // the length follows as a 64-bit big-endian integer
	len16Max    = 0xffff
	len64TopBit = 1 << 63

	// MaxFrameHeaderSize is the largest frame header: 2 fixed bytes, a 64-bit
	// length and a masking key.
	MaxFrameHeaderSize = sizeOfFixed + sizeOfLen64 + sizeOfMaskKey
	// MaxControlPayload is the largest payload of a control frame.
	MaxControlPayload = len7Max
)

// Header is a decoded frame header. Of the RSV bits only RSV1 is
// represented, as Compressed, and accepted only with Config.Deflate; a frame
// with any other is rejected.
type Header struct {
	Fin        bool
	Op         Opcode
	Compressed bool // RSV1: the first frame of a compressed message (permessage-deflate)
	Masked     bool
	Mask       [4]byte // masking key; zero unless Masked
	Length     int     // payload length in bytes
}

// ErrShortBuffer means that the bytes given do not yet hold a whole unit (a
// frame header, an Upgrade request): nothing was consumed and the caller
// retries once more bytes have arrived. It is not a protocol error.
var ErrShortBuffer = errors.New("ws: short buffer")

// Frame header errors. Each carries the close status code to answer with.
var (
	ErrReservedBits      error = ProtocolError{StatusProtocolError, "ws: reserved bits set"}
	ErrUnknownOpcode     error = ProtocolError{StatusProtocolError, "ws: reserved opcode"}
	ErrFragmentedControl error = ProtocolError{StatusProtocolError, "ws: fragmented control frame"}
	ErrControlTooLong    error = ProtocolError{StatusProtocolError, "ws: control frame payload longer than 125 bytes"}
	ErrUnmaskedFrame     error = ProtocolError{StatusProtocolError, "ws: unmasked frame from client"}
	ErrMaskedFrame       error = ProtocolError{StatusProtocolError, "ws: masked frame from server"}
	ErrLengthOverflow    error = ProtocolError{StatusProtocolError, "ws: 64-bit payload length with the top bit set"}
	ErrMessageTooBig     error = ProtocolError{StatusMessageTooBig, "ws: message too big"}
)

// ParseHeader decodes the frame header at the start of b and checks it
// against c: masking as required by c.Role, and a data payload of at most
// c.MaxMessageSize, so that an oversized frame is refused before its payload
// is read. A nil c means the zero Config.
//
// On success n is the header size (2 to 14 bytes); the payload is the
// h.Length bytes that follow, still masked when h.Masked (see Unmask).
//
// If b holds only part of a header, ParseHeader returns ErrShortBuffer and n
// is the length b must reach before the next call can make progress (2, then
// the exact header size once the first two bytes are known). Errors found in
// the first two bytes (reserved bits, opcode, control frame rules, masking)
// are reported as soon as those bytes are present. A prefix of b therefore
// yields either ErrShortBuffer or exactly what b yields.
//
// Otherwise the error is a ProtocolError and n is 0. ParseHeader does not
// allocate and is safe for concurrent use.
func (c *Config) ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < sizeOfFixed {
		return Header{}, sizeOfFixed, ErrShortBuffer
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&bitFin != 0
	h.Op = Opcode(b0 & bitsOpcode)
	if rsv := b0 & bitsRsv; rsv != 0 {
		// Only RSV1, only where permessage-deflate may be on, and only on the first frame of a
		// data message (RFC 7692 §6).
		if rsv != bitRsv1 || c == nil || !c.Deflate || h.Op.IsControl() || h.Op == OpContinuation {
			return Header{}, 0, ErrReservedBits
		}
		h.Compressed = true
	}
	h.Masked = b1&bitMask != 0
	len7 := int(b1 & bitsLen7)
	if !h.Op.defined() {
		return Header{}, 0, ErrUnknownOpcode
	}
	if h.Op.IsControl() {
		if !h.Fin {
			return Header{}, 0, ErrFragmentedControl
		}
		if len7 > len7Max {
			return Header{}, 0, ErrControlTooLong
		}
	}
	if wantMask := c.role() == RoleServer; h.Masked != wantMask {
		if wantMask {
			return Header{}, 0, ErrUnmaskedFrame
		}
		return Header{}, 0, ErrMaskedFrame
	}

	n = sizeOfFixed
	switch len7 {
	case len16Mark:
		n += sizeOfLen16
	case len64Mark:
		n += sizeOfLen64
	}
	if h.Masked {
		n += sizeOfMaskKey
	}
	if len(b) < n {
		return Header{}, n, ErrShortBuffer
	}

	length := uint64(len7)
	switch len7 {
	case len16Mark:
		length = uint64(binary.BigEndian.Uint16(b[sizeOfFixed:]))
	case len64Mark:
		length = binary.BigEndian.Uint64(b[sizeOfFixed:])
		if length&len64TopBit != 0 {
			return Header{}, 0, ErrLengthOverflow
		}
	}
	if !h.Op.IsControl() && length > uint64(c.maxMessageSize()) {
		return Header{}, 0, ErrMessageTooBig
	}
	h.Length = int(length)
	if h.Masked {
		copy(h.Mask[:], b[n-sizeOfMaskKey:n])
	}
	return h, n, nil
}

// HeaderSize returns the size of the header AppendFrameHeader writes for a
// payload of the given length.
func HeaderSize(length int, masked bool) int {
	n := sizeOfFixed
	switch {
	case length > len16Max:
		n += sizeOfLen64
	case length > len7Max:
		n += sizeOfLen16
	}
	if masked {
		n += sizeOfMaskKey
	}
	return n
}

// AppendFrameHeader appends a frame header to dst and returns the extended
// slice. The length is written in its minimal encoding (RFC 6455 §5.2). A
// nil mask writes an unmasked header (server to client); a non-nil mask sets
// the MASK bit and writes *mask as the masking key (client to server), and the
// caller then appends the payload masked with that key (see Unmask).
//
// op is written as given (its low 4 bits); a control frame must have fin set
// and a length of at most 125. AppendFrameHeader panics if length is
// negative, which no payload can have.
func AppendFrameHeader(dst []byte, fin bool, op Opcode, length int, mask *[4]byte) []byte {
	if length < 0 {
		panic("ws: AppendFrameHeader: negative length")
	}
	b0 := byte(op) & bitsOpcode
	if fin {
		b0 |= bitFin
	}
	var b1 byte
	if mask != nil {
		b1 = bitMask
	}
	switch {
	case length <= len7Max:
		dst = append(dst, b0, b1|byte(length))
	case length <= len16Max:
		dst = append(dst, b0, b1|len16Mark, byte(length>>8), byte(length))
	default:
		dst = append(dst, b0, b1|len64Mark)
		dst = binary.BigEndian.AppendUint64(dst, uint64(length))
	}
	if mask != nil {
		dst = append(dst, mask[:]...)
	}
	return dst
}

// AppendCompressedFrameHeader is AppendFrameHeader for the first (or only) frame of a
// compressed message: RSV1 set. The payload is Deflate's output.
func AppendCompressedFrameHeader(dst []byte, fin bool, op Opcode, length int, mask *[4]byte) []byte {
	at := len(dst)
	dst = AppendFrameHeader(dst, fin, op, length, mask)
	dst[at] |= bitRsv1
	return dst
}

// AppendFrame appends one unfragmented, unmasked frame (the form a server
// sends) carrying payload, and returns the extended slice. payload is copied.
func AppendFrame(dst []byte, op Opcode, payload []byte) []byte {
	dst = AppendFrameHeader(dst, true, op, len(payload), nil)
	return append(dst, payload...)
}

// AppendMaskedFrame appends one unfragmented frame masked with key (the form
// a client sends) and returns the extended slice. payload is copied, then the
// copy is masked; payload itself is not modified. RFC 6455 §5.3 asks for a
// fresh, unpredictable key per frame: choosing it is the caller's job.
func AppendMaskedFrame(dst []byte, op Opcode, key [4]byte, payload []byte) []byte {
	dst = AppendFrameHeader(dst, true, op, len(payload), &key)
	start := len(dst)
	dst = append(dst, payload...)
	Unmask(key, 0, dst[start:])
	return dst
}
