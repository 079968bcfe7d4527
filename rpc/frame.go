package rpc

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// Kind is the type of a frame, the byte after the length.
type Kind uint8

// Frame kinds (see the package documentation for each body).
const (
	KindHello   Kind = 1 // both directions, first frame: magic, version, peer name
	KindDeclare Kind = 2 // client → server: method id ↔ namespace/service/method
	KindCall    Kind = 3 // client → server: id, method, arguments; answered by REPLY or ERROR
	KindNotify  Kind = 4 // client → server: method, arguments; never answered
	KindReply   Kind = 5 // server → client: id, result
	KindError   Kind = 6 // server → client: id, code, message
	KindPing    Kind = 7 // client → server: 8-byte token
	KindPong    Kind = 8 // server → client: the token of a PING
)

// Valid reports whether k is one of the eight frame kinds.
func (k Kind) Valid() bool { return k >= KindHello && k <= KindPong }

var kindNames = [...]string{"", "hello", "declare", "call", "notify", "reply", "error", "ping", "pong"}

func (k Kind) String() string {
	if k.Valid() {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

const (
	sizeOfLength  = 4
	sizeOfKind    = 1
	sizeOfID      = 4
	sizeOfMethod  = 2
	sizeOfCode    = 4
	sizeOfToken   = 8
	sizeOfMagic   = 4
	sizeOfVersion = 1
	sizeOfNameLen = 1

	// FrameHeaderSize is the size of the part every frame has: length and kind.
	FrameHeaderSize = sizeOfLength + sizeOfKind

	// MaxNameLen is the longest peer name or namespace/service/method name (one length byte).
	MaxNameLen = 1<<(8*sizeOfNameLen) - 1

	// ProtocolVersion is the version this package writes in HELLO and the only one it accepts.
	ProtocolVersion = 1

	// DefaultMaxFrame is the frame size limit (length field value) when a config leaves it 0.
	DefaultMaxFrame = 4 << 20

	// MaxFrameLimit is the largest limit a config may set.
	MaxFrameLimit = 1 << 30

	helloMagic = "SRPC"
)

// Frame errors. ErrShortFrame only means the input ends inside a frame; the others are protocol
// errors after which a connection is closed.
var (
	ErrShortFrame    = errors.New("rpc: truncated frame")
	ErrFrameTooLarge = errors.New("rpc: frame exceeds the size limit")
	ErrFrameKind     = errors.New("rpc: unknown frame kind")
	ErrFrameBody     = errors.New("rpc: malformed frame body")
	ErrHelloMagic    = errors.New("rpc: HELLO without the SRPC magic")
	ErrNameTooLong   = errors.New("rpc: name longer than 255 bytes")
	ErrBadEndFrame   = errors.New("rpc: EndFrame start does not point at a frame header")
)

// Frame is a decoded frame. Payload aliases the decoder's input; the function that returned the
// frame says how long it stays valid.
type Frame struct {
	Kind   Kind
	ID     uint32 // CALL, REPLY, ERROR
	Method uint16 // CALL, NOTIFY, DECLARE
	Code   int32  // ERROR
	// Payload is what follows the fixed fields: the arguments (CALL, NOTIFY), the result
	// (REPLY), the UTF-8 message (ERROR), the names (DECLARE, see ParseDeclare), the whole body
	// (HELLO, see ParseHello), or the 8-byte token (PING, PONG).
	Payload []byte
}

// fixedSize is the size of the fixed fields after the kind byte, by kind.
var fixedSize = [...]int{
	KindHello:   0,
	KindDeclare: sizeOfMethod,
	KindCall:    sizeOfID + sizeOfMethod,
	KindNotify:  sizeOfMethod,
	KindReply:   sizeOfID,
	KindError:   sizeOfID + sizeOfCode,
	KindPing:    0,
	KindPong:    0,
}

// ParseFrameHeader reads the length and kind at the start of b and checks them against maxFrame
// (<= 0 means DefaultMaxFrame). It returns the kind and the total size of the frame in bytes
// (length field included). It needs only FrameHeaderSize bytes, so the limit is enforced before
// any byte of the body is buffered.
func ParseFrameHeader(b []byte, maxFrame int) (Kind, int, error) {
	if len(b) < FrameHeaderSize {
		return 0, 0, ErrShortFrame
	}
	size := binary.BigEndian.Uint32(b)
	k := Kind(b[sizeOfLength])
	switch {
	case uint64(size) > uint64(frameLimit(maxFrame)):
		return 0, 0, ErrFrameTooLarge
	case !k.Valid():
		return 0, 0, ErrFrameKind
	case int(size) < sizeOfKind+fixedSize[k]:
		return 0, 0, ErrFrameBody
	}
	return k, sizeOfLength + int(size), nil
}

func frameLimit(maxFrame int) int {
	if maxFrame <= 0 {
		return DefaultMaxFrame
	}
	return maxFrame
}

// ParseFrame decodes the frame at the start of b and returns it with its size in bytes.
// ErrShortFrame means b holds only part of a frame. The payload aliases b.
func ParseFrame(b []byte, maxFrame int) (Frame, int, error) {
	k, n, err := ParseFrameHeader(b, maxFrame)
	if err != nil {
		return Frame{}, 0, err
	}
	if len(b) < n {
		return Frame{}, 0, ErrShortFrame
	}
	f, err := parseBody(k, b[FrameHeaderSize:n:n])
	if err != nil {
		return Frame{}, 0, err
	}
	return f, n, nil
}

// parseBody splits a body (after the kind byte) whose size the header check already bounded
// below by the fixed fields of k.
func parseBody(k Kind, body []byte) (Frame, error) {
	f := Frame{Kind: k}
	be := binary.BigEndian
	switch k {
	case KindCall:
		f.ID, f.Method = be.Uint32(body), be.Uint16(body[sizeOfID:])
	case KindNotify, KindDeclare:
		f.Method = be.Uint16(body)
	case KindReply:
		f.ID = be.Uint32(body)
	case KindError:
		f.ID, f.Code = be.Uint32(body), int32(be.Uint32(body[sizeOfID:]))
	}
	f.Payload = body[fixedSize[k]:]
	if err := checkPayload(k, f.Payload); err != nil {
		return Frame{}, err
	}
	return f, nil
}

// checkPayload validates the payloads that have an inner structure.
func checkPayload(k Kind, p []byte) error {
	switch k {
	case KindPing, KindPong:
		if len(p) != sizeOfToken {
			return ErrFrameBody
		}
	case KindHello:
		_, _, err := ParseHello(p)
		return err
	case KindDeclare:
		_, err := splitDeclare(p)
		return err
	}
	return nil
}

// ParseHello splits the payload of a HELLO frame into protocol version and peer name (aliasing p).
func ParseHello(p []byte) (version byte, name []byte, err error) {
	const fixed = sizeOfMagic + sizeOfVersion + sizeOfNameLen
	if len(p) < fixed || len(p) != fixed+int(p[fixed-1]) {
		return 0, nil, ErrFrameBody
	}
	if string(p[:sizeOfMagic]) != helloMagic {
		return 0, nil, ErrHelloMagic
	}
	return p[sizeOfMagic], p[fixed:], nil
}

// ParseDeclare splits the payload of a DECLARE frame (three length-prefixed names) into a
// MethodName. It copies the names (declarations are rare).
func ParseDeclare(p []byte) (MethodName, error) {
	parts, err := splitDeclare(p)
	if err != nil {
		return MethodName{}, err
	}
	return MethodName{string(parts[0]), string(parts[1]), string(parts[2])}, nil
}

// splitDeclare splits a DECLARE payload into its three names, aliasing p.
func splitDeclare(p []byte) ([3][]byte, error) {
	var parts [3][]byte
	for i := range parts {
		if len(p) < sizeOfNameLen || len(p) < sizeOfNameLen+int(p[0]) {
			return parts, ErrFrameBody
		}
		n := sizeOfNameLen + int(p[0])
		parts[i], p = p[sizeOfNameLen:n], p[n:]
	}
	if len(p) != 0 {
		return parts, ErrFrameBody
	}
	return parts, nil
}

// appendHeader appends a frame header with a zero length, to be patched by EndFrame.
func appendHeader(dst []byte, k Kind) []byte {
	return append(dst, 0, 0, 0, 0, byte(k))
}

// AppendCallHeader appends the fixed part of a CALL frame. The caller appends the arguments and
// then calls EndFrame(dst, start) with start = len(dst) before this call.
func AppendCallHeader(dst []byte, id uint32, method uint16) []byte {
	dst = binary.BigEndian.AppendUint32(appendHeader(dst, KindCall), id)
	return binary.BigEndian.AppendUint16(dst, method)
}

// AppendNotifyHeader appends the fixed part of a NOTIFY frame (see AppendCallHeader).
func AppendNotifyHeader(dst []byte, method uint16) []byte {
	return binary.BigEndian.AppendUint16(appendHeader(dst, KindNotify), method)
}

// AppendReplyHeader appends the fixed part of a REPLY frame (see AppendCallHeader).
func AppendReplyHeader(dst []byte, id uint32) []byte {
	return binary.BigEndian.AppendUint32(appendHeader(dst, KindReply), id)
}

// AppendErrorHeader appends the fixed part of an ERROR frame; the message follows.
func AppendErrorHeader(dst []byte, id uint32, code int32) []byte {
	dst = binary.BigEndian.AppendUint32(appendHeader(dst, KindError), id)
	return binary.BigEndian.AppendUint32(dst, uint32(code))
}

// EndFrame writes the length of the frame that starts at b[start:] and runs to the end of b. If
// the frame is larger than maxFrame (<= 0 means DefaultMaxFrame) it returns b[:start] and
// ErrFrameTooLarge: the frame is removed, the bytes before it are kept.
func EndFrame(b []byte, start, maxFrame int) ([]byte, error) {
	if start < 0 || len(b)-start < FrameHeaderSize || !Kind(b[start+sizeOfLength]).Valid() {
		return b, ErrBadEndFrame
	}
	size := len(b) - start - sizeOfLength
	if size > frameLimit(maxFrame) {
		return b[:start], ErrFrameTooLarge
	}
	binary.BigEndian.PutUint32(b[start:], uint32(size))
	return b, nil
}

// AppendFrame appends f. The payload is written as it is (for HELLO and DECLARE it must already
// hold the encoded body; see AppendHello, AppendDeclare). It does not check any limit.
func AppendFrame(dst []byte, f *Frame) []byte {
	start := len(dst)
	switch f.Kind {
	case KindCall:
		dst = AppendCallHeader(dst, f.ID, f.Method)
	case KindNotify:
		dst = AppendNotifyHeader(dst, f.Method)
	case KindDeclare:
		dst = binary.BigEndian.AppendUint16(appendHeader(dst, KindDeclare), f.Method)
	case KindReply:
		dst = AppendReplyHeader(dst, f.ID)
	case KindError:
		dst = AppendErrorHeader(dst, f.ID, f.Code)
	default:
		dst = appendHeader(dst, f.Kind)
	}
	dst = append(dst, f.Payload...)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-sizeOfLength))
	return dst
}

// AppendCall appends a whole CALL frame with pre-encoded arguments.
func AppendCall(dst []byte, id uint32, method uint16, args []byte) []byte {
	return AppendFrame(dst, &Frame{Kind: KindCall, ID: id, Method: method, Payload: args})
}

// AppendReply appends a whole REPLY frame with a pre-encoded result.
func AppendReply(dst []byte, id uint32, result []byte) []byte {
	return AppendFrame(dst, &Frame{Kind: KindReply, ID: id, Payload: result})
}

// AppendError appends a whole ERROR frame.
func AppendError(dst []byte, id uint32, code int32, msg string) []byte {
	start := len(dst)
	dst = append(AppendErrorHeader(dst, id, code), msg...)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-sizeOfLength))
	return dst
}

// AppendPing appends a PING frame (kind KindPing) or a PONG frame (kind KindPong) with token.
func AppendPing(dst []byte, k Kind, token uint64) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(appendHeader(dst, k), token)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-sizeOfLength))
	return dst
}

// AppendHello appends a HELLO frame announcing this side's name (a server id; may be empty).
func AppendHello(dst []byte, name string) ([]byte, error) {
	return appendHello(dst, ProtocolVersion, name)
}

func appendHello(dst []byte, version byte, name string) ([]byte, error) {
	if len(name) > MaxNameLen {
		return dst, ErrNameTooLong
	}
	start := len(dst)
	dst = append(appendHeader(dst, KindHello), helloMagic...)
	dst = append(append(dst, version, byte(len(name))), name...)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-sizeOfLength))
	return dst, nil
}

// AppendDeclare appends a DECLARE frame binding method id to name for the rest of the connection.
func AppendDeclare(dst []byte, id uint16, name MethodName) ([]byte, error) {
	if err := name.check(); err != nil {
		return dst, err
	}
	start := len(dst)
	dst = binary.BigEndian.AppendUint16(appendHeader(dst, KindDeclare), id)
	for _, s := range [...]string{name.Namespace, name.Service, name.Method} {
		dst = append(append(dst, byte(len(s))), s...)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-sizeOfLength))
	return dst, nil
}
