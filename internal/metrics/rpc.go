package metrics

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shaddock-io/shaddock/rpc"
)

// CallObserver records the duration of one finished RPC call to remote (a server id). It is the
// hook an RPC client calls when a call completes; implementations must be safe for concurrent
// use and must not block.
type CallObserver interface {
	ObserveCall(remote string, d time.Duration)
}

// rpcResults are the result label values of RPC calls, by rpc.Code* (1..15); index 0 is "ok",
// and resultApp stands for codes outside the transport's table (application errors).
var rpcResults = [...]string{
	"ok", "not_started", "no_target", "connect", "no_mailbox", "send", "filter", "timeout",
	"conn_lost", "pending_limit", "no_method", "codec", "remote", "canceled", "protocol", "shutdown",
	"app",
}

const resultApp = len(rpcResults) - 1

// rpcResult returns the index in rpcResults of a call's outcome.
func rpcResult(err error) int {
	if err == nil {
		return 0
	}
	if e, ok := errors.AsType[*rpc.Error](err); ok && e.Code > 0 && e.Code < resultApp {
		return e.Code
	}
	return resultApp
}

// RPC holds the RPC metrics:
//
//	shaddock_rpc_calls_total{remote,result}          client side, from ClientFilter
//	shaddock_rpc_call_duration_seconds{remote}       client side, from ClientFilter or ObserveCall
//	shaddock_rpc_served_calls_total{peer,result}     server side, from ServerFilter
//
// result is "ok", the transport error code's name ("timeout", "conn_lost", ...; see rpc.Code*) or
// "app" for application error codes. Remote and peer values are capped at Config.MaxRemotes.
//
// Safe for concurrent use. Recording allocates nothing once a remote's result has been seen.
type RPC struct {
	calls   *prometheus.CounterVec
	latency *prometheus.HistogramVec
	served  *prometheus.CounterVec
	remotes *labelTable[remoteObs] // client side
	peers   *labelTable[peerObs]   // server side
}

// remoteObs are the children of one remote, each resolved on first use, so that a remote's
// latency histogram exists only once a duration has been observed for it.
type remoteObs struct {
	vec     *prometheus.HistogramVec
	remote  string
	latency atomic.Pointer[observerBox]
	results resultCounters
}

type observerBox struct{ prometheus.Observer }

// observe records one duration.
func (ro *remoteObs) observe(d time.Duration) {
	b := ro.latency.Load()
	if b == nil {
		b = &observerBox{ro.vec.WithLabelValues(ro.remote)} // resolving twice is harmless
		ro.latency.Store(b)
	}
	b.Observe(d.Seconds())
}

type peerObs struct{ results resultCounters }

// resultCounters holds one lazily resolved counter per result.
type resultCounters struct {
	vec  *prometheus.CounterVec
	peer string
	c    [len(rpcResults)]atomic.Pointer[counterBox]
}

type counterBox struct{ prometheus.Counter }

// inc counts one call with result r.
func (rc *resultCounters) inc(r int) {
	b := rc.c[r].Load()
	if b == nil {
		// Resolving twice is harmless: the vector hands back the same child.
		b = &counterBox{rc.vec.WithLabelValues(rc.peer, rpcResults[r])}
		rc.c[r].Store(b)
	}
	b.Inc()
}

var _ CallObserver = (*RPC)(nil)

func newRPC(cfg Config) *RPC {
	r := &RPC{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "rpc_calls_total",
			Help: "RPC calls made to remote servers, by remote server id and result (ok, a transport error code name, or app).",
		}, []string{"remote", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "rpc_call_duration_seconds",
			Help:    "Duration of RPC calls to remote servers, from the call to its result, by remote server id.",
			Buckets: cfg.LatencyBuckets,
		}, []string{"remote"}),
		served: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "rpc_served_calls_total",
			Help: "RPC calls served to peers, by the peer's announced name and result.",
		}, []string{"peer", "result"}),
	}
	r.remotes = newLabelTable(cfg.MaxRemotes, func(remote string) *remoteObs {
		return &remoteObs{vec: r.latency, remote: remote, results: resultCounters{vec: r.calls, peer: remote}}
	})
	r.peers = newLabelTable(cfg.MaxRemotes, func(peer string) *peerObs {
		return &peerObs{results: resultCounters{vec: r.served, peer: peer}}
	})
	return r
}

// ObserveCall implements CallObserver.
func (r *RPC) ObserveCall(remote string, d time.Duration) {
	r.remotes.get(remote).observe(d)
}

// ClientFilter returns an rpc.AfterFilter for a Client or Station (rpc.WithAfter) that counts
// every call by remote (CallInfo.Peer) and result, and records the duration of every call that
// was queued (CallInfo.Elapsed). Notifies are not counted.
func (r *RPC) ClientFilter() rpc.AfterFilter {
	return func(_ context.Context, ci rpc.CallInfo, err error) {
		if ci.Notify {
			return
		}
		ro := r.remotes.get(ci.Peer)
		ro.results.inc(rpcResult(err))
		if ci.Elapsed > 0 {
			ro.observe(ci.Elapsed)
		}
	}
}

// ServerFilter returns an rpc.AfterFilter for a Server (rpc.WithAfter) that counts every call
// served by peer (the caller's announced name) and result. Notifies are not counted.
func (r *RPC) ServerFilter() rpc.AfterFilter {
	return func(_ context.Context, ci rpc.CallInfo, err error) {
		if !ci.Notify {
			r.peers.get(ci.Peer).results.inc(rpcResult(err))
		}
	}
}

// Describe implements prometheus.Collector.
func (r *RPC) Describe(ch chan<- *prometheus.Desc) {
	r.calls.Describe(ch)
	r.latency.Describe(ch)
	r.served.Describe(ch)
}

// Collect implements prometheus.Collector.
func (r *RPC) Collect(ch chan<- prometheus.Metric) {
	r.calls.Collect(ch)
	r.latency.Collect(ch)
	r.served.Collect(ch)
}

// stationCollector exports the per-remote counters of a Station's clients.
type stationCollector struct {
	st             *rpc.Station
	remotes        *labelTable[remoteObs] // read only, to share the cap: ids past it are summed as "other"
	pending, dials *prometheus.Desc
	writes         *prometheus.Desc
}

func newStationCollector(st *rpc.Station, remotes *labelTable[remoteObs]) *stationCollector {
	return &stationCollector{st: st, remotes: remotes,
		pending: newDesc("rpc_pending_calls", "RPC calls in flight, by remote server id.", "remote"),
		dials:   newDesc("rpc_dials_total", "RPC connection attempts, by remote server id.", "remote"),
		writes:  newDesc("rpc_writes_total", "RPC client socket writes (each may carry many frames), by remote server id.", "remote"),
	}
}

// Describe implements prometheus.Collector.
func (c *stationCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.dials
	ch <- c.writes
}

// Collect implements prometheus.Collector. Remotes past the cap are summed under "other". A
// remote removed from the station disappears from the output (its counters go with its client).
func (c *stationCollector) Collect(ch chan<- prometheus.Metric) {
	type sum struct {
		pending       int64
		dials, writes uint64
	}
	sums := map[string]*sum{}
	for _, id := range c.st.Servers() {
		cl, err := c.st.Client(id)
		if err != nil {
			continue // removed meanwhile
		}
		label := id
		if c.remotes.lookup(id) == nil && c.remotes.len() >= c.remotes.max {
			label = OtherLabel // the call metrics have no room for it either
		}
		s := sums[label]
		if s == nil {
			s = &sum{}
			sums[label] = s
		}
		st := cl.Stats()
		s.pending += st.Pending
		s.dials += st.Dials
		s.writes += st.Writes
	}
	for label, s := range sums {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(s.pending), label)
		ch <- prometheus.MustNewConstMetric(c.dials, prometheus.CounterValue, float64(s.dials), label)
		ch <- prometheus.MustNewConstMetric(c.writes, prometheus.CounterValue, float64(s.writes), label)
	}
}

// newRPCServerCollector exports an RPC server's connections and writes.
func newRPCServerCollector(srv *rpc.Server) prometheus.Collector {
	type S = rpc.ServerStats
	return &funcCollector[S]{
		snap: func(s *S) bool { *s = srv.Stats(); return true },
		families: []family[S]{
			one("rpc_server_connections", "RPC client connections open on this server.", prometheus.GaugeValue,
				func(s *S) float64 { return float64(s.Conns) }),
			one("rpc_server_writes_total", "RPC server socket writes (each may carry many frames).", prometheus.CounterValue,
				func(s *S) float64 { return float64(s.Writes) }),
		},
	}
}
