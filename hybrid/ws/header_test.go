package ws

import (
	"bytes"
	"fmt"
	"testing"
)

var rfcKey = [4]byte{0x37, 0xfa, 0x21, 0x3d} // masking key of the RFC 6455 §5.7 examples

// headerCases drives both ParseHeader and AppendFrameHeader. Bits are
// written as "FIN RSV1-3 opcode  MASK len7", then the extended length and the
// masking key.
var headerCases = []struct {
	name string
	wire []byte
	h    Header
}{
	{
		"text Hello unmasked (RFC 5.7)",
		bits("1 000 0001  0 0000101"),
		Header{Fin: true, Op: OpText, Length: 5},
	},
	{
		"text Hello masked (RFC 5.7)",
		cat(bits("1 000 0001  1 0000101"), rfcKey[:]),
		Header{Fin: true, Op: OpText, Masked: true, Mask: rfcKey, Length: 5},
	},
	{
		"first fragment Hel (RFC 5.7)",
		bits("0 000 0001  0 0000011"),
		Header{Op: OpText, Length: 3},
	},
	{
		"last fragment lo (RFC 5.7)",
		bits("1 000 0000  0 0000010"),
		Header{Fin: true, Op: OpContinuation, Length: 2},
	},
	{
		"middle fragment masked, empty",
		cat(bits("0 000 0000  1 0000000"), []byte{1, 2, 3, 4}),
		Header{Op: OpContinuation, Masked: true, Mask: [4]byte{1, 2, 3, 4}},
	},
	{
		"ping Hello unmasked (RFC 5.7)",
		bits("1 000 1001  0 0000101"),
		Header{Fin: true, Op: OpPing, Length: 5},
	},
	{
		"pong Hello masked (RFC 5.7)",
		cat(bits("1 000 1010  1 0000101"), rfcKey[:]),
		Header{Fin: true, Op: OpPong, Masked: true, Mask: rfcKey, Length: 5},
	},
	{
		"close empty",
		bits("1 000 1000  0 0000000"),
		Header{Fin: true, Op: OpClose},
	},
	{
		"ping 125 bytes (largest control payload)",
		bits("1 000 1001  0 1111101"),
		Header{Fin: true, Op: OpPing, Length: 125},
	},
	{
		"binary 125 bytes (largest 7-bit length)",
		bits("1 000 0010  0 1111101"),
		Header{Fin: true, Op: OpBinary, Length: 125},
	},
	{
		"binary 126 bytes (smallest 16-bit length)",
		bits("1 000 0010  0 1111110  00000000 01111110"),
		Header{Fin: true, Op: OpBinary, Length: 126},
	},
	{
		"binary 256 bytes (RFC 5.7)",
		bits("1 000 0010  0 1111110  00000001 00000000"),
		Header{Fin: true, Op: OpBinary, Length: 256},
	},
	{
		"binary 65535 bytes masked (largest 16-bit length)",
		cat(bits("1 000 0010  1 1111110  11111111 11111111"), rfcKey[:]),
		Header{Fin: true, Op: OpBinary, Masked: true, Mask: rfcKey, Length: 65535},
	},
	{
		"binary 64 KiB (RFC 5.7, smallest 64-bit length)",
		bits("1 000 0010  0 1111111  00000000 00000000 00000000 00000000 00000000 00000001 00000000 00000000"),
		Header{Fin: true, Op: OpBinary, Length: 65536},
	},
	{
		"binary 64 KiB masked, first fragment",
		cat(bits("0 000 0010  1 1111111  00000000 00000000 00000000 00000000 00000000 00000001 00000000 00000000"), rfcKey[:]),
		Header{Op: OpBinary, Masked: true, Mask: rfcKey, Length: 65536},
	},
}

func maskOf(h Header) *[4]byte {
	if !h.Masked {
		return nil
	}
	return &h.Mask
}

// roleFor returns the role that accepts h's masking.
func roleFor(masked bool) Role {
	if masked {
		return RoleServer
	}
	return RoleClient
}

func TestHeaderCases(t *testing.T) {
	for _, tc := range headerCases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Role: roleFor(tc.h.Masked), MaxMessageSize: 1 << 20}

			h, n, err := cfg.ParseHeader(tc.wire)
			requireNoError(t, err)
			requireEqual(t, n, len(tc.wire))
			requireEqual(t, h, tc.h)

			// Bytes after the header are not the header's business.
			h, n, err = cfg.ParseHeader(cat(tc.wire, []byte{0xff, 0x00, 0x81}))
			requireNoError(t, err)
			requireEqual(t, n, len(tc.wire))
			requireEqual(t, h, tc.h)

			got := AppendFrameHeader([]byte("prefix"), tc.h.Fin, tc.h.Op, tc.h.Length, maskOf(tc.h))
			requireBytes(t, got, cat([]byte("prefix"), tc.wire))
			requireEqual(t, HeaderSize(tc.h.Length, tc.h.Masked), len(tc.wire))
		})
	}
}

// Every prefix of a valid header asks for more, with the size to wait for.
func TestHeaderSplit(t *testing.T) {
	for _, tc := range headerCases {
		cfg := Config{Role: roleFor(tc.h.Masked), MaxMessageSize: 1 << 20}
		for k := range len(tc.wire) {
			h, n, err := cfg.ParseHeader(tc.wire[:k])
			if err != ErrShortBuffer || h != (Header{}) {
				t.Fatalf("%s: prefix %d: h=%+v err=%v, want ErrShortBuffer", tc.name, k, h, err)
			}
			want := 2
			if k >= 2 {
				want = len(tc.wire)
			}
			requireEqual(t, n, want)
		}
	}
}

// A 16- or 64-bit length field holding a small value is not minimal, which
// RFC 6455 forbids senders but this parser tolerates.
func TestHeaderNonMinimalLength(t *testing.T) {
	cfg := Config{Role: RoleClient}
	for _, wire := range [][]byte{
		bits("1 000 0010  0 1111110  00000000 00000101"),
		bits("1 000 0010  0 1111111  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000101"),
	} {
		h, n, err := cfg.ParseHeader(wire)
		requireNoError(t, err)
		requireEqual(t, n, len(wire))
		requireEqual(t, h, Header{Fin: true, Op: OpBinary, Length: 5})
	}
}

func TestHeaderErrors(t *testing.T) {
	key := rfcKey[:]
	cases := []struct {
		name string
		cfg  Config
		wire []byte
		err  error
		code StatusCode
	}{
		{"RSV1", Config{}, bits("1 100 0010  1 0000000"), ErrReservedBits, 1002},
		{"RSV2", Config{}, bits("1 010 0010  1 0000000"), ErrReservedBits, 1002},
		{"RSV3", Config{}, bits("1 001 0010  1 0000000"), ErrReservedBits, 1002},
		{"RSV on a control frame", Config{}, bits("1 001 1001  1 0000000"), ErrReservedBits, 1002},
		{"opcode 0x3", Config{}, bits("1 000 0011  1 0000000"), ErrUnknownOpcode, 1002},
		{"opcode 0x7", Config{}, bits("1 000 0111  1 0000000"), ErrUnknownOpcode, 1002},
		{"opcode 0xB", Config{}, bits("1 000 1011  1 0000000"), ErrUnknownOpcode, 1002},
		{"opcode 0xF", Config{}, bits("1 000 1111  1 0000000"), ErrUnknownOpcode, 1002},
		{"ping without FIN", Config{}, bits("0 000 1001  1 0000000"), ErrFragmentedControl, 1002},
		{"close without FIN", Config{}, bits("0 000 1000  1 0000000"), ErrFragmentedControl, 1002},
		{"ping with 16-bit length", Config{}, bits("1 000 1001  1 1111110"), ErrControlTooLong, 1002},
		{"pong with 64-bit length", Config{}, bits("1 000 1010  1 1111111"), ErrControlTooLong, 1002},
		{"server: unmasked text", Config{}, bits("1 000 0001  0 0000101"), ErrUnmaskedFrame, 1002},
		{"server: unmasked ping", Config{}, bits("1 000 1001  0 0000000"), ErrUnmaskedFrame, 1002},
		{"client: masked text", Config{Role: RoleClient}, bits("1 000 0001  1 0000101"), ErrMaskedFrame, 1002},
		{
			"64-bit length with top bit",
			Config{},
			cat(bits("1 000 0010  1 1111111  10000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000"), key),
			ErrLengthOverflow, 1002,
		},
		{
			"64-bit length all ones",
			Config{Role: RoleClient},
			bits("1 000 0010  0 1111111  11111111 11111111 11111111 11111111 11111111 11111111 11111111 11111111"),
			ErrLengthOverflow, 1002,
		},
		{
			"largest 64-bit length",
			Config{},
			cat(bits("1 000 0010  1 1111111  01111111 11111111 11111111 11111111 11111111 11111111 11111111 11111111"), key),
			ErrMessageTooBig, 1009,
		},
		{
			"limit+1 in 7-bit length",
			Config{MaxMessageSize: 100},
			cat(bits("1 000 0010  1 1100101"), key), // 101
			ErrMessageTooBig, 1009,
		},
		{
			"default limit+1 (64 KiB + 1)",
			Config{},
			cat(bits("1 000 0001  1 1111111  00000000 00000000 00000000 00000000 00000000 00000001 00000000 00000001"), key),
			ErrMessageTooBig, 1009,
		},
		{
			"limit+1 on a continuation frame",
			Config{MaxMessageSize: 300},
			cat(bits("0 000 0000  1 1111110  00000001 00101101"), key), // 301
			ErrMessageTooBig, 1009,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, n, err := tc.cfg.ParseHeader(tc.wire)
			requireErrorIs(t, err, tc.err)
			requireEqual(t, n, 0)
			requireEqual(t, h, Header{})
			requireEqual(t, CloseCode(err), tc.code)
			requireEqual(t, CloseCode(fmt.Errorf("conn 7: %w", err)), tc.code)
			// Prefixes: short, or the same error once the bytes that show it are in.
			for k := range len(tc.wire) {
				_, _, perr := tc.cfg.ParseHeader(tc.wire[:k])
				if perr != ErrShortBuffer && perr != tc.err {
					t.Fatalf("prefix %d: %v", k, perr)
				}
				if k < 2 && perr != ErrShortBuffer {
					t.Fatalf("prefix %d: %v before the first two bytes", k, perr)
				}
			}
		})
	}
}

// The limit is inclusive, and control frames are not subject to it.
func TestHeaderLimitBoundary(t *testing.T) {
	cfg := Config{MaxMessageSize: 100}
	h, _, err := cfg.ParseHeader(cat(bits("1 000 0010  1 1100100"), rfcKey[:])) // 100
	requireNoError(t, err)
	requireEqual(t, h.Length, 100)

	cfg = Config{MaxMessageSize: 10}
	h, _, err = cfg.ParseHeader(cat(bits("1 000 1001  1 1111101"), rfcKey[:])) // ping, 125
	requireNoError(t, err)
	requireEqual(t, h.Length, 125)
}

// The RFC 6455 §5.7 examples, whole frames through AppendFrame and
// AppendMaskedFrame, and through a connection's read loop.
func TestRFCExamples(t *testing.T) {
	hello := []byte("Hello")
	unmasked := []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}
	masked := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	fragmented := []byte{0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}
	ping := []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}
	pong := []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	p256 := bytes.Repeat([]byte{0xa5}, 256)
	p64k := make([]byte, 65536)
	for i := range p64k {
		p64k[i] = byte(i * 7)
	}
	bin256 := cat([]byte{0x82, 0x7e, 0x01, 0x00}, p256)
	bin64k := cat([]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}, p64k)

	requireBytes(t, AppendFrame(nil, OpText, hello), unmasked)
	requireBytes(t, AppendMaskedFrame(nil, OpText, rfcKey, hello), masked)
	requireBytes(t, AppendFrame(nil, OpPing, hello), ping)
	requireBytes(t, AppendMaskedFrame(nil, OpPong, rfcKey, hello), pong)
	requireBytes(t, AppendFrame(nil, OpBinary, p256), bin256)
	requireBytes(t, AppendFrame(nil, OpBinary, p64k), bin64k)
	requireBytes(t, hello, []byte("Hello")) // AppendMaskedFrame left its input alone

	frag := AppendFrameHeader(nil, false, OpText, 3, nil)
	frag = append(frag, "Hel"...)
	frag = AppendFrameHeader(frag, true, OpContinuation, 2, nil)
	frag = append(frag, "lo"...)
	requireBytes(t, frag, fragmented)

	cases := []struct {
		name string
		role Role
		wire []byte
		want []Message
	}{
		{"unmasked text", RoleClient, unmasked, []Message{{Op: OpText, Payload: hello}}},
		{"masked text", RoleServer, masked, []Message{{Op: OpText, Payload: hello}}},
		{"fragmented text", RoleClient, fragmented, []Message{{Op: OpText, Payload: hello}}},
		{"ping", RoleClient, ping, []Message{{Op: OpPing, Payload: hello}}},
		{"masked pong", RoleServer, pong, []Message{{Op: OpPong, Payload: hello}}},
		{"256 bytes", RoleClient, bin256, []Message{{Op: OpBinary, Payload: p256}}},
		{"64 KiB", RoleClient, bin64k, []Message{{Op: OpBinary, Payload: p64k}}},
		{
			"ping between fragments", RoleClient,
			cat(fragmented[:5], ping, fragmented[5:]),
			[]Message{{Op: OpPing, Payload: hello}, {Op: OpText, Payload: hello}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newConn(Config{Role: tc.role, MaxMessageSize: 1 << 20})
			c.feed(t, bytes.Clone(tc.wire))
			requireNoError(t, c.err)
			requireEqual(t, len(c.buf), 0)
			requireMessages(t, c.msgs, tc.want)

			// Split delivery: same messages, no error.
			for _, k := range splitPoints(len(tc.wire)) {
				c := newConn(Config{Role: tc.role, MaxMessageSize: 1 << 20})
				wire := bytes.Clone(tc.wire)
				c.feed(t, wire[:k])
				requireNoError(t, c.err)
				c.feed(t, wire[k:])
				requireNoError(t, c.err)
				requireMessages(t, c.msgs, tc.want)
			}
		})
	}
}

// splitPoints returns every cut point of an n-byte input when n is small,
// and otherwise every point near both ends plus a stride through the middle.
func splitPoints(n int) []int {
	const edge, stride = 64, 251
	var ks []int
	for k := 0; k < n; k++ {
		if k < edge || k >= n-edge || k%stride == 0 {
			ks = append(ks, k)
		}
	}
	return ks
}

func requireMessages(t testing.TB, got, want []Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Op != want[i].Op || !bytes.Equal(got[i].Payload, want[i].Payload) {
			t.Fatalf("message %d: got %v %q, want %v %q", i, got[i].Op, trim(got[i].Payload), want[i].Op, trim(want[i].Payload))
		}
	}
}

func trim(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

func TestAppendFrameHeaderNegativeLength(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a negative length")
		}
	}()
	AppendFrameHeader(nil, true, OpBinary, -1, nil)
}

func TestOpcode(t *testing.T) {
	for _, tc := range []struct {
		op            Opcode
		control, data bool
		name          string
	}{
		{OpContinuation, false, false, "continuation"},
		{OpText, false, true, "text"},
		{OpBinary, false, true, "binary"},
		{3, false, false, "opcode(3)"},
		{OpClose, true, false, "close"},
		{OpPing, true, false, "ping"},
		{OpPong, true, false, "pong"},
		{0xB, true, false, "opcode(11)"},
	} {
		requireEqual(t, tc.op.IsControl(), tc.control)
		requireEqual(t, tc.op.IsData(), tc.data)
		requireEqual(t, tc.op.String(), tc.name)
	}
}

func TestConfigValidate(t *testing.T) {
	requireNoError(t, (&Config{}).Validate())
	requireNoError(t, (&Config{Role: RoleClient, MaxHeaderSize: 1, MaxMessageSize: 1}).Validate())
	requireErrorIs(t, (&Config{Role: 2}).Validate(), ErrInvalidConfig)
	requireErrorIs(t, (&Config{MaxHeaderSize: -1}).Validate(), ErrInvalidConfig)
	requireErrorIs(t, (&Config{MaxMessageSize: -1}).Validate(), ErrInvalidConfig)

	// A nil *Config is the zero Config.
	var c *Config
	_, _, err := c.ParseHeader(cat(bits("1 000 0010  1 1111111  00000000 00000000 00000000 00000000 00000000 00000001 00000000 00000001"), rfcKey[:]))
	requireErrorIs(t, err, ErrMessageTooBig)
	_, _, err = c.ParseHeader(bits("1 000 0010  0 0000000"))
	requireErrorIs(t, err, ErrUnmaskedFrame)
}
