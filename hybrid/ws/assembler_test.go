package ws

import (
	"bytes"
	"testing"
)

// frame is one step fed to an Assembler: a header and its unmasked payload.
type frame struct {
	fin     bool
	op      Opcode
	payload string
}

func (f frame) header() Header {
	return Header{Fin: f.fin, Op: f.op, Length: len(f.payload)}
}

// step is what Push must return for a frame: a message (op != 0 or ok),
// nothing yet, or an error.
type step struct {
	frame
	ok   bool
	want Message
	err  error
}

// assemblyCloseCodes is RFC 6455's answer to each assembly error: 1002 for
// broken fragmentation, 1007 for text that is not UTF-8 (§8.1), 1009 for a
// message over the limit (§7.4.1).
var assemblyCloseCodes = map[error]StatusCode{
	ErrUnexpectedContinuation: 1002,
	ErrFragmentInterrupted:    1002,
	ErrInvalidUTF8:            1007,
	ErrMessageTooBig:          1009,
}

func TestAssembler(t *testing.T) {
	msg := func(op Opcode, p string) Message { return Message{Op: op, Payload: []byte(p)} }
	cases := []struct {
		name  string
		limit int
		steps []step
	}{
		{"binary", 0, []step{
			{frame: frame{true, OpBinary, "\x04\x00\x00\x00"}, ok: true, want: msg(OpBinary, "\x04\x00\x00\x00")},
		}},
		{"empty text", 0, []step{
			{frame: frame{true, OpText, ""}, ok: true, want: msg(OpText, "")},
		}},
		{"fragmented binary", 0, []step{
			{frame: frame{false, OpBinary, "ab"}},
			{frame: frame{false, OpContinuation, ""}},
			{frame: frame{false, OpContinuation, "cd"}},
			{frame: frame{true, OpContinuation, "e"}, ok: true, want: msg(OpBinary, "abcde")},
			{frame: frame{true, OpBinary, "next"}, ok: true, want: msg(OpBinary, "next")},
		}},
		{"control frames between fragments", 0, []step{
			{frame: frame{false, OpText, "He"}},
			{frame: frame{true, OpPing, "p"}, ok: true, want: msg(OpPing, "p")},
			{frame: frame{false, OpContinuation, "l"}},
			{frame: frame{true, OpPong, ""}, ok: true, want: msg(OpPong, "")},
			{frame: frame{true, OpClose, "\x03\xe8"}, ok: true, want: msg(OpClose, "\x03\xe8")},
			{frame: frame{true, OpContinuation, "lo"}, ok: true, want: msg(OpText, "Hello")},
		}},
		{"UTF-8 sequence split across fragments", 0, []step{
			{frame: frame{false, OpText, "1\xe2"}},
			{frame: frame{false, OpContinuation, "\x82"}},
			{frame: frame{false, OpContinuation, ""}},
			{frame: frame{true, OpContinuation, "\xac2"}, ok: true, want: msg(OpText, "1€2")},
		}},
		{"4-byte sequence split 1+3", 0, []step{
			{frame: frame{false, OpText, "\xf0"}},
			{frame: frame{true, OpContinuation, "\x9f\x98\x80"}, ok: true, want: msg(OpText, "😀")},
		}},
		{"continuation without a start", 0, []step{
			{frame: frame{true, OpContinuation, "x"}, err: ErrUnexpectedContinuation},
		}},
		{"continuation after a finished message", 0, []step{
			{frame: frame{false, OpBinary, "a"}},
			{frame: frame{true, OpContinuation, "b"}, ok: true, want: msg(OpBinary, "ab")},
			{frame: frame{false, OpContinuation, "c"}, err: ErrUnexpectedContinuation},
		}},
		{"binary inside a fragmented text", 0, []step{
			{frame: frame{false, OpText, "a"}},
			{frame: frame{true, OpBinary, "b"}, err: ErrFragmentInterrupted},
		}},
		{"text start inside a fragmented text", 0, []step{
			{frame: frame{false, OpText, "a"}},
			{frame: frame{false, OpText, "b"}, err: ErrFragmentInterrupted},
		}},
		{"invalid UTF-8 whole", 0, []step{
			{frame: frame{true, OpText, "ab\xff"}, err: ErrInvalidUTF8},
		}},
		{"surrogate whole", 0, []step{
			{frame: frame{true, OpText, "\xed\xa0\x80"}, err: ErrInvalidUTF8},
		}},
		{"invalid UTF-8 in a first fragment fails at once", 0, []step{
			{frame: frame{false, OpText, "\xc0\xaf"}, err: ErrInvalidUTF8},
		}},
		{"surrogate split across fragments fails at the second", 0, []step{
			{frame: frame{false, OpText, "a\xed"}},
			{frame: frame{false, OpContinuation, "\xa0"}, err: ErrInvalidUTF8},
		}},
		{"text ending inside a sequence", 0, []step{
			{frame: frame{false, OpText, "a"}},
			{frame: frame{true, OpContinuation, "\xe2\x82"}, err: ErrInvalidUTF8},
		}},
		{"invalid UTF-8 in binary is fine", 0, []step{
			{frame: frame{false, OpBinary, "\xff"}},
			{frame: frame{true, OpContinuation, "\xfe"}, ok: true, want: msg(OpBinary, "\xff\xfe")},
		}},
		{"message at the limit", 5, []step{
			{frame: frame{false, OpBinary, "abc"}},
			{frame: frame{true, OpContinuation, "de"}, ok: true, want: msg(OpBinary, "abcde")},
		}},
		{"message over the limit", 5, []step{
			{frame: frame{false, OpBinary, "abc"}},
			{frame: frame{false, OpContinuation, "de"}},
			{frame: frame{true, OpContinuation, "f"}, err: ErrMessageTooBig},
		}},
		{"single frame over the limit", 5, []step{
			{frame: frame{true, OpText, "abcdef"}, err: ErrMessageTooBig},
		}},
		{"control frames ignore the limit", 1, []step{
			{frame: frame{true, OpPing, "abcdef"}, ok: true, want: msg(OpPing, "abcdef")},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var a Assembler
			a.Reset(&Config{MaxMessageSize: tc.limit})
			for i, s := range tc.steps {
				h := s.header()
				checkErr := a.CheckHeader(h)
				payload := []byte(s.payload)
				m, ok, err := a.Push(h, payload)
				if s.err != nil {
					requireErrorIs(t, err, s.err)
					requireEqual(t, CloseCode(err), assemblyCloseCodes[s.err])
					// CheckHeader agrees with Push on everything it can see
					// without the payload.
					if s.err != ErrInvalidUTF8 {
						requireErrorIs(t, checkErr, s.err)
					}
					return
				}
				requireNoError(t, checkErr)
				requireNoError(t, err)
				if ok != s.ok || m.Op != s.want.Op || !bytes.Equal(m.Payload, s.want.Payload) {
					t.Fatalf("step %d: got %v %v %q, want %v %v %q", i, ok, m.Op, m.Payload, s.ok, s.want.Op, s.want.Payload)
				}
				if ok && s.want.Payload != nil && m.Payload == nil {
					t.Fatalf("step %d: nil payload", i)
				}
			}
		})
	}
}

// An unfragmented message and a control frame come back as the very slice
// given; a fragmented one in the Assembler's own buffer, reused.
func TestAssemblerAliasing(t *testing.T) {
	var a Assembler
	p := []byte("payload")
	m, ok, err := a.Push(Header{Fin: true, Op: OpBinary}, p)
	requireNoError(t, err)
	requireEqual(t, ok, true)
	requireEqual(t, &m.Payload[0], &p[0])
	requireEqual(t, len(m.Payload), len(p))

	m, _, _ = a.Push(Header{Fin: true, Op: OpPing}, p)
	requireEqual(t, &m.Payload[0], &p[0])

	first := fragmented(t, &a, "abc", "def")
	requireEqual(t, string(first.Payload), "abcdef")
	if &first.Payload[0] == &p[0] {
		t.Fatal("fragmented message aliases the input")
	}
	second := fragmented(t, &a, "ghi", "jkl")
	requireEqual(t, string(second.Payload), "ghijkl")
	requireEqual(t, &second.Payload[0], &first.Payload[0]) // buffer reused
	requireEqual(t, a.InMessage(), false)
}

// A buffer grown past maxRetainedBuffer is dropped after its message, and
// the message handed out stays intact.
func TestAssemblerDropsLargeBuffer(t *testing.T) {
	var a Assembler
	a.Reset(&Config{MaxMessageSize: 1 << 20})
	big := string(bytes.Repeat([]byte{'x'}, maxRetainedBuffer))
	m := fragmented(t, &a, big, "yz")
	requireEqual(t, len(m.Payload), maxRetainedBuffer+2)
	requireEqual(t, a.buf == nil, true)
	small := fragmented(t, &a, "a", "b")
	requireEqual(t, string(small.Payload), "ab")
	requireEqual(t, string(m.Payload[maxRetainedBuffer:]), "yz")
}

func TestAssemblerReset(t *testing.T) {
	var a Assembler
	_, ok, err := a.Push(Header{Op: OpText}, []byte("a"))
	requireNoError(t, err)
	requireEqual(t, ok, false)
	requireEqual(t, a.InMessage(), true)
	a.Reset(nil)
	requireEqual(t, a.InMessage(), false)
	_, _, err = a.Push(Header{Fin: true, Op: OpContinuation}, []byte("b"))
	requireErrorIs(t, err, ErrUnexpectedContinuation)

	// The zero Assembler has the default limit.
	var z Assembler
	requireErrorIs(t, z.CheckHeader(Header{Op: OpBinary, Length: DefaultMaxMessageSize + 1}), ErrMessageTooBig)
	requireNoError(t, z.CheckHeader(Header{Op: OpBinary, Length: DefaultMaxMessageSize}))
}

func fragmented(t *testing.T, a *Assembler, first, last string) Message {
	t.Helper()
	_, ok, err := a.Push(Header{Op: OpBinary}, []byte(first))
	requireNoError(t, err)
	requireEqual(t, ok, false)
	m, ok, err := a.Push(Header{Fin: true, Op: OpContinuation}, []byte(last))
	requireNoError(t, err)
	requireEqual(t, ok, true)
	return m
}
