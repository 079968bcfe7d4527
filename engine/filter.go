package engine

import (
	"errors"
	"strconv"
)

// BeforeFilter runs before a handler (or, registered globally, before routing).
//
// Before returns nil to continue with the next filter, or an error to stop the chain: the request
// then goes to the error handler and, unless that produces a response, is answered {"code":500}
// (or the code of a *CodeError). To continue later without blocking the read goroutine, a filter
// returns ctx.Suspend() and calls ctx.Resume(err) exactly once, from any goroutine.
type BeforeFilter interface {
	Before(ctx *Context) error
}

// AfterFilter runs after a handler. Local after filters run in reverse registration order, always
// (also when a before filter or the handler failed), before the response is sent; each receives
// the current error and returns the error to pass on (return err unchanged to keep it). Global
// after filters run after the response was handed off; what they return is ignored.
type AfterFilter interface {
	After(ctx *Context, err error) error
}

// Filter is both.
type Filter interface {
	BeforeFilter
	AfterFilter
}

// StartStamper is implemented by filters that read Context.Start. Reading the clock costs as much
// as a small request, so the engine stamps requests on arrival only when a filter of the server
// says it needs it (the built-in Time and Timeout filters do).
type StartStamper interface {
	UsesStart() bool
}

// usesStart reports whether any of the filters needs the arrival stamp.
func usesStart[B BeforeFilter, A AfterFilter](gb []B, ga []A, lb []B, la []A) bool {
	for _, l := range [][]B{gb, lb} {
		for _, f := range l {
			if s, ok := any(f).(StartStamper); ok && s.UsesStart() {
				return true
			}
		}
	}
	for _, l := range [][]A{ga, la} {
		for _, f := range l {
			if s, ok := any(f).(StartStamper); ok && s.UsesStart() {
				return true
			}
		}
	}
	return false
}

// BeforeFunc adapts a function to BeforeFilter.
type BeforeFunc func(ctx *Context) error

// Before implements BeforeFilter.
func (f BeforeFunc) Before(ctx *Context) error { return f(ctx) }

// AfterFunc adapts a function to AfterFilter.
type AfterFunc func(ctx *Context, err error) error

// After implements AfterFilter.
func (f AfterFunc) After(ctx *Context, err error) error { return f(ctx, err) }

// ErrorHandler turns an error into a response, like pomelo's errorHandler(err, msg, resp, session,
// next). resp is the response produced so far (usually nil). It returns the response to send and
// the error to keep: a non-nil response is sent as it is, even with an error; with a nil response
// and a non-nil error the client gets {"code":500} (or the *CodeError code). Return (nil, nil) to
// answer {}.
//
// A response produced by a handler is discarded when an error remains at the end (the error
// handler or an after filter kept or introduced one), unless it was set with
// Context.SetResponse.
type ErrorHandler func(ctx *Context, err error, resp any) (any, error)

// CodeError is an error that answers a request with {"code": Code} instead of 500.
type CodeError struct {
	Code int
	Err  error // optional cause
}

func (e *CodeError) Error() string {
	if e.Err != nil {
		return "engine: code " + strconv.Itoa(e.Code) + ": " + e.Err.Error()
	}
	return "engine: code " + strconv.Itoa(e.Code)
}

func (e *CodeError) Unwrap() error { return e.Err }

// DefaultErrorCode is the code of error responses, as in pomelo.
const DefaultErrorCode = 500

// errorCode returns the code an error answers with.
func errorCode(err error) int {
	if ce, ok := errors.AsType[*CodeError](err); ok {
		return ce.Code
	}
	return DefaultErrorCode
}
