package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/shaddock-io/shaddock/loadgen/internal/driver"
)

// TestMain lets the test binary play a loadgen child process (-procs).
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// runLoadgen runs loadgen with args against the servers and returns its result.
func runLoadgen(t *testing.T, args ...string) *result {
	t.Helper()
	o, fs, err := parseOptions(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var status io.Writer
	if testing.Verbose() {
		status = os.Stderr
	}
	res, err := runParent(o, fs, status)
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		writeText(os.Stderr, res)
	}
	return res
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func noErrors(t *testing.T, r *result) {
	t.Helper()
	c := &r.Counts
	for _, k := range []driver.Counter{driver.ConnFailed, driver.ErrResponses, driver.ProtoErrors, driver.Timeouts,
		driver.Late, driver.Aborted, driver.Unsent, driver.SetupErrors} {
		eq(t, k.String(), c[k], 0)
	}
	eq(t, "dropped", c.Dropped(), 0)
	if len(r.Errors) > 0 {
		t.Errorf("errors: %v", r.Errors)
	}
}

// transports runs f over TCP and WebSocket.
func transports(t *testing.T, f func(t *testing.T, tr string)) {
	for _, tr := range []string{"tcp", "ws"} {
		t.Run(tr, func(t *testing.T) { f(t, tr) })
	}
}

func TestEchoClosedLoopCountsEveryResponse(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		srv := newTestServer(t, func(s *testServer) { s.ws = tr == "ws" })
		r := runLoadgen(t, "-scenario=echo", "-addr="+srv.addr(), "-transport="+tr, "-conns=20", "-depth=4",
			"-hold=1s", "-rate=0")
		c := &r.Counts
		noErrors(t, r)
		eq(t, "handshaken", c[driver.Handshakes], 20)
		eq(t, "server acks", srv.acks.Load(), 20)
		if c[driver.Requests] < 200 {
			t.Fatalf("only %d requests in 1s", c[driver.Requests])
		}
		eq(t, "responses", c[driver.Responses], c[driver.Requests])
		eq(t, "server requests", uint64(srv.requests.Load()), c[driver.Requests])
		eq(t, "latency count", r.Latency.Count, c[driver.Responses])
		if r.Latency.P50 <= 0 || r.Latency.Max < r.Latency.P99 || r.Latency.P99 < r.Latency.P50 {
			t.Errorf("implausible latency %+v", r.Latency)
		}
		if r.Throughput.Responses <= 0 || r.HandshakeLatency.Count != 20 {
			t.Errorf("throughput %v, handshake latency %+v", r.Throughput.Responses, r.HandshakeLatency)
		}
	})
}

// With -ws-deflate the clients offer permessage-deflate and read the compressed frames of a
// server that accepts it; a server that declines it serves them as usual.
func TestWSDeflate(t *testing.T) {
	for _, accept := range []bool{true, false} {
		srv := newTestServer(t, func(s *testServer) { s.ws, s.deflate = true, accept })
		r := runLoadgen(t, "-scenario=echo", "-addr="+srv.addr(), "-transport=ws", "-ws-deflate", "-conns=5",
			"-depth=2", "-hold=500ms", "-rate=0")
		c := &r.Counts
		noErrors(t, r)
		eq(t, "handshaken", c[driver.Handshakes], 5)
		if c[driver.Requests] == 0 || c[driver.Responses] != c[driver.Requests] {
			t.Fatalf("accept=%v: %d requests, %d responses", accept, c[driver.Requests], c[driver.Responses])
		}
		if got := c[driver.CompressedIn] > 0; got != accept {
			t.Errorf("accept=%v: %d compressed messages received", accept, c[driver.CompressedIn])
		}
	}
}

func TestProtobufAndErrorCodes(t *testing.T) {
	srv := newTestServer(t, nil)
	// test.h.pb has client and server protos: the server refuses a body that is not protobuf.
	r := runLoadgen(t, "-scenario=echo", "-addr="+srv.addr(), "-conns=4", "-hold=500ms", "-route=test.h.pb",
		"-body={\"msg\":\"hi\",\"n\":7}")
	noErrors(t, r)
	if r.Counts[driver.Responses] == 0 || r.Counts[driver.Responses] != r.Counts[driver.Requests] {
		t.Fatalf("pb echo: %d requests, %d responses", r.Counts[driver.Requests], r.Counts[driver.Responses])
	}
	r = runLoadgen(t, "-scenario=echo", "-addr="+srv.addr(), "-conns=4", "-hold=500ms", "-route=test.h.fail", "-no-compress")
	c := &r.Counts
	if c[driver.Responses] == 0 {
		t.Fatal("no responses")
	}
	eq(t, "code!=200 responses", c[driver.ErrResponses], c[driver.Responses])
	eq(t, "protocol errors", c[driver.ProtoErrors], 0)
}

func TestHandshakeRefusedCountsFailures(t *testing.T) {
	srv := newTestServer(t, func(s *testServer) { s.refuse = true })
	r := runLoadgen(t, "-scenario=idle", "-addr="+srv.addr(), "-conns=5", "-hold=100ms")
	eq(t, "failed", r.Counts[driver.ConnFailed], 5)
	eq(t, "handshaken", r.Counts[driver.Handshakes], 0)
	if r.Errors["handshake refused: code 500"] != 5 {
		t.Errorf("errors %v", r.Errors)
	}
}

func TestDropsDetected(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*testServer)
		args  []string
		which driver.Counter
	}{
		{"server-close", func(s *testServer) { s.closeAfter = 300e6 }, nil, driver.DropServer},
		{"kick", func(s *testServer) { s.kickAfter = 300e6 }, nil, driver.DropKick},
		// The server sends its heartbeat after the ACK and never answers ours: the JS rule
		// (timeout = 2 × heartbeat after our heartbeat, 100 ms slack) drops us after ~2.9 s.
		{"heartbeat", func(s *testServer) { s.muteHeartbeat = true }, []string{"-hold=4500ms"}, driver.DropHeartbeat},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			transports(t, func(t *testing.T, tr string) {
				srv := newTestServer(t, func(s *testServer) { tc.setup(s); s.ws = tr == "ws" })
				args := append([]string{"-scenario=idle", "-addr=" + srv.addr(), "-transport=" + tr, "-conns=10", "-hold=1s"}, tc.args...)
				r := runLoadgen(t, args...)
				eq(t, tc.which.String(), r.Counts[tc.which], 10)
				eq(t, "dropped", r.Counts.Dropped(), 10)
				eq(t, "failed", r.Counts[driver.ConnFailed], 0)
			})
		})
	}
}

func TestIdleKeepsConnectionsWithHeartbeats(t *testing.T) {
	srv := newTestServer(t, nil)
	r := runLoadgen(t, "-scenario=idle", "-addr="+srv.addr(), "-conns=30", "-hold=3s")
	noErrors(t, r)
	c := &r.Counts
	eq(t, "open at hold end", r.Conns.OpenAtHoldEnd, 30)
	// One heartbeat per connection every second after the server's first: at least 2 each.
	if c[driver.HeartbeatsOut] < 60 || c[driver.HeartbeatsIn] < c[driver.HeartbeatsOut] {
		t.Errorf("heartbeats out %d in %d", c[driver.HeartbeatsOut], c[driver.HeartbeatsIn])
	}
}

func TestNoHeartbeatGetsNoHeartbeatsOut(t *testing.T) {
	srv := newTestServer(t, nil)
	r := runLoadgen(t, "-scenario=idle", "-addr="+srv.addr(), "-conns=5", "-hold=1500ms", "-no-heartbeat")
	eq(t, "heartbeats out", r.Counts[driver.HeartbeatsOut], 0)
	eq(t, "heartbeats in", r.Counts[driver.HeartbeatsIn], 5)
}

func TestPushesCountedAndTimed(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		srv := newTestServer(t, func(s *testServer) { s.ws = tr == "ws"; s.pushEvery, s.pushCount = 20e6, 25 })
		r := runLoadgen(t, "-scenario=push", "-addr="+srv.addr(), "-transport="+tr, "-conns=8", "-hold=1500ms",
			"-push-route=onPush", "-push-ts-field=ts", "-push-ts-unit=ms")
		noErrors(t, r)
		eq(t, "server pushes", srv.pushes.Load(), 8*25)
		eq(t, "pushes counted", r.Counts[driver.PushesMatched], 8*25)
		eq(t, "push latency samples", r.PushLatency.Count, 8*25)
		if r.PushLatency.Max > 1000 {
			t.Errorf("push latency %+v", r.PushLatency)
		}
	})
}

func TestOpenLoopRateRespected(t *testing.T) {
	srv := newTestServer(t, nil)
	r := runLoadgen(t, "-scenario=echo", "-addr="+srv.addr(), "-conns=10", "-qps=400", "-hold=2s")
	noErrors(t, r)
	sent := float64(r.Counts[driver.Requests])
	want := 400 * r.Seconds.Hold
	if math.Abs(sent-want) > 0.1*want {
		t.Fatalf("sent %.0f requests in %.2fs, want %.0f ± 10%%", sent, r.Seconds.Hold, want)
	}
	eq(t, "responses", r.Counts[driver.Responses], r.Counts[driver.Requests])
}

func TestNotify(t *testing.T) {
	srv := newTestServer(t, nil)
	r := runLoadgen(t, "-scenario=notify", "-addr="+srv.addr(), "-conns=5", "-qps=300", "-hold=1s")
	noErrors(t, r)
	n := r.Counts[driver.Notifies]
	if want := 300 * r.Seconds.Hold; math.Abs(float64(n)-want) > 0.15*want {
		t.Fatalf("%d notifies in %.2fs, want %.0f ± 15%%", n, r.Seconds.Hold, want)
	}
	eq(t, "server received", uint64(srv.requests.Load()), n)
	eq(t, "responses", r.Counts[driver.Responses], 0)
}

func TestChatDeliveries(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		srv := newTestServer(t, func(s *testServer) { s.ws = tr == "ws" })
		r := runLoadgen(t, "-scenario=chat", "-addr="+srv.addr(), "-transport="+tr, "-conns=12", "-room=4",
			"-chat-rate=10", "-hold=1s")
		noErrors(t, r)
		c := &r.Counts
		eq(t, "entries", c[driver.SetupRequests], 12)
		if c[driver.Responses] < 60 {
			t.Fatalf("only %d sends answered", c[driver.Responses])
		}
		// Every send reaches the 4 members of its room, the sender included.
		eq(t, "expected", c[driver.ChatExpected], 4*c[driver.Responses])
		eq(t, "delivered", c[driver.PushesMatched], c[driver.ChatExpected])
		eq(t, "push latency samples", r.PushLatency.Count, c[driver.PushesMatched])
		// Joiners' onAdd pushes to earlier members: 0+1+2+3 per room of 4.
		eq(t, "pushes", c[driver.Pushes], c[driver.PushesMatched]+3*6)
	})
}

func TestProcsAggregate(t *testing.T) {
	srv := newTestServer(t, nil)
	r := runLoadgen(t, "-scenario=echo", "-addr="+srv.addr(), "-conns=21", "-depth=2", "-hold=1s", "-procs=2")
	noErrors(t, r)
	c := &r.Counts
	eq(t, "handshaken", c[driver.Handshakes], 21)
	eq(t, "server acks", srv.acks.Load(), 21)
	eq(t, "responses", c[driver.Responses], c[driver.Requests])
	eq(t, "server requests", uint64(srv.requests.Load()), c[driver.Requests])
	eq(t, "latency count", r.Latency.Count, c[driver.Responses])
	srv.mu.Lock()
	remotes := fmt.Sprint(srv.remotes)
	srv.mu.Unlock()
	// Child 0 binds 127.0.0.1 and takes 11 connections, child 1 binds 127.0.0.2 and takes 10.
	eq(t, "source addresses", remotes, "map[127.0.0.1:11 127.0.0.2:10]")
	eq(t, "procs", r.Self.Procs, 2)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"-transport=udp"}, {"-scenario=nope"}, {"-procs=0"}, {"-addr="},
		{"-scenario=notify"}, {"-sys-extra=[1]"}, {"-push-ts-unit=h"}, {"stray"}} {
		o, fs, err := parseOptions(args, io.Discard)
		if err == nil {
			_, err = runParent(o, fs, nil)
		}
		if err == nil {
			t.Errorf("%v: no error", args)
		} else if !strings.Contains(err.Error(), "loadgen") && !strings.Contains(err.Error(), "driver") {
			t.Errorf("%v: unexpected error %v", args, err)
		}
	}
}

func TestServersTotal(t *testing.T) {
	srv := newTestServer(t, nil)
	r := runLoadgen(t, "-scenario=idle", "-addr="+srv.addr(), "-conns=4", "-hold=1s",
		"-pids="+fmt.Sprint(os.Getpid())+","+fmt.Sprint(os.Getppid()))
	if len(r.Servers) != 2 || r.ServersTotal == nil {
		t.Fatalf("servers %+v total %+v", r.Servers, r.ServersTotal)
	}
	tot, a, b := r.ServersTotal, r.Servers[0], r.Servers[1]
	if tot.CPUHold != a.CPUHold+b.CPUHold || tot.RSSRampEnd != a.RSSRampEnd+b.RSSRampEnd ||
		tot.RSSPerConn != a.RSSPerConn+b.RSSPerConn || tot.CPUPerConnSecs != tot.CPUHold/r.Seconds.Hold*1e6/4 {
		t.Fatalf("total %+v of %+v and %+v (hold %v)", tot, a, b, r.Seconds.Hold)
	}
}

func TestRunWritesReports(t *testing.T) {
	srv := newTestServer(t, func(s *testServer) { s.pushEvery, s.pushCount = 50e6, 10 })
	dir := t.TempDir()
	var stdout, stderr strings.Builder
	code := run([]string{"-scenario=echo", "-addr=" + srv.addr(), "-conns=3", "-hold=1200ms", "-qps=200",
		"-json=" + dir + "/r.json", "-html=" + dir + "/r.html", "-pids=" + fmt.Sprint(os.Getpid())}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "latency   n=") || !strings.Contains(stderr.String(), " hold ") {
		t.Fatalf("summary or progress missing:\n%s\n%s", stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(dir + "/r.json")
	if err != nil {
		t.Fatal(err)
	}
	var r result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Counts[driver.Responses] == 0 || r.Counts[driver.Responses] != r.Counts[driver.Requests] ||
		r.Latency.Count != r.Counts[driver.Responses] || len(r.Timeline) < 2 || len(r.Servers) != 1 ||
		r.Servers[0].CPUTotal <= 0 || r.Servers[0].RSSMax <= 0 {
		t.Fatalf("json result: %s", b)
	}
	if r.Counts[driver.Pushes] != 30 {
		t.Errorf("pushes %d, want 30 (counted in every scenario)", r.Counts[driver.Pushes])
	}
	if r.ServersTotal != nil {
		t.Errorf("servers total with one server: %+v", r.ServersTotal)
	}
	page, err := os.ReadFile(dir + "/r.html")
	if err != nil {
		t.Fatal(err)
	}
	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAll(page, -1)
	if len(svgs) != 7 || bytes.Contains(page, []byte("http://")) && !bytes.Contains(page, []byte(`xmlns="http://www.w3.org/2000/svg"`)) {
		t.Fatalf("%d charts", len(svgs))
	}
	for _, s := range svgs {
		d := xml.NewDecoder(bytes.NewReader(s))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("chart is not well-formed: %v\n%s", err, s)
			}
		}
	}
	if bytes.Contains(page, []byte("<script src")) || bytes.Contains(page, []byte("<link")) {
		t.Fatal("report loads external resources")
	}
}

func TestTimeoutsAndLateResponses(t *testing.T) {
	srv := newTestServer(t, nil)
	r := runLoadgen(t, "-scenario=echo", "-addr="+srv.addr(), "-conns=4", "-hold=1s", "-route=test.h.silent",
		"-timeout=200ms", "-drain=600ms")
	c := &r.Counts
	eq(t, "responses", c[driver.Responses], 0)
	if c[driver.Timeouts] < 4*4 || c[driver.Timeouts] != c[driver.Requests] {
		t.Fatalf("%d requests, %d timeouts", c[driver.Requests], c[driver.Timeouts])
	}
	// Slow answers (300 ms) to requests that time out after 150 ms arrive late; the drain waits for
	// the timeouts, and the late answers of the last requests may come after the connections close.
	r = runLoadgen(t, "-scenario=echo", "-addr="+srv.addr(), "-conns=4", "-hold=1s", "-route=test.h.slow",
		"-timeout=150ms", "-drain=1s")
	c = &r.Counts
	// On a starved machine a timer may fire after the slow answer: that request counts as answered.
	eq(t, "responses + timeouts", c[driver.Responses]+c[driver.Timeouts], c[driver.Requests])
	if c[driver.Timeouts] <= c[driver.Responses] || c[driver.Late] == 0 || c[driver.Late] > c[driver.Timeouts] {
		t.Fatalf("%d late for %d timeouts, %d responses", c[driver.Late], c[driver.Timeouts], c[driver.Responses])
	}
	eq(t, "protocol errors", c[driver.ProtoErrors], 0)
}
