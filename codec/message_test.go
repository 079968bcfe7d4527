package codec

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
)

// Flag bytes below are written as bits, 0b RRR_G_TTT_R: three reserved bits, G (gzip), the
// three-bit type and R (route compressed). pomelo-protocol §2.2.

var route255 = "a.b." + strings.Repeat("c", 251)

// messageCases is the one table of {wire, Message} pairs that drives ParseMessage, AppendMessage and
// the fast encoders alike (style practice 8). Bytes follow §2 and §16 of pomelo-protocol.md.
var messageCases = []struct {
	name string
	wire []byte
	want Message
}{
	{
		name: "request, route as string",
		wire: wire(`0b000_0_000_0                    // REQUEST, route not compressed
			01                                 // id 1
			1c 'connector.entryHandler.entry'  // route: length 28, UTF-8
			'{"uid":1}'                        // body`),
		want: Message{Type: Request, ID: 1, Route: []byte("connector.entryHandler.entry"), Body: []byte(`{"uid":1}`)},
	},
	{
		name: "request, route code 1",
		wire: wire(`0b000_0_000_1 // REQUEST, route compressed
			01                  // id 1
			0001                // route code 1, big-endian
			'{"uid":1}'`),
		want: Message{Type: Request, ID: 1, Compressed: true, Code: 1, Body: []byte(`{"uid":1}`)},
	},
	{
		name: "request id 300, empty route, empty body",
		wire: wire(`0b000_0_000_0  ac02 // id 300: 0x2c|0x80, then 300>>7 = 2
			00                       // route length 0`),
		want: Message{Type: Request, ID: 300, Route: []byte{}, Body: []byte{}},
	},
	{
		name: "request, route of 255 bytes",
		wire: cat(wire(`0b000_0_000_0 0a ff`), []byte(route255), wire(`'{}'`)),
		want: Message{Type: Request, ID: 10, Route: []byte(route255), Body: []byte(`{}`)},
	},
	{
		name: "request, UTF-8 route",
		wire: wire(`0b000_0_000_0 09 19 'chat.聊天Handler.发送' '{}' // route is 25 bytes, 17 runes`),
		want: Message{Type: Request, ID: 9, Route: []byte("chat.聊天Handler.发送"), Body: []byte(`{}`)},
	},
	{
		name: "notify, route as string",
		wire: wire(`0b000_0_001_0                // NOTIFY: no id
			15 'chat.chatHandler.send'     // route: length 21
			'{}'`),
		want: Message{Type: Notify, Route: []byte("chat.chatHandler.send"), Body: []byte(`{}`)},
	},
	{
		name: "notify, route code 513",
		wire: wire(`0b000_0_001_1  0201 '{}' // code 0x0201: high byte first`),
		want: Message{Type: Notify, Compressed: true, Code: 513, Body: []byte(`{}`)},
	},
	{
		name: "response",
		wire: wire(`0b000_0_010_0 // RESPONSE: id, no route
			01 '{"code":200,"msg":"ok"}'`),
		want: Message{Type: Response, ID: 1, Body: []byte(`{"code":200,"msg":"ok"}`)},
	},
	{
		name: "response, empty body",
		wire: wire(`0b000_0_010_0 0b`),
		want: Message{Type: Response, ID: 11, Body: []byte{}},
	},
	{
		name: "response, binary body",
		wire: wire(`0b000_0_010_0 0c 000102ff80`),
		want: Message{Type: Response, ID: 12, Body: []byte{0, 1, 2, 0xff, 0x80}},
	},
	{
		name: "response, id 2^32-1",
		wire: wire(`0b000_0_010_0 ffffffff0f '{}' // 4x7 bits set, then the last 4 bits`),
		want: Message{Type: Response, ID: 1<<32 - 1, Body: []byte(`{}`)},
	},
	{
		name: "push, route as string",
		wire: wire(`0b000_0_011_0 // PUSH: no id
			06 'onChat' '{"msg":"hi"}'`),
		want: Message{Type: Push, Route: []byte("onChat"), Body: []byte(`{"msg":"hi"}`)},
	},
	{
		name: "push, route code 3",
		wire: wire(`0b000_0_011_1 0003 '{"msg":"hi"}'`),
		want: Message{Type: Push, Compressed: true, Code: 3, Body: []byte(`{"msg":"hi"}`)},
	},
	{
		name: "push, route code 65535, empty body",
		wire: wire(`0b000_0_011_1 ffff`),
		want: Message{Type: Push, Compressed: true, Code: 65535, Body: []byte{}},
	},
	{
		name: "push, empty route",
		wire: wire(`0b000_0_011_0 00 '{}'`),
		want: Message{Type: Push, Route: []byte{}, Body: []byte(`{}`)},
	},
}

// idLadder is the id varint table of pomelo-protocol §2.3, plus the 32-bit end.
var idLadder = []struct {
	id   uint32
	wire []byte
}{
	{0, wire(`00`)},
	{1, wire(`01`)},
	{127, wire(`7f`)},
	{128, wire(`80 01`)},
	{129, wire(`81 01`)},
	{300, wire(`ac 02`)},
	{16383, wire(`ff 7f`)},
	{16384, wire(`80 80 01`)},
	{2097151, wire(`ff ff 7f`)},
	{2097152, wire(`80 80 80 01`)},
	{268435455, wire(`ff ff ff 7f`)},
	{268435456, wire(`80 80 80 80 01`)},
	{2147483647, wire(`ff ff ff ff 07 // the largest id the JS codec handles`)},
	{2147483648, wire(`80 80 80 80 08`)},
	{1<<32 - 1, wire(`ff ff ff ff 0f`)},
}

// appendFast encodes m with the specialised encoder that applies to it, if any.
func appendFast(dst []byte, m *Message) ([]byte, bool, error) {
	switch {
	case m.Type == Response:
		return AppendResponse(dst, m.ID, m.Body), true, nil
	case m.Type == Push && m.Compressed:
		return AppendPushCode(dst, m.Code, m.Body), true, nil
	case m.Type == Push:
		b, err := AppendPush(dst, string(m.Route), m.Body)
		return b, true, err
	case m.Type == Notify || m.ID != 0: // AppendRequest* send id 0 as a NOTIFY
		if m.Compressed {
			return AppendRequestCode(dst, m.ID, m.Code, m.Body), true, nil
		}
		b, err := AppendRequest(dst, m.ID, string(m.Route), m.Body)
		return b, true, err
	}
	return dst, false, nil
}

// checkMessageCodec checks that wire decodes to want and that every encoder that applies writes
// exactly wire.
func checkMessageCodec(t *testing.T, wireBytes []byte, want Message) {
	t.Helper()
	var m Message
	requireNoError(t, ParseMessage(wireBytes, &m), "ParseMessage")
	requireEqual(t, viewMessage(&m), viewMessage(&want), "ParseMessage")
	if len(m.Body) > 0 {
		requireEqual(t, &m.Body[0], &wireBytes[len(wireBytes)-len(m.Body)], "body aliases the input")
	}
	requireEqual(t, cap(m.Body), len(m.Body), "body capacity is clipped")
	requireEqual(t, cap(m.Route), len(m.Route), "route capacity is clipped")

	prefix := []byte("prefix")
	got, err := AppendMessage(bytes.Clone(prefix), &want)
	requireNoError(t, err, "AppendMessage")
	requireBytes(t, got, cat(prefix, wireBytes), "AppendMessage")

	got, ok, err := appendFast(bytes.Clone(prefix), &want)
	if ok {
		requireNoError(t, err, "fast encoder")
		requireBytes(t, got, cat(prefix, wireBytes), "fast encoder")
	}
}

func TestMessageTable(t *testing.T) {
	for _, c := range messageCases {
		t.Run(c.name, func(t *testing.T) { checkMessageCodec(t, c.wire, c.want) })
	}
}

func TestMessageVectors(t *testing.T) {
	table := mapTable{1: "connector.entryHandler.entry", 3: "onChat", 513: "chat.chatHandler.send", 65535: "x"}
	for _, v := range loadMessages(t) {
		t.Run(v.Name, func(t *testing.T) {
			want := v.message(t)
			checkMessageCodec(t, v.Hex, want)

			// Compressed routes resolve through the dictionary to the route.
			var m Message
			requireNoError(t, ParseMessage(v.Hex, &m), "ParseMessage")
			requireNoError(t, m.ResolveRoute(table), "ResolveRoute")
			if want.Compressed {
				requireEqual(t, string(m.Route), table[want.Code], "resolved route")
			} else {
				requireEqual(t, string(m.Route), string(want.Route), "route left alone")
			}
		})
	}
}

func TestIDLadder(t *testing.T) {
	for _, c := range idLadder {
		requireBytes(t, AppendID(nil, c.id), c.wire, "AppendID", int(c.id))

		id, n, err := parseID(cat(c.wire, wire(`7b7d`)))
		requireNoError(t, err, "parseID", int(c.id))
		requireEqual(t, id, c.id, "parseID")
		requireEqual(t, n, len(c.wire), "parseID length", int(c.id))

		// The same id inside a response and a request.
		checkMessageCodec(t, cat(wire(`04`), c.wire, wire(`'{}'`)), Message{Type: Response, ID: c.id, Body: []byte(`{}`)})
		checkMessageCodec(t, cat(wire(`00`), c.wire, wire(`01 'r' '{}'`)),
			Message{Type: Request, ID: c.id, Route: []byte("r"), Body: []byte(`{}`)})
	}
}

// Inputs the decoder accepts although no encoder produces them. Each decodes to want and encodes
// back to canon, the form pomelo-protocol writes.
var lenientCases = []struct {
	name  string
	wire  []byte
	want  Message
	canon []byte
}{
	{
		name:  "G bit on a response (pomelo-protocol 0.1.6 §16)",
		wire:  wire(`0b000_1_010_0 05 '{}'`),
		want:  Message{Type: Response, ID: 5, Gzip: true, Body: []byte(`{}`)},
		canon: wire(`0b000_0_010_0 05 '{}'`),
	},
	{
		name:  "G bit on a compressed push",
		wire:  wire(`0b000_1_011_1 0003 '{}'`),
		want:  Message{Type: Push, Gzip: true, Compressed: true, Code: 3, Body: []byte(`{}`)},
		canon: wire(`0b000_0_011_1 0003 '{}'`),
	},
	{
		name:  "R bit on a response is ignored (responses carry no route)",
		wire:  wire(`0b000_0_010_1 01 '{}'`),
		want:  Message{Type: Response, ID: 1, Body: []byte(`{}`)},
		canon: wire(`0b000_0_010_0 01 '{}'`),
	},
	{
		name:  "id 0 in two bytes",
		wire:  wire(`0b000_0_010_0 80 00 '{}'`),
		want:  Message{Type: Response, ID: 0, Body: []byte(`{}`)},
		canon: wire(`0b000_0_010_0 00 '{}'`),
	},
	{
		name:  "id 1 in five bytes",
		wire:  wire(`0b000_0_000_0 81 80 80 80 00 01 'r'`),
		want:  Message{Type: Request, ID: 1, Route: []byte("r"), Body: []byte{}},
		canon: wire(`0b000_0_000_0 01 01 'r'`),
	},
}

func TestMessageLenient(t *testing.T) {
	for _, c := range lenientCases {
		var m Message
		requireNoError(t, ParseMessage(c.wire, &m), c.name)
		requireEqual(t, viewMessage(&m), viewMessage(&c.want), c.name)
		got, err := AppendMessage(nil, &m)
		requireNoError(t, err, c.name, "AppendMessage")
		requireBytes(t, got, c.canon, c.name, "AppendMessage")
	}
}

func TestParseMessageErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		wire []byte
		want error
	}{
		{"empty DATA body", nil, ErrEmptyMessage},
		{"empty DATA body (non-nil)", []byte{}, ErrEmptyMessage},

		{"reserved bit 5", wire(`0b001_0_010_0 01`), ErrReservedFlag},
		{"reserved bit 6", wire(`0b010_0_010_0 01`), ErrReservedFlag},
		{"reserved bit 7", wire(`0b100_0_010_0 01`), ErrReservedFlag},
		{"all reserved bits on a push", wire(`0b111_0_011_0 00`), ErrReservedFlag},
		{"reserved bit with G", wire(`0b001_1_000_0 01 00`), ErrReservedFlag},
		{"reserved bit alone", wire(`0b100_0_000_0`), ErrReservedFlag},

		{"message type 4", wire(`0b000_0_100_0 01`), ErrUnknownMessageType},
		{"message type 5", wire(`0b000_0_101_0`), ErrUnknownMessageType},
		{"message type 6, R", wire(`0b000_0_110_1 0001`), ErrUnknownMessageType},
		{"message type 7", wire(`0b000_0_111_0`), ErrUnknownMessageType},
		{"message type 7, G", wire(`0b000_1_111_1`), ErrUnknownMessageType},

		{"id 2^32", wire(`0b000_0_010_0 80 80 80 80 10`), ErrIDOverflow},
		{"id 2^35-1", wire(`0b000_0_010_0 ff ff ff ff 7f`), ErrIDOverflow},
		{"id in 6 bytes", wire(`0b000_0_010_0 80 80 80 80 80 00`), ErrIDOverflow},
		{"id in 6 bytes, value 1", wire(`0b000_0_000_0 81 80 80 80 80 00 00`), ErrIDOverflow},
		{"id: 5 bytes all with continuation, input ends", wire(`0b000_0_010_0 80 80 80 80 80`), ErrIDOverflow},
		{"request id 2^32", wire(`0b000_0_000_0 80 80 80 80 10 00`), ErrIDOverflow},

		{"route length past the end", wire(`0b000_0_011_0 05 'onCh'`), ErrShortMessage},
		{"route code cut", wire(`0b000_0_011_1 00`), ErrShortMessage},
		{"id cut", wire(`0b000_0_010_0 ff ff`), ErrShortMessage},
	} {
		var m Message
		requireErrorIs(t, ParseMessage(c.wire, &m), c.want, c.name)
	}
}

// Every prefix that ends inside the flag, id or route is ErrEmptyMessage or ErrShortMessage; every
// longer prefix decodes, with the body cut short.
func TestParseMessageTruncated(t *testing.T) {
	for _, c := range messageCases {
		head := len(c.wire) - len(c.want.Body)
		for k := 0; k <= len(c.wire); k++ {
			var m Message
			err := ParseMessage(c.wire[:k], &m)
			switch {
			case k == 0:
				requireErrorIs(t, err, ErrEmptyMessage, c.name, "prefix", k)
			case k < head:
				requireErrorIs(t, err, ErrShortMessage, c.name, "prefix", k)
			default:
				requireNoError(t, err, c.name, "prefix", k)
				want := c.want
				want.Body = c.wire[head:k]
				requireEqual(t, viewMessage(&m), viewMessage(&want), c.name, "prefix", k)
			}
		}
	}
}

func TestAppendMessageErrors(t *testing.T) {
	long := []byte(route255 + "x")
	dst := []byte("keep")
	for _, typ := range []MessageType{Request, Notify, Push} {
		got, err := AppendMessage(dst, &Message{Type: typ, ID: 1, Route: long})
		requireErrorIs(t, err, ErrRouteTooLong, "256-byte route on", typ.String())
		requireBytes(t, got, []byte("keep"), "dst unchanged")

		// A compressed route sends only the code, whatever Route holds.
		got, err = AppendMessage(nil, &Message{Type: typ, ID: 1, Compressed: true, Code: 7, Route: long})
		requireNoError(t, err, "compressed, long Route ignored")
		requireEqual(t, len(got) < len(long), true, "route not written")
	}
	// Responses carry no route, so a long one does not matter.
	got, err := AppendMessage(nil, &Message{Type: Response, ID: 1, Route: long, Compressed: true, Code: 7})
	requireNoError(t, err, "response ignores route fields")
	requireBytes(t, got, wire(`0b000_0_010_0 01`), "response ignores route fields")

	// Notifies and pushes carry no id; G is never written.
	got, err = AppendMessage(nil, &Message{Type: Push, ID: 99, Gzip: true, Route: []byte("p")})
	requireNoError(t, err, "push")
	requireBytes(t, got, wire(`0b000_0_011_0 01 'p'`), "push ignores ID and Gzip")

	for _, typ := range []MessageType{4, 5, 7, 255} {
		got, err := AppendMessage(dst, &Message{Type: typ})
		requireErrorIs(t, err, ErrUnknownMessageType, "type", int(typ))
		requireBytes(t, got, []byte("keep"), "dst unchanged")
	}

	got, err = AppendPush(dst, string(long), nil)
	requireErrorIs(t, err, ErrRouteTooLong, "AppendPush")
	requireBytes(t, got, []byte("keep"), "dst unchanged")
	got, err = AppendRequest(dst, 1, string(long), nil)
	requireErrorIs(t, err, ErrRouteTooLong, "AppendRequest")
	requireBytes(t, got, []byte("keep"), "dst unchanged")
	got, err = AppendRequest(dst, 0, string(long), nil)
	requireErrorIs(t, err, ErrRouteTooLong, "AppendRequest as notify")
	requireBytes(t, got, []byte("keep"), "dst unchanged")

	// 255 bytes is the longest route accepted by all.
	_, err = AppendPush(nil, route255, nil)
	requireNoError(t, err, "AppendPush 255")
	_, err = AppendRequest(nil, 1, route255, nil)
	requireNoError(t, err, "AppendRequest 255")
	_, err = AppendMessage(nil, &Message{Type: Notify, Route: []byte(route255)})
	requireNoError(t, err, "AppendMessage 255")
}

func TestResolveRoute(t *testing.T) {
	var m Message
	requireNoError(t, ParseMessage(wire(`0b000_0_001_1 0201 '{}'`), &m), "parse")

	requireErrorIs(t, m.ResolveRoute(nil), ErrNoDictionary, "no dictionary")
	requireEqual(t, len(m.Route), 0, "route after ErrNoDictionary")
	requireErrorIs(t, m.ResolveRoute(mapTable{1: "a.b.c"}), ErrUnknownRouteCode, "unknown code")
	requireEqual(t, len(m.Route), 0, "route after ErrUnknownRouteCode")
	requireErrorIs(t, m.ResolveRoute(mapTable{}), ErrUnknownRouteCode, "empty dictionary")

	requireNoError(t, m.ResolveRoute(mapTable{513: "chat.chatHandler.send"}), "known code")
	requireEqual(t, string(m.Route), "chat.chatHandler.send", "route")
	requireEqual(t, m.Code, uint16(513), "code kept")

	// Uncompressed routes need no dictionary.
	requireNoError(t, ParseMessage(wire(`0b000_0_001_0 01 'r'`), &m), "parse")
	requireNoError(t, m.ResolveRoute(nil), "uncompressed, no dictionary")
	requireEqual(t, string(m.Route), "r", "route")
}

func TestMessageTypeMethods(t *testing.T) {
	for _, c := range []struct {
		t                      MessageType
		valid, hasID, hasRoute bool
		name                   string
	}{
		{Request, true, true, true, "request"},
		{Notify, true, false, true, "notify"},
		{Response, true, true, false, "response"},
		{Push, true, false, true, "push"},
		{4, false, false, true, "message-type(4)"},
		{7, false, false, true, "message-type(7)"},
	} {
		requireEqual(t, c.t.Valid(), c.valid, "Valid", c.name)
		requireEqual(t, c.t.HasID(), c.hasID, "HasID", c.name)
		requireEqual(t, c.t.HasRoute(), c.hasRoute, "HasRoute", c.name)
		requireEqual(t, c.t.String(), c.name, "String")
	}
	m := Message{Type: Push, ID: 3, Route: []byte("x"), Gzip: true}
	m.Reset()
	requireEqual(t, viewMessage(&m), msgView{}, "Reset")
}

// randomMessage draws a message of the given type whose every field matters on the wire.
func randomMessage(r *rand.Rand, typ MessageType) Message {
	m := Message{Type: typ}
	if typ.HasID() {
		switch r.Intn(4) {
		case 0:
			m.ID = 0
		case 1:
			m.ID = 1<<32 - 1
		case 2:
			m.ID = uint32(r.Intn(1 << 14))
		default:
			m.ID = r.Uint32() >> uint(r.Intn(32))
		}
	}
	if typ.HasRoute() {
		if r.Intn(2) == 0 {
			m.Compressed, m.Code = true, uint16(r.Intn(1<<16))
		} else {
			m.Route = make([]byte, r.Intn(MaxRouteLen+1))
			r.Read(m.Route)
		}
	}
	m.Body = make([]byte, r.Intn(300))
	r.Read(m.Body)
	return m
}

func TestMessageRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	iterations := 20000
	if testing.Short() {
		iterations = 2000
	}
	var buf, fast []byte
	for i := 0; i < iterations; i++ {
		want := randomMessage(r, MessageType(i%4))
		var err error
		buf, err = AppendMessage(buf[:0], &want)
		requireNoError(t, err, "AppendMessage", i)

		var got Message
		requireNoError(t, ParseMessage(buf, &got), "ParseMessage", i)
		requireEqual(t, viewMessage(&got), viewMessage(&want), "round trip", i)

		var ok bool
		fast, ok, err = appendFast(fast[:0], &want)
		if ok {
			requireNoError(t, err, "fast encoder", i)
			requireBytes(t, fast, buf, "fast encoder agrees with AppendMessage", i)
		}
	}
}
