package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/shaddock-io/shaddock/rpc"
	"github.com/shaddock-io/shaddock/rpc/pack"
)

// UserNamespace is the RPC namespace of the application's remotes (pomelo's "user").
const UserNamespace = "user"

// remoteEntry is one registered user remote.
type remoteEntry struct {
	serverType string
	name       rpc.MethodName
	handler    func(s *Server) rpc.Handler
}

// RemoteMethod is a typed user remote (pomelo's app/servers/<type>/remote/<service>.js method):
// Remote registers its handler for the servers of a type and returns the handle callers use
// (pomelo's app.rpc.<type>.<service>.<method>). A handle is a small immutable value, safe for
// concurrent use, and works with every server of the App.
//
// Arguments and results travel in the fast-path encoding when *A (and *R) implement both
// rpc.Appender and rpc.Decoder (write them with package pack); otherwise as JSON text
// (encoding/json) inside a pack byte string. The choice is made once, at registration.
type RemoteMethod[A, R any] struct {
	serverType string
	name       rpc.MethodName
	args       wire[A]
	res        wire[R]
}

// Remote errors.
var ErrRemoteName = errors.New("engine: remote name must be service.method")

// Remote registers fn as the user remote name ("chatRemote.add") of the servers of serverType
// and returns its handle. fn runs on the RPC connection's read goroutine, one call at a time per
// calling server: it must not block for long (use RemoteAsync for slow work). args is a new
// value per call. An error reaches the caller as an *rpc.Error with its code (the Code of an
// *rpc.Error or a *CodeError in its chain, rpc.CodeRemote otherwise) and its text.
func Remote[A, R any](app *App, serverType, name string, fn func(ctx context.Context, s *Server, args *A) (*R, error)) (*RemoteMethod[A, R], error) {
	return RemoteAsync(app, serverType, name, func(ctx context.Context, s *Server, args *A, reply func(*R, error)) {
		reply(fn(ctx, s, args))
	})
}

// RemoteAsync is Remote for a handler that answers later: it calls reply exactly once, from any
// goroutine (later calls are ignored).
func RemoteAsync[A, R any](app *App, serverType, name string, fn func(ctx context.Context, s *Server, args *A, reply func(*R, error))) (*RemoteMethod[A, R], error) {
	m, err := NewRemoteMethod[A, R](serverType, name)
	if err != nil {
		return nil, err
	}
	e := &remoteEntry{serverType: serverType, name: m.name, handler: func(s *Server) rpc.Handler {
		return func(ctx context.Context, b []byte, r rpc.Reply) {
			args := new(A)
			if err := m.args.decode(b, args); err != nil {
				r.Error(rpc.NewError(rpc.CodeCodec, fmt.Sprintf("engine: remote %s: arguments: %v", m.name, err)))
				return
			}
			var once sync.Once
			fn(ctx, s, args, func(res *R, err error) {
				once.Do(func() { m.answer(r, res, err) })
			})
		}
	}}
	var dup error
	err = app.register(func() {
		for _, x := range app.remotes {
			if x.serverType == serverType && x.name == e.name {
				dup = fmt.Errorf("%w: remote %s.%s", ErrDuplicateRoute, serverType, name)
				return
			}
		}
		app.remotes = append(app.remotes, e)
	})
	if err = errors.Join(err, dup); err != nil {
		return nil, err
	}
	return m, nil
}

// NewRemoteMethod returns the handle of the user remote name of serverType without registering
// a handler (for callers whose App does not serve it).
func NewRemoteMethod[A, R any](serverType, name string) (*RemoteMethod[A, R], error) {
	svc, method, ok := strings.Cut(name, ".")
	if !ok || svc == "" || method == "" || strings.Contains(method, ".") || serverType == "" {
		return nil, fmt.Errorf("%w: %q", ErrRemoteName, name)
	}
	n := rpc.MethodName{Namespace: UserNamespace, Service: svc, Method: method}
	if len(svc) > rpc.MaxNameLen || len(method) > rpc.MaxNameLen {
		return nil, fmt.Errorf("%w: %q is too long", ErrRemoteName, name)
	}
	return &RemoteMethod[A, R]{serverType: serverType, name: n, args: newWire[A](), res: newWire[R]()}, nil
}

// answer sends a handler's outcome.
func (m *RemoteMethod[A, R]) answer(r rpc.Reply, res *R, err error) {
	if err != nil {
		r.Error(remoteError(err))
		return
	}
	if res == nil {
		res = new(R)
	}
	r.Return(m.res.appender(res))
}

// remoteError keeps a *CodeError's code across the hop.
func remoteError(err error) error {
	if _, ok := errors.AsType[*rpc.Error](err); ok {
		return err
	}
	if ce, ok := errors.AsType[*CodeError](err); ok {
		return rpc.NewError(ce.Code, err.Error())
	}
	return err
}

// ServerType returns the server type that serves the remote.
func (m *RemoteMethod[A, R]) ServerType() string { return m.serverType }

// Name returns the remote's RPC name (namespace "user").
func (m *RemoteMethod[A, R]) Name() rpc.MethodName { return m.name }

// resolve returns from's cluster and the remote's handle there.
func (m *RemoteMethod[A, R]) resolve(from *Server) (*cluster, rpc.Method, error) {
	cl := from.cluster
	if cl == nil {
		return nil, rpc.Method{}, ErrNotCluster
	}
	h, err := cl.method(m.name)
	return cl, h, err
}

// Call calls the remote on the server of its type that the route function (or the default
// router) picks for route, usually the caller's session, and waits for the result (pomelo's
// app.rpc.<type>.<service>.<method>(session, ...args, cb)).
func (m *RemoteMethod[A, R]) Call(ctx context.Context, from *Server, route RouteParam, args *A) (*R, error) {
	res := new(R)
	if err := m.CallInto(ctx, from, route, args, res); err != nil {
		return nil, err
	}
	return res, nil
}

// CallInto is Call with the result decoded into res (with fast-path types and a reused res, the
// call allocates nothing beyond what the types do).
func (m *RemoteMethod[A, R]) CallInto(ctx context.Context, from *Server, route RouteParam, args *A, res *R) error {
	cl, h, err := m.resolve(from)
	if err != nil {
		return err
	}
	id, err := cl.route(m.serverType, route)
	if err != nil {
		return err
	}
	return cl.call(ctx, id, h, m.args.appender(args), m.res.decoder(res))
}

// Go is Call without waiting: done (nil: the outcome is dropped) is called once with the result,
// from the goroutine that completes the call, and must not block. If Go returns an error, done
// is not called. Only ctx's deadline is used.
func (m *RemoteMethod[A, R]) Go(ctx context.Context, from *Server, route RouteParam, args *A, done func(*R, error)) error {
	cl, h, err := m.resolve(from)
	if err != nil {
		return err
	}
	id, err := cl.route(m.serverType, route)
	if err != nil {
		return err
	}
	if done == nil {
		return cl.goCall(ctx, id, h, m.args.appender(args), nil, nil)
	}
	res := new(R)
	return cl.goCall(ctx, id, h, m.args.appender(args), m.res.decoder(res), func(err error) {
		if err != nil {
			done(nil, err)
			return
		}
		done(res, nil)
	})
}

// CallServer calls the remote on the server serverID (pomelo's .toServer(id, ...)).
func (m *RemoteMethod[A, R]) CallServer(ctx context.Context, from *Server, serverID string, args *A) (*R, error) {
	cl, h, err := m.resolve(from)
	if err != nil {
		return nil, err
	}
	if err := m.checkServer(cl, serverID); err != nil {
		return nil, err
	}
	res := new(R)
	if err := cl.call(ctx, serverID, h, m.args.appender(args), m.res.decoder(res)); err != nil {
		return nil, err
	}
	return res, nil
}

func (m *RemoteMethod[A, R]) checkServer(cl *cluster, serverID string) error {
	si := cl.byID[serverID]
	if si == nil {
		return fmt.Errorf("%w: %q", ErrUnknownServer, serverID)
	}
	if si.Type != m.serverType {
		return fmt.Errorf("%w: %q is a %s server, remote %s is served by %s servers",
			ErrUnknownServer, serverID, si.Type, m.name, m.serverType)
	}
	return nil
}

// CallAll calls the remote on every server of its type at once (pomelo's .toServer('*', ...))
// and returns the results by server id; the errors of the servers that failed are joined.
func (m *RemoteMethod[A, R]) CallAll(ctx context.Context, from *Server, args *A) (map[string]*R, error) {
	cl, h, err := m.resolve(from)
	if err != nil {
		return nil, err
	}
	list := cl.servers(m.serverType)
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrNoServer, m.serverType)
	}
	results := make([]*R, len(list))
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i := range list {
		results[i] = new(R)
		wg.Add(1)
		err := cl.goCall(ctx, list[i].ID, h, m.args.appender(args), m.res.decoder(results[i]), func(err error) {
			errs[i] = err
			wg.Done()
		})
		if err != nil {
			errs[i] = err
			wg.Done()
		}
	}
	wg.Wait()
	out := make(map[string]*R, len(list))
	for i, si := range list {
		if errs[i] == nil {
			out[si.ID] = results[i]
		} else {
			errs[i] = fmt.Errorf("%s: %w", si.ID, errs[i])
		}
	}
	return out, errors.Join(errs...)
}

// wire encodes and decodes values of T for a remote: through T's own AppendRPC/DecodeRPC when
// *T has both, as JSON text otherwise.
type wire[T any] struct{ fast bool }

func newWire[T any]() wire[T] {
	p := any(new(T))
	_, enc := p.(rpc.Appender)
	_, dec := p.(rpc.Decoder)
	return wire[T]{fast: enc && dec}
}

func (w wire[T]) appender(v *T) rpc.Appender {
	if w.fast {
		return any(v).(rpc.Appender)
	}
	return &jsonWire{v: v}
}

func (w wire[T]) decoder(v *T) rpc.Decoder {
	if w.fast {
		return any(v).(rpc.Decoder)
	}
	return &jsonWire{v: v}
}

func (w wire[T]) decode(b []byte, v *T) error { return w.decoder(v).DecodeRPC(b) }

// jsonWire carries a value as JSON text in a pack byte string.
type jsonWire struct{ v any }

// AppendRPC implements rpc.Appender.
func (j *jsonWire) AppendRPC(dst []byte) ([]byte, error) {
	text, err := json.Marshal(j.v)
	if err != nil {
		return dst, err
	}
	return pack.AppendBytes(dst, text), nil
}

// DecodeRPC implements rpc.Decoder.
func (j *jsonWire) DecodeRPC(b []byte) error {
	d := pack.NewDecoder(b)
	text := d.BytesUnsafe()
	if err := d.Done(); err != nil {
		return err
	}
	return json.Unmarshal(text, j.v)
}

// registerRemotes registers the sys remotes and the App's user remotes of this server's type
// on its acceptor.
func (s *Server) registerRemotes() error {
	a := s.cluster.acceptr
	errs := []error{a.Handle(nameForward, s.serveForward)}
	if s.cluster.self.Frontend {
		for _, n := range []rpc.MethodName{nameBind, nameUnbind, namePush, namePushAll, nameBySID, nameByUID,
			nameKickBySID, nameKickByUID} {
			errs = append(errs, a.Handle(n, s.sessionHandler(n)))
		}
		errs = append(errs, a.Handle(nameChannelPush, s.servePush), a.Handle(nameChannelCast, s.serveBroadcast))
	}
	for _, r := range s.app.remotes {
		if r.serverType == s.cfg.Type {
			errs = append(errs, a.Handle(r.name, r.handler(s)))
		}
	}
	return errors.Join(errs...)
}
