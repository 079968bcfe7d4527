package ws

import (
	"bytes"
	"errors"
)

// Handshake errors seen by a client.
var (
	ErrResponseStatus    = errors.New("ws: handshake response status is not 101")
	ErrMalformedResponse = errors.New("ws: malformed handshake response")
	ErrResponseUpgrade   = errors.New("ws: handshake response lacks Upgrade: websocket or Connection: Upgrade")
	ErrResponseAccept    = errors.New("ws: missing, repeated or wrong Sec-WebSocket-Accept")
	ErrResponseExtension = errors.New("ws: handshake response selects an extension or subprotocol that was not offered")
)

// AppendUpgradeRequest appends the opening handshake a client sends
// (RFC 6455 §4.1) and returns the extended slice. key is the
// Sec-WebSocket-Key: base64 of 16 random bytes chosen by the caller, fresh
// for each connection. It offers no extension and no subprotocol. An empty
// path is sent as "/". host and path are written as given.
//
//	GET <path> HTTP/1.1\r\n
//	Host: <host>\r\n
//	Upgrade: websocket\r\n
//	Connection: Upgrade\r\n
//	Sec-WebSocket-Key: <key>\r\n
//	Sec-WebSocket-Version: 13\r\n
//	\r\n
func AppendUpgradeRequest(dst []byte, host, path string, key []byte) []byte {
	if path == "" {
		path = "/"
	}
	dst = append(dst, "GET "...)
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	dst = append(dst, key...)
	return append(dst, "\r\nSec-WebSocket-Version: 13\r\n\r\n"...)
}

// ParseUpgradeResponse checks the server's answer to a handshake sent with
// AppendUpgradeRequest and the same key (RFC 6455 §4.1): status 101,
// Upgrade listing "websocket", Connection listing "Upgrade", exactly one
// Sec-WebSocket-Accept equal to AppendAccept(key), and no
// Sec-WebSocket-Extensions or Sec-WebSocket-Protocol (none was offered). The
// header block is bounded by c.MaxHeaderSize (nil means the zero Config).
//
// On success n is the size of the response's header block; bytes after it
// are frames. ErrShortBuffer, its n and ErrHeaderTooLarge work as for
// ParseUpgrade. Any other error means the handshake failed; for
// ErrResponseStatus the status line is at the start of b. It does not
// allocate.
func (c *Config) ParseUpgradeResponse(b, key []byte) (n int, err error) {
	n, err = findHeaderBlock(b, c.maxHeaderSize())
	if err != nil {
		return n, err
	}
	if err := parseResponse(b[:n-len(crlf)], key); err != nil {
		return 0, err
	}
	return n, nil
}

// parseResponse checks block, the status line and header lines, each ending
// in CRLF (the blank line excluded).
func parseResponse(block, key []byte) error {
	line, rest := cutLine(block)
	version, line, ok := bytes.Cut(line, []byte(" "))
	status, reason, _ := bytes.Cut(line, []byte(" "))
	if !ok || string(version) != "HTTP/1.1" || !isStatus(status) || !isFieldValue(reason) {
		return ErrMalformedResponse
	}
	if string(status) != "101" {
		return ErrResponseStatus
	}
	var upgrade, connection bool
	accepts := 0
	for len(rest) > 0 {
		line, rest = cutLine(rest)
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || !isToken(name) {
			return ErrMalformedResponse
		}
		value = trimOWS(value)
		if !isFieldValue(value) {
			return ErrMalformedResponse
		}
		switch {
		case equalFoldASCII(name, "upgrade"):
			upgrade = upgrade || hasToken(value, "websocket")
		case equalFoldASCII(name, "connection"):
			connection = connection || hasToken(value, "upgrade")
		case equalFoldASCII(name, "sec-websocket-accept"):
			accepts++
			if !equalAccept(value, key) {
				return ErrResponseAccept
			}
		case equalFoldASCII(name, "sec-websocket-extensions"), equalFoldASCII(name, "sec-websocket-protocol"):
			return ErrResponseExtension
		}
	}
	switch {
	case !upgrade || !connection:
		return ErrResponseUpgrade
	case accepts != 1:
		return ErrResponseAccept
	}
	return nil
}

// equalAccept reports whether v is the Sec-WebSocket-Accept value for key.
func equalAccept(v, key []byte) bool {
	var buf [AcceptSize]byte
	return bytes.Equal(v, AppendAccept(buf[:0], key))
}

// isStatus reports whether b is a 3-digit status code.
func isStatus(b []byte) bool {
	return len(b) == 3 && isDigit(b[0]) && isDigit(b[1]) && isDigit(b[2])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
