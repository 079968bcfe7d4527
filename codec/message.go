package codec

import (
	"errors"
	"strconv"
)

// MessageType is the kind of a message, bits 1..3 of its flag byte.
type MessageType byte

// Message types.
const (
	Request  MessageType = 0 // C→S, has an id and a route, answered by a Response with the same id
	Notify   MessageType = 1 // C→S, has a route, never answered
	Response MessageType = 2 // S→C, has an id, no route
	Push     MessageType = 3 // S→C, has a route
)

const (
	flagCompressed = 0x01 // R: route is a 2-byte dictionary code
	flagGzip       = 0x10 // G: pomelo-protocol 0.1.6 "compressGzip", never acted on
	flagReserved   = 0xE0 // bits 5..7
	typeShift      = 1
	typeMask       = 0x07

	sizeOfFlag      = 1
	sizeOfRouteLen  = 1
	sizeOfRouteCode = 2
	maxIDBytes      = 5 // 32 bits in 7-bit groups

	// MaxRouteLen is the longest uncompressed route, in bytes (its length field is one byte).
	MaxRouteLen = 255
)

// Message-layer errors.
var (
	ErrEmptyMessage       = errors.New("codec: empty DATA body")
	ErrUnknownMessageType = errors.New("codec: unknown message type")
	ErrReservedFlag       = errors.New("codec: reserved message flag bits set")
	ErrShortMessage       = errors.New("codec: truncated message")
	ErrIDOverflow         = errors.New("codec: message id does not fit 32 bits")
	ErrRouteTooLong       = errors.New("codec: route longer than 255 bytes")
	ErrNoDictionary       = errors.New("codec: compressed route with no dictionary")
	ErrUnknownRouteCode   = errors.New("codec: route code not in the dictionary")
)

// Valid reports whether t is one of the four message types.
func (t MessageType) Valid() bool { return t <= Push }

// HasID reports whether messages of type t carry an id (requests and responses).
func (t MessageType) HasID() bool { return t == Request || t == Response }

// HasRoute reports whether messages of type t carry a route (all but responses).
func (t MessageType) HasRoute() bool { return t != Response }

var messageTypeNames = [...]string{"request", "notify", "response", "push"}

func (t MessageType) String() string {
	if t.Valid() {
		return messageTypeNames[t]
	}
	return "message-type(" + strconv.Itoa(int(t)) + ")"
}

// Message is a decoded or to-be-encoded message. After ParseMessage, Route and Body alias the
// input. A compressed route is reported as Compressed with Code set and Route empty until
// ResolveRoute fills it in.
type Message struct {
	Type       MessageType
	ID         uint32
	Compressed bool   // the route travels as Code
	Code       uint16 // dictionary code, when Compressed
	Route      []byte // UTF-8 route, when not Compressed (or after ResolveRoute)
	Gzip       bool   // the G flag bit as received; encoders ignore it
	Body       []byte
}

// Reset clears m for reuse without releasing anything.
func (m *Message) Reset() { *m = Message{} }

// ParseMessage decodes the message in b (the body of a DATA package) into m, in place: m.Route and
// m.Body alias b. It never allocates.
func ParseMessage(b []byte, m *Message) error {
	if len(b) == 0 {
		return ErrEmptyMessage
	}
	flag := b[0]
	if flag&flagReserved != 0 {
		return ErrReservedFlag
	}
	t := MessageType(flag >> typeShift & typeMask)
	if !t.Valid() {
		return ErrUnknownMessageType
	}
	*m = Message{Type: t, Gzip: flag&flagGzip != 0}
	off := sizeOfFlag
	if t.HasID() {
		id, n, err := parseID(b[off:])
		if err != nil {
			return err
		}
		m.ID, off = id, off+n
	}
	if t.HasRoute() {
		n, err := m.parseRoute(b[off:], flag&flagCompressed != 0)
		if err != nil {
			return err
		}
		off += n
	}
	m.Body = b[off:len(b):len(b)]
	return nil
}

func (m *Message) parseRoute(b []byte, compressed bool) (int, error) {
	if compressed {
		if len(b) < sizeOfRouteCode {
			return 0, ErrShortMessage
		}
		m.Compressed, m.Code = true, uint16(b[0])<<8|uint16(b[1])
		return sizeOfRouteCode, nil
	}
	if len(b) < sizeOfRouteLen {
		return 0, ErrShortMessage
	}
	end := sizeOfRouteLen + int(b[0])
	if len(b) < end {
		return 0, ErrShortMessage
	}
	m.Route = b[sizeOfRouteLen:end:end]
	return end, nil
}

// parseID decodes a little-endian base-128 varint of at most 32 bits.
func parseID(b []byte) (id uint32, n int, err error) {
	var v uint64
	for i := 0; i < maxIDBytes; i++ {
		if i >= len(b) {
			return 0, 0, ErrShortMessage
		}
		c := b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if v > 1<<32-1 {
				return 0, 0, ErrIDOverflow
			}
			return uint32(v), i + 1, nil
		}
	}
	return 0, 0, ErrIDOverflow
}

// AppendID appends id as a little-endian base-128 varint.
func AppendID(dst []byte, id uint32) []byte {
	for id >= 0x80 {
		dst = append(dst, byte(id)|0x80)
		id >>= 7
	}
	return append(dst, byte(id))
}

// RouteTable resolves dictionary codes to routes. *dict.Table implements it.
type RouteTable interface {
	// RouteBytes returns the route of code; the bytes are owned by the table and must not be
	// modified.
	RouteBytes(code uint16) ([]byte, bool)
}

// ResolveRoute fills in m.Route from m.Code when the route was compressed. It returns
// ErrNoDictionary when d is nil (the connection did not negotiate a dictionary) and
// ErrUnknownRouteCode when the code is not in it. Uncompressed messages are left alone.
func (m *Message) ResolveRoute(d RouteTable) error {
	if !m.Compressed {
		return nil
	}
	if d == nil {
		return ErrNoDictionary
	}
	r, ok := d.RouteBytes(m.Code)
	if !ok {
		return ErrUnknownRouteCode
	}
	m.Route = r
	return nil
}

// AppendMessage appends the encoding of m. A route longer than MaxRouteLen is ErrRouteTooLong and
// an invalid type ErrUnknownMessageType; dst is returned unchanged with an error. The G bit is never
// written.
func AppendMessage(dst []byte, m *Message) ([]byte, error) {
	if !m.Type.Valid() {
		return dst, ErrUnknownMessageType
	}
	compressed := m.Compressed && m.Type.HasRoute()
	if !compressed && m.Type.HasRoute() && len(m.Route) > MaxRouteLen {
		return dst, ErrRouteTooLong
	}
	flag := byte(m.Type) << typeShift
	if compressed {
		flag |= flagCompressed
	}
	dst = append(dst, flag)
	if m.Type.HasID() {
		dst = AppendID(dst, m.ID)
	}
	switch {
	case compressed:
		dst = append(dst, byte(m.Code>>8), byte(m.Code))
	case m.Type.HasRoute():
		dst = append(dst, byte(len(m.Route)))
		dst = append(dst, m.Route...)
	}
	return append(dst, m.Body...), nil
}

// AppendResponse appends a RESPONSE message for request id with the given body.
func AppendResponse(dst []byte, id uint32, body []byte) []byte {
	dst = append(dst, byte(Response)<<typeShift)
	dst = AppendID(dst, id)
	return append(dst, body...)
}

// AppendPushCode appends a PUSH message whose route is the dictionary code.
func AppendPushCode(dst []byte, code uint16, body []byte) []byte {
	dst = append(dst, byte(Push)<<typeShift|flagCompressed, byte(code>>8), byte(code))
	return append(dst, body...)
}

// AppendPush appends a PUSH message with an uncompressed route.
func AppendPush(dst []byte, route string, body []byte) ([]byte, error) {
	if len(route) > MaxRouteLen {
		return dst, ErrRouteTooLong
	}
	dst = append(dst, byte(Push)<<typeShift, byte(len(route)))
	dst = append(dst, route...)
	return append(dst, body...), nil
}

// AppendRequest appends a REQUEST (id > 0) or NOTIFY (id == 0) message with an uncompressed route,
// as clients send them.
func AppendRequest(dst []byte, id uint32, route string, body []byte) ([]byte, error) {
	if len(route) > MaxRouteLen {
		return dst, ErrRouteTooLong
	}
	if id == 0 {
		dst = append(dst, byte(Notify)<<typeShift)
	} else {
		dst = AppendID(append(dst, byte(Request)<<typeShift), id)
	}
	dst = append(dst, byte(len(route)))
	dst = append(dst, route...)
	return append(dst, body...), nil
}

// AppendRequestCode is AppendRequest with the route compressed to its dictionary code.
func AppendRequestCode(dst []byte, id uint32, code uint16, body []byte) []byte {
	if id == 0 {
		dst = append(dst, byte(Notify)<<typeShift|flagCompressed)
	} else {
		dst = AppendID(append(dst, byte(Request)<<typeShift|flagCompressed), id)
	}
	dst = append(dst, byte(code>>8), byte(code))
	return append(dst, body...)
}
