package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/scheduler"
)

// A push is encoded once and the same package bytes go to every target.
func TestPushEncodedOnce(t *testing.T) {
	e := newEnv(t, AppConfig{Dictionary: []string{"onChat"}}, nil, ServerConfig{UseDict: true})
	svc := e.srv.Sessions()
	var conns []*fakeConn
	for i := 0; i < 5; i++ {
		c, s := e.connect()
		conns = append(conns, c)
		if i < 3 {
			requireNoError(t, svc.Bind(s.ID(), []string{"a", "a", "b"}[i]))
		}
	}
	failed, err := e.srv.PushToUIDs("onChat", map[string]string{"msg": "hi"}, "a", "b", "ghost")
	requireNoError(t, err)
	requireDeepEqual(t, failed, []string{"ghost"})
	st := e.srv.Stats()
	requireEqual(t, st.PushEncodes, uint64(1))
	requireEqual(t, st.PushTargets, uint64(3))
	want := []byte{4, 0, 0, 15, 0x07, 0, 1}
	want = append(want, `{"msg":"hi"}`...)
	for i, c := range conns {
		c.mu.Lock()
		if i < 3 {
			if len(c.writes) != 1 || !bytes.Equal(c.writes[0], want) {
				t.Fatalf("conn %d got %x, want %x", i, c.writes, want)
			}
		} else if len(c.writes) != 0 {
			t.Fatalf("conn %d got a push", i)
		}
		c.mu.Unlock()
	}
	// Broadcast to bound sessions only, then to all; a route not in the dictionary stays a string.
	requireNoError(t, e.srv.Broadcast("onNews", json.RawMessage(`{"n":1}`), true))
	requireNoError(t, e.srv.Broadcast("onNews", json.RawMessage(`{"n":2}`), false))
	st = e.srv.Stats()
	requireEqual(t, st.PushEncodes, uint64(3))
	requireEqual(t, st.PushTargets, uint64(3+3+5))
	msgs, _ := conns[4].messages(t)
	requireEqual(t, len(msgs), 1)
	requireEqual(t, string(msgs[0].Route), "onNews")
	requireEqual(t, string(msgs[0].Body), `{"n":2}`)
	// Sessions by id; unknown ids are skipped.
	requireNoError(t, e.srv.PushToSessions("onChat", []byte(`{}`), conns[4].id, 424242))
	msgs, _ = conns[4].messages(t)
	requireEqual(t, len(msgs), 2)
	// A route too long to encode is an error.
	long := string(bytes.Repeat([]byte{'x'}, 300))
	if err := e.srv.PushToSessions(long, nil, conns[4].id); !errors.Is(err, codec.ErrRouteTooLong) {
		t.Fatalf("long route: %v", err)
	}
}

// With the buffered scheduler, pushes wait for the tick and leave together; responses to a read
// batch still leave at the end of the batch.
func TestBufferedSchedulerBatches(t *testing.T) {
	e := newEnv(t, AppConfig{}, func(app *App) {
		mustHandle(t, Handle(app, "connector.h.echo", echoRaw))
	}, ServerConfig{Scheduler: scheduler.Config{Kind: scheduler.Buffered, FlushInterval: 30 * time.Millisecond}})
	c, s := e.connect()
	e.send(s, request(1, "connector.h.echo", `{"r":1}`))
	msgs, _ := c.messages(t)
	requireEqual(t, len(msgs), 1)
	for i := 0; i < 3; i++ {
		requireNoError(t, e.srv.PushToSessions("onTick", map[string]int{"i": i}, s.ID()))
	}
	msgs, pending := c.messages(t)
	requireEqual(t, len(msgs), 1)
	if pending == 0 {
		t.Fatal("nothing queued")
	}
	msgs = c.waitMessages(t, 4)
	requireEqual(t, c.flushCount(), 2)
	requireEqual(t, msgs[0].Type, codec.Response)
	requireEqual(t, msgs[3].Type, codec.Push)
}

func TestChannels(t *testing.T) {
	e := newEnv(t, AppConfig{}, nil, ServerConfig{})
	cs := e.srv.Channels()
	ch := cs.Create("room")
	if cs.Create("room") != ch || cs.Get("room", false) != ch {
		t.Fatal("Create/Get do not return the existing channel")
	}
	requireEqual(t, cs.Get("none", false) == nil, true)
	svc := e.srv.Sessions()
	ca, sa := e.connect()
	cb, sb := e.connect()
	requireNoError(t, svc.Bind(sa.ID(), "alice"))
	requireNoError(t, svc.Bind(sb.ID(), "bob"))
	requireNoError(t, ch.Add("alice", "connector-server-1"))
	requireNoError(t, ch.Add("bob", "connector-server-1"))
	requireNoError(t, ch.Add("carol", "connector-server-2")) // on another frontend
	requireEqual(t, ch.UserAmount(), 3)
	m, ok := ch.Member("carol")
	requireEqual(t, ok, true)
	requireEqual(t, m, Member{UID: "carol", SID: "connector-server-2"})
	members := ch.Members()
	slices.Sort(members)
	requireDeepEqual(t, members, []string{"alice", "bob", "carol"})

	failed, err := ch.PushMessage("onChat", map[string]string{"msg": "x"})
	requireNoError(t, err) // the local group went out
	requireDeepEqual(t, failed, []string{"carol"})
	requireEqual(t, e.srv.Stats().PushEncodes, uint64(1))
	for _, c := range []*fakeConn{ca, cb} {
		msgs, _ := c.messages(t)
		requireEqual(t, len(msgs), 1)
		requireEqual(t, string(msgs[0].Body), `{"msg":"x"}`)
	}
	requireEqual(t, ch.Leave("bob", "connector-server-2"), false)
	requireEqual(t, ch.Leave("bob", "connector-server-1"), true)
	requireEqual(t, ch.UserAmount(), 2)
	// Only remote members and no ChannelRemote: an error.
	requireNoError(t, ch.Add("alice", "connector-server-3")) // alice moves
	_, err = ch.PushMessage("onChat", map[string]string{})
	requireErrorIs(t, err, ErrNoChannelRemote)
	ch.Destroy()
	requireEqual(t, cs.Len(), 0)
	requireErrorIs(t, ch.Add("x", "y"), ErrChannelDestroyed)
}

type fakeRemote struct {
	mu    sync.Mutex
	calls []string
}

func (r *fakeRemote) PushMessage(frontendID, route string, msg any, uids []string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, frontendID+":"+route+":"+stringsJoin(uids))
	return nil, nil
}

func stringsJoin(s []string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Members are grouped by frontend: one ChannelRemote call per other frontend.
func TestChannelRemoteGroups(t *testing.T) {
	remote := &fakeRemote{}
	e := newEnv(t, AppConfig{}, nil, ServerConfig{}, WithChannelRemote(remote))
	ch := e.srv.Channels().Create("r")
	for _, m := range []Member{{"a", "f2"}, {"b", "f3"}, {"c", "f2"}, {"d", "connector-server-1"}} {
		requireNoError(t, ch.Add(m.UID, m.SID))
	}
	failed, err := ch.PushMessage("onX", nil)
	requireNoError(t, err)
	requireDeepEqual(t, failed, []string{"d"}) // no local session for d
	requireDeepEqual(t, remote.calls, []string{`f2:onX:["a","c"]`, `f3:onX:["b"]`})
	remote.calls = nil
	_, err = e.srv.Channels().PushMessageByUIDs("onY", nil, []Member{{"x", "f9"}, {"y", "f9"}})
	requireNoError(t, err)
	requireDeepEqual(t, remote.calls, []string{`f9:onY:["x","y"]`})
}
