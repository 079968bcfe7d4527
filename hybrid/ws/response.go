package ws

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strconv"
)

// acceptGUID is the fixed string appended to Sec-WebSocket-Key before
// hashing (RFC 6455 §1.3).
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// sizeOfKey is the length of a valid Sec-WebSocket-Key (base64 of 16 bytes).
const sizeOfKey = 24

// AcceptSize is the length of a Sec-WebSocket-Accept value: base64 of a
// 20-byte SHA-1 digest.
const AcceptSize = 28

// AppendAccept appends the Sec-WebSocket-Accept value for key,
// base64(SHA-1(key + GUID)), to dst and returns the extended slice. It does
// not allocate beyond growing dst when key has the usual 24 bytes.
func AppendAccept(dst, key []byte) []byte {
	var buf [sizeOfKey + len(acceptGUID)]byte
	in := append(append(buf[:0], key...), acceptGUID...)
	sum := sha1.Sum(in)
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// AppendUpgradeResponse appends the 101 response that accepts a WebSocket
// handshake whose Sec-WebSocket-Key is key (UpgradeRequest.Key) and returns
// the extended slice. It names no extension and no subprotocol. It does not
// allocate beyond growing dst.
//
//	HTTP/1.1 101 Switching Protocols\r\n
//	Upgrade: websocket\r\n
//	Connection: Upgrade\r\n
//	Sec-WebSocket-Accept: <AppendAccept(key)>\r\n
//	\r\n
func AppendUpgradeResponse(dst, key []byte) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "...)
	dst = AppendAccept(dst, key)
	return append(dst, crlf+crlf...)
}

// AppendUpgradeResponseDeflate is AppendUpgradeResponse accepting permessage-deflate: the
// response also carries "Sec-WebSocket-Extensions: " + DeflateExtension.
func AppendUpgradeResponseDeflate(dst, key []byte) []byte {
	dst = AppendUpgradeResponse(dst, key)
	dst = dst[:len(dst)-len(crlf)]
	return append(dst, "Sec-WebSocket-Extensions: "+DeflateExtension+crlf+crlf...)
}

// AppendHTTPError appends an HTTP error response with the given status and
// no body, asking to close the connection, and returns the extended slice.
// 426 Upgrade Required also carries "Upgrade: websocket" and
// "Sec-WebSocket-Version: 13" (RFC 6455 §4.4). A status outside 400-599 is
// written as 500.
//
//	HTTP/1.1 400 Bad Request\r\n
//	Connection: close\r\n
//	Content-Length: 0\r\n
//	\r\n
func AppendHTTPError(dst []byte, status int) []byte {
	if status < 400 || status > 599 {
		status = 500
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, statusText(status)...)
	dst = append(dst, crlf...)
	if status == StatusUpgradeRequired {
		// RFC 7230 §6.7: a response carrying Upgrade lists it in Connection.
		dst = append(dst, "Connection: Upgrade, close\r\n"+
			"Upgrade: websocket\r\n"+
			"Sec-WebSocket-Version: 13\r\n"...)
	} else {
		dst = append(dst, "Connection: close\r\n"...)
	}
	return append(dst, "Content-Length: 0\r\n\r\n"...)
}

// statusText returns the reason phrase of the error statuses a WebSocket
// endpoint sends, and "" (allowed by RFC 7230) for others.
func statusText(status int) string {
	switch status {
	case StatusBadRequest:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case StatusUpgradeRequired:
		return "Upgrade Required"
	case 429:
		return "Too Many Requests"
	case StatusRequestHeaderFieldsTooLarge:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 503:
		return "Service Unavailable"
	}
	return ""
}

// HTTPStatus returns the HTTP status code that answers a failed handshake:
// the Status of an UpgradeError found in err's chain, and 500 for any other
// error. ErrShortBuffer is not a failure and must not be answered.
func HTTPStatus(err error) int {
	if ue, ok := err.(UpgradeError); ok {
		return ue.status
	}
	var ue UpgradeError
	if errors.As(err, &ue) {
		return ue.status
	}
	return 500
}
