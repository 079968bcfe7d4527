package ws

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// pomeloPackages returns the pomelo packages of testdata/pomelo_packages.json
// (bytes produced by the published pomelo-protocol library); the hybrid
// connector carries each one in a binary message.
func pomeloPackages(tb testing.TB) [][]byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "pomelo_packages.json"))
	requireNoError(tb, err)
	var v struct {
		Cases []struct{ Hex string }
	}
	requireNoError(tb, json.Unmarshal(raw, &v))
	var out [][]byte
	for _, c := range v.Cases {
		b, err := hex.DecodeString(c.Hex)
		requireNoError(tb, err)
		out = append(out, b)
	}
	if len(out) == 0 {
		tb.Fatal("no pomelo packages in testdata")
	}
	return out
}

func FuzzParseUpgrade(f *testing.F) {
	for _, raw := range readTestdata(f, "upgrade/*.http") {
		f.Add(raw, uint16(0), uint16(len(raw)/2))
		f.Add(raw, uint16(len(raw)), uint16(7))
		f.Add(raw[:len(raw)-3], uint16(0), uint16(0))
		f.Add(cat(raw, AppendMaskedFrame(nil, OpBinary, rfcKey, []byte{3, 0, 0, 0})), uint16(0), uint16(len(raw)+1))
	}
	f.Add(request("GET / HTTP/1.1", "Host: h", "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Version: 8", keyLine), uint16(0), uint16(20))
	f.Add(request(getLine, "Host: h\x00", upgLine, connLine, verLine, keyLine), uint16(100), uint16(5))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\r\n\r\n"), uint16(0), uint16(3))

	f.Fuzz(func(t *testing.T, data []byte, limit uint16, k uint16) {
		data = bytes.Clone(data) // checkUpgradeSuccess writes to it
		cfg := Config{MaxHeaderSize: int(limit)}
		max := cfg.maxHeaderSize()
		var req UpgradeRequest
		n, err := cfg.ParseUpgrade(data, &req)
		end := -1 // where the header block ends, when data shows it
		switch {
		case err == nil:
			if n < len(headerBlockEnd) || n > len(data) || n > max || string(data[n-4:n]) != headerBlockEnd {
				t.Fatalf("n=%d for %d bytes, limit %d", n, len(data), max)
			}
			if bytes.Contains(data[:n-1], []byte(headerBlockEnd)) {
				t.Fatalf("n=%d is not the first blank line", n)
			}
			end = n
			checkUpgradeSuccess(t, &cfg, data[:n], &req)
		case err == ErrShortBuffer:
			if n <= len(data) || len(data) >= max || bytes.Contains(data, []byte(headerBlockEnd)) {
				t.Fatalf("ErrShortBuffer, n=%d, for %d bytes, limit %d", n, len(data), max)
			}
		default:
			var ue UpgradeError
			if !errors.As(err, &ue) || n != 0 {
				t.Fatalf("n=%d err=%v", n, err)
			}
			switch ue.Status() {
			case 400, 426, 431:
			default:
				t.Fatalf("status %d", ue.Status())
			}
			requireRequest(t, &req, &UpgradeRequest{})
			if err != ErrHeaderTooLarge {
				end = bytes.Index(data, []byte(headerBlockEnd)) + len(headerBlockEnd)
			}
		}

		// Split delivery: a prefix waits, or gives exactly the same result.
		kk := int(k) % (len(data) + 1)
		var preq UpgradeRequest
		pn, perr := cfg.ParseUpgrade(data[:kk], &preq)
		if perr == ErrShortBuffer {
			if pn <= kk || (end >= 0 && pn > end) {
				t.Fatalf("prefix %d: n=%d, block ends at %d", kk, pn, end)
			}
		} else {
			if perr != err || pn != n {
				t.Fatalf("prefix %d: (%d, %v), whole: (%d, %v)", kk, pn, perr, n, err)
			}
			requireRequest(t, &preq, &req)
		}
	})
}

// checkUpgradeSuccess checks a successful parse of block into req.
func checkUpgradeSuccess(t *testing.T, cfg *Config, block []byte, req *UpgradeRequest) {
	if !validKey(req.Key) || len(req.Path) == 0 {
		t.Fatalf("accepted key %q path %q", req.Key, req.Path)
	}
	resp := AppendUpgradeResponse(nil, req.Key)
	if len(resp) != len(AppendUpgradeResponse(nil, []byte("dGhlIHNhbXBsZSBub25jZQ=="))) {
		t.Fatalf("response %q", resp)
	}

	// Rebuilt from its fields, the request parses to the same fields.
	want := UpgradeRequest{
		Path: bytes.Clone(req.Path), Host: bytes.Clone(req.Host), Origin: bytes.Clone(req.Origin),
		Key: bytes.Clone(req.Key), Protocol: bytes.Clone(req.Protocol), HasExtensions: req.HasExtensions,
	}
	re := []byte("GET " + string(req.Path) + " HTTP/1.1\r\nHost: " + string(req.Host) +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
		string(req.Key) + "\r\n")
	if req.Origin != nil {
		re = append(re, "Origin: "+string(req.Origin)+"\r\n"...)
	}
	if req.Protocol != nil {
		re = append(re, "Sec-WebSocket-Protocol: "+string(req.Protocol)+"\r\n"...)
	}
	if req.HasExtensions {
		re = append(re, "Sec-WebSocket-Extensions: x\r\n"...)
	}
	re = append(re, "\r\n"...)
	var got UpgradeRequest
	n, err := (&Config{MaxHeaderSize: 1 << 20}).ParseUpgrade(re, &got)
	if err != nil || n != len(re) {
		t.Fatalf("rebuilt request %q: n=%d err=%v", re, n, err)
	}
	requireRequest(t, &got, &want)

	// The fields are borrowed from the block: overwrite it and they change.
	saved := bytes.Clone(block)
	for i := range block {
		block[i] = '#'
	}
	for _, s := range [][]byte{req.Path, req.Host, req.Origin, req.Key, req.Protocol} {
		if len(bytes.Trim(s, "#")) != 0 {
			t.Fatalf("field %q does not point into the parsed block", s)
		}
	}
	copy(block, saved)

	// Re-decoding allocates nothing.
	if !raceEnabled {
		var r UpgradeRequest
		if a := testing.AllocsPerRun(1, func() { _, _ = cfg.ParseUpgrade(block, &r) }); a != 0 {
			t.Fatalf("%v allocations re-decoding", a)
		}
	}
}

func FuzzFrames(f *testing.F) {
	for _, tc := range headerCases {
		payload := bytes.Repeat([]byte{'a'}, min(tc.h.Length, 300))
		f.Add(cat(tc.wire, payload), uint16(len(tc.wire)/2), !tc.h.Masked, uint16(0))
	}
	rfc := [][]byte{
		{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
		{0x01, 0x03, 0x48, 0x65, 0x6c, 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x80, 0x02, 0x6c, 0x6f},
		{0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'},
	}
	for _, wire := range rfc {
		f.Add(wire, uint16(3), true, uint16(0))
	}
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, uint16(5), false, uint16(0))
	var stream []byte
	for i, p := range pomeloPackages(f) {
		key := [4]byte{byte(i), 0x5a, 0xa5, byte(i * 3)}
		wire := AppendMaskedFrame(nil, OpBinary, key, p)
		f.Add(wire, uint16(len(wire)/2), false, uint16(0))
		f.Add(AppendFrame(nil, OpBinary, p), uint16(1), true, uint16(64))
		stream = append(stream, wire...)
	}
	stream = AppendMaskedFrame(stream, OpPing, rfcKey, nil)
	stream = AppendMaskedFrame(stream, OpClose, rfcKey, AppendCloseData(nil, StatusGoingAway, "bye"))
	f.Add(stream, uint16(77), false, uint16(0))

	f.Fuzz(func(t *testing.T, data []byte, k uint16, client bool, limit uint16) {
		cfg := Config{MaxMessageSize: int(limit), Deflate: limit&1 == 1}
		if client {
			cfg.Role = RoleClient
		}

		whole := newConn(cfg)
		whole.onHeader = func(h Header, wire []byte) { checkHeaderRoundTrip(t, &cfg, h, wire) }
		whole.feed(t, data)
		if whole.err != nil {
			if CloseCode(whole.err) == StatusInternalError {
				t.Fatalf("error without a close code: %v", whole.err)
			}
		}

		kk := int(k) % (len(data) + 1)
		split := newConn(cfg)
		split.feed(t, data[:kk])
		split.feed(t, data[kk:])
		requireSameConn(t, split, whole)

		if len(data) <= 1024 {
			bytewise := newConn(cfg)
			for i := range data {
				bytewise.feed(t, data[i:i+1])
			}
			requireSameConn(t, bytewise, whole)
		}

		checkMessagesRoundTrip(t, &cfg, whole.msgs)
	})
}

func requireSameConn(t *testing.T, got, want *conn) {
	t.Helper()
	if got.err != want.err {
		t.Fatalf("error %v, unsplit %v", got.err, want.err)
	}
	if want.err == nil && len(got.buf) != len(want.buf) {
		t.Fatalf("%d bytes left, unsplit %d", len(got.buf), len(want.buf))
	}
	requireMessages(t, got.msgs, want.msgs)
}

// checkHeaderRoundTrip re-encodes an accepted header: the same bytes when the
// length was minimal, otherwise a shorter encoding of the same header.
func checkHeaderRoundTrip(t *testing.T, cfg *Config, h Header, wire []byte) {
	re := AppendFrameHeader(nil, h.Fin, h.Op, h.Length, maskOf(h))
	if h.Compressed {
		re = AppendCompressedFrameHeader(nil, h.Fin, h.Op, h.Length, maskOf(h))
	}
	if HeaderSize(h.Length, h.Masked) == len(wire) {
		if !bytes.Equal(re, wire) {
			t.Fatalf("header %+v: re-encoded % x, read % x", h, re, wire)
		}
		return
	}
	if len(re) >= len(wire) {
		t.Fatalf("header %+v: minimal encoding % x not shorter than % x", h, re, wire)
	}
	h2, n, err := cfg.ParseHeader(re)
	if err != nil || n != len(re) || h2 != h {
		t.Fatalf("header %+v: re-encoded % x parses to %+v, %d, %v", h, re, h2, n, err)
	}
}

// checkMessagesRoundTrip sends the messages again, framed as the peer would,
// and expects to read the same messages; Close payloads re-encode exactly.
func checkMessagesRoundTrip(t *testing.T, cfg *Config, msgs []Message) {
	var wire []byte
	for i, m := range msgs {
		var key *[4]byte
		if cfg.Role == RoleServer {
			key = &[4]byte{byte(i), 1, 2, 3}
		}
		if m.Compressed {
			wire = AppendCompressedFrameHeader(wire, true, m.Op, len(m.Payload), key)
		} else {
			wire = AppendFrameHeader(wire, true, m.Op, len(m.Payload), key)
		}
		at := len(wire)
		wire = append(wire, m.Payload...)
		if key != nil {
			Unmask(*key, 0, wire[at:])
		}
		if m.Op == OpClose {
			code, reason, err := ParseCloseData(m.Payload)
			if err == nil && !bytes.Equal(AppendCloseData(nil, code, string(reason)), m.Payload) {
				t.Fatalf("close payload % x re-encoded differently", m.Payload)
			}
		}
	}
	again := newConn(*cfg)
	again.feed(t, wire)
	if again.err != nil {
		t.Fatalf("re-framed messages: %v", again.err)
	}
	requireMessages(t, again.msgs, msgs)
}

func FuzzParseCloseData(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03, 0xe8, 'b', 'y', 'e'})
	f.Add([]byte{0x03})
	f.Add([]byte{0x03, 0xed})
	f.Add([]byte{0x0f, 0xa0, 0xe2, 0x82})
	f.Fuzz(func(t *testing.T, payload []byte) {
		code, reason, err := ParseCloseData(payload)
		if err != nil {
			var pe ProtocolError
			if !errors.As(err, &pe) || code != 0 || reason != nil {
				t.Fatalf("(%d, %q, %v)", code, reason, err)
			}
			return
		}
		if len(payload) == 0 {
			requireEqual(t, code, StatusNoStatusRcvd)
			return
		}
		requireBytes(t, AppendCloseData(nil, code, string(reason)), payload)
		requireBytes(t, AppendCloseFrame(nil, code, string(reason)), AppendFrame(nil, OpClose, payload))
	})
}

func FuzzUnmask(f *testing.F) {
	f.Add([]byte("Hello, WebSocket"), uint32(0x37fa213d), uint8(0))
	f.Add(make([]byte, 100), uint32(1), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, k uint32, pos uint8) {
		key := [4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}
		got := bytes.Clone(data)
		want := bytes.Clone(data)
		Unmask(key, int(pos), got)
		unmaskBytewise(key, int(pos), want)
		requireBytes(t, got, want)
	})
}

func FuzzParseUpgradeResponse(f *testing.F) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	ok := AppendUpgradeResponse(nil, key)
	f.Add(ok, uint16(0), uint16(10))
	f.Add(cat(ok, []byte{0x82, 0x00}), uint16(len(ok)), uint16(len(ok)-1))
	f.Add(AppendHTTPError(nil, 426), uint16(0), uint16(3))
	f.Add(AppendUpgradeResponseDeflate(nil, key), uint16(0), uint16(40))
	f.Add([]byte("HTTP/1.1 101\r\nupgrade: WebSocket\r\nconnection: upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"), uint16(0), uint16(50))
	known := []error{ErrResponseStatus, ErrMalformedResponse, ErrResponseUpgrade, ErrResponseAccept, ErrResponseExtension, ErrHeaderTooLarge}

	f.Fuzz(func(t *testing.T, data []byte, limit uint16, k uint16) {
		cfg := Config{Role: RoleClient, MaxHeaderSize: int(limit)}
		n, err := cfg.ParseUpgradeResponse(data, key)
		switch {
		case err == nil:
			if n < len(headerBlockEnd) || n > len(data) || string(data[n-4:n]) != headerBlockEnd {
				t.Fatalf("n=%d for %d bytes", n, len(data))
			}
			if !bytes.Contains(data[:n], []byte("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")) {
				t.Fatal("accepted without the accept value")
			}
		case err == ErrShortBuffer:
			if n <= len(data) || bytes.Contains(data, []byte(headerBlockEnd)) {
				t.Fatalf("ErrShortBuffer, n=%d, for %d bytes", n, len(data))
			}
		default:
			found := false
			for _, e := range known {
				found = found || err == e
			}
			if !found || n != 0 {
				t.Fatalf("n=%d err=%v", n, err)
			}
		}
		kk := int(k) % (len(data) + 1)
		pn, perr := cfg.ParseUpgradeResponse(data[:kk], key)
		if perr != ErrShortBuffer && (perr != err || pn != n) {
			t.Fatalf("prefix %d: (%d, %v), whole: (%d, %v)", kk, pn, perr, n, err)
		}
		// Having offered permessage-deflate changes only whether an extension is accepted (the
		// check without the offer stops at the extension; with it, a later error may show).
		dn, deflate, derr := cfg.ParseUpgradeResponseDeflate(data, key)
		switch {
		case deflate && (derr != nil || err != ErrResponseExtension):
			t.Fatalf("deflate accepted with (%d, %v); without the offer: (%d, %v)", dn, derr, n, err)
		case !deflate && err != ErrResponseExtension && (derr != err || dn != n):
			t.Fatalf("offer made: (%d, %v), not made: (%d, %v)", dn, derr, n, err)
		}
	})
}

// FuzzInflate feeds arbitrary bytes to Inflate as a compressed message: no panic, never more
// than the limit, and what inflates compresses again (Deflate) to data that inflates to the same.
func FuzzInflate(f *testing.F) {
	for _, p := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte(`{"route":"onChat","msg":"hi"}`), 50), make([]byte, 5000)} {
		c, err := Deflate(nil, p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c, uint16(4096))
	}
	f.Add([]byte{0x00, 0x00, 0xff, 0xff}, uint16(10))
	f.Add([]byte{0x03, 0x00}, uint16(10)) // an empty final fixed-Huffman block
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		out, err := Inflate(nil, data, int(limit))
		if err != nil {
			if err != ErrMessageTooBig && err != ErrBadDeflate {
				t.Fatalf("Inflate: unexpected error %v", err)
			}
			if len(out) != 0 {
				t.Fatalf("Inflate failed with %v but returned %d bytes", err, len(out))
			}
			return
		}
		if len(out) > int(limit) {
			t.Fatalf("Inflate returned %d bytes, limit %d", len(out), limit)
		}
		c, err := Deflate(nil, out)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Inflate([]byte("prefix"), c, int(limit))
		if err != nil || !bytes.Equal(again[6:], out) || string(again[:6]) != "prefix" {
			t.Fatalf("round trip of %d bytes: %v", len(out), err)
		}
	})
}
