// Package admin is the operator's HTTP endpoint of a Shaddock server: profiles, metrics and a
// live dashboard, for when a game misbehaves in production.
//
//	GET /                  dashboard: one embedded HTML page (inline CSS and JS, charts drawn on
//	                       <canvas>, no external resource, CSP default-src 'none'), refreshed
//	                       every second from stats.json
//	GET /stats.json        Snapshot: the registry summarised for the dashboard
//	GET /metrics           Prometheus text exposition (promhttp over the Set's own registry)
//	    /debug/pprof/      net/http/pprof index and named profiles (heap, goroutine, allocs, ...)
//	    /debug/pprof/profile?seconds=N   CPU profile   (N at most Config.MaxProfile)
//	    /debug/pprof/trace?seconds=N     execution trace (idem)
//	    /debug/pprof/cmdline, /debug/pprof/symbol
//
// # Safety
//
// The endpoint is OFF unless Config.Addr is set. It listens on loopback unless AllowRemote is
// set: a host-less address (":9100") binds 127.0.0.1, and any other non-loopback host is refused
// (ErrRemoteNotAllowed), because the endpoint hands out heap and goroutine dumps and the command
// line, and a profile costs CPU. The handlers live on the Server's own mux, never on
// http.DefaultServeMux; note that importing net/http/pprof also registers its handlers on
// http.DefaultServeMux (in its init), so the process must not serve DefaultServeMux anywhere.
//
// # Data flow
//
// Both /metrics and /stats.json are computed from one Gather of the same registry, so the
// dashboard and Prometheus never disagree. stats.json carries cumulative counters, gauges and the
// latency histograms' cumulative buckets; the page keeps two minutes of snapshots and derives
// rates (delta over the snapshots' own timestamps) and per-route p50/p99 (histogram deltas over
// the last ten seconds, interpolated within buckets as Prometheus' histogram_quantile does). The
// server keeps no per-viewer state.
//
// # Ownership
//
// A Server owns its listener and http.Server (guarded by mu); the serving goroutine is started by
// Start and is the only closer of done. Shutdown waits for it.
package admin
