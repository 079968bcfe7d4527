package codec

import (
	"bytes"
	"testing"
)

// packetCases is the one table of {wire, Packet} pairs that drives the package-layer parsers and
// encoders alike (style practice 8). Bytes follow pomelo-protocol §1.1 and the worked examples of
// §16.
var packetCases = []struct {
	name string
	wire []byte
	want Packet
}{
	{
		name: "handshake ack",
		wire: wire(`02 000000 // HANDSHAKE_ACK, length 0`),
		want: Packet{Type: TypeHandshakeAck},
	},
	{
		name: "heartbeat",
		wire: wire(`03 000000 // HEARTBEAT, length 0`),
		want: Packet{Type: TypeHeartbeat},
	},
	{
		name: "handshake response",
		wire: wire(`01 000022 // HANDSHAKE, length 34
			'{"code":200,"sys":{"heartbeat":3}}'`),
		want: Packet{Type: TypeHandshake, Body: []byte(`{"code":200,"sys":{"heartbeat":3}}`)},
	},
	{
		name: "kick",
		wire: wire(`05 000011 // KICK, length 17
			'{"reason":"kick"}'`),
		want: Packet{Type: TypeKick, Body: []byte(`{"reason":"kick"}`)},
	},
	{
		name: "data: request id 1 to connector.entryHandler.entry",
		wire: wire(`04 000028                     // DATA, length 40
			00 01 1c 'connector.entryHandler.entry' // message: REQUEST, id 1, route (28 bytes)
			'{"uid":1}'`),
		want: Packet{Type: TypeData, Body: wire(`00 01 1c 'connector.entryHandler.entry' '{"uid":1}'`)},
	},
	{
		name: "data: same request, route compressed to code 1",
		wire: wire(`04 00000d 01 01 0001 '{"uid":1}' // DATA, length 13`),
		want: Packet{Type: TypeData, Body: wire(`01 01 0001 '{"uid":1}'`)},
	},
	{
		name: "data: length uses the middle byte (0x000100 = 256)",
		wire: cat(wire(`04 000100`), bytes.Repeat([]byte{0xa5}, 256)),
		want: Packet{Type: TypeData, Body: bytes.Repeat([]byte{0xa5}, 256)},
	},
	{
		name: "data: length uses the high byte (0x010000 = 65536)",
		wire: cat(wire(`04 010000`), bytes.Repeat([]byte{0x5a}, 1<<16)),
		want: Packet{Type: TypeData, Body: bytes.Repeat([]byte{0x5a}, 1<<16)},
	},
	{
		name: "data: all three length bytes (0x010203 = 66051)",
		wire: cat(wire(`04 010203`), bytes.Repeat([]byte{'x'}, 0x010203)),
		want: Packet{Type: TypeData, Body: bytes.Repeat([]byte{'x'}, 0x010203)},
	},
}

func TestPacketTable(t *testing.T) {
	for _, c := range packetCases {
		t.Run(c.name, func(t *testing.T) {
			// read side
			typ, n, err := ParseHeader(c.wire)
			requireNoError(t, err, "ParseHeader")
			requireEqual(t, typ, c.want.Type, "ParseHeader type")
			requireEqual(t, n, len(c.want.Body), "ParseHeader length")

			p, used, err := ParsePacket(c.wire, 0)
			requireNoError(t, err, "ParsePacket")
			requireEqual(t, viewPacket(p), viewPacket(c.want), "ParsePacket")
			requireEqual(t, used, len(c.wire), "ParsePacket used")
			requireEqual(t, cap(p.Body), len(p.Body), "body capacity is clipped")

			// Trailing bytes (the next package) are left alone.
			p, used, err = ParsePacket(cat(c.wire, wire(`03 000000`)), 0)
			requireNoError(t, err, "ParsePacket with a trailing package")
			requireEqual(t, viewPacket(p), viewPacket(c.want), "ParsePacket with a trailing package")
			requireEqual(t, used, len(c.wire), "ParsePacket used")

			// write side, appending after existing bytes
			prefix := []byte("prefix")
			got, err := AppendPacket(bytes.Clone(prefix), c.want.Type, c.want.Body)
			requireNoError(t, err, "AppendPacket")
			requireBytes(t, got, cat(prefix, c.wire), "AppendPacket")

			got, err = AppendHeader(bytes.Clone(prefix), c.want.Type, len(c.want.Body))
			requireNoError(t, err, "AppendHeader")
			requireBytes(t, got, cat(prefix, c.wire[:HeaderSize]), "AppendHeader")

			got, at := BeginPacket(bytes.Clone(prefix), c.want.Type)
			requireEqual(t, at, len(prefix), "BeginPacket offset")
			got = append(got, c.want.Body...)
			requireNoError(t, EndPacket(got, at), "EndPacket")
			requireBytes(t, got, cat(prefix, c.wire), "BeginPacket/EndPacket")
		})
	}
}

func TestPacketVectors(t *testing.T) {
	pv := loadPackages(t)
	for _, c := range pv.Cases {
		t.Run(c.Name, func(t *testing.T) {
			p, n, err := ParsePacket(c.Hex, 0)
			requireNoError(t, err, "ParsePacket")
			requireEqual(t, n, len(c.Hex), "bytes used")
			requireEqual(t, p.Type, c.Type, "type")
			requireBytes(t, p.Body, c.Body, "body")

			got, err := AppendPacket(nil, c.Type, c.Body)
			requireNoError(t, err, "AppendPacket")
			requireBytes(t, got, c.Hex, "AppendPacket")

			got, at := BeginPacket(nil, c.Type)
			got = append(got, c.Body...)
			requireNoError(t, EndPacket(got, at), "EndPacket")
			requireBytes(t, got, c.Hex, "BeginPacket/EndPacket")
		})
	}

	t.Run("stream", func(t *testing.T) {
		b := pv.Stream.Hex
		var enc []byte
		for i, want := range pv.Stream.Decoded {
			p, n, err := ParsePacket(b, 0)
			requireNoError(t, err, "ParsePacket", i)
			requireEqual(t, p.Type, want.Type, "type", i)
			requireBytes(t, p.Body, want.Body, "body", i)
			b = b[n:]
			enc, err = AppendPacket(enc, want.Type, want.Body)
			requireNoError(t, err, "AppendPacket", i)
		}
		requireEqual(t, len(b), 0, "bytes left over")
		requireBytes(t, enc, pv.Stream.Hex, "re-encoded stream")
	})
}

func TestTypeNames(t *testing.T) {
	for _, c := range []struct {
		t     Type
		valid bool
		name  string
	}{
		{0, false, "type(0)"},
		{TypeHandshake, true, "handshake"},
		{TypeHandshakeAck, true, "handshake-ack"},
		{TypeHeartbeat, true, "heartbeat"},
		{TypeData, true, "data"},
		{TypeKick, true, "kick"},
		{6, false, "type(6)"},
		{255, false, "type(255)"},
	} {
		requireEqual(t, c.t.Valid(), c.valid, "Valid", int(c.t))
		requireEqual(t, c.t.String(), c.name, "String", int(c.t))
	}
}

func TestParseUnknownType(t *testing.T) {
	for _, typ := range []byte{0, 6, 7, 0x80, 255} {
		b := []byte{typ, 0, 0, 0}
		_, _, err := ParseHeader(b)
		requireErrorIs(t, err, ErrUnknownType, "ParseHeader type", int(typ))
		_, n, err := ParsePacket(b, 0)
		requireErrorIs(t, err, ErrUnknownType, "ParsePacket type", int(typ))
		requireEqual(t, n, 0, "bytes used on error")
	}
}

func TestParseTruncated(t *testing.T) {
	for _, c := range packetCases {
		for k := 0; k < len(c.wire); k++ {
			want := ErrShortBody
			if k < HeaderSize {
				want = ErrShortHeader
				_, _, err := ParseHeader(c.wire[:k])
				requireErrorIs(t, err, ErrShortHeader, c.name, "ParseHeader prefix", k)
			}
			p, n, err := ParsePacket(c.wire[:k], 0)
			requireErrorIs(t, err, want, c.name, "ParsePacket prefix", k)
			requireEqual(t, n, 0, "bytes used on error")
			requireEqual(t, p.Body == nil, true, "no body on error")
			if k > 64 && k < len(c.wire)-64 {
				k = len(c.wire) - 64 // the middle of a long body says nothing new
			}
		}
	}
}

func TestParseBodyLimit(t *testing.T) {
	const limit = 100
	header := func(n int) []byte { return []byte{byte(TypeData), byte(n >> 16), byte(n >> 8), byte(n)} }

	// limit accepted
	b := cat(header(limit), bytes.Repeat([]byte{'a'}, limit))
	p, n, err := ParsePacket(b, limit)
	requireNoError(t, err, "body of exactly the limit")
	requireEqual(t, n, len(b), "bytes used")
	requireEqual(t, len(p.Body), limit, "body length")

	// limit+1 rejected, whether the body is there or not: the header alone decides.
	over := header(limit + 1)
	for _, in := range [][]byte{over, cat(over, []byte{'a'}), cat(over, bytes.Repeat([]byte{'a'}, limit+1))} {
		_, _, err = ParsePacket(in, limit)
		requireErrorIs(t, err, ErrBodyTooLarge, "limit+1 with", len(in)-HeaderSize, "body bytes present")
	}
	// A header announcing exactly the limit, body missing, is merely short.
	_, _, err = ParsePacket(header(limit), limit)
	requireErrorIs(t, err, ErrShortBody, "limit announced, body missing")

	// maxBody <= 0 or above the field's range means MaxBodySize: the largest length is accepted
	// (and then found short), never ErrBodyTooLarge.
	for _, maxBody := range []int{0, -1, MaxBodySize, MaxBodySize + 1, 1 << 30} {
		_, _, err = ParsePacket(header(MaxBodySize), maxBody)
		requireErrorIs(t, err, ErrShortBody, "MaxBodySize announced, maxBody", maxBody)
	}
	_, _, err = ParsePacket(header(MaxBodySize), MaxBodySize-1)
	requireErrorIs(t, err, ErrBodyTooLarge, "MaxBodySize announced, limit MaxBodySize-1")
}

func TestAppendHeaderLimits(t *testing.T) {
	got, err := AppendHeader(nil, TypeData, MaxBodySize)
	requireNoError(t, err, "MaxBodySize")
	requireBytes(t, got, wire(`04 ffffff`), "MaxBodySize header")

	dst := []byte("keep")
	for _, n := range []int{MaxBodySize + 1, 1 << 30, -1} {
		got, err = AppendHeader(dst, TypeData, n)
		requireErrorIs(t, err, ErrPacketTooLarge, "AppendHeader length", n)
		requireBytes(t, got, []byte("keep"), "dst unchanged")
	}

	big := make([]byte, MaxBodySize+1)
	got, err = AppendPacket(dst, TypeData, big)
	requireErrorIs(t, err, ErrPacketTooLarge, "AppendPacket of MaxBodySize+1")
	requireBytes(t, got, []byte("keep"), "dst unchanged")

	got, err = AppendPacket(nil, TypeData, big[:MaxBodySize])
	requireNoError(t, err, "AppendPacket of MaxBodySize")
	requireEqual(t, len(got), HeaderSize+MaxBodySize, "length")
	p, _, err := ParsePacket(got, 0)
	requireNoError(t, err, "ParsePacket of MaxBodySize")
	requireEqual(t, len(p.Body), MaxBodySize, "body length")
}

func TestBeginEndPacket(t *testing.T) {
	// Two packages built in place one after the other, the second with a message written straight
	// into the buffer.
	buf, at := BeginPacket(nil, TypeHeartbeat)
	requireNoError(t, EndPacket(buf, at), "empty body")
	buf, at = BeginPacket(buf, TypeData)
	requireEqual(t, at, HeaderSize, "second offset")
	buf = AppendResponse(buf, 1, []byte(`{"code":200,"msg":"ok"}`))
	requireNoError(t, EndPacket(buf, at), "response")
	requireBytes(t, buf, wire(`
		03 000000                                      // HEARTBEAT
		04 000019 04 01 '{"code":200,"msg":"ok"}'      // DATA 25 B: RESPONSE id 1`), "two packages")

	// Round trip through the parser.
	p, n, err := ParsePacket(buf[at:], 0)
	requireNoError(t, err, "ParsePacket")
	requireEqual(t, n, len(buf)-at, "bytes used")
	var m Message
	requireNoError(t, ParseMessage(p.Body, &m), "ParseMessage")
	requireEqual(t, viewMessage(&m), msgView{Type: Response, ID: 1, Body: `{"code":200,"msg":"ok"}`}, "message")

	// Bad offsets.
	for _, at := range []int{-1, len(buf) - HeaderSize + 1, len(buf), len(buf) + 10} {
		requireErrorIs(t, EndPacket(buf, at), ErrBadPacketOffset, "offset", at)
	}
	requireNoError(t, EndPacket(buf, len(buf)-HeaderSize), "header at the very end: empty body")
	requireBytes(t, buf[len(buf)-HeaderSize+1:], []byte{0, 0, 0}, "length written as 0")

	// A body that outgrew the length field.
	big, at := BeginPacket(make([]byte, 0, HeaderSize+MaxBodySize+1), TypeData)
	big = big[:HeaderSize+MaxBodySize+1]
	requireErrorIs(t, EndPacket(big, at), ErrPacketTooLarge, "MaxBodySize+1")
	requireNoError(t, EndPacket(big[:HeaderSize+MaxBodySize], at), "MaxBodySize")
	requireBytes(t, big[:HeaderSize], wire(`04 ffffff`), "MaxBodySize header")
}
