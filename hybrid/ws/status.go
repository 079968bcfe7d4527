package ws

import "errors"

// StatusCode is the status code carried by a Close frame (RFC 6455 §7.4).
type StatusCode uint16

// Status codes of RFC 6455 §7.4.1 and the IANA "WebSocket Close Code Number"
// registry.
const (
	StatusNormalClosure      StatusCode = 1000
	StatusGoingAway          StatusCode = 1001
	StatusProtocolError      StatusCode = 1002
	StatusUnsupportedData    StatusCode = 1003
	StatusNoStatusRcvd       StatusCode = 1005 // never on the wire: "the Close frame had no body"
	StatusAbnormalClosure    StatusCode = 1006 // never on the wire: "closed without a Close frame"
	StatusInvalidPayloadData StatusCode = 1007
	StatusPolicyViolation    StatusCode = 1008
	StatusMessageTooBig      StatusCode = 1009
	StatusMandatoryExtension StatusCode = 1010
	StatusInternalError      StatusCode = 1011
	StatusServiceRestart     StatusCode = 1012
	StatusTryAgainLater      StatusCode = 1013
	StatusBadGateway         StatusCode = 1014
	StatusTLSHandshake       StatusCode = 1015 // never on the wire: "the TLS handshake failed"
)

// Valid reports whether c may appear in a Close frame: 1000-1003 and
// 1007-1014 (the defined codes other than 1004, 1005, 1006 and 1015), and
// 3000-4999 (registered and private codes). Everything else below 3000 is
// reserved, and 5000 and above is undefined.
func (c StatusCode) Valid() bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// ProtocolError is a violation of RFC 6455 by the peer. Code is the status
// code to put in the Close frame sent in answer before closing the
// connection. The package's ProtocolError values are sentinels: compare them
// with errors.Is.
type ProtocolError struct {
	code StatusCode
	msg  string
}

func (e ProtocolError) Error() string { return e.msg }

// Code returns the close status code that answers this error.
func (e ProtocolError) Code() StatusCode { return e.code }

// CloseCode returns the status code to send in a Close frame when a
// connection ends because of err: StatusNormalClosure for nil, the Code of a
// ProtocolError found in err's chain, and StatusInternalError for any other
// error.
func CloseCode(err error) StatusCode {
	if err == nil {
		return StatusNormalClosure
	}
	if pe, ok := err.(ProtocolError); ok {
		return pe.code
	}
	var pe ProtocolError
	if errors.As(err, &pe) {
		return pe.code
	}
	return StatusInternalError
}
