package ws

import (
	"strings"
	"testing"
)

func TestClientHandshakeRoundTrip(t *testing.T) {
	key := []byte("9wN3kTgXq9cYtR+f1mVpJg==")
	for _, path := range []string{"", "/", "/chat?room=1"} {
		reqBytes := AppendUpgradeRequest(nil, "127.0.0.1:3010", path, key)
		var cfg Config
		var req UpgradeRequest
		n, err := cfg.ParseUpgrade(reqBytes, &req)
		requireNoError(t, err)
		requireEqual(t, n, len(reqBytes))
		wantPath := path
		if wantPath == "" {
			wantPath = "/"
		}
		requireRequest(t, &req, &UpgradeRequest{Path: []byte(wantPath), Host: []byte("127.0.0.1:3010"), Key: key})

		resp := AppendUpgradeResponse(nil, req.Key)
		client := Config{Role: RoleClient}
		n, err = client.ParseUpgradeResponse(append(resp, 0x82, 0x00), key)
		requireNoError(t, err)
		requireEqual(t, n, len(resp))
		for k := range len(resp) {
			_, err := client.ParseUpgradeResponse(resp[:k], key)
			requireErrorIs(t, err, ErrShortBuffer)
		}
	}
}

func TestParseUpgradeResponse(t *testing.T) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	const accept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
	resp := func(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n") }
	cases := []struct {
		name string
		raw  []byte
		err  error
	}{
		{"RFC 6455 1.3", resp("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", accept), nil},
		{"no reason, any case", resp("HTTP/1.1 101", "upgrade: WebSocket", "CONNECTION: keep-alive, upgrade", strings.ToLower(accept[:20])+accept[20:]), nil},
		{"other headers", resp("HTTP/1.1 101 OK", "Server: x", "Upgrade: websocket", "Connection: Upgrade", "Date: today", accept), nil},
		{"status 426", AppendHTTPError(nil, 426), ErrResponseStatus},
		{"status 200", resp("HTTP/1.1 200 OK", "Upgrade: websocket", "Connection: Upgrade", accept), ErrResponseStatus},
		{"HTTP/1.0", resp("HTTP/1.0 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", accept), ErrMalformedResponse},
		{"status not a number", resp("HTTP/1.1 1O1 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", accept), ErrMalformedResponse},
		{"status of 4 digits", resp("HTTP/1.1 1010 Switching", "Upgrade: websocket", "Connection: Upgrade", accept), ErrMalformedResponse},
		{"bad header line", resp("HTTP/1.1 101 Switching Protocols", "Upgrade websocket", "Connection: Upgrade", accept), ErrMalformedResponse},
		{"no Upgrade", resp("HTTP/1.1 101 Switching Protocols", "Connection: Upgrade", accept), ErrResponseUpgrade},
		{"no Connection", resp("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", accept), ErrResponseUpgrade},
		{"no accept", resp("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade"), ErrResponseAccept},
		{"two accepts", resp("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", accept, accept), ErrResponseAccept},
		{"wrong accept", resp("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOO="), ErrResponseAccept},
		{"extension", resp("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", accept,
			"Sec-WebSocket-Extensions: permessage-deflate"), ErrResponseExtension},
		{"subprotocol", resp("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", accept,
			"Sec-WebSocket-Protocol: chat"), ErrResponseExtension},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := (&Config{Role: RoleClient}).ParseUpgradeResponse(tc.raw, key)
			if tc.err == nil {
				requireNoError(t, err)
				requireEqual(t, n, len(tc.raw))
				return
			}
			requireErrorIs(t, err, tc.err)
			requireEqual(t, n, 0)
		})
	}
	_, err := (&Config{MaxHeaderSize: 10}).ParseUpgradeResponse(cases[0].raw, key)
	requireErrorIs(t, err, ErrHeaderTooLarge)
}
