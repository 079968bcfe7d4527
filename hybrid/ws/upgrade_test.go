package ws

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestParseUpgradeClients(t *testing.T) {
	reqs := readTestdata(t, "upgrade/*.http")
	want := map[string]UpgradeRequest{
		"chrome.http": {
			Path: []byte("/"), Host: []byte("127.0.0.1:3010"), Origin: []byte("http://127.0.0.1:3001"),
			Key: []byte("x3JJHMbDL1EzLkh9GBhXDw=="), HasExtensions: true,
		},
		"firefox.http": {
			Path: []byte("/chat?room=1"), Host: []byte("game.example.com:3010"), Origin: []byte("https://game.example.com"),
			Key: []byte("AQIDBAUGBwgJCgsMDQ4PEA=="), HasExtensions: true,
		},
		"node-ws.http": {
			Path: []byte("/"), Host: []byte("127.0.0.1:3010"),
			Key: []byte("9wN3kTgXq9cYtR+f1mVpJg=="), HasExtensions: true,
		},
		"rfc6455.http": {
			Path: []byte("/chat"), Host: []byte("server.example.com"), Origin: []byte("http://example.com"),
			Key: []byte("dGhlIHNhbXBsZSBub25jZQ=="), Protocol: []byte("chat, superchat"),
		},
	}
	requireEqual(t, len(reqs), len(want))
	for name, raw := range reqs {
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			var cfg Config
			var req UpgradeRequest
			n, err := cfg.ParseUpgrade(raw, &req)
			requireNoError(t, err)
			requireEqual(t, n, len(raw))
			requireRequest(t, &req, &w)

			// The first frame may follow in the same read.
			withFrame := cat(raw, AppendMaskedFrame(nil, OpBinary, rfcKey, []byte{3, 0, 0, 0}))
			n, err = cfg.ParseUpgrade(withFrame, &req)
			requireNoError(t, err)
			requireEqual(t, n, len(raw))
			requireRequest(t, &req, &w)

			// Every prefix waits, asking for no more than the request holds.
			for k := range len(raw) {
				var r UpgradeRequest
				n, err := cfg.ParseUpgrade(raw[:k], &r)
				requireErrorIs(t, err, ErrShortBuffer)
				if n <= k || n > len(raw) {
					t.Fatalf("prefix %d: n=%d, want in (%d, %d]", k, n, k, len(raw))
				}
			}
		})
	}
}

func requireRequest(t testing.TB, got, want *UpgradeRequest) {
	t.Helper()
	eq := func(field string, g, w []byte) {
		t.Helper()
		if !bytes.Equal(g, w) || (g == nil) != (w == nil) {
			t.Fatalf("%s = %q, want %q", field, g, w)
		}
	}
	eq("Path", got.Path, want.Path)
	eq("Host", got.Host, want.Host)
	eq("Origin", got.Origin, want.Origin)
	eq("Key", got.Key, want.Key)
	eq("Protocol", got.Protocol, want.Protocol)
	requireEqual(t, got.HasExtensions, want.HasExtensions)
}

// request builds an Upgrade request from header lines, CRLF-terminated.
func request(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n")
}

const (
	getLine  = "GET / HTTP/1.1"
	hostLine = "Host: h"
	upgLine  = "Upgrade: websocket"
	connLine = "Connection: Upgrade"
	verLine  = "Sec-WebSocket-Version: 13"
	keyLine  = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
)

func TestParseUpgradeVariants(t *testing.T) {
	cases := []struct {
		name string
		raw  []byte
		host string
	}{
		{"minimal", request(getLine, hostLine, upgLine, connLine, verLine, keyLine), "h"},
		{"names in any case", request(getLine, "HOST: h", "UPGRADE: websocket", "connection: upgrade",
			"sec-websocket-version: 13", "SEC-WEBSOCKET-KEY: dGhlIHNhbXBsZSBub25jZQ=="), "h"},
		{"values in any case", request(getLine, hostLine, "Upgrade: WebSocket", "Connection: UPGRADE", verLine, keyLine), "h"},
		{"token lists", request(getLine, hostLine, "Upgrade: h2c, websocket", "Connection: keep-alive,Upgrade , close", verLine, keyLine), "h"},
		{"tokens over several lines", request(getLine, hostLine, "Upgrade: h2c", upgLine, "Connection: keep-alive", connLine, verLine, keyLine), "h"},
		{"empty list elements", request(getLine, hostLine, "Upgrade: ,websocket,", "Connection: , Upgrade", verLine, keyLine), "h"},
		{"optional whitespace", request(getLine, "Host:\th \t", "Upgrade:websocket", "Connection:  Upgrade  ", "Sec-WebSocket-Version:13", "Sec-WebSocket-Key:\tdGhlIHNhbXBsZSBub25jZQ== "), "h"},
		{"empty Host", request(getLine, "Host:", upgLine, connLine, verLine, keyLine), ""},
		{"obs-text in a value", request(getLine, hostLine, "X-Name: caf\xe9", upgLine, connLine, verLine, keyLine), "h"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var req UpgradeRequest
			n, err := (*Config)(nil).ParseUpgrade(tc.raw, &req)
			requireNoError(t, err)
			requireEqual(t, n, len(tc.raw))
			requireEqual(t, string(req.Host), tc.host)
			requireEqual(t, string(req.Key), "dGhlIHNhbXBsZSBub25jZQ==")
		})
	}
}

func TestParseUpgradeErrors(t *testing.T) {
	cases := []struct {
		name   string
		raw    []byte
		err    error
		status int
	}{
		{"POST", request("POST / HTTP/1.1", hostLine, upgLine, connLine, verLine, keyLine), ErrBadMethod, 400},
		{"lower-case get", request("get / HTTP/1.1", hostLine, upgLine, connLine, verLine, keyLine), ErrBadMethod, 400},
		{"HTTP/1.0", request("GET / HTTP/1.0", hostLine, upgLine, connLine, verLine, keyLine), ErrBadHTTPVersion, 400},
		{"HTTP/2.0", request("GET / HTTP/2.0", hostLine, upgLine, connLine, verLine, keyLine), ErrBadHTTPVersion, 400},
		{"no target", request("GET HTTP/1.1", hostLine, upgLine, connLine, verLine, keyLine), ErrMalformedRequest, 400},
		{"double space", request("GET  / HTTP/1.1", hostLine, upgLine, connLine, verLine, keyLine), ErrMalformedRequest, 400},
		{"trailing space", request("GET / HTTP/1.1 ", hostLine, upgLine, connLine, verLine, keyLine), ErrBadHTTPVersion, 400},
		{"empty request line", request("", hostLine, upgLine, connLine, verLine, keyLine), ErrMalformedRequest, 400},
		{"missing Host", request(getLine, upgLine, connLine, verLine, keyLine), ErrMissingHost, 400},
		{"two Hosts", request(getLine, hostLine, hostLine, upgLine, connLine, verLine, keyLine), ErrMissingHost, 400},
		{"no Upgrade", request(getLine, hostLine, connLine, verLine, keyLine), ErrBadUpgrade, 400},
		{"Upgrade h2c", request(getLine, hostLine, "Upgrade: h2c", connLine, verLine, keyLine), ErrBadUpgrade, 400},
		{"Upgrade websocket2", request(getLine, hostLine, "Upgrade: websocket2", connLine, verLine, keyLine), ErrBadUpgrade, 400},
		{"no Connection", request(getLine, hostLine, upgLine, verLine, keyLine), ErrBadConnection, 400},
		{"Connection keep-alive", request(getLine, hostLine, upgLine, "Connection: keep-alive", verLine, keyLine), ErrBadConnection, 400},
		{"Connection substring", request(getLine, hostLine, upgLine, "Connection: Upgraded", verLine, keyLine), ErrBadConnection, 400},
		{"no version", request(getLine, hostLine, upgLine, connLine, keyLine), ErrBadVersion, 426},
		{"version 8", request(getLine, hostLine, upgLine, connLine, "Sec-WebSocket-Version: 8", keyLine), ErrBadVersion, 426},
		{"version 13 and 8", request(getLine, hostLine, upgLine, connLine, verLine, "Sec-WebSocket-Version: 8", keyLine), ErrBadVersion, 426},
		{"no key", request(getLine, hostLine, upgLine, connLine, verLine), ErrBadKey, 400},
		{"two keys", request(getLine, hostLine, upgLine, connLine, verLine, keyLine, keyLine), ErrBadKey, 400},
		{"short key", request(getLine, hostLine, upgLine, connLine, verLine, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ="), ErrBadKey, 400},
		{"key not padded", request(getLine, hostLine, upgLine, connLine, verLine, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQAA"), ErrBadKey, 400},
		{"key with a bad character", request(getLine, hostLine, upgLine, connLine, verLine, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j-Q=="), ErrBadKey, 400},
		{"key of 20 bytes", request(getLine, hostLine, upgLine, connLine, verLine, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAA="), ErrBadKey, 400},
		{"obs-fold", request(getLine, hostLine, upgLine, connLine, " Upgrade", verLine, keyLine), ErrMalformedRequest, 400},
		{"space before colon", request(getLine, "Host : h", upgLine, connLine, verLine, keyLine), ErrMalformedRequest, 400},
		{"no colon", request(getLine, hostLine, "Upgrade websocket", connLine, verLine, keyLine), ErrMalformedRequest, 400},
		{"empty name", request(getLine, hostLine, ": x", upgLine, connLine, verLine, keyLine), ErrMalformedRequest, 400},
		{"NUL in a value", request(getLine, "Host: h\x00", upgLine, connLine, verLine, keyLine), ErrMalformedRequest, 400},
		{"bare LF", request(getLine, "Host: h\nX: y", upgLine, connLine, verLine, keyLine), ErrMalformedRequest, 400},
		{"bare CR", request(getLine, "Host: h\rX: y", upgLine, connLine, verLine, keyLine), ErrMalformedRequest, 400},
		{"DEL in target", request("GET /\x7f HTTP/1.1", hostLine, upgLine, connLine, verLine, keyLine), ErrMalformedRequest, 400},
		{"not HTTP", []byte("\x01\x00\x00\x45{\"sys\":{}}\r\n\r\n"), ErrMalformedRequest, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := UpgradeRequest{Path: []byte("stale")}
			n, err := (&Config{}).ParseUpgrade(tc.raw, &req)
			requireErrorIs(t, err, tc.err)
			requireEqual(t, n, 0)
			requireEqual(t, HTTPStatus(err), tc.status)
			requireEqual(t, HTTPStatus(fmt.Errorf("conn: %w", err)), tc.status)
			requireRequest(t, &req, &UpgradeRequest{})
			for k := range len(tc.raw) {
				_, perr := (&Config{}).ParseUpgrade(tc.raw[:k], &req)
				requireErrorIs(t, perr, ErrShortBuffer)
			}
		})
	}
}

func TestParseUpgradeHeaderLimit(t *testing.T) {
	raw := request(getLine, hostLine, upgLine, connLine, verLine, keyLine)
	var req UpgradeRequest

	// A block of exactly MaxHeaderSize bytes fits; one byte less does not.
	_, err := (&Config{MaxHeaderSize: len(raw)}).ParseUpgrade(raw, &req)
	requireNoError(t, err)
	cfg := Config{MaxHeaderSize: len(raw) - 1}
	n, err := cfg.ParseUpgrade(raw, &req)
	requireErrorIs(t, err, ErrHeaderTooLarge)
	requireEqual(t, n, 0)
	requireEqual(t, HTTPStatus(err), 431)
	// Prefixes wait until the limit is reached, then fail without waiting
	// for the end of the block.
	for k := range len(raw) {
		_, err := cfg.ParseUpgrade(raw[:k], &req)
		if k < cfg.MaxHeaderSize {
			requireErrorIs(t, err, ErrShortBuffer)
		} else {
			requireErrorIs(t, err, ErrHeaderTooLarge)
		}
	}

	// The default limit: 4 KiB of headers is refused even before it ends.
	endless := cat([]byte(getLine+"\r\n"), bytes.Repeat([]byte("X-Pad: 0123456789abcdef\r\n"), 200))
	_, err = (&Config{}).ParseUpgrade(endless, &req)
	requireErrorIs(t, err, ErrHeaderTooLarge)
	_, err = (&Config{}).ParseUpgrade(endless[:DefaultMaxHeaderSize-1], &req)
	requireErrorIs(t, err, ErrShortBuffer)
	_, err = (&Config{}).ParseUpgrade(endless[:DefaultMaxHeaderSize], &req)
	requireErrorIs(t, err, ErrHeaderTooLarge)
}

// n on ErrShortBuffer counts the bytes of CR LF CR LF still missing.
func TestParseUpgradeShortBufferHint(t *testing.T) {
	raw := request(getLine, hostLine, upgLine, connLine, verLine, keyLine)
	var req UpgradeRequest
	for missing := 1; missing <= 4; missing++ {
		k := len(raw) - missing
		n, err := (&Config{}).ParseUpgrade(raw[:k], &req)
		requireErrorIs(t, err, ErrShortBuffer)
		requireEqual(t, n, len(raw))
	}
	n, err := (&Config{}).ParseUpgrade(raw[:len(raw)-5], &req)
	requireErrorIs(t, err, ErrShortBuffer)
	requireEqual(t, n, len(raw)-5+4)
}
