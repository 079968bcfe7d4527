package ws

import (
	"encoding/binary"
	"unicode/utf8"
)

const (
	sizeOfCloseCode = 2
	// MaxCloseReason is the longest reason a Close frame can carry: the
	// control frame limit minus the 2-byte status code.
	MaxCloseReason = MaxControlPayload - sizeOfCloseCode
)

// Close frame payload errors.
var (
	ErrCloseDataTooShort error = ProtocolError{StatusProtocolError, "ws: close frame payload of 1 byte"}
	ErrCloseCode         error = ProtocolError{StatusProtocolError, "ws: invalid close status code"}
	ErrCloseTooLong      error = ProtocolError{StatusProtocolError, "ws: close frame payload longer than 125 bytes"}
	ErrInvalidUTF8       error = ProtocolError{StatusInvalidPayloadData, "ws: invalid UTF-8 in text"}
)

// ParseCloseData decodes the payload of a Close frame (RFC 6455 §5.5.1):
// empty, or a 2-byte big-endian status code followed by a UTF-8 reason.
//
// An empty payload gives StatusNoStatusRcvd, a nil reason and no error. The
// code must satisfy StatusCode.Valid (ErrCloseCode otherwise), and the reason
// must be valid UTF-8 (ErrInvalidUTF8, code 1007). reason is not a copy: it
// aliases payload and is valid as long as payload is.
func ParseCloseData(payload []byte) (code StatusCode, reason []byte, err error) {
	switch {
	case len(payload) == 0:
		return StatusNoStatusRcvd, nil, nil
	case len(payload) < sizeOfCloseCode:
		return 0, nil, ErrCloseDataTooShort
	case len(payload) > MaxControlPayload:
		return 0, nil, ErrCloseTooLong
	}
	code = StatusCode(binary.BigEndian.Uint16(payload))
	if !code.Valid() {
		return 0, nil, ErrCloseCode
	}
	reason = payload[sizeOfCloseCode:]
	if !utf8.Valid(reason) {
		return 0, nil, ErrInvalidUTF8
	}
	return code, reason, nil
}

// AppendCloseData appends a Close frame payload to dst: nothing for
// StatusNoStatusRcvd (a Close frame without a body), otherwise code followed
// by reason. A reason longer than MaxCloseReason is cut at the last UTF-8
// sequence boundary that fits. The caller passes a code for which Valid is
// true, or StatusNoStatusRcvd; the code is written as given.
func AppendCloseData(dst []byte, code StatusCode, reason string) []byte {
	if code == StatusNoStatusRcvd {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, truncateUTF8(reason, MaxCloseReason)...)
}

// AppendCloseFrame appends an unmasked (server) Close frame carrying
// AppendCloseData(code, reason) and returns the extended slice. A client
// frames the same payload with AppendMaskedFrame.
func AppendCloseFrame(dst []byte, code StatusCode, reason string) []byte {
	if code == StatusNoStatusRcvd {
		return AppendFrameHeader(dst, true, OpClose, 0, nil)
	}
	reason = truncateUTF8(reason, MaxCloseReason)
	dst = AppendFrameHeader(dst, true, OpClose, sizeOfCloseCode+len(reason), nil)
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

// truncateUTF8 returns the longest prefix of s of at most max bytes that
// does not end inside a UTF-8 sequence.
func truncateUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
