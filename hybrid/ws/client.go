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

// DeflateOffer is the permessage-deflate offer AppendUpgradeRequestDeflate sends: the form this
// package implements, no context takeover either way.
const DeflateOffer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// AppendUpgradeRequestDeflate is AppendUpgradeRequest offering permessage-deflate
// (DeflateOffer); check the answer with ParseUpgradeResponseDeflate.
func AppendUpgradeRequestDeflate(dst []byte, host, path string, key []byte) []byte {
	dst = AppendUpgradeRequest(dst, host, path, key)
	dst = dst[:len(dst)-len(crlf)]
	return append(dst, "Sec-WebSocket-Extensions: "+DeflateOffer+crlf+crlf...)
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
	n, _, err = c.parseUpgradeResponse(b, key, false)
	return n, err
}

// ParseUpgradeResponseDeflate is ParseUpgradeResponse for a handshake sent with
// AppendUpgradeRequestDeflate: the response may also accept permessage-deflate, with
// server_no_context_takeover (as offered) and optionally client_no_context_takeover and
// server_max_window_bits; deflate reports that it did. Any other extension or parameter is
// ErrResponseExtension. Frames may then carry RSV1 (set Config.Deflate to read them).
func (c *Config) ParseUpgradeResponseDeflate(b, key []byte) (n int, deflate bool, err error) {
	return c.parseUpgradeResponse(b, key, true)
}

func (c *Config) parseUpgradeResponse(b, key []byte, offered bool) (n int, deflate bool, err error) {
	n, err = findHeaderBlock(b, c.maxHeaderSize())
	if err != nil {
		return n, false, err
	}
	if deflate, err = parseResponse(b[:n-len(crlf)], key, offered); err != nil {
		return 0, false, err
	}
	return n, deflate, nil
}

// deflateAccepted reports whether v, a response's Sec-WebSocket-Extensions value, accepts
// DeflateOffer: one permessage-deflate with valid parameters (parseDeflateParams), among them
// server_no_context_takeover, and no client_max_window_bits (not offered).
func deflateAccepted(v []byte) bool {
	name, params := cutByte(v, ';')
	if !equalFoldASCII(trimOWS(name), "permessage-deflate") || bytes.IndexByte(params, ',') >= 0 {
		return false
	}
	d, ok := parseDeflateParams(params)
	return ok && d.serverNoContext && d.clientBits == 0
}

// parseResponse checks block, the status line and header lines, each ending
// in CRLF (the blank line excluded). offered: permessage-deflate was offered.
func parseResponse(block, key []byte, offered bool) (deflate bool, err error) {
	line, rest := cutLine(block)
	version, line, ok := bytes.Cut(line, []byte(" "))
	status, reason, _ := bytes.Cut(line, []byte(" "))
	if !ok || string(version) != "HTTP/1.1" || !isStatus(status) || !isFieldValue(reason) {
		return false, ErrMalformedResponse
	}
	if string(status) != "101" {
		return false, ErrResponseStatus
	}
	var upgrade, connection bool
	accepts := 0
	for len(rest) > 0 {
		line, rest = cutLine(rest)
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || !isToken(name) {
			return false, ErrMalformedResponse
		}
		value = trimOWS(value)
		if !isFieldValue(value) {
			return false, ErrMalformedResponse
		}
		switch {
		case equalFoldASCII(name, "upgrade"):
			upgrade = upgrade || hasToken(value, "websocket")
		case equalFoldASCII(name, "connection"):
			connection = connection || hasToken(value, "upgrade")
		case equalFoldASCII(name, "sec-websocket-accept"):
			accepts++
			if !equalAccept(value, key) {
				return false, ErrResponseAccept
			}
		case equalFoldASCII(name, "sec-websocket-extensions"):
			if !offered || deflate || !deflateAccepted(value) {
				return false, ErrResponseExtension
			}
			deflate = true
		case equalFoldASCII(name, "sec-websocket-protocol"):
			return false, ErrResponseExtension
		}
	}
	switch {
	case !upgrade || !connection:
		return false, ErrResponseUpgrade
	case accepts != 1:
		return false, ErrResponseAccept
	}
	return deflate, nil
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
