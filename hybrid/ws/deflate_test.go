package ws

import (
	"bytes"
	"compress/flate"
	"math/rand/v2"
	"testing"
)

// The offers browsers and common clients send are accepted; offers with parameters this
// package cannot honour, or malformed ones, are declined (RFC 7692 §5, §7.1).
func TestDeflateOffers(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
	}{
		{"permessage-deflate", true},
		{"permessage-deflate; client_max_window_bits", true}, // Chrome, Firefox, Node ws
		{"permessage-deflate; client_max_window_bits=10", true},
		{`permessage-deflate; client_max_window_bits="12"`, true},
		{"permessage-deflate; server_no_context_takeover; client_no_context_takeover", true},
		{"permessage-deflate; server_max_window_bits=15", true},
		{"Permessage-Deflate ; Client_No_Context_Takeover", true},
		{"x-webkit-deflate-frame, permessage-deflate", true},
		{"permessage-deflate; server_max_window_bits=10, permessage-deflate", true}, // the second
		{"permessage-deflate; server_max_window_bits=10", false},                    // our window is 32 KB
		{"permessage-deflate; server_max_window_bits", false},                       // needs a value
		{"permessage-deflate; client_max_window_bits=16", false},
		{"permessage-deflate; client_max_window_bits=08", false},
		{"permessage-deflate; client_max_window_bits=7", false},
		{"permessage-deflate; server_no_context_takeover=1", false},
		{"permessage-deflate; client_no_context_takeover; client_no_context_takeover", false},
		{"permessage-deflate; unknown_param", false},
		{"x-webkit-deflate-frame", false},
		{"", false},
	} {
		if got := deflateOK([]byte(tc.value)); got != tc.want {
			t.Errorf("deflateOK(%q) = %v, want %v", tc.value, got, tc.want)
		}
	}
}

// The 101 response of an accepted offer names the extension, with no context takeover both
// ways, and ParseUpgrade reports the offer.
func TestUpgradeDeflate(t *testing.T) {
	raw := request(getLine, hostLine, upgLine, connLine, verLine, keyLine, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
	var req UpgradeRequest
	_, err := (&Config{}).ParseUpgrade(raw, &req)
	requireNoError(t, err)
	requireEqual(t, req.HasExtensions, true)
	requireEqual(t, req.Deflate, true)
	resp := string(AppendUpgradeResponseDeflate(nil, req.Key))
	want := string(AppendUpgradeResponse(nil, req.Key))
	want = want[:len(want)-2] + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n\r\n"
	requireEqual(t, resp, want)
}

// Deflate's output inflates to the input, whatever its size and entropy; and Inflate reads what
// other compressors produce for permessage-deflate: a sync flush with its tail removed, and a
// stream ended by a final block (RFC 7692 §7.2.3.4).
func TestDeflateRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 100000)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	for _, p := range [][]byte{
		nil, []byte("a"), []byte(`{"route":"onChat","msg":"hello"}`),
		bytes.Repeat([]byte(`{"uid":"player-17","x":120,"y":-40},`), 3000), random,
	} {
		c, err := Deflate(nil, p)
		requireNoError(t, err)
		got, err := Inflate(nil, c, len(p))
		requireNoError(t, err)
		requireBytes(t, got, p)

		var syncFlushed, final bytes.Buffer
		w, _ := flate.NewWriter(&syncFlushed, flate.DefaultCompression)
		w.Write(p)
		w.Flush()
		sf := syncFlushed.Bytes()
		requireBytes(t, sf[len(sf)-4:], []byte{0, 0, 0xff, 0xff})
		got, err = Inflate(nil, sf[:len(sf)-4], len(p))
		requireNoError(t, err)
		requireBytes(t, got, p)

		w, _ = flate.NewWriter(&final, flate.BestSpeed)
		w.Write(p)
		w.Close()
		got, err = Inflate(nil, final.Bytes(), len(p))
		requireNoError(t, err)
		requireBytes(t, got, p)
	}
}

// A small message that inflates beyond the limit is refused without inflating it all; one at
// the limit passes. Bytes that are not DEFLATE are refused. dst's prefix is kept either way.
func TestInflateLimits(t *testing.T) {
	zeros := make([]byte, 1<<20)
	bomb, err := Deflate(nil, zeros)
	requireNoError(t, err)
	if len(bomb) > 4096 {
		t.Fatalf("1 MiB of zeros compressed to %d bytes", len(bomb))
	}
	got, err := Inflate([]byte("keep"), bomb, 64<<10)
	requireErrorIs(t, err, ErrMessageTooBig)
	requireEqual(t, string(got), "keep")
	requireEqual(t, CloseCode(err), StatusMessageTooBig)

	got, err = Inflate(nil, bomb, len(zeros))
	requireNoError(t, err)
	requireEqual(t, len(got), len(zeros))
	_, err = Inflate(nil, bomb, len(zeros)-1)
	requireErrorIs(t, err, ErrMessageTooBig)

	for _, bad := range [][]byte{{0xff, 0xff, 0xff}, {0x07}, []byte("not deflate at all")} {
		got, err := Inflate([]byte("keep"), bad, 1000)
		requireErrorIs(t, err, ErrBadDeflate)
		requireEqual(t, string(got), "keep")
		requireEqual(t, CloseCode(err), StatusInvalidPayloadData)
	}
}

// RSV1 is accepted only with Config.Deflate, only alone, and only on the first frame of a data
// message; the Assembler carries it to the message and leaves compressed text to the caller.
func TestCompressedFrames(t *testing.T) {
	on := &Config{Role: RoleClient, Deflate: true}
	off := &Config{Role: RoleClient}
	for _, tc := range []struct {
		name string
		b0   byte
		on   error
	}{
		{"binary", 0xc2, nil},
		{"text, first fragment", 0x41, nil},
		{"continuation", 0xc0, ErrReservedBits},
		{"ping", 0xc9, ErrReservedBits},
		{"close", 0xc8, ErrReservedBits},
		{"RSV1+RSV2", 0xe2, ErrReservedBits},
		{"RSV2", 0xa2, ErrReservedBits},
	} {
		wire := []byte{tc.b0, 0x01, 'x'}
		h, _, err := on.ParseHeader(wire)
		if err != tc.on {
			t.Errorf("%s with Deflate: %v, want %v", tc.name, err, tc.on)
		}
		if err == nil && !h.Compressed {
			t.Errorf("%s: Compressed not set", tc.name)
		}
		if _, _, err := off.ParseHeader(wire); err != ErrReservedBits {
			t.Errorf("%s without Deflate: %v, want ErrReservedBits", tc.name, err)
		}
	}

	c, err := Deflate(nil, []byte("héllo"))
	requireNoError(t, err)
	var a Assembler
	first := Header{Op: OpText, Compressed: true}
	_, ok, err := a.Push(first, c[:2])
	requireEqual(t, ok, false)
	requireNoError(t, err)
	m, ok, err := a.Push(Header{Op: OpContinuation, Fin: true}, c[2:])
	requireNoError(t, err)
	requireEqual(t, ok, true)
	requireEqual(t, m.Compressed, true)
	plain, err := Inflate(nil, m.Payload, 100)
	requireNoError(t, err)
	requireEqual(t, string(plain), "héllo")

	m, ok, err = a.Push(Header{Op: OpBinary, Fin: true}, []byte("plain"))
	requireNoError(t, err)
	requireEqual(t, ok && !m.Compressed, true)
}

// A limit of zero or less allows only an empty message.
func TestInflateNoRoom(t *testing.T) {
	empty, _ := Deflate(nil, nil)
	one, _ := Deflate(nil, []byte("x"))
	for _, limit := range []int{0, -1} {
		got, err := Inflate(nil, empty, limit)
		requireNoError(t, err)
		requireEqual(t, len(got), 0)
		_, err = Inflate(nil, one, limit)
		requireErrorIs(t, err, ErrMessageTooBig)
	}
}

// A client's offer (AppendUpgradeRequestDeflate) is one this package's server accepts, and the
// client accepts the server's answer; answers it cannot honour, or an unoffered extension, fail.
func TestClientDeflateHandshake(t *testing.T) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	var req UpgradeRequest
	_, err := (&Config{}).ParseUpgrade(AppendUpgradeRequestDeflate(nil, "h", "/", key), &req)
	requireNoError(t, err)
	requireEqual(t, req.Deflate, true)

	cfg := &Config{Role: RoleClient}
	resp := AppendUpgradeResponseDeflate(nil, key)
	n, deflate, err := cfg.ParseUpgradeResponseDeflate(resp, key)
	requireNoError(t, err)
	requireEqual(t, n, len(resp))
	requireEqual(t, deflate, true)
	_, err = cfg.ParseUpgradeResponse(resp, key)
	requireErrorIs(t, err, ErrResponseExtension) // not offered

	plain := AppendUpgradeResponse(nil, key)
	_, deflate, err = cfg.ParseUpgradeResponseDeflate(plain, key)
	requireNoError(t, err)
	requireEqual(t, deflate, false) // declined

	base := string(plain[:len(plain)-2])
	for _, ext := range []string{
		"permessage-deflate", // context takeover
		"permessage-deflate; server_no_context_takeover; client_max_window_bits=10", // not offered
		"permessage-deflate; server_no_context_takeover; server_max_window_bits=16",
		"permessage-deflate; server_no_context_takeover, permessage-deflate",
		"x-webkit-deflate-frame",
	} {
		_, _, err := cfg.ParseUpgradeResponseDeflate([]byte(base+"Sec-WebSocket-Extensions: "+ext+"\r\n\r\n"), key)
		if err != ErrResponseExtension {
			t.Errorf("%q: %v, want ErrResponseExtension", ext, err)
		}
	}
	ok := base + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_max_window_bits=12\r\n\r\n"
	_, deflate, err = cfg.ParseUpgradeResponseDeflate([]byte(ok), key)
	requireNoError(t, err)
	requireEqual(t, deflate, true)
	twice := base + "Sec-WebSocket-Extensions: " + DeflateExtension + "\r\nSec-WebSocket-Extensions: " + DeflateExtension + "\r\n\r\n"
	_, _, err = cfg.ParseUpgradeResponseDeflate([]byte(twice), key)
	requireErrorIs(t, err, ErrResponseExtension)
}
