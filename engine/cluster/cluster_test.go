package cluster

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/engine"
)

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{Embedded, Master, Single} {
		got, err := ParseMode(m.String())
		requireNoError(t, err)
		requireEqual(t, got, m)
	}
	requireEqual(t, Single.String(), "server")
	requireEqual(t, Mode(9).String(), "Mode(9)")
	_, err := ParseMode("cluster")
	requireErrorIs(t, err, ErrOptions)
}

func TestParseArgs(t *testing.T) {
	kv, err := ParseArgs([]string{"env=production", "id=chat-server-1", "args= --inspect=a=b", "id=x", "empty="})
	requireNoError(t, err)
	requireDeepEqual(t, kv, map[string]string{"env": "production", "id": "x", "args": " --inspect=a=b", "empty": ""})
	for _, bad := range []string{"id", "=v", "-mode"} {
		_, err := ParseArgs([]string{"a=b", bad})
		requireErrorIs(t, err, ErrArgs)
	}
}

func TestServerArgs(t *testing.T) {
	list := serverList(t, "connector", `{"id":"c1","host":"127.0.0.1","port":3150,"clientPort":"3010","frontend":true,
		"args":" --x","cpu":1,"auto-restart":true,"extra":{"k":[1]},"serverType":"ignored","env":"ignored"}`)
	got := serverArgs("development", list[0])
	requireDeepEqual(t, got, []string{"env=development", "serverType=connector", "id=c1",
		"args= --x", "auto-restart=true", "clientPort=3010", "cpu=1", "extra={\"k\":[1]}", "frontend=true",
		"host=127.0.0.1", "port=3150"})
	// A server reads its entry back from these arguments (strings, as pomelo passes them).
	kv, err := ParseArgs(got)
	requireNoError(t, err)
	requireEqual(t, kv["clientPort"], "3010")
	requireEqual(t, kv["frontend"], "true")
}

func TestSelect(t *testing.T) {
	all := serverList(t, "connector", `{"id":"c1"},{"id":"c2"}`, "chat", `{"id":"h1"},{"id":"h2"}`, "gate", `{"id":"g"}`)
	ids := func(l []engine.ServerInfo) (s []string) {
		for _, si := range l {
			s = append(s, si.ID)
		}
		return s
	}
	for _, tc := range []struct {
		types, ids, want []string
	}{
		{nil, nil, []string{"c1", "c2", "h1", "h2", "g"}},
		{[]string{"chat"}, nil, []string{"h1", "h2"}},
		{[]string{"gate", "connector"}, nil, []string{"c1", "c2", "g"}}, // servers.json order, not the filter's
		{nil, []string{"h2", "c1"}, []string{"c1", "h2"}},
		{[]string{"chat"}, []string{"h2", "c1"}, []string{"h2"}},
	} {
		got, err := Select(all, tc.types, tc.ids)
		requireNoError(t, err)
		requireDeepEqual(t, ids(got), tc.want)
	}
	for _, bad := range [][2][]string{{{"area"}, nil}, {nil, {"c3"}}, {{"gate"}, {"c1"}}} {
		_, err := Select(all, bad[0], bad[1])
		requireErrorIs(t, err, ErrUnknownServer)
	}
}

func TestCheckAddrs(t *testing.T) {
	ok := serverList(t, "connector", `{"id":"c1","host":"127.0.0.1","port":3150,"clientPort":3010,"frontend":true},
		{"id":"c2","host":"127.0.0.1","port":3151,"clientHost":"127.0.0.2","clientPort":3010,"frontend":true}`,
		"chat", `{"id":"h1","host":"127.0.0.1","port":0},{"id":"h2","host":"127.0.0.1","port":0},
		{"id":"h3","host":"127.0.0.2","port":3150},{"id":"b","host":"127.0.0.1","port":6050,"clientPort":3151}`)
	requireNoError(t, checkAddrs(ok)) // port 0 twice, other hosts, clientPort of a backend (unused)
	for _, bad := range [][]string{
		{"connector", `{"id":"c1","host":"127.0.0.1","port":3150,"clientPort":3150,"frontend":true}`},
		{"connector", `{"id":"c1","host":"127.0.0.1","port":3150}`, "chat", `{"id":"h","host":"127.0.0.1","port":3150}`},
		{"connector", `{"id":"c1","host":"0.0.0.0","port":3150}`, "chat", `{"id":"h","host":"127.0.0.1","port":3150}`},
		{"connector", `{"id":"c1","host":"127.0.0.1","port":1,"clientPort":3010,"frontend":true},
			{"id":"c2","host":"127.0.0.1","port":2,"clientPort":3010,"frontend":true}`},
	} {
		requireErrorIs(t, checkAddrs(serverList(t, bad...)), ErrPortConflict)
	}
}

func TestRestartPolicyDefaults(t *testing.T) {
	requireEqual(t, RestartPolicy{}.withDefaults(), RestartPolicy{Delay: 500 * time.Millisecond,
		MaxDelay: 30 * time.Second, Limit: 5, Window: time.Minute})
	p := RestartPolicy{Delay: time.Minute, Limit: 2, Window: time.Second}.withDefaults()
	requireEqual(t, p, RestartPolicy{Delay: time.Minute, MaxDelay: time.Minute, Limit: 2, Window: time.Second})
}

func TestRunOptions(t *testing.T) {
	ctx := context.Background()
	log := &eventLog{}
	requireErrorIs(t, Run(ctx, nil, Options{}), ErrOptions)
	requireErrorIs(t, Run(ctx, nil, Options{NewServer: fakeFactory(log)}), ErrOptions)
	all := serverList(t, "chat", `{"id":"h1","port":1},{"id":"h2","port":1}`)
	requireErrorIs(t, Run(ctx, nil, Options{NewServer: fakeFactory(log), Servers: all}), ErrPortConflict)
	requireErrorIs(t, Run(ctx, nil, Options{NewServer: fakeFactory(log), Servers: all, Types: []string{"x"}}), ErrUnknownServer)
	requireErrorIs(t, Run(ctx, nil, Options{Mode: Single, NewServer: fakeFactory(log), Servers: all, ServerID: "h3"}), ErrUnknownServer)
	requireErrorIs(t, Run(ctx, nil, Options{Mode: Mode(7), NewServer: fakeFactory(log), Servers: all}), ErrOptions)
	requireEqual(t, len(log.get()), 0)
}

// embeddedServers is a cluster of two connectors and two chat servers on free ports.
func embeddedServers(t *testing.T) []engine.ServerInfo {
	p := freePorts(t, 6)
	return serverList(t,
		"connector", fmt.Sprintf(`{"id":"c1","host":"127.0.0.1","port":%d,"clientPort":%d,"frontend":true},
			{"id":"c2","host":"127.0.0.1","port":%d,"clientPort":%d,"frontend":"true"}`, p[0], p[1], p[2], p[3]),
		"chat", fmt.Sprintf(`{"id":"h1","host":"127.0.0.1","port":%d},{"id":"h2","host":"127.0.0.1","port":"%d"}`, p[4], p[5]))
}

func TestEmbedded(t *testing.T) {
	all := embeddedServers(t)
	ctl := freePorts(t, 1)[0]
	ctlAddr := "127.0.0.1:" + strconv.Itoa(ctl)
	log := &eventLog{}
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, nil, Options{Env: "e", Servers: all, NewServer: fakeFactory(log), Logger: quietLogger(),
			Master: engine.MasterInfo{ID: "master-server-1", Host: "127.0.0.1", Port: ctl},
			Ready:  func() { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	requireDeepEqual(t, log.get(), []string{"new c1 of 4", "start c1", "new c2 of 4", "start c2",
		"new h1 of 4", "start h1", "new h2 of 4", "start h2"})
	for _, si := range all { // every server listens on its own ports
		if !dial(si.RPCAddr()) || (si.Frontend && !dial(si.ClientAddr())) {
			t.Fatalf("%s does not listen", si.ID)
		}
	}
	st, err := getStatus(ctlAddr)
	requireNoError(t, err)
	requireEqual(t, st.Mode, "embedded")
	requireEqual(t, st.Env, "e")
	requireEqual(t, st.Master, MasterStatus{ID: "master-server-1", PID: os.Getpid()})
	requireEqual(t, len(st.Servers), 4)
	for i, s := range st.Servers {
		requireEqual(t, s.ID, all[i].ID)
		requireEqual(t, s.State, StateRunning)
		requireEqual(t, s.PID, os.Getpid())
	}

	code, err := postStop(ctlAddr, "h2")
	requireNoError(t, err)
	requireEqual(t, code, http.StatusNoContent)
	requireEqual(t, byID(mustStatus(t, ctlAddr))["h2"].State, StateStopped)
	requireEqual(t, dial(all[3].RPCAddr()), false)
	code, err = postStop(ctlAddr, "nope")
	requireNoError(t, err)
	requireEqual(t, code, http.StatusNotFound)

	code, err = postStop(ctlAddr, "") // the whole cluster: Run returns
	requireNoError(t, err)
	requireEqual(t, code, http.StatusAccepted)
	select {
	case err := <-done:
		requireNoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after POST /stop")
	}
	ev := log.get()[9:]
	// Frontends stop first (in parallel), then the remaining backend.
	slices.Sort(ev[:2])
	requireDeepEqual(t, ev, []string{"stop c1", "stop c2", "stop h1"})
	requireEqual(t, dial(ctlAddr), false)
}

func mustStatus(t *testing.T, addr string) Status {
	t.Helper()
	st, err := getStatus(addr)
	requireNoError(t, err)
	return st
}

// Frontends start first whatever the file order (once needed for netpoll's process-wide
// settings; kept, and still promised).
func TestEmbeddedFrontendsFirst(t *testing.T) {
	p := freePorts(t, 5)
	all := serverList(t,
		"chat", fmt.Sprintf(`{"id":"h1","host":"127.0.0.1","port":%d},{"id":"h2","host":"127.0.0.1","port":%d}`, p[0], p[1]),
		"connector", fmt.Sprintf(`{"id":"c1","host":"127.0.0.1","port":%d,"clientPort":%d,"frontend":true}`, p[2], p[3]),
		"gate", fmt.Sprintf(`{"id":"g1","host":"127.0.0.1","port":%d}`, p[4]))
	log := &eventLog{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		done <- Run(ctx, nil, Options{Servers: all, NewServer: fakeFactory(log), Logger: quietLogger(), Ready: func() { close(ready) }})
	}()
	<-ready
	requireDeepEqual(t, log.get(), []string{"new c1 of 4", "start c1", "new h1 of 4", "start h1", "new h2 of 4", "start h2",
		"new g1 of 4", "start g1"})
	cancel()
	requireNoError(t, <-done)
}

func TestEmbeddedFilterAndContext(t *testing.T) {
	all := embeddedServers(t)
	log := &eventLog{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		done <- Run(ctx, nil, Options{Servers: all, Types: []string{"chat"}, IDs: []string{"h2", "c1"},
			NewServer: fakeFactory(log), Logger: quietLogger(), Ready: func() { close(ready) }})
	}()
	<-ready
	requireDeepEqual(t, log.get(), []string{"new h2 of 4", "start h2"})
	cancel()
	requireNoError(t, <-done)
	requireDeepEqual(t, log.get(), []string{"new h2 of 4", "start h2", "stop h2"})
}

func TestEmbeddedStartFailure(t *testing.T) {
	all := embeddedServers(t)
	log := &eventLog{}
	err := Run(context.Background(), nil, Options{Servers: all, NewServer: fakeFactory(log, "h1"), Logger: quietLogger()})
	if err == nil {
		t.Fatal("no error")
	}
	requireDeepEqual(t, log.get()[:6], []string{"new c1 of 4", "start c1", "new c2 of 4", "start c2", "new h1 of 4", "fail h1"})
	rest := log.get()[6:]
	slices.Sort(rest)
	requireDeepEqual(t, rest, []string{"stop c1", "stop c2", "stop h1"}) // the failed one is shut down too
	for _, si := range all[:2] {
		requireEqual(t, dial(si.ClientAddr()), false)
	}

	// A port taken by someone else: the engine-like server fails to listen.
	log = &eventLog{}
	busy := all[2:3]
	f := &fakeServer{info: busy[0], log: log}
	requireNoError(t, f.Start())
	defer f.Shutdown(context.Background())
	err = Run(context.Background(), nil, Options{Servers: all, IDs: []string{"h1"}, NewServer: fakeFactory(log), Logger: quietLogger()})
	requireErrorIs(t, err, syscall.EADDRINUSE)
}

func TestEmbeddedControlPortBusy(t *testing.T) {
	all := embeddedServers(t)
	f := &fakeServer{info: all[2], log: &eventLog{}} // h1's rpc port doubles as the master's
	requireNoError(t, f.Start())
	defer f.Shutdown(context.Background())
	log := &eventLog{}
	err := Run(context.Background(), nil, Options{Servers: all, IDs: []string{"c1"}, NewServer: fakeFactory(log),
		Master: engine.MasterInfo{Host: "127.0.0.1", Port: all[2].Port}, Logger: quietLogger()})
	requireErrorIs(t, err, syscall.EADDRINUSE)
	requireEqual(t, len(log.get()), 0) // nothing started
}

func TestControlAddr(t *testing.T) {
	for _, tc := range []struct {
		host, want string
	}{{"127.0.0.1", "127.0.0.1:3005"}, {"localhost", "localhost:3005"}, {"::1", "[::1]:3005"},
		{"10.1.2.3", "127.0.0.1:3005"}, {"", "127.0.0.1:3005"}, {"0.0.0.0", "127.0.0.1:3005"}} {
		o := Options{Master: engine.MasterInfo{Host: tc.host, Port: 3005}, Logger: quietLogger()}
		got, ok := controlAddr(&o)
		requireEqual(t, ok, true)
		requireEqual(t, got, tc.want)
	}
	_, ok := controlAddr(&Options{Master: engine.MasterInfo{Host: "127.0.0.1"}})
	requireEqual(t, ok, false)
}

func TestSingle(t *testing.T) {
	all := embeddedServers(t)
	r, w, err := os.Pipe()
	requireNoError(t, err)
	defer r.Close()
	fd, err := syscall.Dup(int(w.Fd())) // Run closes the descriptor it reports on
	requireNoError(t, err)
	w.Close()
	t.Setenv(EnvReadyFD, strconv.Itoa(fd))
	t.Setenv(EnvMasterPID, strconv.Itoa(os.Getppid()))
	log := &eventLog{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, nil, Options{Mode: Single, Servers: all, ServerID: "c2", NewServer: fakeFactory(log), Logger: quietLogger()})
	}()
	buf := make([]byte, 16)
	n, err := r.Read(buf)
	requireNoError(t, err)
	requireEqual(t, string(buf[:n]), "ready\n")
	requireDeepEqual(t, log.get(), []string{"new c2 of 4", "start c2"}) // all four are its cluster
	requireEqual(t, dial(all[1].ClientAddr()), true)
	time.Sleep(3 * parentPoll) // the parent is the one named: it keeps running
	select {
	case err := <-done:
		t.Fatalf("Run returned: %v", err)
	default:
	}
	cancel()
	requireNoError(t, <-done)
	requireDeepEqual(t, log.get(), []string{"new c2 of 4", "start c2", "stop c2"})
}

func TestSingleStopsWithoutMaster(t *testing.T) {
	all := embeddedServers(t)
	t.Setenv(EnvMasterPID, strconv.Itoa(os.Getppid()+100000)) // not our parent: the master is "gone"
	log := &eventLog{}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), nil, Options{Mode: Single, Servers: all, ServerID: "h1",
			NewServer: fakeFactory(log), Logger: quietLogger()})
	}()
	select {
	case err := <-done:
		requireNoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("a server whose master is gone did not stop")
	}
	requireDeepEqual(t, log.get(), []string{"new h1 of 4", "start h1", "stop h1"})
}

func TestSingleStartFailure(t *testing.T) {
	all := embeddedServers(t)
	err := Run(context.Background(), nil, Options{Mode: Single, Servers: all, ServerID: "h1",
		NewServer: fakeFactory(&eventLog{}, "h1"), Logger: quietLogger()})
	requireErrorIs(t, err, errRefused)
}
