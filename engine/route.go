package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/shaddock-io/shaddock/codec/pomelopb"
)

// route is one registered handler route, with its body codecs decided at registration.
type route struct {
	name       string // "connector.entryHandler.entry"
	serverType string
	handler    string
	method     string
	code       uint16 // dictionary code, set when the App freezes
	async      bool
	local      bool     // a registered handler (false for a transient route built for an unknown name)
	reqKind    bodyKind // how the request body travels when no pomelo-protobuf description applies

	reqPB, respPB *pomelopb.Message // descriptions for the route; used on servers with UseProtobuf

	// invoke decodes ctx's body into the handler's request type and calls it; the result lands in
	// ctx (synchronously, or later through ctx.reply for async handlers).
	invoke func(ctx *Context)
	// appendResp encodes a response produced for this route. pb is the server's description for
	// it (nil when protobuf is off or absent).
	appendResp func(dst []byte, pb *pomelopb.Message, v any) ([]byte, error)
}

// bodyKind is how a Go type travels on the wire when no pomelo-protobuf description applies.
type bodyKind uint8

const (
	kindJSON  bodyKind = iota // encoding/json
	kindRaw                   // json.RawMessage: the JSON text itself, no decoding
	kindProto                 // a generated Google protobuf message
)

var rawMessageType = reflect.TypeFor[json.RawMessage]()

func kindOf[T any]() bodyKind {
	switch {
	case reflect.TypeFor[T]() == rawMessageType:
		return kindRaw
	case reflect.PointerTo(reflect.TypeFor[T]()).Implements(reflect.TypeFor[proto.Message]()):
		return kindProto
	}
	return kindJSON
}

// bodyCodec encodes and decodes bodies of type T. It is built once per route at registration.
type bodyCodec[T any] struct {
	kind bodyKind
}

func newBodyCodec[T any](route string, pb *pomelopb.Message) (*bodyCodec[T], error) {
	c := &bodyCodec[T]{kind: kindOf[T]()}
	if c.kind == kindProto && pb != nil {
		return nil, fmt.Errorf("%w: %s", ErrCodecConflict, route)
	}
	return c, nil
}

// emptyObject is pomelo's body when there is none, or when a JSON body does not parse.
var emptyObject = []byte("{}")

// decode returns the request for ctx. For kindRaw on synchronous handlers (inCtx) the value is
// ctx.rawReq, aliasing ctx's body: it lives as long as the Context.
func (c *bodyCodec[T]) decode(ctx *Context, inCtx bool) (*T, error) {
	body, err := ctx.jsonOrWire()
	if err != nil {
		return nil, err
	}
	switch c.kind {
	case kindRaw:
		if ctx.reqPB == nil && !validJSON(body) {
			body = emptyObject
		}
		if inCtx {
			ctx.rawReq = body
			return any(&ctx.rawReq).(*T), nil
		}
		v := new(T)
		*any(v).(*json.RawMessage) = body
		return v, nil
	case kindProto:
		v := new(T)
		if err := proto.Unmarshal(body, any(v).(proto.Message)); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadBody, err)
		}
		return v, nil
	}
	v := new(T)
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			*v = *new(T) // not JSON: pomelo hands the handler {}
		}
	}
	return v, nil
}

// appendAny encodes v, the handler's *T on the fast path or anything an error handler or filter
// put in its place.
func (c *bodyCodec[T]) appendAny(dst []byte, pb *pomelopb.Message, v any) ([]byte, error) {
	if t, ok := v.(*T); ok && t != nil {
		switch c.kind {
		case kindRaw:
			return appendJSONBody(dst, pb, *any(t).(*json.RawMessage))
		case kindProto:
			if pb == nil {
				return proto.MarshalOptions{}.MarshalAppend(dst, any(t).(proto.Message))
			}
		}
	}
	return appendBody(dst, pb, v)
}

// appendJSONBody appends JSON text as a body: as is, or encoded with pb.
func appendJSONBody(dst []byte, pb *pomelopb.Message, text []byte) ([]byte, error) {
	if len(text) == 0 {
		text = emptyObject
	}
	if pb != nil {
		return pb.AppendWire(dst, text)
	}
	return append(dst, text...), nil
}

// appendBody encodes any value as a body: JSON text as is, a Google protobuf message as standard
// protobuf (when no pomelo-protobuf description applies), anything else with encoding/json; then
// pomelo-protobuf when pb is set.
func appendBody(dst []byte, pb *pomelopb.Message, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return appendJSONBody(dst, pb, nil)
	case json.RawMessage:
		return appendJSONBody(dst, pb, x)
	case *json.RawMessage:
		if x == nil {
			return appendJSONBody(dst, pb, nil)
		}
		return appendJSONBody(dst, pb, *x)
	case []byte:
		return appendJSONBody(dst, pb, x)
	case codeBody:
		return appendJSONBody(dst, pb, appendCode(make([]byte, 0, 16), int(x)))
	case proto.Message:
		if pb == nil {
			return proto.MarshalOptions{}.MarshalAppend(dst, x)
		}
	}
	text, err := json.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return appendJSONBody(dst, pb, text)
}

// codeBody is the response {"code": N}.
type codeBody int

func appendCode(dst []byte, code int) []byte {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	return append(dst, '}')
}

// Body errors.
var (
	ErrBadBody = errors.New("engine: request body does not decode")
	ErrEncode  = errors.New("engine: response does not encode")
)

// Handle registers a synchronous handler for route ("serverType.handler.method"). It runs on the
// goroutine that read the request and must not block; its result is the response (for a request)
// or ignored (for a notify). An error answers {"code":500} unless an error handler decides
// otherwise.
//
// The body codec is decided here, once: pomelo-protobuf when the route is in the app's
// clientProtos (requests) or serverProtos (responses), standard protobuf when Req or Resp is a
// generated protobuf message, JSON otherwise. With Req = json.RawMessage the handler receives the
// JSON text itself, without decoding; it is valid only until the handler returns (copy it to keep
// it). A body that is not valid JSON is given to the handler as {} (pomelo does the same).
func Handle[Req, Resp any](app *App, route string, fn func(ctx *Context, req *Req) (*Resp, error)) error {
	r, req, resp, err := newRoute[Req, Resp](app, route)
	if err != nil {
		return err
	}
	r.invoke = func(ctx *Context) {
		in, err := req.decode(ctx, true)
		if err != nil {
			ctx.handlerDone(nil, err)
			return
		}
		out, err := fn(ctx, in)
		if err != nil || out == nil {
			ctx.handlerDone(nil, err)
			return
		}
		ctx.handlerDone(out, nil)
	}
	r.appendResp = resp.appendAny
	return app.add(r)
}

// HandleAsync registers a handler that answers later: it must call reply exactly once, from any
// goroutine (later calls are ignored). The read goroutine does not wait for it; the request's
// body and req stay valid until reply is called.
func HandleAsync[Req, Resp any](app *App, route string, fn func(ctx *Context, req *Req, reply func(*Resp, error))) error {
	r, req, resp, err := newRoute[Req, Resp](app, route)
	if err != nil {
		return err
	}
	r.async = true
	r.invoke = func(ctx *Context) {
		in, err := req.decode(ctx, false)
		if err != nil {
			ctx.handlerDone(nil, err)
			return
		}
		var once sync.Once
		fn(ctx, in, func(out *Resp, err error) {
			once.Do(func() {
				if err != nil || out == nil {
					ctx.handlerDone(nil, err)
					return
				}
				ctx.handlerDone(out, nil)
			})
		})
	}
	r.appendResp = resp.appendAny
	return app.add(r)
}

func newRoute[Req, Resp any](app *App, name string) (*route, *bodyCodec[Req], *bodyCodec[Resp], error) {
	st, h, m, err := checkRoute(name)
	if err != nil {
		return nil, nil, nil, err
	}
	r := &route{name: name, serverType: st, handler: h, method: m, local: true,
		reqPB: app.cfg.ClientProtos.Lookup(name), respPB: app.cfg.ServerProtos.Lookup(name)}
	req, err := newBodyCodec[Req](name, r.reqPB)
	if err != nil {
		return nil, nil, nil, err
	}
	r.reqKind = req.kind
	resp, err := newBodyCodec[Resp](name, r.respPB)
	if err != nil {
		return nil, nil, nil, err
	}
	return r, req, resp, nil
}
