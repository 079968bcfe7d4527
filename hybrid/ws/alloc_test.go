//go:build !race

package ws

import (
	"bytes"
	"testing"
)

func requireNoAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(100, f); n != 0 {
		t.Errorf("%s: %v allocations per run, want 0", name, n)
	}
}

func TestAllocParseUpgrade(t *testing.T) {
	for name, raw := range readTestdata(t, "upgrade/*.http") {
		var cfg Config
		var req UpgradeRequest
		requireNoAllocs(t, name, func() {
			if _, err := cfg.ParseUpgrade(raw, &req); err != nil {
				t.Fatal(err)
			}
		})
		requireNoAllocs(t, name+" short", func() {
			if _, err := cfg.ParseUpgrade(raw[:len(raw)-1], &req); err != ErrShortBuffer {
				t.Fatal(err)
			}
		})
	}
	bad := request("POST / HTTP/1.1", hostLine)
	requireNoAllocs(t, "refused", func() {
		var req UpgradeRequest
		if _, err := (&Config{}).ParseUpgrade(bad, &req); err != ErrBadMethod {
			t.Fatal(err)
		}
	})
}

func TestAllocResponses(t *testing.T) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	buf := make([]byte, 0, 256)
	requireNoAllocs(t, "AppendUpgradeResponse", func() {
		buf = AppendUpgradeResponse(buf[:0], key)
	})
	requireNoAllocs(t, "AppendHTTPError", func() {
		buf = AppendHTTPError(buf[:0], HTTPStatus(ErrBadVersion))
	})
}

func TestAllocFrames(t *testing.T) {
	var cfg Config
	payload := []byte{4, 0, 0, 2, 0, 1, 'h', 'i'}
	wire := AppendMaskedFrame(nil, OpBinary, rfcKey, payload)
	buf := make([]byte, 0, 256)

	requireNoAllocs(t, "ParseHeader", func() {
		if _, _, err := cfg.ParseHeader(wire); err != nil {
			t.Fatal(err)
		}
	})
	requireNoAllocs(t, "ParseHeader short", func() {
		if _, _, err := cfg.ParseHeader(wire[:1]); err != ErrShortBuffer {
			t.Fatal(err)
		}
	})
	requireNoAllocs(t, "ParseHeader refused", func() {
		if _, _, err := cfg.ParseHeader([]byte{0xc2, 0x80}); err != ErrReservedBits {
			t.Fatal(err)
		}
	})
	requireNoAllocs(t, "Unmask", func() { Unmask(rfcKey, 1, wire[6:]) })
	requireNoAllocs(t, "AppendFrame", func() { buf = AppendFrame(buf[:0], OpBinary, payload) })
	requireNoAllocs(t, "AppendMaskedFrame", func() { buf = AppendMaskedFrame(buf[:0], OpBinary, rfcKey, payload) })
	requireNoAllocs(t, "AppendCloseFrame", func() { buf = AppendCloseFrame(buf[:0], StatusGoingAway, "restart") })
	requireNoAllocs(t, "AppendMaskedFrame close", func() {
		var tmp [MaxControlPayload]byte
		buf = AppendMaskedFrame(buf[:0], OpClose, rfcKey, AppendCloseData(tmp[:0], StatusGoingAway, "bye"))
	})
	closeData := []byte{0x03, 0xe8, 'o', 'k'}
	requireNoAllocs(t, "ParseCloseData", func() {
		if _, _, err := ParseCloseData(closeData); err != nil {
			t.Fatal(err)
		}
	})
	requireNoAllocs(t, "CloseCode", func() {
		if CloseCode(ErrMessageTooBig) != StatusMessageTooBig {
			t.Fatal("code")
		}
	})
}

// The connector's steady state: parse, unmask, assemble an unfragmented
// binary message; and a fragmented one once the buffer has grown.
func TestAllocAssembler(t *testing.T) {
	var cfg Config
	var a Assembler
	a.Reset(&cfg)
	wire := AppendMaskedFrame(nil, OpBinary, rfcKey, []byte{4, 0, 0, 2, 0, 1, 'h', 'i'})
	requireNoAllocs(t, "unfragmented binary", func() {
		h, n, err := cfg.ParseHeader(wire)
		if err != nil {
			t.Fatal(err)
		}
		p := wire[n : n+h.Length]
		Unmask(h.Mask, 0, p)
		if _, ok, err := a.Push(h, p); !ok || err != nil {
			t.Fatal(ok, err)
		}
		Unmask(h.Mask, 0, p) // mask again for the next run
	})
	text := []byte("héllo")
	requireNoAllocs(t, "unfragmented text", func() {
		if _, ok, err := a.Push(Header{Fin: true, Op: OpText}, text); !ok || err != nil {
			t.Fatal(ok, err)
		}
	})
	frag := []byte("fragment")
	requireNoAllocs(t, "fragmented text, reused buffer", func() {
		if _, _, err := a.Push(Header{Op: OpText}, frag); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Push(Header{Fin: true, Op: OpPing}, frag); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := a.Push(Header{Fin: true, Op: OpContinuation}, frag); !ok || err != nil {
			t.Fatal(ok, err)
		}
	})
}

func TestAllocClientHandshake(t *testing.T) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	resp := AppendUpgradeResponse(nil, key)
	cfg := Config{Role: RoleClient}
	buf := make([]byte, 0, 256)
	requireNoAllocs(t, "AppendUpgradeRequest", func() {
		buf = AppendUpgradeRequest(buf[:0], "127.0.0.1:3010", "/", key)
	})
	requireNoAllocs(t, "ParseUpgradeResponse", func() {
		if _, err := cfg.ParseUpgradeResponse(resp, key); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAllocDeflate(t *testing.T) {
	p := bytes.Repeat([]byte(`{"uid":"player-17","x":120,"y":-40},`), 100)
	c, err := Deflate(nil, p)
	requireNoError(t, err)
	out := make([]byte, 0, 2*len(p))
	requireNoAllocs(t, "Inflate", func() {
		if _, err := Inflate(out[:0], c, len(p)); err != nil {
			t.Fatal(err)
		}
	})
	requireNoAllocs(t, "Deflate", func() {
		if _, err := Deflate(out[:0], p); err != nil {
			t.Fatal(err)
		}
	})
}
