package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shaddock-io/shaddock/engine"
)

// RouteObserver records one handled request or notify. It is the hook an application layer calls
// once per message; implementations must be safe for concurrent use and must not block.
type RouteObserver interface {
	ObserveRequest(route string, d time.Duration, failed bool)
}

// Result label values.
const (
	resultOK    = "ok"
	resultError = "error"
)

// Requests holds the per-route request metrics:
//
//	shaddock_request_duration_seconds{route}   histogram, arrival to the end of the pipeline
//	shaddock_requests_total{route,result}      result "ok" or "error"
//
// Route label values are the routes declared (Declare, Config.Routes, AddEngine) plus, through
// ObserveRequest, the first others seen, up to Config.MaxRoutes; the rest count as "other". The
// engine filter (Filter) records only declared routes, so that clients cannot create label
// values by sending made-up routes.
//
// Safe for concurrent use. Recording allocates nothing.
type Requests struct {
	latency *prometheus.HistogramVec
	total   *prometheus.CounterVec
	routes  *labelTable[routeObs]
}

// routeObs are the pre-resolved children of one route.
type routeObs struct {
	latency    prometheus.Observer
	ok, failed prometheus.Counter
}

var _ RouteObserver = (*Requests)(nil)

func newRequests(cfg Config) *Requests {
	r := &Requests{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "request_duration_seconds",
			Help:    "Time from a client message's arrival to the end of its pipeline (after filters, handler or forward, response handed off), by route.",
			Buckets: cfg.LatencyBuckets,
		}, []string{"route"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "requests_total",
			Help: "Client requests and notifies that went through the pipeline, by route and result (error: a filter, the handler or the forward failed).",
		}, []string{"route", "result"}),
	}
	r.routes = newLabelTable(cfg.MaxRoutes, func(route string) *routeObs {
		return &routeObs{
			latency: r.latency.WithLabelValues(route),
			ok:      r.total.WithLabelValues(route, resultOK),
			failed:  r.total.WithLabelValues(route, resultError),
		}
	})
	r.routes.addAll(cfg.Routes)
	return r
}

// Declare adds routes to the label values (up to Config.MaxRoutes). Idempotent.
func (r *Requests) Declare(routes ...string) { r.routes.addAll(routes) }

// ObserveRequest implements RouteObserver. A route not yet declared is added while there is
// room. A negative d counts the message without a duration.
func (r *Requests) ObserveRequest(route string, d time.Duration, failed bool) {
	r.routes.get(route).observe(d, failed)
}

// observeDeclared records under route if it was declared, else under "other".
func (r *Requests) observeDeclared(route string, d time.Duration, failed bool) {
	o := r.routes.lookup(route)
	if o == nil {
		o = r.routes.other
	}
	o.observe(d, failed)
}

// observe counts one message and, unless d is negative (unknown), its duration.
func (o *routeObs) observe(d time.Duration, failed bool) {
	if d >= 0 {
		o.latency.Observe(d.Seconds())
	}
	if failed {
		o.failed.Inc()
	} else {
		o.ok.Inc()
	}
}

// declareServer declares the routes of an engine server's App and dictionary.
func (r *Requests) declareServer(es *engine.Server) {
	routes := es.App().Routes()
	for _, name := range es.Dictionary().All() {
		routes = append(routes, name)
	}
	r.routes.addAll(routes)
}

// Describe implements prometheus.Collector.
func (r *Requests) Describe(ch chan<- *prometheus.Desc) {
	r.latency.Describe(ch)
	r.total.Describe(ch)
}

// Collect implements prometheus.Collector.
func (r *Requests) Collect(ch chan<- prometheus.Metric) {
	r.latency.Collect(ch)
	r.total.Collect(ch)
}

// Filter returns an engine filter that records every message of the servers it is registered on.
// Register it with App.GlobalAfter before the App's first NewServer; it declares the routes of
// the first server it sees (as AddEngine does), and records undeclared routes as "other".
//
// It makes the engine stamp each message on arrival (engine.StartStamper), which costs one clock
// read per message.
func (r *Requests) Filter() *RequestFilter { return &RequestFilter{r: r} }

// RequestFilter is an engine AfterFilter recording into Requests. Safe for concurrent use.
type RequestFilter struct {
	r        *Requests
	declared atomic.Bool
}

var (
	_ engine.AfterFilter  = (*RequestFilter)(nil)
	_ engine.StartStamper = (*RequestFilter)(nil)
)

// UsesStart implements engine.StartStamper.
func (f *RequestFilter) UsesStart() bool { return true }

// After implements engine.AfterFilter; it returns err unchanged.
func (f *RequestFilter) After(ctx *engine.Context, err error) error {
	if !f.declared.Load() {
		f.r.declareServer(ctx.Server())
		f.declared.Store(true)
	}
	d := time.Duration(-1) // not stamped: counted, not timed
	if start := ctx.Start(); !start.IsZero() {
		d = time.Since(start)
	}
	f.r.observeDeclared(ctx.Route(), d, err != nil)
	return err
}
