package admin

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Snapshot is the body of /stats.json: the dashboard's view of the registry, taken from the same
// Gather that /metrics serves, so the two never disagree. Counters are cumulative (the dashboard
// derives rates from two snapshots and T); a key is missing when its metric is not exported.
type Snapshot struct {
	Version int                `json:"v"`      // schema version, 1
	Title   string             `json:"title"`  // Config.Title
	T       int64              `json:"t"`      // when it was taken, Unix milliseconds
	Uptime  float64            `json:"up"`     // seconds since the endpoint was created
	Gauges  map[string]float64 `json:"g"`      // current values
	Counts  map[string]float64 `json:"c"`      // cumulative counters
	LE      []float64          `json:"le"`     // latency histogram upper bounds, seconds
	Routes  []Series           `json:"routes"` // per route, requests seen only
	RPC     []Series           `json:"rpc"`    // per remote server, calls seen only
}

// Series is one route's or remote's cumulative request count, error count and latency histogram
// (cumulative bucket counts, aligned with Snapshot.LE; the +Inf bucket is N).
type Series struct {
	Name    string    `json:"r"`
	N       float64   `json:"n"`
	Errors  float64   `json:"e"`
	Pending float64   `json:"p,omitempty"`
	Buckets []float64 `json:"b"`
}

// families indexes gathered metric families by name.
type families map[string]*dto.MetricFamily

// maybe is a value that may be missing (its metric family is not exported).
type maybe struct {
	v  float64
	ok bool
}

// sum adds the values of the samples of family name whose labels match every key=value pair
// of match (given as alternating keys and values).
func (f families) sum(name string, match ...string) maybe {
	mf := f[name]
	if mf == nil {
		return maybe{}
	}
	var v float64
	for _, m := range mf.GetMetric() {
		if matches(m, match) {
			v += valueOf(m)
		}
	}
	return maybe{v, true}
}

// sumExcept is sum over the samples whose label key is not value.
func (f families) sumExcept(name, key, value string) maybe {
	mf := f[name]
	if mf == nil {
		return maybe{}
	}
	var v float64
	for _, m := range mf.GetMetric() {
		if label(m, key) != value {
			v += valueOf(m)
		}
	}
	return maybe{v, true}
}

func matches(m *dto.Metric, match []string) bool {
	for i := 0; i+1 < len(match); i += 2 {
		if label(m, match[i]) != match[i+1] {
			return false
		}
	}
	return true
}

func label(m *dto.Metric, key string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == key {
			return lp.GetValue()
		}
	}
	return ""
}

// valueOf returns a counter's, gauge's or untyped metric's value, or a summary's or histogram's
// sample count.
func valueOf(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	case m.Summary != nil:
		return float64(m.Summary.GetSampleCount())
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// put stores m under key when it is there.
func put(dst map[string]float64, key string, m maybe) {
	if m.ok {
		dst[key] = m.v
	}
}

// snapshot gathers the registry and summarises it.
func (s *Server) snapshot() (*Snapshot, error) {
	mfs, err := s.g.Gather()
	if err != nil && len(mfs) == 0 {
		return nil, err
	}
	f := make(families, len(mfs))
	for _, mf := range mfs {
		f[mf.GetName()] = mf
	}
	now := time.Now()
	snap := &Snapshot{Version: 1, Title: s.cfg.Title, T: now.UnixMilli(), Uptime: now.Sub(s.started).Seconds(),
		Gauges: map[string]float64{}, Counts: map[string]float64{}, Routes: []Series{}, RPC: []Series{}}
	g, c := snap.Gauges, snap.Counts

	put(g, "conns", f.sum("shaddock_connections"))
	put(g, "sessions", f.sum("shaddock_sessions"))
	for _, t := range []string{"tcp", "ws", "tls", "wss"} {
		put(g, "sess_"+t, f.sum("shaddock_sessions", "transport", t))
	}
	put(g, "queue_bytes", f.sum("shaddock_outbound_queue_bytes"))
	put(g, "queue_bytes_max", f.sum("shaddock_outbound_queue_bytes_max"))
	put(g, "queue_pkts", f.sum("shaddock_outbound_queue_packages"))
	put(g, "queue_pkts_max", f.sum("shaddock_outbound_queue_packages_max"))
	put(g, "rpc_pending", f.sum("shaddock_rpc_pending_calls"))
	put(g, "goroutines", f.sum("go_goroutines"))
	put(g, "threads", f.sum("go_threads"))
	put(g, "heap", f.sum("go_memstats_heap_alloc_bytes"))
	put(g, "heap_sys", f.sum("go_memstats_heap_sys_bytes"))
	put(g, "rss", f.sum("process_resident_memory_bytes"))

	put(c, "accepted", f.sum("shaddock_connections_accepted_total"))
	put(c, "rejected", f.sum("shaddock_connections_rejected_total"))
	put(c, "hs_ok", f.sum("shaddock_handshakes_total", "code", "200"))
	if refused := f.sumExcept("shaddock_handshakes_total", "code", "200"); refused.ok {
		c["hs_fail"] = refused.v + f.sum("shaddock_handshake_failures_total", "reason", "tls").v +
			f.sum("shaddock_handshake_failures_total", "reason", "ws_upgrade").v +
			f.sum("shaddock_timeouts_total", "kind", "handshake").v
	}
	put(c, "pkg_in", f.sum("shaddock_packages_total", "direction", "in"))
	put(c, "pkg_out", f.sum("shaddock_packages_total", "direction", "out"))
	put(c, "bytes_in", f.sum("shaddock_transport_bytes_total", "direction", "in"))
	put(c, "bytes_out", f.sum("shaddock_transport_bytes_total", "direction", "out"))
	put(c, "req", f.sum("shaddock_requests_total"))
	put(c, "req_err", f.sum("shaddock_requests_total", "result", "error"))
	put(c, "pushes", f.sum("shaddock_pushes_total"))
	put(c, "deliveries", f.sum("shaddock_push_deliveries_total"))
	put(c, "drops", f.sum("shaddock_outbound_dropped_packages_total"))
	put(c, "overflow_kicks", f.sum("shaddock_outbound_overflow_kicks_total"))
	put(c, "hb_timeouts", f.sum("shaddock_timeouts_total", "kind", "heartbeat"))
	put(c, "idle_timeouts", f.sum("shaddock_timeouts_total", "kind", "idle"))
	put(c, "proto_err", f.sum("shaddock_protocol_errors_total"))
	put(c, "write_fail", f.sum("shaddock_write_failures_total"))
	put(c, "kicks", f.sum("shaddock_kicks_total"))
	put(c, "rpc_calls", f.sum("shaddock_rpc_calls_total"))
	put(c, "rpc_err", f.sumExcept("shaddock_rpc_calls_total", "result", "ok"))
	put(c, "cpu", f.sum("process_cpu_seconds_total"))
	if mf := f["go_gc_duration_seconds"]; mf != nil && len(mf.GetMetric()) > 0 && mf.GetMetric()[0].Summary != nil {
		sm := mf.GetMetric()[0].Summary
		c["gc_count"] = float64(sm.GetSampleCount())
		c["gc_pause_sum"] = sm.GetSampleSum()
		for _, q := range sm.GetQuantile() {
			if q.GetQuantile() == 1 {
				g["gc_pause_max"] = q.GetValue()
			}
		}
	}

	snap.LE, snap.Routes = histograms(f, "shaddock_request_duration_seconds", "shaddock_requests_total", "route", "result", "ok")
	var le []float64
	le, snap.RPC = histograms(f, "shaddock_rpc_call_duration_seconds", "shaddock_rpc_calls_total", "remote", "result", "ok")
	if snap.LE == nil {
		snap.LE = le
	}
	if snap.LE == nil {
		snap.LE = []float64{}
	}
	for i := range snap.RPC {
		snap.RPC[i].Pending = f.sum("shaddock_rpc_pending_calls", "remote", snap.RPC[i].Name).v
	}
	return snap, nil
}

// histograms returns, for each value of key with at least one request, its count and errors
// (from the counter family, where result != ok) and its latency buckets (from the histogram
// family), busiest first.
func histograms(f families, hist, counter, key, resultKey, okValue string) ([]float64, []Series) {
	var le []float64
	byName := map[string]*Series{}
	get := func(name string) *Series {
		s := byName[name]
		if s == nil {
			s = &Series{Name: name}
			byName[name] = s
		}
		return s
	}
	if mf := f[counter]; mf != nil {
		for _, m := range mf.GetMetric() {
			s := get(label(m, key))
			s.N += valueOf(m)
			if label(m, resultKey) != okValue {
				s.Errors += valueOf(m)
			}
		}
	}
	if mf := f[hist]; mf != nil {
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			if h == nil {
				continue
			}
			if le == nil {
				for _, b := range h.GetBucket() {
					le = append(le, b.GetUpperBound())
				}
			}
			s := get(label(m, key))
			if s.N == 0 {
				s.N = float64(h.GetSampleCount()) // no counter family: the histogram counts
			}
			s.Buckets = s.Buckets[:0]
			for _, b := range h.GetBucket() {
				s.Buckets = append(s.Buckets, float64(b.GetCumulativeCount()))
			}
		}
	}
	out := make([]Series, 0, len(byName))
	for _, s := range byName {
		if s.N > 0 {
			if s.Buckets == nil {
				s.Buckets = []float64{}
			}
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b Series) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return le, out
}

// serveStats writes the snapshot as JSON.
func (s *Server) serveStats(w http.ResponseWriter, _ *http.Request) {
	snap, err := s.snapshot()
	if err != nil {
		http.Error(w, "gather: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(snap)
}
