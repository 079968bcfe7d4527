package engine

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/shaddock-io/shaddock/codec"
)

func TestRegistrationRules(t *testing.T) {
	app, err := NewApp(AppConfig{})
	requireNoError(t, err)
	for _, bad := range []string{"", "a", "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.", "a.b.constructor",
		"a.b." + strings.Repeat("x", 260), "a.b.\xff"} {
		requireErrorIs(t, Handle(app, bad, echoRaw), ErrBadRoute)
	}
	requireNoError(t, Handle(app, "connector.h.m", echoRaw))
	requireErrorIs(t, Handle(app, "connector.h.m", echoRaw), ErrDuplicateRoute)
	_, err = app.NewServer(ServerConfig{ID: "c1", Type: "connector"})
	requireNoError(t, err)
	requireErrorIs(t, Handle(app, "connector.h.other", echoRaw), ErrAppStarted)
	requireErrorIs(t, app.Before("", BeforeFunc(func(*Context) error { return nil })), ErrAppStarted)
	for _, cfg := range []ServerConfig{{Type: "connector"}, {ID: "x"}, {ID: "x", Type: "a.b"}} {
		_, err := app.NewServer(cfg)
		requireErrorIs(t, err, ErrInvalidConfig)
	}
}

// The dictionary is built from the routes of EVERY server type, sorted as pomelo sorts them,
// then the user dictionary.
func TestDictionaryFromAllServerTypes(t *testing.T) {
	e := newEnv(t, AppConfig{Dictionary: []string{"onChat", "onAdd"}}, func(app *App) {
		for _, r := range []string{"connector.entryHandler.entry", "chat.chatHandler.send",
			"area.playerHandler.move", "chat.chatHandler.echo", "connector.entryHandler.echo"} {
			mustHandle(t, Handle(app, r, echoRaw))
		}
	}, ServerConfig{UseDict: true})
	want := []string{"area.playerHandler.move", "chat.chatHandler.echo", "chat.chatHandler.send",
		"connector.entryHandler.echo", "connector.entryHandler.entry", "onChat", "onAdd"}
	var got []string
	for code, r := range e.srv.Dictionary().All() {
		requireEqual(t, int(code), len(got)+1)
		got = append(got, r)
	}
	requireDeepEqual(t, got, want)
}

func TestEchoRaw(t *testing.T) {
	e := newEnv(t, AppConfig{}, func(app *App) {
		mustHandle(t, Handle(app, "connector.entryHandler.echo", echoRaw))
	}, ServerConfig{UseDict: true})
	c, s := e.connect()
	m := e.call(c, s, 7, "connector.entryHandler.echo", `{"a":[1,2],"s":"x"}`)
	requireEqual(t, string(m.Body), `{"a":[1,2],"s":"x"}`)
	// Compressed route: code 1.
	e.send(s, codec.AppendRequestCode(nil, 8, 1, []byte(`{"b":2}`)))
	msgs, _ := c.messages(t)
	requireEqual(t, string(msgs[1].Body), `{"b":2}`)
	// Not JSON: the handler sees {} (pomelo's coder does the same), so does an empty body.
	requireEqual(t, string(e.call(c, s, 9, "connector.entryHandler.echo", `{not json`).Body), `{}`)
	requireEqual(t, string(e.call(c, s, 10, "connector.entryHandler.echo", ``).Body), `{}`)
}

// Responses produced during one read batch leave with one flush (one write).
func TestResponsesOfOneBatchFlushOnce(t *testing.T) {
	e := newEnv(t, AppConfig{}, func(app *App) {
		mustHandle(t, Handle(app, "connector.entryHandler.echo", echoRaw))
	}, ServerConfig{})
	c, s := e.connect()
	for i := uint32(1); i <= 10; i++ {
		e.srv.data(s, request(i, "connector.entryHandler.echo", `{}`))
	}
	msgs, pending := c.messages(t)
	requireEqual(t, len(msgs), 0)
	if pending == 0 {
		t.Fatal("nothing enqueued")
	}
	e.srv.readBatchDone(s)
	msgs, pending = c.messages(t)
	requireEqual(t, len(msgs), 10)
	requireEqual(t, pending, 0)
	requireEqual(t, c.flushCount(), 1)
	for i, m := range msgs {
		requireEqual(t, m.ID, uint32(i+1))
	}
}

type point struct {
	X int    `json:"x"`
	Y int    `json:"y"`
	S string `json:"s,omitempty"`
}

func TestTypedJSONHandler(t *testing.T) {
	e := newEnv(t, AppConfig{}, func(app *App) {
		mustHandle(t, Handle(app, "connector.h.add", func(_ *Context, p *point) (*point, error) {
			return &point{X: p.X + p.Y, Y: 0, S: p.S}, nil
		}))
		mustHandle(t, Handle(app, "connector.h.nil", func(*Context, *point) (*point, error) { return nil, nil }))
	}, ServerConfig{})
	c, s := e.connect()
	requireJSON(t, e.call(c, s, 1, "connector.h.add", `{"x":2,"y":3,"s":"k"}`).Body, `{"x":5,"y":0,"s":"k"}`)
	requireJSON(t, e.call(c, s, 2, "connector.h.add", `garbage`).Body, `{"x":0,"y":0}`)
	// A type mismatch keeps what did decode.
	requireJSON(t, e.call(c, s, 3, "connector.h.add", `{"x":"a","y":4}`).Body, `{"x":4,"y":0}`)
	// A nil response answers {}.
	requireEqual(t, string(e.call(c, s, 4, "connector.h.nil", `{}`).Body), `{}`)
}

// Every application row of the protocol's §4.4 table.
func TestBadInputRows(t *testing.T) {
	var ran []string
	var mu sync.Mutex
	register := func(app *App) {
		mustHandle(t, Handle(app, "connector.entryHandler.echo", echoRaw))
		mustHandle(t, Handle(app, "connector.entryHandler.fail", func(*Context, *json.RawMessage) (*json.RawMessage, error) {
			mu.Lock()
			ran = append(ran, "fail")
			mu.Unlock()
			return nil, errors.New("boom")
		}))
	}
	t.Run("dict", func(t *testing.T) {
		e := newEnv(t, AppConfig{Dictionary: []string{"onChat"}}, register, ServerConfig{UseDict: true})
		c, s := e.connect()
		// Unknown code: dropped, counted.
		e.send(s, codec.AppendRequestCode(nil, 1, 99, []byte(`{}`)))
		e.send(s, codec.AppendRequestCode(nil, 2, 0, []byte(`{}`)))
		requireEqual(t, e.srv.Stats().UnknownCode, uint64(2))
		// A dictionary code whose route has no '.' (a push route): dropped.
		e.send(s, codec.AppendRequestCode(nil, 3, 3, []byte(`{}`)))
		requireEqual(t, e.srv.Stats().NoDot, uint64(1))
		msgs, _ := c.messages(t)
		requireEqual(t, len(msgs), 0)
	})
	e := newEnv(t, AppConfig{}, register, ServerConfig{})
	c, s := e.connect()
	// R=1 with useDict off: dropped, counted.
	e.send(s, codec.AppendRequestCode(nil, 1, 1, []byte(`{}`)))
	requireEqual(t, e.srv.Stats().NoDict, uint64(1))
	// Route without '.': dropped.
	e.send(s, request(2, "nodot", `{}`))
	requireEqual(t, e.srv.Stats().NoDot, uint64(2-1))
	// Malformed message bytes (empty, reserved flag, a response from the client): dropped.
	e.send(s, nil)
	e.send(s, []byte{0xE0, 1})
	e.send(s, []byte{0x04, 1, '{', '}'})
	requireEqual(t, e.srv.Stats().Malformed, uint64(3))
	msgs, _ := c.messages(t)
	requireEqual(t, len(msgs), 0)
	// Two parts, four parts: {"code":500}.
	requireEqual(t, string(e.call(c, s, 3, "connector.entryHandler", `{}`).Body), `{"code":500}`)
	requireEqual(t, string(e.call(c, s, 4, "connector.entryHandler.echo.x", `{}`).Body), `{"code":500}`)
	requireEqual(t, e.srv.Stats().BadRoute, uint64(2))
	// Unknown handler of this server type: {"code":500}.
	requireEqual(t, string(e.call(c, s, 5, "connector.entryHandler.nope", `{}`).Body), `{"code":500}`)
	// Another server type without a Forwarder: {"code":500}.
	requireEqual(t, string(e.call(c, s, 6, "chat.chatHandler.send", `{}`).Body), `{"code":500}`)
	// Handler error: {"code":500}.
	requireEqual(t, string(e.call(c, s, 7, "connector.entryHandler.fail", `{}`).Body), `{"code":500}`)
	// Notifies are never answered, not even errors.
	e.send(s, request(0, "connector.entryHandler.fail", `{}`))
	e.send(s, request(0, "connector.entryHandler.nope", `{}`))
	e.send(s, request(0, "connector.entryHandler.echo", `{}`))
	e.send(s, request(0, "a.b", `{}`))
	msgs, _ = c.messages(t)
	requireEqual(t, len(msgs), 5)
	requireDeepEqual(t, ran, []string{"fail", "fail"})
	// Method "constructor": the session is kicked with reason "attack".
	e.send(s, request(8, "connector.entryHandler.constructor", `{}`))
	requireDeepEqual(t, c.kicked, []string{"attack"})
	requireEqual(t, e.srv.Stats().Attacks, uint64(1))
	if e.srv.Sessions().Get(s.ID()) != nil {
		t.Fatal("attacking session still registered")
	}
}

func TestCodeErrorAnswersItsCode(t *testing.T) {
	e := newEnv(t, AppConfig{}, func(app *App) {
		mustHandle(t, Handle(app, "connector.h.m", func(*Context, *json.RawMessage) (*json.RawMessage, error) {
			return nil, &CodeError{Code: 404}
		}))
	}, ServerConfig{})
	c, s := e.connect()
	requireEqual(t, string(e.call(c, s, 1, "connector.h.m", `{}`).Body), `{"code":404}`)
}

// recorder logs the order in which filters and handlers run.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.log
	r.log = nil
	return out
}

type namedFilter struct {
	r          *recorder
	name       string
	failBefore bool
	replaceErr error
}

func (f *namedFilter) Before(*Context) error {
	f.r.add(f.name + ".before")
	if f.failBefore {
		return errors.New(f.name + " refused")
	}
	return nil
}

func (f *namedFilter) After(_ *Context, err error) error {
	if err != nil {
		f.r.add(f.name + ".after(err)")
	} else {
		f.r.add(f.name + ".after")
	}
	if f.replaceErr != nil {
		return f.replaceErr
	}
	return err
}

func TestFilterOrder(t *testing.T) {
	r := &recorder{}
	g1, g2 := &namedFilter{r: r, name: "g1"}, &namedFilter{r: r, name: "g2"}
	l1, l2 := &namedFilter{r: r, name: "l1"}, &namedFilter{r: r, name: "l2"}
	other := &namedFilter{r: r, name: "chatOnly"}
	e := newEnv(t, AppConfig{}, func(app *App) {
		requireNoError(t, app.GlobalFilter(g1))
		requireNoError(t, app.GlobalFilter(g2))
		requireNoError(t, app.Filter("", l1))
		requireNoError(t, app.Filter("connector", l2))
		requireNoError(t, app.Filter("chat", other))
		mustHandle(t, Handle(app, "connector.h.m", func(ctx *Context, req *json.RawMessage) (*json.RawMessage, error) {
			r.add("handler")
			return req, nil
		}))
	}, ServerConfig{})
	c, s := e.connect()
	e.call(c, s, 1, "connector.h.m", `{}`)
	requireDeepEqual(t, r.take(), []string{"g1.before", "g2.before", "l1.before", "l2.before", "handler",
		"l2.after", "l1.after", "g2.after", "g1.after"})
	// Forwarded routes only see the global filters.
	e.call(c, s, 2, "chat.h.m", `{}`)
	requireDeepEqual(t, r.take(), []string{"g1.before", "g2.before", "g2.after(err)", "g1.after(err)"})
}

// A failing before filter stops the chain; after filters still all run, in reverse order, and
// may replace the error; the error handler decides the response.
func TestBeforeErrorAndAfterReplacement(t *testing.T) {
	r := &recorder{}
	l1 := &namedFilter{r: r, name: "l1"}
	l2 := &namedFilter{r: r, name: "l2", failBefore: true}
	l3 := &namedFilter{r: r, name: "l3"}
	var handlerRan bool
	e := newEnv(t, AppConfig{}, func(app *App) {
		requireNoError(t, app.Filter("", l1))
		requireNoError(t, app.Filter("", l2))
		requireNoError(t, app.Filter("", l3))
		requireNoError(t, app.SetErrorHandler("connector", func(ctx *Context, err error, resp any) (any, error) {
			r.add("errorHandler:" + err.Error())
			return json.RawMessage(`{"code":403,"why":"denied"}`), err
		}))
		mustHandle(t, Handle(app, "connector.h.m", func(*Context, *json.RawMessage) (*json.RawMessage, error) {
			handlerRan = true
			return nil, nil
		}))
	}, ServerConfig{})
	c, s := e.connect()
	m := e.call(c, s, 1, "connector.h.m", `{}`)
	requireEqual(t, string(m.Body), `{"code":403,"why":"denied"}`)
	requireEqual(t, handlerRan, false)
	requireDeepEqual(t, r.take(), []string{"l1.before", "l2.before", "errorHandler:l2 refused",
		"l3.after(err)", "l2.after(err)", "l1.after(err)"})

	// An after filter clears the error: the handler's response goes out.
	r2 := &recorder{}
	clear := &namedFilter{r: r2, name: "clear"}
	e2 := newEnv(t, AppConfig{}, func(app *App) {
		requireNoError(t, app.After("", AfterFunc(func(ctx *Context, err error) error {
			r2.add("resetter")
			ctx.SetResponse(json.RawMessage(`{"code":200,"fixed":true}`))
			return nil
		})))
		requireNoError(t, app.After("", clear))
		mustHandle(t, Handle(app, "connector.h.m", func(*Context, *json.RawMessage) (*json.RawMessage, error) {
			return nil, errors.New("handler failed")
		}))
	}, ServerConfig{})
	c2, s2 := e2.connect()
	requireEqual(t, string(e2.call(c2, s2, 1, "connector.h.m", `{}`).Body), `{"code":200,"fixed":true}`)
	requireDeepEqual(t, r2.take(), []string{"clear.after(err)", "resetter"})
}

// The global error handler sees only errors of global before filters; the local one sees errors
// of local filters and handlers.
func TestErrorHandlerScopes(t *testing.T) {
	r := &recorder{}
	globalFail := true
	e := newEnv(t, AppConfig{}, func(app *App) {
		requireNoError(t, app.GlobalBefore(BeforeFunc(func(*Context) error {
			if globalFail {
				return errors.New("global")
			}
			return nil
		})))
		requireNoError(t, app.SetGlobalErrorHandler(func(ctx *Context, err error, resp any) (any, error) {
			r.add("global:" + err.Error())
			return nil, err
		}))
		requireNoError(t, app.SetErrorHandler("", func(ctx *Context, err error, resp any) (any, error) {
			r.add("local:" + err.Error())
			return map[string]any{"code": 501, "msg": err.Error()}, nil
		}))
		mustHandle(t, Handle(app, "connector.h.m", func(*Context, *json.RawMessage) (*json.RawMessage, error) {
			return nil, errors.New("handler")
		}))
	}, ServerConfig{})
	c, s := e.connect()
	requireEqual(t, string(e.call(c, s, 1, "connector.h.m", `{}`).Body), `{"code":500}`)
	requireDeepEqual(t, r.take(), []string{"global:global"})
	globalFail = false
	requireJSON(t, e.call(c, s, 2, "connector.h.m", `{}`).Body, `{"code":501,"msg":"handler"}`)
	requireDeepEqual(t, r.take(), []string{"local:handler"})
	// Handler not found goes to the local error handler too.
	requireJSON(t, e.call(c, s, 3, "connector.h.nope", `{}`).Body, `{"code":501,"msg":"engine: handler not found"}`)
	// Forwarding errors (no Forwarder) go to neither.
	requireEqual(t, string(e.call(c, s, 4, "chat.h.m", `{}`).Body), `{"code":500}`)
	requireDeepEqual(t, r.take(), []string{"local:engine: handler not found"})
}

func TestAsyncHandler(t *testing.T) {
	release := make(chan struct{})
	e := newEnv(t, AppConfig{}, func(app *App) {
		mustHandle(t, HandleAsync(app, "connector.h.slow", func(ctx *Context, req *json.RawMessage, reply func(*json.RawMessage, error)) {
			go func() {
				<-release
				reply(req, nil)
				reply(nil, errors.New("second reply is ignored"))
			}()
		}))
		mustHandle(t, HandleAsync(app, "connector.h.now", func(ctx *Context, req *json.RawMessage, reply func(*json.RawMessage, error)) {
			reply(req, nil) // before returning: answered inline
		}))
		mustHandle(t, HandleAsync(app, "connector.h.fail", func(ctx *Context, req *json.RawMessage, reply func(*json.RawMessage, error)) {
			go reply(nil, errors.New("nope"))
		}))
	}, ServerConfig{})
	c, s := e.connect()
	body := request(1, "connector.h.slow", `{"keep":"me"}`)
	e.send(s, body)
	for i := range body {
		body[i] = 'X' // the read buffer is reused by the transport; the async request must not care
	}
	requireEqual(t, string(e.call(c, s, 2, "connector.h.now", `{"n":2}`).Body), `{"n":2}`)
	close(release)
	msgs := c.waitMessages(t, 2)
	requireEqual(t, msgs[1].ID, uint32(1))
	requireEqual(t, string(msgs[1].Body), `{"keep":"me"}`)
	e.send(s, request(3, "connector.h.fail", `{}`))
	msgs = c.waitMessages(t, 3)
	requireEqual(t, string(msgs[2].Body), `{"code":500}`)
}

// A before filter may suspend a request and resume it from another goroutine.
func TestSuspendingFilter(t *testing.T) {
	resume := make(chan *Context, 1)
	e := newEnv(t, AppConfig{}, func(app *App) {
		requireNoError(t, app.Before("", BeforeFunc(func(ctx *Context) error {
			err := ctx.Suspend()
			resume <- ctx
			return err
		})))
		mustHandle(t, Handle(app, "connector.h.m", echoRaw))
	}, ServerConfig{})
	c, s := e.connect()
	body := request(1, "connector.h.m", `{"v":1}`)
	e.send(s, body)
	copy(body[len(body)-7:], "XXXXXXX")
	ctx := <-resume
	msgs, _ := c.messages(t)
	requireEqual(t, len(msgs), 0)
	go ctx.Resume(nil)
	msgs = c.waitMessages(t, 1)
	requireEqual(t, string(msgs[0].Body), `{"v":1}`)
	// Resuming with an error answers 500.
	e.send(s, request(2, "connector.h.m", `{}`))
	(<-resume).Resume(errors.New("denied"))
	msgs = c.waitMessages(t, 2)
	requireEqual(t, string(msgs[1].Body), `{"code":500}`)
}

type fakeForwarder struct {
	mu   sync.Mutex
	reqs []ForwardRequest
	resp json.RawMessage
	err  error
}

func (f *fakeForwarder) Forward(req *ForwardRequest, done func(json.RawMessage, error)) {
	f.mu.Lock()
	cp := *req
	cp.Body = append(json.RawMessage(nil), req.Body...)
	f.reqs = append(f.reqs, cp)
	resp, err := f.resp, f.err
	f.mu.Unlock()
	go done(resp, err)
}

func TestForwarder(t *testing.T) {
	fw := &fakeForwarder{resp: json.RawMessage(`{"code":200,"from":"chat"}`)}
	e := newEnv(t, AppConfig{}, func(app *App) {
		mustHandle(t, Handle(app, "chat.chatHandler.echo", echoRaw))
	}, ServerConfig{}, WithForwarder(fw))
	c, s := e.connect()
	requireNoError(t, e.srv.Sessions().Bind(s.ID(), "u1"))
	s.Set("rid", "r1")
	e.send(s, request(1, "chat.chatHandler.echo", `{"x":1}`))
	msgs := c.waitMessages(t, 1)
	requireEqual(t, string(msgs[0].Body), `{"code":200,"from":"chat"}`)
	// Unregistered routes of another type are forwarded too; bad JSON travels as {}.
	e.send(s, request(0, "area.h.m", `nope`))
	fw.mu.Lock()
	requireEqual(t, len(fw.reqs), 2)
	r0, r1 := fw.reqs[0], fw.reqs[1]
	fw.mu.Unlock()
	requireEqual(t, r0.ServerType, "chat")
	requireEqual(t, r0.Route, "chat.chatHandler.echo")
	requireEqual(t, r0.ID, uint32(1))
	requireEqual(t, string(r0.Body), `{"x":1}`)
	requireEqual(t, r0.Session.UID, "u1")
	requireEqual(t, r0.Session.Settings["rid"], any("r1"))
	requireEqual(t, r1.ID, uint32(0))
	requireEqual(t, string(r1.Body), `{}`)
	requireEqual(t, e.srv.Stats().Forwarded, uint64(2))
	// A forwarding error answers 500.
	fw.mu.Lock()
	fw.err = errors.New("backend down")
	fw.mu.Unlock()
	e.send(s, request(2, "chat.chatHandler.echo", `{}`))
	msgs = c.waitMessages(t, 2)
	requireEqual(t, string(msgs[1].Body), `{"code":500}`)
}

func TestSessionExportJSON(t *testing.T) {
	b, err := json.Marshal(SessionExport{ID: 3, FrontendID: "f"})
	requireNoError(t, err)
	requireEqual(t, string(b), `{"id":3,"frontendId":"f","uid":null,"settings":{}}`)
	b, err = json.Marshal(SessionExport{ID: 3, FrontendID: "f", UID: "u", Settings: map[string]any{"k": 1}})
	requireNoError(t, err)
	requireEqual(t, string(b), `{"id":3,"frontendId":"f","uid":"u","settings":{"k":1}}`)
}

// release leaves nothing of a request in a pooled Context: every field of its request parts,
// filled here by reflection (so a field added later is covered too), is zero afterwards, and
// only the storage buffers are kept, emptied.
func TestReleaseClearsContext(t *testing.T) {
	s := &Server{}
	c := newContext()
	fill(reflect.ValueOf(c).Elem().FieldByName("ctxRequest"))
	fill(reflect.ValueOf(c).Elem().FieldByName("ctxForward"))
	fill(reflect.ValueOf(c).Elem().FieldByName("ctxRemote"))
	c.buf, c.out, c.fr.msg = []byte("b"), []byte("o"), []byte("m")
	s.release(c)
	for _, part := range []string{"ctxRequest", "ctxRemote"} {
		if v := reflect.ValueOf(c).Elem().FieldByName(part); !v.IsZero() {
			t.Errorf("%s not cleared: %+v", part, v)
		}
	}
	if c.fr.msg == nil || len(c.fr.msg) != 0 || c.buf == nil || len(c.buf) != 0 || len(c.out) != 0 {
		t.Errorf("buffers not kept empty: fr.msg %q, buf %q, out %q", c.fr.msg, c.buf, c.out)
	}
	c.fr.msg, c.fr.body = nil, nil
	if !reflect.ValueOf(c.ctxForward).IsZero() {
		t.Errorf("ctxForward not cleared: %+v", c.ctxForward)
	}
}

// fill sets every field of v (recursively, unexported ones too) to a non-zero value.
func fill(v reflect.Value) {
	if !v.CanSet() {
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(1)
	case reflect.Func:
		v.Set(reflect.MakeFunc(v.Type(), func([]reflect.Value) []reflect.Value { return nil }))
	case reflect.Interface:
		switch {
		case v.Type() == reflect.TypeFor[error]():
			v.Set(reflect.ValueOf(errors.New("x")))
		case v.NumMethod() == 0:
			v.Set(reflect.ValueOf(1))
		default:
			panic("fill: no value for " + v.Type().String())
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}
