package rpc

import (
	"errors"
	"strconv"
)

// Error is the error every call fails with: a code and a message, which cross the wire intact
// (an ERROR frame carries both) so that the caller sees exactly what the remote handler returned.
// Use errors.As to get it; errors.Is matches on the code, so errors.Is(err, ErrTimeout) holds for
// any timeout.
//
// Error implements net.Error: Timeout reports whether Code is CodeTimeout.
//
// Codes 1..99 are the transport's (the table below); handlers should use other values (pomelo
// applications commonly use 500 and up) for their own errors.
type Error struct {
	Code    int
	Message string
	cause   error // local cause (a filter's error, a network error); never sent
}

// Transport codes. 1..6 are pomelo-rpc's RPC_ERROR codes with the same meaning.
const (
	CodeNotStarted   = 1  // the client is closed, or was never started
	CodeNoTarget     = 2  // the router found no server to send to
	CodeConnect      = 3  // the connection to the server could not be established
	CodeNoMailbox    = 4  // no mailbox (client) for that server id
	CodeSend         = 5  // the frame could not be written
	CodeFilter       = 6  // a before filter refused the call
	CodeTimeout      = 7  // no answer within the call's timeout
	CodeConnLost     = 8  // the connection closed while the call was pending
	CodePendingLimit = 9  // too many calls pending on that server
	CodeNoMethod     = 10 // the server has no handler for the method
	CodeCodec        = 11 // the arguments or the result could not be encoded or decoded
	CodeRemote       = 12 // the handler failed with an error that carried no code
	CodeCanceled     = 13 // the caller's context was canceled
	CodeProtocol     = 14 // the peer broke the frame protocol
	CodeShutdown     = 15 // the server is shutting down
)

var codeNames = map[int]string{
	CodeNotStarted: "client not started", CodeNoTarget: "no target server",
	CodeConnect: "fail to connect", CodeNoMailbox: "fail to find mailbox",
	CodeSend: "fail to send", CodeFilter: "filter error", CodeTimeout: "timeout",
	CodeConnLost: "connection lost", CodePendingLimit: "too many pending calls",
	CodeNoMethod: "no such method", CodeCodec: "encoding error", CodeRemote: "remote error",
	CodeCanceled: "canceled", CodeProtocol: "protocol error", CodeShutdown: "server shutting down",
}

// Sentinels, one per transport code, for errors.Is. The errors calls return are fresh values with
// more precise messages; they match these by code.
var (
	ErrNotStarted   = &Error{Code: CodeNotStarted, Message: "rpc: client not started or closed"}
	ErrNoTarget     = &Error{Code: CodeNoTarget, Message: "rpc: no target server"}
	ErrConnect      = &Error{Code: CodeConnect, Message: "rpc: fail to connect"}
	ErrNoMailbox    = &Error{Code: CodeNoMailbox, Message: "rpc: fail to find mailbox"}
	ErrSend         = &Error{Code: CodeSend, Message: "rpc: fail to send"}
	ErrFilter       = &Error{Code: CodeFilter, Message: "rpc: filter error"}
	ErrTimeout      = &Error{Code: CodeTimeout, Message: "rpc: call timed out"}
	ErrConnLost     = &Error{Code: CodeConnLost, Message: "rpc: connection lost"}
	ErrPendingLimit = &Error{Code: CodePendingLimit, Message: "rpc: too many pending calls"}
	ErrNoMethod     = &Error{Code: CodeNoMethod, Message: "rpc: no such method"}
	ErrCodec        = &Error{Code: CodeCodec, Message: "rpc: encoding error"}
	ErrCanceled     = &Error{Code: CodeCanceled, Message: "rpc: call canceled"}
	ErrShutdown     = &Error{Code: CodeShutdown, Message: "rpc: server shutting down"}
)

// NewError returns an *Error with code and message, for handlers to return.
func NewError(code int, msg string) *Error { return &Error{Code: code, Message: msg} }

// Error returns the message, or a description of the code when the message is empty.
func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	if s, ok := codeNames[e.Code]; ok {
		return "rpc: " + s
	}
	return "rpc: error code " + strconv.Itoa(e.Code)
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Unwrap returns the local cause (a filter's error, a network error), if any. Causes do not
// cross the wire.
func (e *Error) Unwrap() error { return e.cause }

// Timeout reports whether the call timed out (net.Error).
func (e *Error) Timeout() bool { return e.Code == CodeTimeout }

// Temporary reports whether retrying may succeed (net.Error; deprecated there, kept for it):
// timeouts, lost or refused connections and a full pending queue.
func (e *Error) Temporary() bool {
	switch e.Code {
	case CodeTimeout, CodeConnect, CodeConnLost, CodePendingLimit, CodeSend:
		return true
	}
	return false
}

// wrapError returns an *Error with code whose message is prefix + ": " + cause's text.
func wrapError(code int, prefix string, cause error) *Error {
	msg := prefix
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return &Error{Code: code, Message: msg, cause: cause}
}

// toError converts what a handler or filter returned into the code and message to send: the code
// of an *Error anywhere in the chain (fallback if there is none) and the error's full text.
func toError(err error, fallback int) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e == err {
			return e
		}
		fallback = e.Code
	}
	return &Error{Code: fallback, Message: err.Error(), cause: err}
}
