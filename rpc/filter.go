package rpc

import (
	"context"
	"time"
)

// CallInfo describes one call to filters.
type CallInfo struct {
	// Peer is, on a Client, the id of the server called (ClientConfig.ServerID); on a Server, the
	// name the calling client announced in its HELLO (ClientConfig.Name).
	Peer   string
	Method MethodName
	Notify bool // a notification: no reply, and after filters see a nil error once it is queued
	// Elapsed is, for a Client's after filters, the time from the call being queued to its
	// outcome; zero for before filters, notifies, calls that were never queued, and on a Server.
	Elapsed time.Duration
}

// BeforeFilter runs before a call is sent (Client) or dispatched to its handler (Server), in the
// order the filters were given. Returning an error stops the call: a Client fails it with that
// error as an *Error of code CodeFilter (the error is kept as its cause), a Server answers with
// the error's code and message (CodeFilter unless the error carries an *Error). Filters run on
// the calling goroutine (Client) or the connection's read goroutine (Server) and must be safe for
// concurrent use.
type BeforeFilter func(ctx context.Context, ci CallInfo) error

// AfterFilter runs once per call that passed the before filters, with the call's outcome (nil
// on success), in the order the filters were given. On a Client it runs on the goroutine that
// completes the call (the connection's reader, a timer, or the caller) just before the caller
// sees the result; on a Server, inside Reply.Return/Reply.Error.
type AfterFilter func(ctx context.Context, ci CallInfo, err error)

// Option attaches a hook to a Client, Station or Server.
type Option struct{ apply func(*hooks) }

// hooks are the filters and callbacks of one Client or Server; read-only after construction.
type hooks struct {
	before  []BeforeFilter
	after   []AfterFilter
	onError func(error)
}

// WithBefore adds a before filter.
func WithBefore(f BeforeFilter) Option {
	return Option{func(h *hooks) { h.before = append(h.before, f) }}
}

// WithAfter adds an after filter.
func WithAfter(f AfterFilter) Option {
	return Option{func(h *hooks) { h.after = append(h.after, f) }}
}

// WithErrorHook sets a function told about connection-level failures that no call reports by
// itself: a server's protocol and write errors, a client's lost connections and failed dials. It
// must not block.
func WithErrorHook(f func(error)) Option {
	return Option{func(h *hooks) { h.onError = f }}
}

func newHooks(opts []Option) hooks {
	var h hooks
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&h)
		}
	}
	return h
}

func (h *hooks) report(err error) {
	if h.onError != nil {
		h.onError(err)
	}
}

// runBefore runs the before filters and returns the first error.
func (h *hooks) runBefore(ctx context.Context, ci CallInfo) error {
	for _, f := range h.before {
		if err := f(ctx, ci); err != nil {
			return err
		}
	}
	return nil
}

// runAfter runs the after filters.
func (h *hooks) runAfter(ctx context.Context, ci CallInfo, err error) {
	for _, f := range h.after {
		f(ctx, ci, err)
	}
}

// noCopy makes go vet report copies of the struct that embeds it (see sync.Locker use by vet).
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
