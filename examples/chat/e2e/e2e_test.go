package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/internal/pomeloclient"
	"github.com/shaddock-io/shaddock/rpc"
)

// entryResp is connector.entryHandler.entry's response.
type entryResp struct {
	Code  int      `json:"code"`
	Users []string `json:"users"`
}

func enter(t testing.TB, cl *client, username, rid string) entryResp {
	t.Helper()
	var r entryResp
	requireNoError(t, json.Unmarshal(cl.mustRequest("connector.entryHandler.entry",
		map[string]string{"username": username, "rid": rid}), &r))
	slices.Sort(r.Users)
	return r
}

func send(t testing.TB, cl *client, rid, content, from, target string) {
	t.Helper()
	resp := cl.mustRequest("chat.chatHandler.send", map[string]string{"rid": rid, "content": content, "from": from, "target": target})
	requireEqual(t, string(resp), `{}`)
}

// TestRoomAcrossConnectors: one room whose members are spread over two connector processes;
// the room lives on one chat server process, which pushes through both connectors. Every member
// gets every onAdd and onChat exactly once, a private message reaches only its target, and a
// member who leaves is announced.
func TestRoomAcrossConnectors(t *testing.T) {
	c := startCluster(t, Layout{Connectors: 2, Chats: 2})
	p := loadProtos(t, c.Dir)
	addrs := c.ClientAddrs()
	const n = 6
	const rid = "room-1"
	users := make([]*client, n)
	var names []string
	for i := range users {
		users[i] = dial(t, addrs[i%2], p, 10*time.Second)
		names = append(names, name("u", i))
		r := enter(t, users[i], names[i], rid)
		requireEqual(t, r.Code, 200)
		requireDeepEqual(t, r.Users, slices.Sorted(slices.Values(names))) // one room, both connectors
	}
	// onAdd: member i is told about each later member once.
	for i := range n - 1 {
		got := users[i].untilPush(func(p push) bool {
			var u userPush
			return p.route == "onAdd" && json.Unmarshal(p.body, &u) == nil && u.User == names[n-1]
		})
		var added []string
		for _, p := range got {
			var u userPush
			requireNoError(t, json.Unmarshal(p.body, &u))
			requireEqual(t, p.route, "onAdd")
			added = append(added, u.User)
		}
		requireDeepEqual(t, added, names[i+1:])
	}

	// Everyone talks to the room; then u0 sends a marker. Pushes from the room's chat server
	// to one connector travel in order, so once the marker is in, everything before it is.
	for i, u := range users {
		send(t, u, rid, "m"+names[i], names[i], "*")
	}
	send(t, users[0], rid, "end", names[0], "*")
	for i, u := range users {
		count := map[string]int{}
		for _, p := range u.untilPush(isChat("end")) {
			var m chatPush
			requireEqual(t, p.route, "onChat")
			requireNoError(t, json.Unmarshal(p.body, &m))
			if m.Msg != "end" {
				requireEqual(t, m.Msg, "m"+m.From) // the sender's username, as the server knows it
			}
			requireEqual(t, m.Target, "*")
			count[m.Msg]++
		}
		want := map[string]int{"end": 1}
		for _, nm := range names {
			want["m"+nm] = 1
		}
		if !mapsEqual(count, want) {
			t.Fatalf("%s (on %s) got onChat %v, want each once", names[i], addrs[i%2], count)
		}
	}

	// A private message from u1 (second connector) to u4 (first connector).
	send(t, users[1], rid, "secret", names[1], names[4])
	send(t, users[0], rid, "end2", names[0], "*")
	for i, u := range users {
		secrets := 0
		for _, p := range u.untilPush(isChat("end2")) {
			var m chatPush
			requireNoError(t, json.Unmarshal(p.body, &m))
			if m.Msg == "secret" {
				secrets++
				requireEqual(t, m.From, names[1])
				requireEqual(t, m.Target, names[4])
			}
		}
		want := 0
		if i == 4 {
			want = 1
		}
		requireEqual(t, secrets, want)
	}

	// u5 leaves (its connector calls chatRemote.kick): the others are told.
	users[n-1].c.Close()
	for _, u := range users[:n-1] {
		u.untilPush(func(p push) bool {
			var up userPush
			return p.route == "onLeave" && json.Unmarshal(p.body, &up) == nil && up.User == names[n-1]
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// loadStats is what one client saw during TestBackendKilledMidLoad. The client's goroutine
// updates it under mu.
type loadStats struct {
	mu                     sync.Mutex
	sent, ok, code500, bad int
	failed                 error         // a read error (a request that never got an answer)
	maxLatency             time.Duration // of any answer
	lastOK                 time.Time
	firstErr, lastErr      time.Time
	inFlightAtKill         int // sent before the kill, answered after it
	inFlightAtKill500      int
}

// TestBackendKilledMidLoad: ~50 clients keep backend echo requests in flight to the chat server
// their room routes to; that server is frozen (SIGSTOP: each of them now has a request in flight
// that it will not answer), then killed with SIGKILL. Every request still gets an answer,
// {"code":500} for those the dead server cannot serve, within the RPC timeout; none hangs. The
// master restarts the server and traffic recovers. Clients routed to the other chat server see
// no error at all.
func TestBackendKilledMidLoad(t *testing.T) {
	c := startCluster(t, Layout{Connectors: 2, Chats: 2, AutoRestart: true})
	p := loadProtos(t, c.Dir)
	addrs := c.ClientAddrs()
	const victim, victimIndex = "chat-server-2", 1 // servers.json order: chat-server-1, chat-server-2
	const nVictim, nOther = 50, 10
	// The demo routes chat requests by the session's room (crc32(rid) over the chat servers):
	// each client gets a room of its own, on the victim or on the other chat server.
	var victims, others, rooms []string
	var otherRooms []string
	for k := 0; len(victims) < nVictim || len(others) < nOther; k++ {
		rid := name("room", k)
		if rpc.DefaultRoute(rid, 2) == victimIndex {
			if len(victims) < nVictim {
				victims, rooms = append(victims, name("user", k)), append(rooms, rid)
			}
		} else if len(others) < nOther {
			others, otherRooms = append(others, name("user", k)), append(otherRooms, rid)
		}
	}
	rooms = append(rooms, otherRooms...)
	names := append(slices.Clone(victims), others...)
	// A request must be answered within the RPC timeout (rpc.DefaultTimeout); the client waits
	// a little longer, so that a hang shows as a read timeout.
	readTimeout := rpc.DefaultTimeout + 5*time.Second
	clients := make([]*client, len(names))
	for i, nm := range names {
		clients[i] = dial(t, addrs[i%len(addrs)], p, readTimeout)
		requireEqual(t, enter(t, clients[i], nm, rooms[i]).Code, 200)
	}

	var stop atomic.Bool
	var killAt atomic.Int64 // unix nanoseconds
	stats := make([]loadStats, len(clients))
	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Go(func() {
			st := &stats[i]
			for k := 0; !stop.Load(); k++ {
				body := fmt.Sprintf(`{"c":%d,"k":%d}`, i, k)
				start := time.Now()
				st.mu.Lock()
				st.sent++
				st.mu.Unlock()
				resp, err := cl.request("chat.chatHandler.echo", json.RawMessage(body))
				st.mu.Lock()
				if err != nil {
					st.failed = err
					st.mu.Unlock()
					return
				}
				now := time.Now()
				st.maxLatency = max(st.maxLatency, now.Sub(start))
				ka := killAt.Load()
				inFlight := ka != 0 && start.UnixNano() < ka && now.UnixNano() > ka
				if inFlight {
					st.inFlightAtKill++
				}
				switch {
				case bytes.Equal(resp, []byte(body)):
					st.ok++
					st.lastOK = now
				case isCode(resp, 500):
					st.code500++
					if inFlight {
						st.inFlightAtKill500++
					}
					if st.firstErr.IsZero() {
						st.firstErr = now
					}
					st.lastErr = now
				default:
					st.bad++
					t.Errorf("client %d: unexpected answer %s to %s", i, resp, body)
				}
				failing := st.lastErr == now
				st.mu.Unlock()
				if failing {
					time.Sleep(5 * time.Millisecond) // errors come back at once: do not spin
				}
			}
		})
	}
	stopLoad := func() {
		stop.Store(true)
		wg.Wait()
	}
	defer stopLoad()

	time.Sleep(time.Second)
	before, err := c.Server(victim)
	requireNoError(t, err)
	pid := before.PID
	// Freeze it first, so that every client routed to it has a request in flight that it can
	// no longer answer, then kill it.
	requireNoError(t, syscall.Kill(pid, syscall.SIGSTOP))
	time.Sleep(300 * time.Millisecond)
	killed := time.Now()
	killAt.Store(killed.UnixNano())
	requireNoError(t, syscall.Kill(pid, syscall.SIGKILL))
	st, err := c.WaitRunning(victim, 1, 30*time.Second)
	requireNoError(t, err)
	restarted := time.Now()
	if st.PID == pid {
		t.Fatalf("%s still has pid %d", victim, pid)
	}
	t.Logf("%s (pid %d) killed; running again as pid %d after %v (last exit %q)", victim, pid, st.PID,
		restarted.Sub(killed).Round(time.Millisecond), st.LastExit)

	// Recovery: every victim client gets an echo from the new process.
	deadline := time.Now().Add(30 * time.Second)
	for {
		pending := 0
		for i := range victims {
			stats[i].mu.Lock()
			if stats[i].failed == nil && stats[i].lastOK.Before(restarted) {
				pending++
			}
			stats[i].mu.Unlock()
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d clients still without an answer from the restarted %s", pending, victim)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopLoad()

	var total loadStats
	for i := range stats {
		s := &stats[i] // the goroutines are done
		if s.failed != nil {
			t.Errorf("client %d (%s): a request got no answer: %v", i, names[i], s.failed)
		}
		if s.bad != 0 {
			t.Errorf("client %d: %d wrong answers", i, s.bad)
		}
		if s.maxLatency > rpc.DefaultTimeout {
			t.Errorf("client %d: an answer took %v, more than the RPC timeout", i, s.maxLatency)
		}
		isVictim := i < len(victims)
		if isVictim && s.code500 == 0 {
			t.Errorf("client %d (%s, routed to %s): no {\"code\":500} while it was down", i, names[i], victim)
		}
		if isVictim && (s.inFlightAtKill != 1 || s.inFlightAtKill500 != 1) {
			t.Errorf("client %d: %d requests in flight at the kill, %d answered {\"code\":500}; want 1 and 1",
				i, s.inFlightAtKill, s.inFlightAtKill500)
		}
		if isVictim && (s.firstErr.Before(killed) || s.lastErr.After(restarted.Add(10*time.Second))) {
			t.Errorf("client %d: errors from %v to %v, outside the outage (%v to %v)", i, s.firstErr, s.lastErr, killed, restarted)
		}
		if !isVictim && s.code500 != 0 {
			t.Errorf("client %d (%s, routed to the other chat server): %d errors", i, names[i], s.code500)
		}
		total.sent += s.sent
		total.ok += s.ok
		total.code500 += s.code500
		total.inFlightAtKill += s.inFlightAtKill
		total.inFlightAtKill500 += s.inFlightAtKill500
		total.maxLatency = max(total.maxLatency, s.maxLatency)
	}
	requireEqual(t, total.sent, total.ok+total.code500) // every request answered
	t.Logf("%d requests: %d echoed, %d {\"code\":500}; %d in flight at the kill (%d answered 500); slowest answer %v",
		total.sent, total.ok, total.code500, total.inFlightAtKill, total.inFlightAtKill500, total.maxLatency.Round(time.Millisecond))
}

// TestConnectorRestart: a connector process killed with SIGKILL drops its clients and is
// restarted; new clients reach the room through it again, and its members on the other connector
// still hear them.
func TestConnectorRestart(t *testing.T) {
	c := startCluster(t, Layout{Connectors: 2, Chats: 1, AutoRestart: true})
	p := loadProtos(t, c.Dir)
	addrs := c.ClientAddrs()
	const rid = "phoenix"
	alice := dial(t, addrs[0], p, 10*time.Second)
	requireEqual(t, enter(t, alice, "alice", rid).Code, 200)
	bob := dial(t, addrs[1], p, 10*time.Second)
	requireEqual(t, enter(t, bob, "bob", rid).Code, 200)

	pid, err := c.Kill("connector-server-2", syscall.SIGKILL)
	requireNoError(t, err)
	if _, err := bob.c.ReadMessage(true); err == nil {
		t.Fatal("bob's connection survived its connector")
	}
	st, err := c.WaitRunning("connector-server-2", 1, 30*time.Second)
	requireNoError(t, err)
	if st.PID == pid {
		t.Fatal("same pid after a restart")
	}
	carol := dial(t, addrs[1], p, 10*time.Second)
	r := enter(t, carol, "carol", rid)
	requireEqual(t, r.Code, 200)
	if !slices.Contains(r.Users, "alice") || !slices.Contains(r.Users, "carol") {
		t.Fatalf("users %v", r.Users)
	}
	send(t, carol, rid, "back", "carol", "*")
	alice.untilPush(isChat("back"))
	carol.untilPush(isChat("back"))
}

// TestBackendBindAndKick: a chat server process binds a session held by a connector process and
// kicks a user on every connector (sys remotes sessionRemote.bind and .kickByUid); the effects
// reach the clients. The demo does neither from a backend, so this runs sessionapp.
func TestBackendBindAndKick(t *testing.T) {
	c := startProgram(t, sessionBin, Layout{Connectors: 2, Chats: 2})
	p := loadProtos(t, c.Dir)
	addrs := c.ClientAddrs()
	alice := dial(t, addrs[0], p, 10*time.Second)
	bob := dial(t, addrs[1], p, 10*time.Second)
	bob2 := dial(t, addrs[0], p, 10*time.Second)

	whoami := func(cl *client) string {
		var r struct{ UID string }
		requireNoError(t, json.Unmarshal(cl.mustRequest("chat.sessionHandler.whoami", struct{}{}), &r))
		return r.UID
	}
	requireEqual(t, whoami(bob), "")
	requireEqual(t, string(bob.mustRequest("chat.sessionHandler.bind", map[string]string{"uid": "bob"})), `{"uid":"bob"}`)
	// The next forwarded request carries the connector's session: bound there.
	requireEqual(t, whoami(bob), "bob")
	// The same uid on the other connector, and a second bind of a bound session fails.
	requireEqual(t, string(bob2.mustRequest("chat.sessionHandler.bind", map[string]string{"uid": "bob"})), `{"uid":"bob"}`)
	if resp := bob.mustRequest("chat.sessionHandler.bind", map[string]string{"uid": "robert"}); !isCode(resp, 500) {
		t.Fatalf("rebinding a bound session: %s", resp)
	}
	requireEqual(t, whoami(alice), "")

	// alice has bob kicked: both of his sessions, on both connectors, get a KICK with the reason.
	requireEqual(t, string(alice.mustRequest("chat.sessionHandler.kick", map[string]string{"uid": "bob", "reason": "bye"})), `{"code":200}`)
	for _, cl := range []*client{bob, bob2} {
		_, err := cl.read()
		var kick *pomeloclient.KickError
		if !errors.As(err, &kick) {
			t.Fatalf("got %v, want a kick", err)
		}
		requireEqual(t, string(kick.Body), `{"reason":"bye"}`)
	}
	requireEqual(t, whoami(alice), "") // alice is untouched
}
