package engine

import (
	"fmt"
	"sync"
	"testing"
)

func TestBindRules(t *testing.T) {
	var events []string
	var mu sync.Mutex
	ev := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	e := newEnv(t, AppConfig{}, nil, ServerConfig{},
		OnSessionBind(func(s *Session, uid string) { ev(fmt.Sprintf("bind %d %s", s.ID(), uid)) }),
		OnSessionUnbind(func(s *Session, uid string) { ev(fmt.Sprintf("unbind %d %s", s.ID(), uid)) }),
		OnSessionClosed(func(s *Session, reason string) { ev(fmt.Sprintf("closed %d %s", s.ID(), reason)) }))
	svc := e.srv.Sessions()
	_, a := e.connect()
	_, b := e.connect()
	requireErrorIs(t, svc.Bind(9999, "u"), ErrSessionNotFound)
	requireErrorIs(t, svc.Bind(a.ID(), ""), ErrEmptyUID)
	requireNoError(t, svc.Bind(a.ID(), "u1"))
	requireNoError(t, svc.Bind(a.ID(), "u1")) // same uid: no-op, no event
	requireErrorIs(t, svc.Bind(a.ID(), "u2"), ErrAlreadyBound)
	requireNoError(t, svc.Bind(b.ID(), "u1")) // several sessions per uid without singleSession
	requireEqual(t, len(svc.GetByUID("u1")), 2)
	requireErrorIs(t, svc.Unbind(a.ID(), "u2"), ErrNotBound)
	requireNoError(t, svc.Unbind(a.ID(), "u1"))
	requireEqual(t, a.UID(), "")
	requireEqual(t, len(svc.GetByUID("u1")), 1)
	requireNoError(t, svc.Bind(a.ID(), "u2"))
	requireDeepEqual(t, events, []string{
		fmt.Sprintf("bind %d u1", a.ID()), fmt.Sprintf("bind %d u1", b.ID()),
		fmt.Sprintf("unbind %d u1", a.ID()), fmt.Sprintf("bind %d u2", a.ID())})
}

func TestSingleSession(t *testing.T) {
	e := newEnv(t, AppConfig{}, nil, ServerConfig{SingleSession: true})
	svc := e.srv.Sessions()
	ca, a := e.connect()
	_, b := e.connect()
	requireNoError(t, svc.Bind(a.ID(), "u"))
	// Already bound elsewhere: an error, and the old session is NOT kicked.
	requireErrorIs(t, svc.Bind(b.ID(), "u"), ErrSingleSession)
	requireEqual(t, len(ca.kicked), 0)
	requireEqual(t, a.Closed(), false)
	requireEqual(t, b.UID(), "")
	// Once the first session is gone the uid is free.
	e.srv.closed(a, "peer")
	requireNoError(t, svc.Bind(b.ID(), "u"))
}

func TestKick(t *testing.T) {
	var closedReasons []string
	e := newEnv(t, AppConfig{}, nil, ServerConfig{},
		OnSessionClosed(func(s *Session, reason string) { closedReasons = append(closedReasons, reason) }))
	svc := e.srv.Sessions()
	c1, s1 := e.connect()
	c2, s2 := e.connect()
	c3, s3 := e.connect()
	requireNoError(t, svc.Bind(s1.ID(), "u"))
	requireNoError(t, svc.Bind(s2.ID(), "u"))
	requireNoError(t, svc.Bind(s3.ID(), "v"))
	var perSession []string
	s1.OnClosed(func(s *Session, reason string) { perSession = append(perSession, "s1:"+reason) })
	requireNoError(t, svc.Kick("u", "relogin"))
	requireDeepEqual(t, c1.kicked, []string{"relogin"})
	requireDeepEqual(t, c2.kicked, []string{"relogin"})
	requireEqual(t, len(c3.kicked), 0)
	requireEqual(t, len(svc.GetByUID("u")), 0)
	requireEqual(t, svc.Len(), 1)
	requireDeepEqual(t, perSession, []string{"s1:relogin"})
	// The transport's later Closed is a no-op.
	e.srv.closed(s1, "kicked")
	requireDeepEqual(t, closedReasons, []string{"relogin", "relogin"})
	// Default reason.
	requireNoError(t, svc.KickBySessionID(s3.ID(), ""))
	requireDeepEqual(t, c3.kicked, []string{"kick"})
	requireErrorIs(t, svc.KickBySessionID(s3.ID(), ""), ErrSessionNotFound)
}

func TestFrontendSessionSemantics(t *testing.T) {
	var seen *FrontendSession
	e := newEnv(t, AppConfig{}, func(app *App) {
		mustHandle(t, Handle(app, "connector.h.m", func(ctx *Context, req *struct{}) (*struct{}, error) {
			fs := ctx.Session()
			seen = fs
			fs.Set("a", 1) // the copy only
			fs.Set("b", 2)
			if err := fs.Push("b"); err != nil {
				return nil, err
			}
			return &struct{}{}, fs.Bind("uid-1")
		}))
	}, ServerConfig{})
	c, s := e.connect()
	s.Set("x", "real")
	e.call(c, s, 1, "connector.h.m", `{}`)
	requireEqual(t, s.Get("a"), any(nil))
	requireEqual(t, s.Get("b"), any(2))
	requireEqual(t, s.Get("x"), any("real"))
	requireEqual(t, s.UID(), "uid-1")
	requireEqual(t, seen.UID(), "uid-1")
	requireEqual(t, seen.Get("x"), any("real"))
	exp := seen.Export()
	requireEqual(t, exp.ID, s.ID())
	requireEqual(t, exp.FrontendID, "connector-server-1")
	requireDeepEqual(t, exp.Settings, map[string]any{"x": "real", "a": 1, "b": 2})
	// A change on the real session after the snapshot is not visible in the copy, and
	// PushAll copies everything (without deleting keys missing from the copy).
	s.Set("late", true)
	requireEqual(t, seen.Get("late"), any(nil))
	seen.Remove("x")
	requireNoError(t, seen.PushAll())
	requireDeepEqual(t, s.Settings(), map[string]any{"x": "real", "a": 1, "b": 2, "late": true})
}

// Concurrent binds, kicks, pushes and closes (run with -race).
func TestSessionServiceConcurrent(t *testing.T) {
	e := newEnv(t, AppConfig{}, nil, ServerConfig{})
	svc := e.srv.Sessions()
	var sessions []*Session
	for i := 0; i < 64; i++ {
		_, s := e.connect()
		sessions = append(sessions, s)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, s := range sessions {
				uid := fmt.Sprintf("u%d", i%8)
				_ = svc.Bind(s.ID(), uid)
				s.Set("k", g)
				_, _ = e.srv.PushToUIDs("onX", map[string]int{"i": i}, uid)
				if i%5 == g {
					_ = svc.Unbind(s.ID(), uid)
				}
				if i%7 == g {
					_ = svc.Kick(uid, "")
				}
				svc.ForEachBound(func(*Session) {})
			}
		}()
	}
	wg.Wait()
	for _, s := range sessions {
		e.srv.closed(s, "peer")
	}
	requireEqual(t, svc.Len(), 0)
	requireEqual(t, len(svc.byUID), 0)
}
