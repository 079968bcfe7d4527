package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/shaddock-io/shaddock/internal/pomeloclient"
)

// scrape fetches /metrics and parses it.
func (r *rig) scrape(t testing.TB) (map[string]*dto.MetricFamily, []byte) {
	t.Helper()
	code, body := r.get(t, "metrics")
	requireEqual(t, code, http.StatusOK, "/metrics status")
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	requireNoError(t, err, "parse /metrics")
	return mfs, body
}

// val returns the value of the sample of family name whose labels include every pair in
// labels (alternating keys and values), summed over the matches; -1 when the family is absent.
func val(mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	mf := mfs[name]
	if mf == nil {
		return -1
	}
	var v float64
	for _, m := range mf.GetMetric() {
		if matches(m, labels) {
			v += valueOf(m)
		}
	}
	return v
}

// expectedFamilies are the families /metrics must export once the rig is up.
var expectedFamilies = []string{
	// transport
	"shaddock_connections", "shaddock_connections_classified", "shaddock_connections_accepted_total",
	"shaddock_connections_rejected_total", "shaddock_accept_errors_total", "shaddock_connections_classified_total", "shaddock_handshakes_total",
	"shaddock_handshake_failures_total", "shaddock_protocol_errors_total", "shaddock_out_of_state_packages_total",
	"shaddock_timeouts_total", "shaddock_packages_total", "shaddock_transport_bytes_total",
	"shaddock_outbound_refused_packages_total", "shaddock_outbound_dropped_packages_total",
	"shaddock_outbound_overflow_kicks_total", "shaddock_write_failures_total", "shaddock_kicks_total",
	"shaddock_websocket_pings_total", "shaddock_websocket_close_frames_total",
	"shaddock_websocket_deflate_connections_total", "shaddock_websocket_compressed_messages_total",
	"shaddock_websocket_deflate_saved_bytes_total",
	// engine
	"shaddock_sessions", "shaddock_engine_dropped_messages_total", "shaddock_engine_refused_messages_total",
	"shaddock_engine_handler_errors_total", "shaddock_engine_error_responses_total", "shaddock_engine_encode_errors_total",
	"shaddock_engine_forwarded_messages_total", "shaddock_engine_handshakes_refused_total",
	"shaddock_pushes_total", "shaddock_push_deliveries_total",
	"shaddock_scheduler_enqueued_packages_total", "shaddock_scheduler_enqueue_errors_total",
	"shaddock_scheduler_flushes_total", "shaddock_scheduler_flush_errors_total",
	// requests
	"shaddock_request_duration_seconds", "shaddock_requests_total",
	// rpc
	"shaddock_rpc_calls_total", "shaddock_rpc_call_duration_seconds", "shaddock_rpc_served_calls_total",
	"shaddock_rpc_pending_calls", "shaddock_rpc_dials_total", "shaddock_rpc_writes_total",
	"shaddock_rpc_server_connections", "shaddock_rpc_server_writes_total",
	// runtime and process
	"go_goroutines", "go_gc_duration_seconds", "go_memstats_heap_alloc_bytes", "go_sched_latencies_seconds",
	"process_cpu_seconds_total", "process_resident_memory_bytes",
}

func TestMetricsLintAndFamilies(t *testing.T) {
	r := newRig(t)
	p := r.connect(t, pomeloclient.TCP)
	for _, route := range []string{routeEcho, routeRPC} {
		_, err := p.request(route, `{}`)
		requireNoError(t, err, route)
	}
	// The RPC server counts a served call when its reply has gone, which may be after the
	// client has its answer.
	var mfs map[string]*dto.MetricFamily
	var body []byte
	eventually(t, 5*time.Second, "the served RPC call to be counted", func() bool {
		mfs, body = r.scrape(t)
		return val(mfs, "shaddock_rpc_served_calls_total") == 1
	})

	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	requireNoError(t, err, "promlint")
	for _, pr := range problems {
		t.Errorf("promlint: %s: %s", pr.Metric, pr.Text)
	}
	// Prometheus' own checker too, when it is installed (Debian: package prometheus; or set
	// SHADDOCK_PROMTOOL).
	promtool := os.Getenv("SHADDOCK_PROMTOOL")
	if promtool == "" {
		promtool, _ = exec.LookPath("promtool")
	}
	if promtool != "" {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	} else {
		t.Log("promtool not installed: only promlint checked the exposition")
	}
	for _, name := range expectedFamilies {
		if mfs[name] == nil {
			t.Errorf("family %s missing from /metrics", name)
		}
	}
	for name, mf := range mfs {
		if !strings.HasPrefix(name, "shaddock_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("unexpected family %s", name)
		}
		if mf.GetHelp() == "" {
			t.Errorf("family %s has no help", name)
		}
	}
	// The transports reported by *hybrid.Conn are labelled.
	for _, tr := range []string{"other", "tcp", "ws", "tls", "wss"} {
		if val(mfs, "shaddock_sessions", "transport", tr) < 0 {
			t.Errorf("shaddock_sessions{transport=%q} missing", tr)
		}
	}
	// *hybrid.Conn reports its queue depth: the queue gauges are there.
	for _, name := range []string{"shaddock_outbound_queue_bytes", "shaddock_outbound_queue_bytes_max",
		"shaddock_outbound_queue_packages", "shaddock_outbound_queue_packages_max"} {
		if val(mfs, name) < 0 {
			t.Errorf("%s missing", name)
		}
	}
}

// TestCountersMoveAfterTraffic drives a known number of requests of each route through real
// TCP and WebSocket clients and checks every counter against the traffic sent.
func TestCountersMoveAfterTraffic(t *testing.T) {
	r := newRig(t)
	before, _ := r.scrape(t)
	for _, name := range []string{"shaddock_requests_total", "shaddock_packages_total", "shaddock_rpc_calls_total"} {
		if v := val(before, name); v > 0 { // -1: a vector with no child yet
			t.Fatalf("%s = %v before any traffic", name, v)
		}
	}

	const rounds = 6
	players := []*player{r.connect(t, pomeloclient.TCP), r.connect(t, pomeloclient.TCP), r.connect(t, pomeloclient.WS)}
	routes := []string{routeEcho, routeFail, routeSlow, routePush, routeRPC, "connector.unknownHandler.nope"}
	for round := 0; round < rounds; round++ {
		for _, p := range players {
			for _, route := range routes {
				m, err := p.request(route, `{"round":1}`)
				requireNoError(t, err, route)
				if route == routeEcho && string(m.Body) != `{"round":1}` {
					t.Fatalf("echo answered %q", m.Body)
				}
			}
		}
	}
	requireNoError(t, r.refused(), "refused handshake")
	requireNoError(t, r.ghost(t), "ghost")
	n := float64(rounds * len(players))

	// Requests: exact counts by route and result, and a latency sample per request. (The RPC
	// server counts a served call once its reply has gone, maybe after the client saw it.)
	var mfs map[string]*dto.MetricFamily
	eventually(t, 5*time.Second, "the served RPC calls to be counted", func() bool {
		mfs, _ = r.scrape(t)
		return val(mfs, "shaddock_rpc_served_calls_total") >= n
	})
	for _, c := range []struct {
		route, result string
	}{{routeEcho, "ok"}, {routeFail, "error"}, {routeSlow, "ok"}, {routePush, "ok"}, {routeRPC, "ok"}, {"other", "error"}} {
		requireEqual(t, val(mfs, "shaddock_requests_total", "route", c.route, "result", c.result), n,
			"requests_total{route="+c.route+",result="+c.result+"}")
		requireEqual(t, val(mfs, "shaddock_request_duration_seconds", "route", c.route), n,
			"request_duration_seconds_count{route="+c.route+"}")
	}
	requireEqual(t, val(mfs, "shaddock_requests_total"), n*float64(len(routes)), "requests_total")
	// The slow route's handler waits 1..8 ms: its latency sum says so.
	if sum := histSum(mfs, "shaddock_request_duration_seconds", "route", routeSlow); sum < n*0.001 {
		t.Errorf("slow route latency sum %v s for %v requests, want at least 1 ms each", sum, n)
	}

	// Pushes: one broadcast per push request, delivered to every session at the time.
	requireEqual(t, val(mfs, "shaddock_pushes_total"), n, "pushes_total")
	if d := val(mfs, "shaddock_push_deliveries_total"); d < n*float64(len(players)) {
		t.Errorf("push_deliveries_total %v, want >= %v", d, n*float64(len(players)))
	}

	// RPC: one call per rpc request, on both sides, with latency.
	requireEqual(t, val(mfs, "shaddock_rpc_calls_total", "remote", rpcRemote, "result", "ok"), n, "rpc_calls_total ok")
	requireEqual(t, val(mfs, "shaddock_rpc_served_calls_total", "peer", "connector-1", "result", "ok"), n, "rpc_served_calls_total")
	requireEqual(t, val(mfs, "shaddock_rpc_call_duration_seconds", "remote", rpcRemote), n, "rpc_call_duration_seconds_count")
	if v := val(mfs, "shaddock_rpc_dials_total", "remote", rpcRemote); v < 1 {
		t.Errorf("rpc_dials_total %v", v)
	}
	if v := val(mfs, "shaddock_rpc_server_connections"); v != 1 {
		t.Errorf("rpc_server_connections %v, want 1", v)
	}

	// Transport: connections, handshakes, packages and bytes.
	conns := float64(len(players) + 2) // players, the refused client, the ghost
	if v := val(mfs, "shaddock_connections_accepted_total"); v != conns {
		t.Errorf("connections_accepted_total %v, want %v", v, conns)
	}
	requireEqual(t, val(mfs, "shaddock_handshakes_total", "code", "200"), float64(len(players)+1), "handshakes 200")
	requireEqual(t, val(mfs, "shaddock_handshakes_total", "code", "501"), 1, "handshakes 501")
	requireEqual(t, val(mfs, "shaddock_engine_handshakes_refused_total"), 1, "engine handshakes refused")
	requireEqual(t, val(mfs, "shaddock_connections_classified_total", "transport", "ws"), 1, "ws connections")
	requireEqual(t, val(mfs, "shaddock_connections_classified_total", "transport", "tcp"), conns-1, "tcp connections")
	requests := n * float64(len(routes))
	if in := val(mfs, "shaddock_packages_total", "direction", "in"); in < requests {
		t.Errorf("packages in %v < %v requests", in, requests)
	}
	if out := val(mfs, "shaddock_packages_total", "direction", "out"); out < requests {
		t.Errorf("packages out %v < %v responses", out, requests)
	}
	if in := val(mfs, "shaddock_transport_bytes_total", "direction", "in"); in < requests*20 {
		t.Errorf("bytes in %v for %v requests", in, requests)
	}
	if out := val(mfs, "shaddock_transport_bytes_total", "direction", "out"); out < requests*8 {
		t.Errorf("bytes out %v for %v responses", out, requests)
	}
	// Sessions are sampled (at most every 500 ms), and the ghost's session opens on its ACK.
	eventually(t, 3*time.Second, "2 TCP players, the ghost and 1 WS player in shaddock_sessions", func() bool {
		m, _ := r.scrape(t)
		return val(m, "shaddock_sessions", "transport", "tcp") == 3 && val(m, "shaddock_sessions", "transport", "ws") == 1
	})

	// /stats.json tells the same story.
	code, body := r.get(t, "stats.json")
	requireEqual(t, code, http.StatusOK, "stats.json status")
	var snap Snapshot
	requireNoError(t, json.Unmarshal(body, &snap), "decode stats.json")
	requireEqual(t, snap.Title, "connector-1", "title")
	if snap.Counts["req"] != requests || snap.Counts["req_err"] != 2*n || snap.Counts["rpc_calls"] != n || snap.Counts["pushes"] != n {
		t.Errorf("stats.json counters %v", snap.Counts)
	}
	if snap.Counts["hs_ok"] != float64(len(players)+1) || snap.Counts["hs_fail"] != 1 {
		t.Errorf("stats.json handshakes ok %v fail %v", snap.Counts["hs_ok"], snap.Counts["hs_fail"])
	}
	if len(snap.Routes) != len(routes) {
		t.Fatalf("stats.json routes %+v", snap.Routes)
	}
	names := []string{}
	for _, s := range snap.Routes {
		names = append(names, s.Name)
		requireEqual(t, s.N, n, "stats.json count of "+s.Name)
		requireEqual(t, len(s.Buckets), len(snap.LE), "buckets of "+s.Name)
		if s.Buckets[len(s.Buckets)-1] > s.N || !slices.IsSorted(s.Buckets) {
			t.Errorf("route %s buckets %v are not cumulative within %v", s.Name, s.Buckets, s.N)
		}
	}
	slices.Sort(names)
	want := []string{routeEcho, routeFail, routePush, routeRPC, routeSlow, "other"}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("stats.json routes %v, want %v", names, want)
	}
	if len(snap.RPC) != 1 || snap.RPC[0].Name != rpcRemote || snap.RPC[0].N != n || snap.RPC[0].Errors != 0 {
		t.Errorf("stats.json rpc %+v", snap.RPC)
	}
	if snap.Gauges["goroutines"] <= 0 || snap.Gauges["heap"] <= 0 || snap.Gauges["conns"] < float64(len(players)) {
		t.Errorf("stats.json gauges %v", snap.Gauges)
	}
	for _, g := range []string{"queue_bytes", "queue_bytes_max", "queue_pkts", "queue_pkts_max"} {
		if v, ok := snap.Gauges[g]; !ok || v < 0 {
			t.Errorf("stats.json gauge %s = %v (present %v), want the sampled queue depth", g, v, ok)
		}
	}

	// The ghost never sends a heartbeat: the heartbeat timeout closes it. The players leave
	// first, so that only the ghost can time out.
	for _, p := range players {
		p.c.Close()
	}
	eventually(t, 10*time.Second, "a heartbeat timeout", func() bool {
		m, _ := r.scrape(t)
		return val(m, "shaddock_timeouts_total", "kind", "heartbeat") >= 1
	})
	_, body = r.get(t, "stats.json")
	requireNoError(t, json.Unmarshal(body, &snap), "decode stats.json")
	if snap.Counts["hb_timeouts"] < 1 {
		t.Errorf("stats.json hb_timeouts %v", snap.Counts["hb_timeouts"])
	}
}

// histSum returns a histogram's sample sum.
func histSum(mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	var s float64
	if mf := mfs[name]; mf != nil {
		for _, m := range mf.GetMetric() {
			if matches(m, labels) && m.GetHistogram() != nil {
				s += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return s
}

// TestStatsJSONIsLive checks that two snapshots taken under traffic differ where they must.
func TestStatsJSONIsLive(t *testing.T) {
	r := newRig(t)
	stop := make(chan struct{})
	wait := r.traffic(t, []*player{r.connect(t, pomeloclient.TCP), r.connect(t, pomeloclient.WS)}, time.Millisecond, stop)
	take := func() Snapshot {
		_, b := r.get(t, "stats.json")
		var s Snapshot
		requireNoError(t, json.Unmarshal(b, &s), "decode")
		return s
	}
	a := take()
	time.Sleep(300 * time.Millisecond)
	b := take()
	close(stop)
	requireNoError(t, wait(), "traffic")
	if b.T <= a.T || b.Uptime <= a.Uptime {
		t.Errorf("time did not move: %v/%v -> %v/%v", a.T, a.Uptime, b.T, b.Uptime)
	}
	for _, k := range []string{"req", "pkg_in", "pkg_out", "bytes_in", "bytes_out"} {
		if b.Counts[k] <= a.Counts[k] {
			t.Errorf("%s did not move: %v -> %v", k, a.Counts[k], b.Counts[k])
		}
	}
	requireEqual(t, b.Gauges["conns"], 2, "conns")
}
