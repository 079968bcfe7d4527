package rpc

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/shaddock-io/shaddock/rpc/pack"
)

// decodeStream feeds pieces to a decoder (limit 4096) and returns the frames (payloads copied)
// and the first protocol error.
func decodeStream(pieces ...[]byte) ([]Frame, error) {
	var d FrameDecoder
	d.SetMaxFrame(4096)
	var out []Frame
	for _, p := range pieces {
		d.Feed(p)
		for {
			f, err := d.Next()
			if err == ErrNeedMore {
				break
			}
			if err != nil {
				return out, err
			}
			f.Payload = append([]byte{}, f.Payload...)
			out = append(out, f)
		}
	}
	return out, nil
}

// FuzzFrameDecoder feeds arbitrary bytes whole and split at an arbitrary point: the decoder never
// panics, both deliveries give the same frames and the same error, ParseFrame agrees, and every
// frame re-encodes to exactly the bytes it was decoded from.
func FuzzFrameDecoder(f *testing.F) {
	wire, _ := stream(f)
	f.Add(wire[:2000], uint16(17))
	for _, c := range frameCases {
		f.Add(bits(f, c.wire), uint16(3))
	}
	f.Add(bits(f, "00 00 00 05 | 02 | 00 01 | 00 00"), uint16(1))
	f.Add(bits(f, "00 00 10 01 | 05 | 00 00 00 01"), uint16(2))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		k := int(cut) % (len(data) + 1)
		whole, errWhole := decodeStream(data)
		split, errSplit := decodeStream(append([]byte{}, data[:k]...), append([]byte{}, data[k:]...))
		if errWhole != errSplit || !reflect.DeepEqual(whole, split) {
			t.Fatalf("split at %d: %d frames, %v; whole: %d frames, %v", k, len(split), errSplit, len(whole), errWhole)
		}
		rest := data
		for i, fr := range whole {
			pf, n, err := ParseFrame(rest, 4096)
			if err != nil || !reflect.DeepEqual(pf.Payload, fr.Payload) || pf.Kind != fr.Kind {
				t.Fatalf("ParseFrame disagrees on frame %d: %v", i, err)
			}
			if re := AppendFrame(nil, &fr); !bytes.Equal(re, rest[:n]) {
				t.Fatalf("frame %d re-encodes to % x, was % x", i, re, rest[:n])
			}
			checkStructured(t, &fr, rest[:n])
			rest = rest[n:]
		}
		if _, _, err := ParseFrame(rest, 4096); errWhole == nil && err != ErrShortFrame && len(rest) > 0 {
			t.Fatalf("decoder stopped cleanly but ParseFrame says %v on the rest", err)
		}
	})
}

// checkStructured re-encodes HELLO and DECLARE through their own builders.
func checkStructured(t *testing.T, f *Frame, wire []byte) {
	switch f.Kind {
	case KindHello:
		v, name, err := ParseHello(f.Payload)
		if err != nil {
			t.Fatalf("accepted HELLO fails ParseHello: %v", err)
		}
		if re, _ := appendHello(nil, v, string(name)); !bytes.Equal(re, wire) {
			t.Fatalf("HELLO re-encodes to % x, was % x", re, wire)
		}
	case KindDeclare:
		name, err := ParseDeclare(f.Payload)
		if err != nil {
			t.Fatalf("accepted DECLARE fails ParseDeclare: %v", err)
		}
		if re, _ := AppendDeclare(nil, f.Method, name); !bytes.Equal(re, wire) {
			t.Fatalf("DECLARE re-encodes to % x, was % x", re, wire)
		}
	}
}

// FuzzArgs decodes arbitrary arguments through the forwardMessage-shaped fast path: no panic,
// and accepted input re-encodes to itself.
func FuzzArgs(f *testing.F) {
	settings, _ := pack.AppendAny(nil, map[string]any{"rid": "r1", "n": 3})
	good, _ := (&fwdMsg{MsgID: 1, Route: []byte("chat.chatHandler.send"), Body: []byte(`{"a":1}`),
		SID: 9, Frontend: []byte("connector-1"), UID: []byte("u1"), Settings: settings}).AppendRPC(nil)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte{0x89, 0x08})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m fwdMsg
		if m.DecodeRPC(b) != nil {
			return
		}
		re, err := m.AppendRPC(nil)
		if err != nil || !bytes.Equal(re, b) {
			t.Fatalf("arguments % x re-encode to % x (%v)", b, re, err)
		}
	})
}

// FuzzServerConn pushes arbitrary bytes, behind a valid HELLO and DECLARE, through a server
// connection's dispatch: it must not panic, and whatever it answers must be well-formed frames.
func FuzzServerConn(f *testing.F) {
	f.Add(AppendCall(nil, 1, 0, []byte{0x89, 0x00}))
	f.Add(AppendCall(nil, 2, 1, nil))
	f.Add(AppendPing(nil, KindPing, 5))
	f.Add([]byte{0, 0, 0, 1, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := NewServer(ServerConfig{MaxFrame: 4096})
		if err != nil {
			t.Fatal(err)
		}
		_ = s.Handle(nameForward, echoHandler())
		var out []byte
		sc := newServerConnWith(s, func(b []byte) error { out = append(out, b...); return nil }, func() {})
		prefix := helloDeclare(t, nameForward)
		prefix, _ = AppendDeclare(prefix, 1, MethodName{"no", "such", "method"})
		if err := sc.onBytes(prefix); err != nil {
			t.Fatal(err)
		}
		_ = sc.onBytes(data)
		frames, err := decodeStream(out)
		if err != nil {
			t.Fatalf("server wrote a malformed stream: %v", err)
		}
		if len(frames) == 0 || frames[0].Kind != KindHello {
			t.Fatalf("server did not start with HELLO")
		}
	})
}
