package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/rpc"
	"github.com/shaddock-io/shaddock/rpc/pack"
)

func (f *fakeConn) kicks() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.kicked)
}

var oneBackend = []node{{id: "connector-1", typ: "connector", frontend: true}, {id: "chat-1", typ: "chat"}}

// whoResp is what chat.h.who answers: the BackendSession as the backend saw it.
type whoResp struct {
	Server    string `json:"server"`
	Forwarded bool   `json:"forwarded"`
	UID       string `json:"uid"`
	SID       uint64 `json:"sid"`
	FID       string `json:"fid"`
	Rid       any    `json:"rid"`
	N         any    `json:"n"`
	CtxUID    string `json:"ctxUid"`
}

// A request for another server type goes over RPC to a server of that type, which runs its own
// filters, handler and error handler with a BackendSession; the answer (or the error's code)
// comes back. Global filters run once, on the frontend.
func TestClusterForward(t *testing.T) {
	var globalBefore, backendBefore, backendAfter, frontendBefore counter
	notes := newCounter()
	var mu sync.Mutex
	var lastErr error
	e := startCluster(t, AppConfig{}, func(app *App) {
		mustHandle(t, Handle(app, "connector.h.echo", echoRaw))
		mustHandle(t, Handle(app, "chat.h.echo", echoRaw))
		mustHandle(t, Handle(app, "chat.h.who", func(ctx *Context, _ *struct{}) (*whoResp, error) {
			bs := ctx.BackendSession()
			if ctx.Session() != nil || bs == nil {
				return nil, errors.New("backend request without a BackendSession")
			}
			return &whoResp{Server: ctx.Server().Config().ID, Forwarded: ctx.IsForwarded(), UID: bs.UID(),
				SID: bs.ID(), FID: bs.FrontendID(), Rid: bs.Get("rid"), N: bs.Get("n"), CtxUID: ctx.UID()}, nil
		}))
		mustHandle(t, Handle(app, "chat.h.fail", func(*Context, *struct{}) (*struct{}, error) {
			return nil, &CodeError{Code: 501, Err: errors.New("nope")}
		}))
		mustHandle(t, Handle(app, "chat.h.boom", func(*Context, *struct{}) (*struct{}, error) {
			return nil, errors.New("boom")
		}))
		mustHandle(t, Handle(app, "chat.h.handled", func(*Context, *struct{}) (*struct{}, error) {
			return nil, errors.New("handled")
		}))
		mustHandle(t, Handle(app, "chat.h.note", func(*Context, *struct{}) (*struct{}, error) {
			notes.inc()
			return &struct{}{}, nil
		}))
		mustHandle(t, HandleAsync(app, "chat.h.later", func(_ *Context, req *json.RawMessage, reply func(*json.RawMessage, error)) {
			body := append(json.RawMessage(nil), *req...)
			go func() {
				time.Sleep(5 * time.Millisecond)
				reply(&body, nil)
			}()
		}))
		requireNoError(t, app.SetErrorHandler("chat", func(ctx *Context, err error, _ any) (any, error) {
			if ctx.Route() == "chat.h.handled" {
				return map[string]any{"code": 600, "why": err.Error()}, err
			}
			return nil, err
		}))
		requireNoError(t, app.GlobalBefore(BeforeFunc(func(*Context) error { globalBefore.inc(); return nil })))
		requireNoError(t, app.GlobalAfter(AfterFunc(func(ctx *Context, err error) error {
			var re *rpc.Error
			if ctx.Route() == "chat.h.fail" && errors.As(err, &re) { // the frontend's view of the hop
				mu.Lock()
				lastErr = err
				mu.Unlock()
			}
			return err
		})))
		requireNoError(t, app.Before("chat", BeforeFunc(func(*Context) error { backendBefore.inc(); return nil })))
		requireNoError(t, app.After("chat", AfterFunc(func(_ *Context, err error) error { backendAfter.inc(); return err })))
		requireNoError(t, app.Before("connector", BeforeFunc(func(*Context) error { frontendBefore.inc(); return nil })))
	}, oneBackend, nil)
	c, s := e.connect("connector-1")
	requireNoError(t, e.srv["connector-1"].Sessions().Bind(s.ID(), "u1"))
	s.Set("rid", "room-7")
	s.Set("n", 42)

	requireEqual(t, e.ask(c, s, 1, "chat.h.echo", `{"x":[1,"two"]}`), `{"x":[1,"two"]}`)
	requireEqual(t, e.ask(c, s, 2, "chat.h.echo", `not json`), `{}`)
	var who whoResp
	requireNoError(t, json.Unmarshal([]byte(e.ask(c, s, 3, "chat.h.who", `{}`)), &who))
	requireDeepEqual(t, who, whoResp{Server: "chat-1", Forwarded: true, UID: "u1", SID: s.ID(),
		FID: "connector-1", Rid: "room-7", N: float64(42), CtxUID: "u1"})
	// Errors: the code survives the hop, and so does the message (seen by global after filters).
	requireEqual(t, e.ask(c, s, 4, "chat.h.fail", `{}`), `{"code":501}`)
	var ferr error
	waitFor(t, "the frontend's global after filter", func() bool { // it runs once the response is queued
		mu.Lock()
		defer mu.Unlock()
		ferr = lastErr
		return ferr != nil
	})
	var re *rpc.Error
	if !errors.As(ferr, &re) || re.Code != 501 || !strings.Contains(re.Message, "nope") {
		t.Fatalf("frontend saw error %v, want code 501 with the backend's message", ferr)
	}
	requireEqual(t, errorCode(ferr), 501)
	requireEqual(t, e.ask(c, s, 5, "chat.h.boom", `{}`), `{"code":500}`)
	requireJSON(t, []byte(e.ask(c, s, 6, "chat.h.handled", `{}`)), `{"code":600,"why":"handled"}`)
	requireEqual(t, e.ask(c, s, 7, "chat.h.nope", `{}`), `{"code":500}`) // no such handler there
	requireEqual(t, e.ask(c, s, 8, "chat.h.later", `{"a":1}`), `{"a":1}`)
	// A notify is forwarded and never answered.
	e.send(s, request(0, "chat.h.note", `{}`))
	select {
	case <-notes.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("forwarded notify did not reach the backend")
	}
	requireEqual(t, e.ask(c, s, 9, "connector.h.echo", `{"local":true}`), `{"local":true}`)
	msgs, _ := c.messages(t)
	requireEqual(t, len(msgs), 9)

	requireEqual(t, globalBefore.n.Load(), int64(10)) // 9 requests and the notify, on the frontend only
	requireEqual(t, frontendBefore.n.Load(), int64(1))
	requireEqual(t, backendBefore.n.Load(), int64(9)) // every forwarded message, chat.h.nope included
	// The backend's after filters run once the reply is on its way, the notify's once its handler
	// returned: nothing the client sees orders them before this point.
	waitFor(t, "the backend's after filters", func() bool { return backendAfter.n.Load() == 9 })
	fs, bs := e.srv["connector-1"].Stats(), e.srv["chat-1"].Stats()
	requireEqual(t, fs.Forwarded, uint64(9))
	requireEqual(t, fs.ForwardErrors, uint64(0))
	requireEqual(t, bs.ForwardedIn, uint64(9))
}

// Any RPC failure answers {"code":500} and never hangs: a backend that is not running (refused
// connection) and a backend that goes away while a request is pending are answered at once, a
// handler that never answers after the call's timeout. connector-1 has a 4 s RPC timeout (what
// must not be waited for), connector-2 a 300 ms one.
func TestClusterForwardFailures(t *testing.T) {
	hold := make(chan func(*json.RawMessage, error), 4)
	register := func(app *App) {
		mustHandle(t, HandleAsync(app, "chat.h.hang", func(_ *Context, _ *json.RawMessage, reply func(*json.RawMessage, error)) {
			hold <- reply
		}))
		mustHandle(t, Handle(app, "area.h.echo", echoRaw))
	}
	nodes := []node{{id: "connector-1", typ: "connector", frontend: true}, {id: "connector-2", typ: "connector", frontend: true},
		{id: "chat-1", typ: "chat"}, {id: "area-1", typ: "area", down: true}}
	e := startCluster(t, AppConfig{}, register, nodes, func(id string) []ServerOption {
		switch id {
		case "connector-1":
			return []ServerOption{WithConfig(testRPC(4 * time.Second))}
		case "connector-2":
			return []ServerOption{WithConfig(testRPC(300 * time.Millisecond))}
		}
		return nil
	})
	const soon = 2 * time.Second // well below connector-1's timeout
	c, s := e.connect("connector-1")
	start := time.Now()
	requireEqual(t, e.ask(c, s, 1, "area.h.echo", `{}`), `{"code":500}`) // nothing listens
	requireEqual(t, e.ask(c, s, 2, "gate.h.echo", `{}`), `{"code":500}`) // no server of the type
	if d := time.Since(start); d > soon {
		t.Fatalf("refused connection answered after %v, want at once", d)
	}
	c2, s2 := e.connect("connector-2")
	start = time.Now()
	requireEqual(t, e.ask(c2, s2, 1, "chat.h.hang", `{}`), `{"code":500}`) // the call times out
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("hanging backend answered after %v, before the 300ms timeout", d)
	}
	<-hold // its late reply is dropped
	// The backend shuts down while a request is pending: answered at once, not after a timeout.
	e.send(s, request(3, "chat.h.hang", `{}`))
	<-hold
	start = time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.srv["chat-1"].Shutdown(ctx)
	}()
	msgs := c.waitMessages(t, 3)
	requireEqual(t, string(msgs[2].Body), `{"code":500}`)
	if d := time.Since(start); d > soon {
		t.Fatalf("pending request answered %v after the backend went away", d)
	}
	start = time.Now()
	requireEqual(t, e.ask(c, s, 4, "chat.h.hang", `{}`), `{"code":500}`) // down now
	if d := time.Since(start); d > soon {
		t.Fatalf("request to a stopped backend answered after %v", d)
	}
	requireEqual(t, e.srv["connector-1"].Stats().ForwardErrors, uint64(4))
	requireEqual(t, e.srv["connector-1"].Stats().ErrorResponses, uint64(4))
	requireEqual(t, e.srv["connector-2"].Stats().ForwardErrors, uint64(1))
}

// A backend acts on the frontend's real session through sessionRemote: bind, push, unbind,
// lookups, kicks (the client gets a KICK package with the reason).
func TestBackendSessionRemote(t *testing.T) {
	type op struct {
		Do, UID, Key, Reason string
		Value                any
	}
	type result struct {
		Err      string          `json:"err,omitempty"`
		Is       string          `json:"is,omitempty"`
		Sessions []SessionExport `json:"sessions,omitempty"`
	}
	sentinels := map[error]string{ErrAlreadyBound: "already-bound", ErrNotBound: "not-bound",
		ErrSessionNotFound: "not-found"}
	e := startCluster(t, AppConfig{}, func(app *App) {
		mustHandle(t, Handle(app, "chat.h.do", func(ctx *Context, o *op) (*result, error) {
			bs := ctx.BackendSession()
			svc := ctx.Server().BackendSessions()
			var err error
			var res result
			switch o.Do {
			case "bind":
				err = bs.Bind(o.UID)
			case "unbind":
				err = bs.Unbind(o.UID)
			case "push":
				bs.Set(o.Key, o.Value)
				err = bs.Push(o.Key)
			case "pushAll":
				bs.Set(o.Key, o.Value)
				bs.Set("also", "this")
				err = bs.PushAll()
			case "get":
				var got *BackendSession
				if got, err = svc.Get(context.Background(), bs.FrontendID(), bs.ID()); got != nil {
					res.Sessions = append(res.Sessions, got.Export())
				}
			case "getMissing":
				var got *BackendSession
				if got, err = svc.Get(context.Background(), bs.FrontendID(), 1<<40); got != nil {
					err = errors.New("found a session that does not exist")
				}
			case "byUID":
				var list []*BackendSession
				list, err = svc.GetByUID(context.Background(), bs.FrontendID(), o.UID)
				for _, b := range list {
					res.Sessions = append(res.Sessions, b.Export())
				}
			case "kickUID":
				err = svc.KickByUID(context.Background(), bs.FrontendID(), o.UID, o.Reason)
			case "kick":
				err = bs.Kick(o.Reason)
			}
			if err != nil {
				res.Err = err.Error()
				for s, name := range sentinels {
					if errors.Is(err, s) {
						res.Is = name
					}
				}
			}
			return &res, nil
		}))
	}, oneBackend, nil)
	front := e.srv["connector-1"]
	c, s := e.connect("connector-1")
	c2, s2 := e.connect("connector-1")
	c3, s3 := e.connect("connector-1")
	do := func(c *fakeConn, s *Session, id uint32, o op) result {
		t.Helper()
		b, _ := json.Marshal(o)
		var r result
		requireNoError(t, json.Unmarshal([]byte(e.ask(c, s, id, "chat.h.do", string(b))), &r))
		return r
	}
	requireDeepEqual(t, do(c, s, 1, op{Do: "bind", UID: "alice"}), result{})
	requireEqual(t, s.UID(), "alice")
	requireDeepEqual(t, front.Sessions().GetByUID("alice"), []*Session{s})
	requireDeepEqual(t, do(c, s, 2, op{Do: "bind", UID: "bob"}).Is, "already-bound")
	requireDeepEqual(t, do(c, s, 3, op{Do: "push", Key: "level", Value: 7}), result{})
	requireEqual(t, s.Get("level"), any(float64(7)))
	requireDeepEqual(t, do(c, s, 4, op{Do: "pushAll", Key: "rid", Value: "r1"}), result{})
	requireEqual(t, s.Get("rid"), any("r1"))
	requireEqual(t, s.Get("also"), any("this"))
	requireEqual(t, s.Get("level"), any(float64(7))) // kept: it was in the snapshot
	got := do(c, s, 5, op{Do: "get"})
	requireEqual(t, len(got.Sessions), 1)
	requireEqual(t, got.Sessions[0].UID, "alice")
	requireEqual(t, got.Sessions[0].ID, s.ID())
	requireEqual(t, got.Sessions[0].Settings["rid"], any("r1"))
	requireDeepEqual(t, do(c, s, 6, op{Do: "getMissing"}), result{})
	requireNoError(t, front.Sessions().Bind(s2.ID(), "alice"))
	got = do(c, s, 7, op{Do: "byUID", UID: "alice"})
	requireEqual(t, len(got.Sessions), 2)
	requireDeepEqual(t, do(c, s, 8, op{Do: "byUID", UID: "nobody"}), result{})
	requireDeepEqual(t, do(c, s, 9, op{Do: "unbind", UID: "bob"}).Is, "not-bound")
	requireDeepEqual(t, do(c, s, 10, op{Do: "unbind", UID: "alice"}), result{})
	requireEqual(t, s.UID(), "")
	// Kick by uid: s2 (alice) is kicked, with the reason; s (asking) is not.
	requireDeepEqual(t, do(c, s, 11, op{Do: "kickUID", UID: "alice", Reason: "relogin"}), result{})
	requireDeepEqual(t, c2.kicks(), []string{"relogin"})
	requireEqual(t, s2.Closed(), true)
	requireEqual(t, len(c.kicks()), 0)
	// A session kicks itself: the response is lost with the connection; the KICK arrives.
	e.send(s3, request(1, "chat.h.do", `{"Do":"kick","Reason":"bye"}`))
	waitFor(t, "the kick", func() bool { return len(c3.kicks()) == 1 })
	requireDeepEqual(t, c3.kicks(), []string{"bye"})
	requireEqual(t, front.Sessions().Get(s3.ID()), (*Session)(nil))
}

// onChats returns the onChat pushes c received (dictionary code 1 in these tests).
func onChats(t testing.TB, c *fakeConn) []string {
	t.Helper()
	msgs, _ := c.messages(t)
	var out []string
	for _, m := range msgs {
		if m.Type == codec.Push {
			requireEqual(t, m.Compressed, true)
			requireEqual(t, m.Code, uint16(1))
			out = append(out, string(m.Body))
		}
	}
	return out
}

// A channel push reaches every member exactly once, with one channelRemote.pushMessage per
// frontend (however many members it holds) and one encoding there; members on the channel's own
// server get a direct local push.
func TestChannelPushAcrossFrontends(t *testing.T) {
	counters := map[string]*callCounter{"connector-1": {}, "connector-2": {}}
	nodes := []node{{id: "connector-1", typ: "connector", frontend: true},
		{id: "connector-2", typ: "connector", frontend: true}, {id: "chat-1", typ: "chat"}}
	e := startCluster(t, AppConfig{Dictionary: []string{"onChat"}}, nil, nodes, func(id string) []ServerOption {
		if c := counters[id]; c != nil {
			return []ServerOption{c.option(), WithConfig(func(cfg *ServerConfig) { cfg.UseDict = true })}
		}
		return nil
	})
	type member struct {
		conn *fakeConn
		uid  string
	}
	var all []member
	for _, m := range []struct{ fid, uid string }{{"connector-1", "a"}, {"connector-1", "b"}, {"connector-1", "b"},
		{"connector-2", "c"}, {"connector-2", "d"}} {
		c, s := e.connect(m.fid)
		requireNoError(t, e.srv[m.fid].Sessions().Bind(s.ID(), m.uid))
		all = append(all, member{c, m.uid})
	}
	chat := e.srv["chat-1"]
	ch := chat.Channels().Create("room")
	for _, m := range []Member{{"a", "connector-1"}, {"b", "connector-1"}, {"c", "connector-2"},
		{"d", "connector-2"}, {"ghost", "connector-2"}} {
		requireNoError(t, ch.Add(m.UID, m.SID))
	}
	const method = "sys.channelRemote.pushMessage"
	failed, err := ch.PushMessage("onChat", map[string]string{"msg": "hi"})
	requireNoError(t, err)
	requireDeepEqual(t, failed, []string{"ghost"})
	for _, m := range all {
		requireDeepEqual(t, onChats(t, m.conn), []string{`{"msg":"hi"}`})
	}
	requireEqual(t, counters["connector-1"].get(method), 1)
	requireEqual(t, counters["connector-2"].get(method), 1)
	requireEqual(t, e.srv["connector-1"].Stats().PushEncodes, uint64(1))
	requireEqual(t, e.srv["connector-2"].Stats().PushEncodes, uint64(1))

	// Fire and forget: returns once sent; every member gets it once.
	requireNoError(t, ch.PushMessageAsync("onChat", json.RawMessage(`{"msg":"2"}`), nil))
	for _, m := range all {
		waitFor(t, "the second push", func() bool { return len(onChats(t, m.conn)) == 2 })
	}
	requireEqual(t, counters["connector-1"].get(method), 2)
	requireEqual(t, counters["connector-2"].get(method), 2)

	// By uids, members interleaved: still one call per frontend.
	failed, err = chat.Channels().PushMessageByUIDs("onChat", json.RawMessage(`{"msg":"3"}`),
		[]Member{{"c", "connector-2"}, {"a", "connector-1"}, {"d", "connector-2"}, {"x", "connector-1"}})
	requireNoError(t, err)
	requireDeepEqual(t, failed, []string{"x"})
	requireEqual(t, counters["connector-1"].get(method), 3)
	requireEqual(t, counters["connector-2"].get(method), 3)
	for i, m := range all {
		want := 3
		if m.uid == "b" {
			want = 2
		}
		if n := len(onChats(t, m.conn)); n != want {
			t.Fatalf("member %d (%s) got %d pushes, want %d", i, m.uid, n, want)
		}
	}

	// A channel of a frontend: its own members by a direct push, the other frontend by RPC.
	local := e.srv["connector-1"].Channels().Create("lobby")
	requireNoError(t, local.Add("a", "connector-1"))
	requireNoError(t, local.Add("c", "connector-2"))
	failed, err = local.PushMessage("onChat", json.RawMessage(`{"msg":"4"}`))
	requireNoError(t, err)
	requireEqual(t, len(failed), 0)
	requireEqual(t, counters["connector-1"].get(method), 3)
	requireEqual(t, counters["connector-2"].get(method), 4)
	requireEqual(t, onChats(t, all[0].conn)[3], `{"msg":"4"}`)
	requireEqual(t, onChats(t, all[3].conn)[3], `{"msg":"4"}`)

	// Every group failing is an error; a frontend that is not in the cluster fails its uids.
	ghost := chat.Channels().Create("ghosts")
	requireNoError(t, ghost.Add("z", "connector-9"))
	failed, err = ghost.PushMessage("onChat", json.RawMessage(`{}`))
	requireErrorIs(t, err, ErrUnknownServer)
	requireDeepEqual(t, failed, []string{"z"})
	// An unreachable frontend does not keep the others from getting a push (none waits here).
	requireNoError(t, ghost.Add("d", "connector-2"))
	requireNoError(t, ghost.PushMessageAsync("onChat", json.RawMessage(`{"msg":"5"}`), nil))
	waitFor(t, "the push next to an unreachable frontend", func() bool {
		pushes := onChats(t, all[4].conn)
		return len(pushes) == 4 && pushes[3] == `{"msg":"5"}`
	})
	// A message that does not encode is an error, and nothing is sent.
	requireErrorIs(t, ghost.PushMessageAsync("onChat", func() {}, nil), ErrEncode)
}

// channelService.broadcast reaches every frontend of a type, with binded and the broadcast
// filter applied on each.
func TestClusterBroadcast(t *testing.T) {
	counters := map[string]*callCounter{"connector-1": {}, "connector-2": {}}
	nodes := []node{{id: "connector-1", typ: "connector", frontend: true},
		{id: "connector-2", typ: "connector", frontend: true}, {id: "chat-1", typ: "chat"}}
	e := startCluster(t, AppConfig{Dictionary: []string{"onChat"}}, func(app *App) {
		requireNoError(t, app.SetBroadcastFilter(func(s *Session, route string, msg []byte, param any) bool {
			if route != "onChat" || !json.Valid(msg) {
				t.Errorf("filter got route %q msg %q", route, msg)
			}
			return param == nil || s.Get("team") == param
		}))
	}, nodes, func(id string) []ServerOption {
		if c := counters[id]; c != nil {
			return []ServerOption{c.option(), WithConfig(func(cfg *ServerConfig) { cfg.UseDict = true })}
		}
		return nil
	})
	conns := map[string]*fakeConn{}
	for _, m := range []struct{ fid, name, uid, team string }{{"connector-1", "a", "a", "red"},
		{"connector-1", "u", "", "red"}, {"connector-2", "c", "c", "blue"}, {"connector-2", "d", "d", "red"}} {
		c, s := e.connect(m.fid)
		if m.uid != "" {
			requireNoError(t, e.srv[m.fid].Sessions().Bind(s.ID(), m.uid))
		}
		s.Set("team", m.team)
		conns[m.name] = c
	}
	got := func() string {
		var names []string
		for _, n := range []string{"a", "u", "c", "d"} {
			names = append(names, fmt.Sprintf("%s%d", n, len(onChats(t, conns[n]))))
		}
		return strings.Join(names, " ")
	}
	cs := e.srv["chat-1"].Channels()
	requireNoError(t, cs.Broadcast("connector", "onChat", map[string]int{"n": 1}, BroadcastOptions{}))
	requireEqual(t, got(), "a1 u1 c1 d1")
	requireNoError(t, cs.Broadcast("connector", "onChat", map[string]int{"n": 2}, BroadcastOptions{Binded: true}))
	requireEqual(t, got(), "a2 u1 c2 d2")
	requireNoError(t, cs.Broadcast("connector", "onChat", map[string]int{"n": 3},
		BroadcastOptions{Binded: true, FilterParam: "red"}))
	requireEqual(t, got(), "a3 u1 c2 d3")
	// From a frontend: itself directly, the other by RPC.
	requireNoError(t, e.srv["connector-1"].Channels().Broadcast("connector", "onChat", json.RawMessage(`{"n":4}`),
		BroadcastOptions{FilterParam: "blue"}))
	requireEqual(t, got(), "a3 u1 c3 d3")
	requireEqual(t, counters["connector-1"].get("sys.channelRemote.broadcast"), 3)
	requireEqual(t, counters["connector-2"].get("sys.channelRemote.broadcast"), 4)
	requireErrorIs(t, cs.Broadcast("gate", "onChat", nil, BroadcastOptions{}), ErrNoServer)
}

// echoArgs uses the fast path (pack encoding written by hand).
type echoArgs struct {
	S string
	N int64
}

func (a *echoArgs) AppendRPC(dst []byte) ([]byte, error) {
	return pack.AppendInt(pack.AppendString(pack.AppendArrayHeader(dst, 2), a.S), a.N), nil
}

func (a *echoArgs) DecodeRPC(b []byte) error {
	d := pack.NewDecoder(b)
	if d.ArrayLen() != 2 && d.Err() == nil {
		return errors.New("echoArgs: want 2 fields")
	}
	a.S, a.N = d.String(), d.Int()
	return d.Done()
}

// whereRes travels as JSON (no AppendRPC/DecodeRPC).
type whereRes struct {
	Server string `json:"server"`
	S      string `json:"s"`
	N      int64  `json:"n"`
}

// User remotes: routed by the default router (crc32(uid) over the type's servers in
// servers.json order, as rpc.DefaultRoute computes it) or by the type's route function; sent to
// a given server or to all; errors keep their code and message.
func TestUserRemoteRouting(t *testing.T) {
	nodes := []node{{id: "connector-1", typ: "connector", frontend: true},
		{id: "chat-b", typ: "chat"}, {id: "chat-a", typ: "chat"}, {id: "chat-c", typ: "chat"},
		{id: "area-1", typ: "area"}, {id: "area-2", typ: "area"}}
	var where, areaWhere *RemoteMethod[echoArgs, whereRes]
	var fail *RemoteMethod[echoArgs, whereRes]
	e := startCluster(t, AppConfig{}, func(app *App) {
		var err error
		handler := func(_ context.Context, s *Server, a *echoArgs) (*whereRes, error) {
			return &whereRes{Server: s.Config().ID, S: a.S, N: a.N}, nil
		}
		where, err = Remote(app, "chat", "chatRemote.where", handler)
		requireNoError(t, err)
		areaWhere, err = Remote(app, "area", "areaRemote.where", handler)
		requireNoError(t, err)
		fail, err = Remote(app, "chat", "chatRemote.fail", func(context.Context, *Server, *echoArgs) (*whereRes, error) {
			return nil, &CodeError{Code: 777, Err: errors.New("bad input")}
		})
		requireNoError(t, err)
		_, err = Remote(app, "chat", "chatRemote.where", handler)
		requireErrorIs(t, err, ErrDuplicateRoute)
		_, err = Remote(app, "chat", "nodot", handler)
		requireErrorIs(t, err, ErrRemoteName)
		// area routes by the session's "rid" setting (the chat demo's routeUtil).
		requireNoError(t, app.Route("area", func(p RouteParam, servers []ServerInfo) (string, error) {
			rid, _ := p.Get("rid").(string)
			return RouteByKey(rid, servers)
		}))
		mustHandle(t, Handle(app, "chat.h.where", func(ctx *Context, _ *struct{}) (*whereRes, error) {
			return &whereRes{Server: ctx.Server().Config().ID}, nil
		}))
	}, nodes, nil)
	front := e.srv["connector-1"]
	chats := front.ServersByType("chat")
	requireEqual(t, len(chats), 3)
	requireEqual(t, chats[0].ID, "chat-b") // servers.json order, not sorted
	ctx := context.Background()
	seen := map[string]bool{}
	for i := 0; i < 60; i++ {
		uid := fmt.Sprintf("user-%d", i)
		if i == 0 {
			uid = "" // unbound: always the first server
		}
		want := chats[rpc.DefaultRoute(uid, len(chats))].ID
		res, err := where.Call(ctx, front, UID(uid), &echoArgs{S: uid, N: int64(i)})
		requireNoError(t, err)
		requireDeepEqual(t, *res, whereRes{Server: want, S: uid, N: int64(i)})
		seen[want] = true
	}
	requireEqual(t, len(seen), 3)
	res, err := where.Call(ctx, front, nil, &echoArgs{})
	requireNoError(t, err)
	requireEqual(t, res.Server, "chat-b")
	// Forwarded requests are routed the same way, by the session's uid.
	c, s := e.connect("connector-1")
	for i, uid := range []string{"alice", "bob", "carol", "dave", "erin"} {
		requireNoError(t, front.Sessions().Bind(s.ID(), uid))
		var r whereRes
		requireNoError(t, json.Unmarshal([]byte(e.ask(c, s, uint32(i+1), "chat.h.where", `{}`)), &r))
		requireEqual(t, r.Server, chats[rpc.DefaultRoute(uid, 3)].ID)
		requireNoError(t, front.Sessions().Unbind(s.ID(), uid))
	}
	// The route function of "area" (by rid).
	for _, rid := range []string{"r1", "r2", "r3", "r4"} {
		s.Set("rid", rid)
		res, err := areaWhere.Call(ctx, front, s, &echoArgs{})
		requireNoError(t, err)
		requireEqual(t, res.Server, []string{"area-1", "area-2"}[rpc.DefaultRoute(rid, 2)])
	}
	// To a given server, to all, asynchronously.
	res, err = where.CallServer(ctx, front, "chat-c", &echoArgs{S: "x"})
	requireNoError(t, err)
	requireEqual(t, res.Server, "chat-c")
	_, err = where.CallServer(ctx, front, "area-1", &echoArgs{})
	requireErrorIs(t, err, ErrUnknownServer)
	_, err = where.CallServer(ctx, front, "nope", &echoArgs{})
	requireErrorIs(t, err, ErrUnknownServer)
	all, err := where.CallAll(ctx, front, &echoArgs{S: "all"})
	requireNoError(t, err)
	requireEqual(t, len(all), 3)
	for id, r := range all {
		requireEqual(t, r.Server, id)
		requireEqual(t, r.S, "all")
	}
	done := make(chan *whereRes, 1)
	requireNoError(t, where.Go(ctx, e.srv["area-1"], UID("user-7"), &echoArgs{S: "go"}, func(r *whereRes, err error) {
		requireNoError(t, err)
		done <- r
	}))
	select {
	case r := <-done:
		requireEqual(t, r.Server, chats[rpc.DefaultRoute("user-7", 3)].ID)
	case <-time.After(5 * time.Second):
		t.Fatal("Go did not complete")
	}
	// Errors keep their code and message.
	_, err = fail.Call(ctx, front, UID("u"), &echoArgs{})
	var re *rpc.Error
	if !errors.As(err, &re) || re.Code != 777 || !strings.Contains(re.Message, "bad input") {
		t.Fatalf("remote error %v, want code 777 with the message", err)
	}
	// A server of another type does not serve chat remotes.
	unrouted, err := NewRemoteMethod[echoArgs, whereRes]("area", "chatRemote.where")
	requireNoError(t, err)
	_, err = unrouted.CallServer(ctx, front, "area-1", &echoArgs{})
	requireErrorIs(t, err, rpc.ErrNoMethod)
	// Not a cluster server.
	lone := newEnv(t, AppConfig{}, nil, ServerConfig{})
	_, err = where.Call(ctx, lone.srv, UID("u"), &echoArgs{})
	requireErrorIs(t, err, ErrNotCluster)
}

// The Serial filter on a backend queues the forwarded requests of one session (named by its
// frontend id and session id), and lets other sessions through.
func TestBackendSerial(t *testing.T) {
	var mu sync.Mutex
	var order []string
	release := make(chan struct{})
	serial, err := NewSerial(SerialConfig{Timeout: 5 * time.Second})
	requireNoError(t, err)
	e := startCluster(t, AppConfig{}, func(app *App) {
		requireNoError(t, app.Filter("chat", serial))
		mustHandle(t, HandleAsync(app, "chat.h.step", func(ctx *Context, req *struct{ N string }, reply func(*struct{}, error)) {
			mu.Lock()
			order = append(order, req.N)
			mu.Unlock()
			if req.N == "a1" {
				go func() { <-release; reply(&struct{}{}, nil) }()
				return
			}
			reply(&struct{}{}, nil)
		}))
	}, oneBackend, nil)
	ca, a := e.connect("connector-1")
	cb, b := e.connect("connector-1")
	e.send(a, request(1, "chat.h.step", `{"N":"a1"}`))
	e.send(a, request(2, "chat.h.step", `{"N":"a2"}`)) // waits for a1
	requireEqual(t, e.ask(cb, b, 1, "chat.h.step", `{"N":"b1"}`), `{}`)
	mu.Lock()
	requireDeepEqual(t, order, []string{"a1", "b1"})
	mu.Unlock()
	close(release)
	msgs := ca.waitMessages(t, 2)
	requireEqual(t, msgs[0].ID, uint32(1))
	requireEqual(t, msgs[1].ID, uint32(2))
	mu.Lock()
	requireDeepEqual(t, order, []string{"a1", "b1", "a2"})
	mu.Unlock()
}
