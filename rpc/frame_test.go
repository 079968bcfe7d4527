package rpc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/shaddock-io/shaddock/rpc/pack"
)

// bits turns an annotated hex string ("00 00 00 07 | 03 | ...") into bytes: spaces and bars are
// separators, and anything after "#" on the line is a comment.
func bits(t testing.TB, s string) []byte {
	t.Helper()
	var clean strings.Builder
	for _, line := range strings.Split(s, "\n") {
		line, _, _ = strings.Cut(line, "#")
		clean.WriteString(strings.NewReplacer(" ", "", "|", "", "\t", "").Replace(line))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatalf("bad test hex %q: %v", s, err)
	}
	return b
}

// frameCases is the one table that drives both ParseFrame and AppendFrame.
var frameCases = []struct {
	name  string
	wire  string
	frame Frame
}{
	{"call", `00 00 00 0a | 03 | 00 00 00 01 | 00 02 | 89 01 05 # len 10, CALL, id 1, method 2, args [5]`,
		Frame{Kind: KindCall, ID: 1, Method: 2, Payload: []byte{0x89, 0x01, 0x05}}},
	{"call no args", `00 00 00 07 | 03 | ff ff ff ff | ff ff`,
		Frame{Kind: KindCall, ID: 0xffffffff, Method: 0xffff, Payload: []byte{}}},
	{"notify", `00 00 00 04 | 04 | 00 07 | 80 # NOTIFY method 7, args nil`,
		Frame{Kind: KindNotify, Method: 7, Payload: []byte{0x80}}},
	{"reply", `00 00 00 07 | 05 | 00 00 01 00 | 87 00 # REPLY id 256, ""`,
		Frame{Kind: KindReply, ID: 256, Payload: []byte{0x87, 0x00}}},
	{"error", `00 00 00 0b | 06 | 00 00 00 09 | 00 00 01 f5 | 6e 6f # ERROR id 9, code 501, "no"`,
		Frame{Kind: KindError, ID: 9, Code: 501, Payload: []byte("no")}},
	{"error negative code", `00 00 00 09 | 06 | 00 00 00 01 | ff ff ff ff`,
		Frame{Kind: KindError, ID: 1, Code: -1, Payload: []byte{}}},
	{"ping", `00 00 00 09 | 07 | 00 00 00 00 00 00 00 2a`,
		Frame{Kind: KindPing, Payload: []byte{0, 0, 0, 0, 0, 0, 0, 42}}},
	{"pong", `00 00 00 09 | 08 | 01 02 03 04 05 06 07 08`,
		Frame{Kind: KindPong, Payload: []byte{1, 2, 3, 4, 5, 6, 7, 8}}},
	{"hello", `00 00 00 09 | 01 | 53 52 50 43 | 01 | 02 | 63 31 # "SRPC", version 1, name "c1"`,
		Frame{Kind: KindHello, Payload: []byte("SRPC\x01\x02c1")}},
	{"hello no name", `00 00 00 07 | 01 | 53 52 50 43 | 01 | 00`,
		Frame{Kind: KindHello, Payload: []byte("SRPC\x01\x00")}},
	{"declare", `00 00 00 0c | 02 | 00 05 | 03 73 79 73 | 01 6d | 02 66 6d # id 5: sys.m.fm`,
		Frame{Kind: KindDeclare, Method: 5, Payload: []byte("\x03sys\x01m\x02fm")}},
}

func TestFrameTable(t *testing.T) {
	for _, c := range frameCases {
		wire := bits(t, c.wire)
		f, n, err := ParseFrame(wire, 0)
		requireNoError(t, err, c.name)
		requireEqual(t, n, len(wire), c.name+": size")
		if !reflect.DeepEqual(f, c.frame) {
			t.Errorf("%s: ParseFrame = %+v, want %+v", c.name, f, c.frame)
		}
		if got := AppendFrame([]byte{0xee}, &c.frame); !bytes.Equal(got[1:], wire) {
			t.Errorf("%s: AppendFrame = % x, want % x", c.name, got[1:], wire)
		}
		k, size, err := ParseFrameHeader(wire[:FrameHeaderSize], 0)
		if err != nil || k != c.frame.Kind || size != len(wire) {
			t.Errorf("%s: ParseFrameHeader = %v %d %v", c.name, k, size, err)
		}
		if _, _, err := ParseFrame(wire[:len(wire)-1], 0); err != ErrShortFrame {
			t.Errorf("%s: one byte short: %v", c.name, err)
		}
	}
}

// TestFrameBuilders checks that the specific builders write the same bytes as the table.
func TestFrameBuilders(t *testing.T) {
	wire := func(name string) []byte {
		for _, c := range frameCases {
			if c.name == name {
				return bits(t, c.wire)
			}
		}
		t.Fatalf("no case %q", name)
		return nil
	}
	check := func(name string, got []byte) {
		t.Helper()
		if !bytes.Equal(got, wire(name)) {
			t.Errorf("%s: % x, want % x", name, got, wire(name))
		}
	}
	check("call", AppendCall(nil, 1, 2, []byte{0x89, 0x01, 0x05}))
	check("reply", AppendReply(nil, 256, []byte{0x87, 0x00}))
	check("error", AppendError(nil, 9, 501, "no"))
	check("ping", AppendPing(nil, KindPing, 42))
	b, err := AppendHello(nil, "c1")
	requireNoError(t, err, "AppendHello")
	check("hello", b)
	b, err = AppendDeclare(nil, 5, MethodName{"sys", "m", "fm"})
	requireNoError(t, err, "AppendDeclare")
	check("declare", b)

	// The streaming form: header, payload appended in place, EndFrame.
	b = AppendNotifyHeader([]byte("prefix"), 7)
	b, err = EndFrame(append(b, 0x80), len("prefix"), 0)
	requireNoError(t, err, "EndFrame")
	check("notify", b[len("prefix"):])
	b = AppendErrorHeader(nil, 1, -1)
	b, _ = EndFrame(b, 0, 0)
	check("error negative code", b)
}

func TestEndFrameLimits(t *testing.T) {
	b := AppendReplyHeader([]byte("keep"), 1)
	b = append(b, make([]byte, 100)...)
	out, err := EndFrame(b, 4, 100)
	if err != ErrFrameTooLarge || string(out) != "keep" {
		t.Fatalf("EndFrame over the limit: %q, %v", out, err)
	}
	out, err = EndFrame(b, 4, 105) // 1 kind + 4 id + 100 payload
	if err != nil || len(out) != len(b) {
		t.Fatalf("EndFrame at the limit: %v", err)
	}
	if _, err := EndFrame([]byte{1, 2, 3}, 0, 0); err != ErrBadEndFrame {
		t.Fatalf("EndFrame on a short buffer: %v", err)
	}
	if _, err := EndFrame([]byte{0, 0, 0, 0, 99}, 0, 0); err != ErrBadEndFrame {
		t.Fatalf("EndFrame on a bad kind: %v", err)
	}
	_, err = AppendHello(nil, strings.Repeat("x", MaxNameLen+1))
	requireEqual(t, err, ErrNameTooLong, "long hello name")
	_, err = AppendDeclare(nil, 0, MethodName{"a", strings.Repeat("x", MaxNameLen+1), "b"})
	requireEqual(t, err, ErrNameTooLong, "long declare name")
}

func TestFrameErrors(t *testing.T) {
	for _, c := range []struct {
		wire string
		max  int
		err  error
	}{
		{"00 00 00", 0, ErrShortFrame},
		{"00 00 00 0b | 05 | 00 00 00 01 | 00 00 00 00 00 00", 10, ErrFrameTooLarge}, // limit + 1
		{"7f ff ff ff | 05", 0, ErrFrameTooLarge},
		{"00 00 00 01 | 00", 0, ErrFrameKind},
		{"00 00 00 01 | 09", 0, ErrFrameKind},
		{"00 00 00 00 | 03", 0, ErrFrameBody},                    // length 0
		{"00 00 00 06 | 03 | 00 00 00 01 | 00", 0, ErrFrameBody}, // call without a whole method
		{"00 00 00 08 | 06 | 00 00 00 01 | 00 00 00", 0, ErrFrameBody},
		{"00 00 00 08 | 07 | 00 00 00 00 00 00 00", 0, ErrFrameBody}, // ping token 7 bytes
		{"00 00 00 0a | 08 | 00 00 00 00 00 00 00 00 00", 0, ErrFrameBody},
		{"00 00 00 07 | 01 | 53 52 50 43 | 01 | 01", 0, ErrFrameBody}, // name length past the end
		{"00 00 00 08 | 01 | 53 52 50 43 | 01 | 00 | 00", 0, ErrFrameBody},
		{"00 00 00 07 | 01 | 53 52 50 44 | 01 | 00", 0, ErrHelloMagic},
		{"00 00 00 05 | 02 | 00 01 | 00 00", 0, ErrFrameBody},       // two names of three
		{"00 00 00 07 | 02 | 00 01 | 00 00 00 00", 0, ErrFrameBody}, // a fourth byte
		{"00 00 00 06 | 02 | 00 01 | 05 61 62", 0, ErrFrameBody},    // name past the end
	} {
		_, _, err := ParseFrame(bits(t, c.wire), c.max)
		if err != c.err {
			t.Errorf("ParseFrame(%s, max %d) = %v, want %v", c.wire, c.max, err, c.err)
		}
	}
	// The limit is enforced on the header alone, before the body has arrived.
	var d FrameDecoder
	d.SetMaxFrame(1000)
	d.Feed(bits(t, "00 00 03 e9 05"))
	if _, err := d.Next(); err != ErrFrameTooLarge {
		t.Fatalf("decoder with an oversize header: %v", err)
	}
	d.Feed(bits(t, "00 00 00 07 | 05 | 00 00 01 00 | 87 00"))
	if _, err := d.Next(); err != ErrFrameTooLarge {
		t.Fatalf("decoder error is not sticky: %v", err)
	}
	d.Reset()
	d.Feed(bits(t, "00 00 00 07 | 05 | 00 00 01 00 | 87 00"))
	if f, err := d.Next(); err != nil || f.ID != 256 {
		t.Fatalf("after Reset: %+v %v", f, err)
	}
}

// stream is every table frame back to back, and a big call frame.
func stream(t testing.TB) ([]byte, []Frame) {
	var wire []byte
	var frames []Frame
	for _, c := range frameCases {
		wire = append(wire, bits(t, c.wire)...)
		frames = append(frames, c.frame)
	}
	big := Frame{Kind: KindCall, ID: 77, Method: 3, Payload: bytes.Repeat([]byte("0123456789"), 700)}
	wire = AppendFrame(wire, &big)
	frames = append(frames, big)
	return wire, frames
}

// decodeAll feeds pieces to a fresh decoder and returns the frames, each payload copied.
func decodeAll(t testing.TB, pieces [][]byte) []Frame {
	t.Helper()
	var d FrameDecoder
	var out []Frame
	for _, p := range pieces {
		d.Feed(p)
		for {
			f, err := d.Next()
			if err == ErrNeedMore {
				break
			}
			requireNoError(t, err, "Next")
			f.Payload = append([]byte{}, f.Payload...)
			out = append(out, f)
		}
	}
	requireEqual(t, d.Buffered(), 0, "bytes left buffered")
	return out
}

// TestDecoderSplitEverywhere cuts the stream at every byte position into two pieces, and also
// feeds it one byte at a time: the frames are always the same.
func TestDecoderSplitEverywhere(t *testing.T) {
	wire, want := stream(t)
	check := func(got []Frame, how string) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: decoded %d frames, differ from the %d expected", how, len(got), len(want))
		}
	}
	check(decodeAll(t, [][]byte{wire}), "whole")
	for k := 0; k <= len(wire); k++ {
		a := append([]byte{}, wire[:k]...) // separate arrays, as from separate reads
		b := append([]byte{}, wire[k:]...)
		check(decodeAll(t, [][]byte{a, b}), "split")
	}
	pieces := make([][]byte, len(wire))
	for i := range wire {
		pieces[i] = []byte{wire[i]}
	}
	check(decodeAll(t, pieces), "bytewise")
	for _, step := range []int{2, 3, 5, 7, 64, 1000} {
		var ps [][]byte
		for i := 0; i < len(wire); i += step {
			ps = append(ps, wire[i:min(i+step, len(wire))])
		}
		check(decodeAll(t, ps), "steps")
	}
}

// TestDecoderReuseAfterFeed checks the lifetime rule: a frame that straddled feeds lives in
// the decoder's buffer and is not corrupted when the caller reuses its read buffer.
func TestDecoderReuseAfterFeed(t *testing.T) {
	wire := AppendCall(nil, 1, 1, []byte("abcdefgh"))
	buf := make([]byte, 32)
	var d FrameDecoder
	copy(buf, wire[:8])
	d.Feed(buf[:8])
	if _, err := d.Next(); err != ErrNeedMore {
		t.Fatalf("partial frame: %v", err)
	}
	for i := range buf {
		buf[i] = 0xff // the caller reuses its buffer
	}
	n := copy(buf, wire[8:])
	d.Feed(buf[:n])
	f, err := d.Next()
	if err != nil || string(f.Payload) != "abcdefgh" {
		t.Fatalf("straddling frame: %q %v", f.Payload, err)
	}
}

func TestKindString(t *testing.T) {
	requireEqual(t, KindCall.String(), "call", "call")
	requireEqual(t, Kind(42).String(), "kind(42)", "unknown kind")
	if !errors.Is(ErrTimeout, &Error{Code: CodeTimeout}) {
		t.Fatal("Is by code")
	}
}

// TestForwardArgsRandom is a property test of the fast-path argument type: random values
// survive encode → CALL frame → stream decode → DecodeRPC, and re-encode to the same bytes.
func TestForwardArgsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	randBytes := func(n int) []byte {
		b := make([]byte, r.IntN(n+1))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	for i := 0; i < 2000; i++ {
		settings, err := pack.AppendAny(nil, map[string]any{"rid": string(randBytes(8)), "n": r.Int64()})
		requireNoError(t, err, "settings")
		in := fwdMsg{MsgID: r.Uint64() >> r.IntN(64), Type: uint64(r.IntN(4)), Route: randBytes(40),
			Body: randBytes(300), SID: r.Uint64(), Frontend: randBytes(20), UID: randBytes(20), Settings: settings}
		args, _ := in.AppendRPC(nil)
		wire := AppendCall(nil, r.Uint32(), uint16(r.IntN(1<<16)), args)
		frames := decodeAll(t, [][]byte{wire[:len(wire)/2], wire[len(wire)/2:]})
		var out fwdMsg
		if err := out.DecodeRPC(frames[0].Payload); err != nil {
			t.Fatalf("DecodeRPC: %v", err)
		}
		if fmt.Sprint(out) != fmt.Sprint(in) {
			t.Fatalf("round trip:\n%+v\n%+v", in, out)
		}
		if again, _ := out.AppendRPC(nil); !bytes.Equal(again, args) {
			t.Fatal("re-encoding differs")
		}
	}
}
