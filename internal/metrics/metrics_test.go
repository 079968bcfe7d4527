package metrics

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/shaddock-io/shaddock/engine"
	"github.com/shaddock-io/shaddock/hybrid"
	"github.com/shaddock-io/shaddock/rpc"
)

func requireNoError(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func requireEqual[T comparable](t testing.TB, got, want T, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// sampleOf returns the value of the sample of family name with exactly the given labels
// (alternating keys and values), or -1.
func sampleOf(t testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	requireNoError(t, err, "Gather")
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabels(m, labels) {
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue()
				case m.Gauge != nil:
					return m.Gauge.GetValue()
				case m.Histogram != nil:
					return float64(m.Histogram.GetSampleCount())
				}
			}
		}
	}
	return -1
}

func hasLabels(m *dto.Metric, labels []string) bool {
	if len(m.GetLabel()) != len(labels)/2 {
		return false
	}
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
		}
		if !found {
			return false
		}
	}
	return true
}

func TestConfigValidate(t *testing.T) {
	var zero Config
	requireNoError(t, zero.Validate(), "zero Config")
	for _, c := range []Config{
		{MaxRoutes: -1}, {MaxRemotes: -1}, {SampleInterval: -1},
		{LatencyBuckets: []float64{}}, {LatencyBuckets: []float64{0, 1}}, {LatencyBuckets: []float64{1, 1}},
		{LatencyBuckets: []float64{2, 1}},
	} {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", c, err)
		}
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): %v, want ErrConfig", c, err)
		}
	}
}

func TestLabelTableCap(t *testing.T) {
	built := 0
	lt := newLabelTable(3, func(v string) *string { built++; return &v })
	requireEqual(t, *lt.get("a"), "a", "a")
	requireEqual(t, *lt.get("b"), "b", "b")
	requireEqual(t, lt.get("a"), lt.get("a"), "same entry twice")
	lt.addAll([]string{"c", "d", "e", "a"})
	requireEqual(t, lt.len(), 3, "len at the cap")
	requireEqual(t, lt.get("d"), lt.other, "past the cap")
	requireEqual(t, *lt.get("d"), OtherLabel, "past the cap is labelled other")
	requireEqual(t, lt.lookup("zz") == nil, true, "lookup of an unknown value")
	requireEqual(t, lt.get(OtherLabel), lt.other, "the other value itself")
	requireEqual(t, built, 4, "children built (a, b, c, other)")
}

func TestLabelTableConcurrent(t *testing.T) {
	lt := newLabelTable(64, func(v string) *string { return &v })
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				v := strconv.Itoa(i % 100)
				if e := lt.get(v); *e != v && e != lt.other {
					t.Errorf("get(%s) = %s", v, *e)
				}
			}
		}()
	}
	wg.Wait()
	requireEqual(t, lt.len(), 64, "len")
}

func TestRequestsRoutes(t *testing.T) {
	s, err := New(Config{MaxRoutes: 3, Routes: []string{"a.b.c"}})
	requireNoError(t, err, "New")
	req := s.Requests()
	req.ObserveRequest("a.b.c", time.Millisecond, false)
	req.ObserveRequest("a.b.c", 3*time.Millisecond, true)
	req.ObserveRequest("x.y.z", time.Millisecond, false) // added: room left
	req.observeDeclared("p.q.r", time.Millisecond, true) // not declared: other
	req.Declare("d.e.f", "g.h.i")                        // only d.e.f fits
	req.ObserveRequest("g.h.i", -1, false)               // past the cap: other, counted, not timed
	reg := s.Registry()
	requireEqual(t, sampleOf(t, reg, "shaddock_requests_total", "route", "a.b.c", "result", "ok"), 1, "a.b.c ok")
	requireEqual(t, sampleOf(t, reg, "shaddock_requests_total", "route", "a.b.c", "result", "error"), 1, "a.b.c error")
	requireEqual(t, sampleOf(t, reg, "shaddock_request_duration_seconds", "route", "a.b.c"), 2, "a.b.c timed")
	requireEqual(t, sampleOf(t, reg, "shaddock_requests_total", "route", "x.y.z", "result", "ok"), 1, "x.y.z ok")
	requireEqual(t, sampleOf(t, reg, "shaddock_requests_total", "route", "p.q.r", "result", "error"), -1, "p.q.r has no series")
	requireEqual(t, sampleOf(t, reg, "shaddock_requests_total", "route", OtherLabel, "result", "error"), 1, "other error")
	requireEqual(t, sampleOf(t, reg, "shaddock_requests_total", "route", OtherLabel, "result", "ok"), 1, "other ok")
	requireEqual(t, sampleOf(t, reg, "shaddock_request_duration_seconds", "route", OtherLabel), 1, "other timed once")
	requireEqual(t, sampleOf(t, reg, "shaddock_request_duration_seconds", "route", "d.e.f"), 0, "d.e.f declared")
	requireEqual(t, sampleOf(t, reg, "shaddock_request_duration_seconds", "route", "g.h.i"), -1, "g.h.i past the cap")
}

func TestRPCResults(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{rpc.ErrTimeout, "timeout"},
		{rpc.NewError(rpc.CodeConnLost, "lost"), "conn_lost"},
		{rpc.NewError(rpc.CodeShutdown, ""), "shutdown"},
		{rpc.NewError(rpc.CodeNotStarted, ""), "not_started"},
		{rpc.NewError(500, "app failure"), "app"},
		{errors.New("plain"), "app"},
		{errors.Join(errors.New("wrapped"), rpc.ErrNoMethod), "no_method"},
	}
	for _, c := range cases {
		requireEqual(t, rpcResults[rpcResult(c.err)], c.want, "result of "+errString(c.err))
	}
	requireEqual(t, len(rpcResults), rpc.CodeShutdown+2, "one result per transport code, ok and app")

	s, err := New(Config{MaxRemotes: 1})
	requireNoError(t, err, "New")
	f, sf := s.RPC().ClientFilter(), s.RPC().ServerFilter()
	ctx := context.Background()
	f(ctx, rpc.CallInfo{Peer: "chat-1"}, nil)
	f(ctx, rpc.CallInfo{Peer: "chat-1"}, rpc.ErrTimeout)
	f(ctx, rpc.CallInfo{Peer: "chat-1", Notify: true}, nil) // notifies are not counted
	f(ctx, rpc.CallInfo{Peer: "chat-2"}, nil)               // past MaxRemotes
	sf(ctx, rpc.CallInfo{Peer: "connector-1"}, rpc.NewError(7, "x"))
	reg := s.Registry()
	requireEqual(t, sampleOf(t, reg, "shaddock_rpc_call_duration_seconds", "remote", "chat-1"), -1,
		"no latency series before a duration is observed")
	s.RPC().ObserveCall("chat-1", 2*time.Millisecond)
	f(ctx, rpc.CallInfo{Peer: "chat-1", Elapsed: 3 * time.Millisecond}, nil) // timed by the filter
	requireEqual(t, sampleOf(t, reg, "shaddock_rpc_calls_total", "remote", "chat-1", "result", "ok"), 2, "chat-1 ok")
	requireEqual(t, sampleOf(t, reg, "shaddock_rpc_calls_total", "remote", "chat-1", "result", "timeout"), 1, "chat-1 timeout")
	requireEqual(t, sampleOf(t, reg, "shaddock_rpc_calls_total", "remote", OtherLabel, "result", "ok"), 1, "other ok")
	requireEqual(t, sampleOf(t, reg, "shaddock_rpc_served_calls_total", "peer", "connector-1", "result", "timeout"), 1, "served")
	requireEqual(t, sampleOf(t, reg, "shaddock_rpc_call_duration_seconds", "remote", "chat-1"), 2, "latency")
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// fakeConn is an engine.Conn that reports a transport and, optionally, its queue.
type fakeConn struct {
	engine.Conn // nil: only the methods below are called
	tr          hybrid.Transport
}

func (c *fakeConn) Transport() hybrid.Transport { return c.tr }

type queuedConn struct {
	fakeConn
	bytes, pkts int
}

func (c *queuedConn) QueueDepth() (int, int) { return c.bytes, c.pkts }

func TestSessionSample(t *testing.T) {
	conns := []engine.Conn{
		&fakeConn{tr: hybrid.TransportTCP},
		&fakeConn{tr: hybrid.TransportWS},
		&fakeConn{tr: 99}, // unknown transport
		&queuedConn{fakeConn{tr: hybrid.TransportWSS}, 100, 2},
		&queuedConn{fakeConn{tr: hybrid.TransportWSS}, 4000, 9},
		&queuedConn{fakeConn{tr: hybrid.TransportTLS}, 0, 0},
	}
	walks := 0
	smp := &sampler{interval: time.Hour, walk: func(f func(engine.Conn)) {
		walks++
		for _, c := range conns {
			f(c)
		}
	}}
	s := smp.sample()
	requireEqual(t, s.byTransport, [5]int{1, 1, 1, 1, 2}, "by transport (other, tcp, ws, tls, wss)")
	requireEqual(t, s.queues, 3, "connections reporting a queue")
	requireEqual(t, s.qBytes, 4100, "queued bytes")
	requireEqual(t, s.qBytesMax, 4000, "max queued bytes")
	requireEqual(t, s.qPackets, 11, "queued packages")
	requireEqual(t, s.qPacketMax, 9, "max queued packages")
	conns = conns[:1]
	requireEqual(t, smp.sample(), s, "within the interval: the last walk")
	requireEqual(t, walks, 1, "walks within the interval")
	smp.interval = 0
	requireEqual(t, smp.sample().byTransport, [5]int{0, 1, 0, 0, 0}, "a fresh walk")
	requireEqual(t, walks, 2, "walks")
}

// TestTransportCollector checks the hybrid counters are read live and that a missing transport
// reads as zeros.
func TestTransportCollector(t *testing.T) {
	var st hybrid.Stats
	var src *hybrid.Stats
	s, err := New(Config{})
	requireNoError(t, err, "New")
	requireNoError(t, s.AddTransport(func() *hybrid.Stats { return src }), "AddTransport")
	reg := s.Registry()
	requireEqual(t, sampleOf(t, reg, "shaddock_packages_total", "direction", "in"), 0, "no transport yet")
	src = &st
	st.PackagesIn.Add(7)
	st.BytesOut.Add(1234)
	st.ActiveConns.Add(3)
	st.HeartbeatTimeouts.Add(2)
	st.Handshake501.Add(1)
	st.RejectedMaxConns.Add(5)
	requireEqual(t, sampleOf(t, reg, "shaddock_packages_total", "direction", "in"), 7, "packages in")
	requireEqual(t, sampleOf(t, reg, "shaddock_transport_bytes_total", "direction", "out"), 1234, "bytes out")
	requireEqual(t, sampleOf(t, reg, "shaddock_connections"), 3, "connections")
	requireEqual(t, sampleOf(t, reg, "shaddock_timeouts_total", "kind", "heartbeat"), 2, "heartbeat timeouts")
	requireEqual(t, sampleOf(t, reg, "shaddock_handshakes_total", "code", "501"), 1, "handshakes 501")
	requireEqual(t, sampleOf(t, reg, "shaddock_connections_rejected_total", "reason", "max_conns"), 5, "rejected")
	if err := s.AddTransport(func() *hybrid.Stats { return nil }); err == nil {
		t.Error("a second transport on one Set registered")
	}
	if err := s.AddTransport(nil); !errors.Is(err, ErrConfig) {
		t.Errorf("AddTransport(nil): %v", err)
	}
	n, err := testutil.GatherAndCount(reg, "shaddock_connections_rejected_total")
	requireNoError(t, err, "GatherAndCount")
	requireEqual(t, n, 4, "rejected_total samples")
}

func TestAddNil(t *testing.T) {
	s, err := New(Config{})
	requireNoError(t, err, "New")
	for what, err := range map[string]error{
		"AddEngine": s.AddEngine(nil), "AddRPCStation": s.AddRPCStation(nil), "AddRPCServer": s.AddRPCServer(nil),
	} {
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s(nil): %v", what, err)
		}
	}
}
