package ws

import (
	"crypto/sha1"
	"encoding/base64"
	"io"
	"testing"
)

// RFC 6455 §1.3: the key "dGhlIHNhbXBsZSBub25jZQ==" is answered with
// "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
func TestAppendUpgradeResponseRFC(t *testing.T) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	requireEqual(t, string(AppendAccept(nil, key)), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
	got := AppendUpgradeResponse([]byte("x"), key)
	requireEqual(t, string(got), "x"+
		"HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"+
		"\r\n")
}

// AppendAccept against crypto/sha1's streaming interface and
// base64.EncodeToString, for keys of every length up to 64 bytes.
func TestAppendAcceptDifferential(t *testing.T) {
	key := make([]byte, 64)
	for i := range key {
		key[i] = byte('A' + i%26)
	}
	for n := 0; n <= len(key); n++ {
		h := sha1.New()
		h.Write(key[:n])
		io.WriteString(h, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
		want := base64.StdEncoding.EncodeToString(h.Sum(nil))
		got := AppendAccept(nil, key[:n])
		requireEqual(t, string(got), want)
		requireEqual(t, len(got), AcceptSize)
	}
}

func TestAppendHTTPError(t *testing.T) {
	cases := []struct {
		status int
		want   string
	}{
		{400, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
		{426, "HTTP/1.1 426 Upgrade Required\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n" +
			"Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"},
		{431, "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
		{503, "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
		{418, "HTTP/1.1 418 \r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
		{200, "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
		{1000, "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
	}
	for _, tc := range cases {
		requireEqual(t, string(AppendHTTPError([]byte("x"), tc.status)), "x"+tc.want)
	}
	requireEqual(t, HTTPStatus(ErrHeaderTooLarge), 431)
	requireEqual(t, HTTPStatus(ErrBadVersion), 426)
	requireEqual(t, HTTPStatus(ErrShortBuffer), 500)
}
