package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/engine"
)

func requireNoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func requireErrorIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

func requireEqual[T comparable](t testing.TB, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func requireDeepEqual(t testing.TB, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

// eventually polls cond every 10 ms until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		requireNoError(t, err)
		lns = append(lns, ln)
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// serversJSON parses a one-env servers.json made of entries (JSON objects), in order.
func serverList(t testing.TB, typesAndEntries ...string) []engine.ServerInfo {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"e":{`)
	for i := 0; i < len(typesAndEntries); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:[%s]", typesAndEntries[i], typesAndEntries[i+1])
	}
	b.WriteString(`}}`)
	list, err := engine.ParseServerList([]byte(b.String()), "e")
	requireNoError(t, err)
	return list
}

// getStatus reads the control endpoint's status.
func getStatus(addr string) (Status, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/status")
	if err != nil {
		return Status{}, err
	}
	defer resp.Body.Close()
	var st Status
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

func postStop(addr, id string) (int, error) {
	c := http.Client{Timeout: 15 * time.Second}
	u := "http://" + addr + "/stop"
	if id != "" {
		u += "?id=" + id
	}
	resp, err := c.Post(u, "", nil)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func byID(st Status) map[string]ServerStatus {
	m := make(map[string]ServerStatus, len(st.Servers))
	for _, s := range st.Servers {
		m[s.ID] = s
	}
	return m
}

// fakeServer listens on the RPC address (and the client address of a frontend) like an engine
// cluster server, and records its lifecycle in a shared log.
type fakeServer struct {
	info     engine.ServerInfo
	log      *eventLog
	failWith error
	lns      []net.Listener
}

type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

func (f *fakeServer) Start() error {
	if f.failWith != nil {
		f.log.add("fail " + f.info.ID)
		return f.failWith
	}
	addrs := []string{f.info.RPCAddr()}
	if f.info.Frontend {
		addrs = append(addrs, f.info.ClientAddr())
	}
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			f.closeAll()
			return err
		}
		f.lns = append(f.lns, ln)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	f.log.add("start " + f.info.ID)
	return nil
}

func (f *fakeServer) closeAll() {
	for _, ln := range f.lns {
		ln.Close()
	}
	f.lns = nil
}

func (f *fakeServer) Shutdown(context.Context) error {
	f.closeAll()
	f.log.add("stop " + f.info.ID)
	return nil
}

var errRefused = errors.New("refused on purpose")

// fakeFactory returns a NewServerFunc building fakeServers; ids in fail fail to start.
func fakeFactory(log *eventLog, fail ...string) NewServerFunc {
	return func(self engine.ServerInfo, all []engine.ServerInfo) (Server, error) {
		log.add(fmt.Sprintf("new %s of %d", self.ID, len(all)))
		f := &fakeServer{info: self, log: log}
		for _, id := range fail {
			if id == self.ID {
				f.failWith = errRefused
			}
		}
		return f, nil
	}
}

// dial reports whether something accepts TCP connections on addr.
func dial(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// alive reports whether pid is a live process (not gone, not a zombie).
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no procfs: signal 0 said it exists
	}
	// The state follows the ")" that ends the command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// Helper processes: the test binary re-executed. helperEnv marks it; a command line holding
// serverType=... is a server (what a master starts), anything else a master whose servers.json
// and options come from the environment.
const (
	helperEnv     = "CLUSTER_TEST_HELPER"
	helperServers = "CLUSTER_TEST_SERVERS" // master helper: servers.json, env "e"
	helperMaster  = "CLUSTER_TEST_MASTER"  // master helper: control port
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(helperMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func helperMain(args []string) int {
	kv, err := ParseArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	if kv["serverType"] != "" {
		return helperServer(kv)
	}
	return helperRunMaster()
}

// helperServer runs the server named by its key=value arguments (the only source of its
// entry: this checks that a master passes every field). Its "behavior" field picks a fault.
func helperServer(kv map[string]string) int {
	entry := make(map[string]string)
	for k, v := range kv {
		if k != "env" && k != "serverType" {
			entry[k] = v
		}
	}
	raw, _ := json.Marshal(map[string]any{kv["env"]: map[string]any{kv["serverType"]: []any{entry}}})
	list, err := engine.ParseServerList(raw, kv["env"])
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	switch kv["behavior"] {
	case "crash":
		return 3
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		time.Sleep(time.Hour)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err = Run(ctx, nil, Options{Mode: Single, Env: kv["env"], Servers: list, ServerID: kv["id"],
		NewServer: fakeFactory(&eventLog{}), Logger: quietLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	return 0
}

// helperRunMaster runs a master of the servers in helperServers.
func helperRunMaster() int {
	list, err := engine.ParseServerList([]byte(os.Getenv(helperServers)), "e")
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	port, _ := strconv.Atoi(os.Getenv(helperMaster))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err = Run(ctx, nil, Options{Mode: Master, Env: "e", Servers: list, Command: os.Args[0],
		Master:    engine.MasterInfo{ID: "m", Host: "127.0.0.1", Port: port},
		NewServer: fakeFactory(&eventLog{}), Logger: quietLogger(), StopTimeout: 2 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	return 0
}
