package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"

	"github.com/shaddock-io/shaddock/hybrid/ws"
)

// KeySize is the length of a Sec-WebSocket-Key: base64 of 16 bytes.
const KeySize = 24

// MaxUpgradeResponse bounds the 101 response header block a client accepts.
const MaxUpgradeResponse = 4 << 10

// WebSocket upgrade errors.
var (
	ErrShortResponse   = errors.New("wire: upgrade response incomplete")
	ErrUpgradeTooLarge = errors.New("wire: upgrade response header block too large")
	ErrUpgradeStatus   = errors.New("wire: upgrade response status is not 101")
	ErrUpgradeHeaders  = errors.New("wire: upgrade response lacks Upgrade/Connection headers")
	ErrUpgradeAccept   = errors.New("wire: Sec-WebSocket-Accept does not match the key")
)

// MakeKey returns a Sec-WebSocket-Key built from two random words.
func MakeKey(a, b uint64) (key [KeySize]byte) {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], a)
	binary.LittleEndian.PutUint64(raw[8:], b)
	base64.StdEncoding.Encode(key[:], raw[:])
	return key
}

// AppendUpgradeRequest appends the HTTP/1.1 request that opens a WebSocket on path at host.
func AppendUpgradeRequest(dst []byte, host, path string, key *[KeySize]byte) []byte {
	if path == "" {
		path = "/"
	}
	dst = append(dst, "GET "...)
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	dst = append(dst, key[:]...)
	return append(dst, "\r\nSec-WebSocket-Version: 13\r\n\r\n"...)
}

// ParseUpgradeResponse checks the server's answer to AppendUpgradeRequest(…, key). It returns the
// size of the header block (the frames start after it), ErrShortResponse when b does not hold the
// whole block yet, or an error that ends the connection.
func ParseUpgradeResponse(b []byte, key *[KeySize]byte) (int, error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) >= MaxUpgradeResponse {
			return 0, ErrUpgradeTooLarge
		}
		return 0, ErrShortResponse
	}
	n := end + 4
	if n > MaxUpgradeResponse {
		return 0, ErrUpgradeTooLarge
	}
	status, rest, _ := bytes.Cut(b[:end], []byte("\r\n"))
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 101")) || len(status) > 12 && status[12] != ' ' {
		return 0, ErrUpgradeStatus
	}
	var accept [ws.AcceptSize]byte
	want := ws.AppendAccept(accept[:0], key[:])
	var upgrade, connection, accepted bool
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, ErrUpgradeHeaders
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Upgrade")):
			upgrade = bytes.EqualFold(value, []byte("websocket"))
		case bytes.EqualFold(name, []byte("Connection")):
			connection = hasToken(value, "upgrade")
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Accept")):
			accepted = bytes.Equal(value, want)
		}
	}
	if !upgrade || !connection {
		return 0, ErrUpgradeHeaders
	}
	if !accepted {
		return 0, ErrUpgradeAccept
	}
	return n, nil
}

// hasToken reports whether the comma-separated list v holds token (ASCII case-insensitive).
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte(","))
		if bytes.EqualFold(bytes.TrimSpace(t), []byte(token)) {
			return true
		}
	}
	return false
}
