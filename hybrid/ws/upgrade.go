package ws

import "bytes"

// UpgradeRequest is what ParseUpgrade extracts from a WebSocket opening
// handshake. Every slice is borrowed: it points into the bytes given to
// ParseUpgrade and is valid only while those bytes are unchanged. A connector
// decoding in place from a read buffer must use (or copy) them before the
// buffer is reused.
type UpgradeRequest struct {
	Path   []byte // request-target as sent, e.g. "/" or "/chat?x=1"
	Host   []byte // Host header value
	Origin []byte // Origin header value; nil when absent (non-browser clients)
	Key    []byte // Sec-WebSocket-Key, 24 bytes of base64

	// Protocol is the raw Sec-WebSocket-Protocol value, nil when absent. This
	// package selects no subprotocol: AppendUpgradeResponse never names one.
	Protocol []byte
	// HasExtensions reports that the client offered extensions
	// (Sec-WebSocket-Extensions).
	HasExtensions bool
	// Deflate reports that one of them is a permessage-deflate offer that
	// DeflateExtension accepts (AppendUpgradeResponseDeflate). Otherwise the
	// response omits the header, which RFC 6455 §9.1 allows, and the client
	// sends plain frames.
	Deflate bool
}

// UpgradeError is an Upgrade request the server refuses. Its Status is the
// HTTP status code to answer with (see AppendHTTPError) before closing. The
// package's UpgradeError values are sentinels: compare them with errors.Is.
type UpgradeError struct {
	status int
	msg    string
}

func (e UpgradeError) Error() string { return e.msg }

// Status returns the HTTP status code that answers this error.
func (e UpgradeError) Status() int { return e.status }

// HTTP status codes used by the Upgrade handshake.
const (
	StatusBadRequest                  = 400
	StatusUpgradeRequired             = 426
	StatusRequestHeaderFieldsTooLarge = 431
)

// Upgrade request errors.
var (
	ErrHeaderTooLarge   error = UpgradeError{StatusRequestHeaderFieldsTooLarge, "ws: header block too large"}
	ErrMalformedRequest error = UpgradeError{StatusBadRequest, "ws: malformed HTTP request"}
	ErrBadMethod        error = UpgradeError{StatusBadRequest, "ws: request method is not GET"}
	ErrBadHTTPVersion   error = UpgradeError{StatusBadRequest, "ws: request version is not HTTP/1.1"}
	ErrMissingHost      error = UpgradeError{StatusBadRequest, "ws: missing or repeated Host header"}
	ErrBadUpgrade       error = UpgradeError{StatusBadRequest, "ws: Upgrade header does not name websocket"}
	ErrBadConnection    error = UpgradeError{StatusBadRequest, "ws: Connection header does not name Upgrade"}
	ErrBadVersion       error = UpgradeError{StatusUpgradeRequired, "ws: Sec-WebSocket-Version is not 13"}
	ErrBadKey           error = UpgradeError{StatusBadRequest, "ws: missing, repeated or malformed Sec-WebSocket-Key"}
)

const (
	crlf           = "\r\n"
	headerBlockEnd = crlf + crlf
)

// ParseUpgrade parses the WebSocket opening handshake (RFC 6455 §4.2.1) at
// the start of b into req, with the limits of c (nil means the zero Config).
//
// On success n is the size of the header block, up to and including the
// blank line; any bytes after it are already WebSocket frames.
//
// If b does not yet hold the whole header block, ParseUpgrade returns
// ErrShortBuffer and n is the least length b must reach before the next call
// can succeed. Once b holds c.MaxHeaderSize bytes without the end of the
// block, it returns ErrHeaderTooLarge instead of waiting for more. A prefix
// of b yields either ErrShortBuffer or exactly what b yields.
//
// Otherwise the error is an UpgradeError, to be answered with
// AppendHTTPError(dst, HTTPStatus(err)), and req is zeroed. On success req's
// slices point into b (see UpgradeRequest). ParseUpgrade does not allocate
// and is safe for concurrent use with distinct req.
//
// It checks: method GET; version HTTP/1.1; a single Host; Upgrade listing
// "websocket" and Connection listing "Upgrade" (case-insensitive token lists,
// several header lines allowed); Sec-WebSocket-Version 13 (else 426); one
// Sec-WebSocket-Key of 22 base64 characters and "==" (16 bytes). Header lines
// end in CRLF; obsolete line folding, control characters and malformed
// header names are refused.
func (c *Config) ParseUpgrade(b []byte, req *UpgradeRequest) (n int, err error) {
	n, err = findHeaderBlock(b, c.maxHeaderSize())
	if err != nil {
		return n, err
	}
	if err := parseRequest(b[:n-len(crlf)], req); err != nil {
		*req = UpgradeRequest{}
		return 0, err
	}
	return n, nil
}

// findHeaderBlock returns the size of the header block at the start of b, up
// to and including the blank line. If b does not hold it yet, it returns
// ErrShortBuffer and the least length b must reach, or ErrHeaderTooLarge
// once b holds max bytes.
func findHeaderBlock(b []byte, max int) (int, error) {
	window := b
	if len(window) > max {
		window = window[:max]
	}
	if i := bytes.Index(window, []byte(headerBlockEnd)); i >= 0 {
		return i + len(headerBlockEnd), nil
	}
	if len(b) >= max {
		return 0, ErrHeaderTooLarge
	}
	return len(b) + missingForBlockEnd(b), ErrShortBuffer
}

// missingForBlockEnd returns how many more bytes could at best complete
// CRLF CRLF, given the partial match at the end of b.
func missingForBlockEnd(b []byte) int {
	for k := len(headerBlockEnd) - 1; k > 0; k-- {
		if bytes.HasSuffix(b, []byte(headerBlockEnd[:k])) {
			return len(headerBlockEnd) - k
		}
	}
	return len(headerBlockEnd)
}

// upgradeState collects what the header lines said, for the checks made
// once all of them have been read.
type upgradeState struct {
	host, upgrade, connection bool
	versionSeen, versionBad   bool
	keys                      int
}

// parseRequest parses block, the request line and header lines, each ending
// in CRLF (the blank line excluded).
func parseRequest(block []byte, req *UpgradeRequest) error {
	*req = UpgradeRequest{}
	line, rest := cutLine(block)
	if err := parseRequestLine(line, req); err != nil {
		return err
	}
	var st upgradeState
	for len(rest) > 0 {
		line, rest = cutLine(rest)
		if err := parseHeaderLine(line, req, &st); err != nil {
			return err
		}
	}
	switch {
	case !st.host:
		return ErrMissingHost
	case !st.upgrade:
		return ErrBadUpgrade
	case !st.connection:
		return ErrBadConnection
	case !st.versionSeen || st.versionBad:
		return ErrBadVersion
	case st.keys != 1 || !validKey(req.Key):
		return ErrBadKey
	}
	return nil
}

// cutLine splits b after its first CRLF, returning the line without it.
// The caller guarantees that b ends in CRLF.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.Index(b, []byte(crlf))
	return b[:i], b[i+len(crlf):]
}

// parseRequestLine checks "GET SP request-target SP HTTP/1.1".
func parseRequestLine(line []byte, req *UpgradeRequest) error {
	method, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return ErrMalformedRequest
	}
	target, version, ok := bytes.Cut(rest, []byte(" "))
	if !ok || len(target) == 0 || !isTarget(target) {
		return ErrMalformedRequest
	}
	if string(method) != "GET" {
		return ErrBadMethod
	}
	if string(version) != "HTTP/1.1" {
		return ErrBadHTTPVersion
	}
	req.Path = target
	return nil
}

// isTarget reports whether b holds only visible ASCII and obs-text (no
// space, no control character).
func isTarget(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// parseHeaderLine parses "name: OWS value OWS" and records what the
// handshake needs.
func parseHeaderLine(line []byte, req *UpgradeRequest, st *upgradeState) error {
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 || !isToken(name) {
		return ErrMalformedRequest // also catches obs-fold (leading SP/HTAB)
	}
	value = trimOWS(value)
	if !isFieldValue(value) {
		return ErrMalformedRequest
	}
	switch {
	case equalFoldASCII(name, "host"):
		if st.host {
			return ErrMissingHost
		}
		st.host = true
		req.Host = value
	case equalFoldASCII(name, "upgrade"):
		st.upgrade = st.upgrade || hasToken(value, "websocket")
	case equalFoldASCII(name, "connection"):
		st.connection = st.connection || hasToken(value, "upgrade")
	case equalFoldASCII(name, "sec-websocket-version"):
		st.versionSeen = true
		st.versionBad = st.versionBad || string(value) != "13"
	case equalFoldASCII(name, "sec-websocket-key"):
		st.keys++
		req.Key = value
	case equalFoldASCII(name, "origin"):
		if req.Origin == nil {
			req.Origin = value
		}
	case equalFoldASCII(name, "sec-websocket-extensions"):
		req.HasExtensions = true
		req.Deflate = req.Deflate || deflateOK(value)
	case equalFoldASCII(name, "sec-websocket-protocol"):
		if req.Protocol == nil {
			req.Protocol = value
		}
	}
	return nil
}

// trimOWS removes optional whitespace (SP, HTAB) around a field value.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// isFieldValue reports whether b holds only HTAB, visible ASCII, SP and
// obs-text: no control character, in particular no bare CR or NUL.
func isFieldValue(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// isToken reports whether b is an RFC 7230 token: visible ASCII except the
// delimiters "(),/:;<=>?@[\]{}.
func isToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
		switch c {
		case '"', '(', ')', ',', '/', ':', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '{', '}':
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v has an element equal
// to token (lower case) ignoring ASCII case.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var elem []byte
		elem, v, _ = bytes.Cut(v, []byte(","))
		if equalFoldASCII(trimOWS(elem), token) {
			return true
		}
	}
	return false
}

// equalFoldASCII reports whether b equals lower (all lower case) ignoring
// ASCII case.
func equalFoldASCII(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// validKey reports whether k is base64 for 16 bytes: 22 characters of the
// standard alphabet followed by "==". Like common clients and servers, it
// does not insist that the unused low bits of the last character be zero.
func validKey(k []byte) bool {
	const size, pad = 24, 2
	if len(k) != size || k[size-2] != '=' || k[size-1] != '=' {
		return false
	}
	for _, c := range k[:size-pad] {
		if !isBase64(c) {
			return false
		}
	}
	return true
}

func isBase64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}
