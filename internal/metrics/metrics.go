package metrics

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/shaddock-io/shaddock/engine"
	"github.com/shaddock-io/shaddock/hybrid"
	"github.com/shaddock-io/shaddock/rpc"
)

// Namespace prefixes every metric this package defines.
const Namespace = "shaddock"

// Defaults applied to zero Config fields.
const (
	DefaultMaxRoutes      = 512
	DefaultMaxRemotes     = 256
	DefaultSampleInterval = 500 * time.Millisecond
)

// OtherLabel is the label value that stands for every route or remote past the cap, or not
// declared (see Requests).
const OtherLabel = "other"

// DefaultLatencyBuckets are the upper bounds, in seconds, of the request and RPC latency
// histograms: 50 µs to 5 s, about three per decade, dense below 10 ms where game handlers live.
var DefaultLatencyBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
}

// ErrConfig wraps every error returned by Config.Validate.
var ErrConfig = errors.New("metrics: invalid config")

// Config configures a Set. The zero value is valid.
type Config struct {
	// LatencyBuckets are the histogram upper bounds in seconds, strictly increasing and positive.
	// Nil means DefaultLatencyBuckets.
	LatencyBuckets []float64
	// MaxRoutes caps the distinct route label values (OtherLabel takes the rest). Zero means
	// DefaultMaxRoutes.
	MaxRoutes int
	// MaxRemotes caps the distinct RPC peer label values. Zero means DefaultMaxRemotes.
	MaxRemotes int
	// SampleInterval is the shortest time between two walks over the sessions (sessions by
	// transport, outbound queue depth): scrapes that come sooner reuse the last walk. Zero means
	// DefaultSampleInterval.
	SampleInterval time.Duration
	// Routes are declared up front, in addition to the routes AddEngine finds in the App and its
	// dictionary: typically routes of other server types that this process only forwards.
	Routes []string
}

// Validate reports whether c is usable, wrapping ErrConfig.
func (c *Config) Validate() error {
	switch {
	case c.MaxRoutes < 0, c.MaxRemotes < 0, c.SampleInterval < 0:
		return fmt.Errorf("%w: negative limit", ErrConfig)
	case c.LatencyBuckets != nil && len(c.LatencyBuckets) == 0:
		return fmt.Errorf("%w: empty LatencyBuckets", ErrConfig)
	}
	for i, b := range c.LatencyBuckets {
		if b <= 0 || (i > 0 && b <= c.LatencyBuckets[i-1]) {
			return fmt.Errorf("%w: LatencyBuckets must be positive and strictly increasing", ErrConfig)
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.LatencyBuckets == nil {
		c.LatencyBuckets = DefaultLatencyBuckets
	}
	c.LatencyBuckets = slices.Clone(c.LatencyBuckets)
	if c.MaxRoutes == 0 {
		c.MaxRoutes = DefaultMaxRoutes
	}
	if c.MaxRemotes == 0 {
		c.MaxRemotes = DefaultMaxRemotes
	}
	if c.SampleInterval == 0 {
		c.SampleInterval = DefaultSampleInterval
	}
	return c
}

// Set is the metrics of one server process: a private registry (never the global one) holding the
// Go runtime and process collectors, the request and RPC histograms, and the collectors added for
// the transport, the engine and the RPC layer.
//
// Add* methods are meant for start-up; all methods are safe for concurrent use.
type Set struct {
	cfg      Config
	reg      *prometheus.Registry
	requests *Requests
	rpc      *RPC
}

// New returns a Set with the Go runtime collector (including GC pause and scheduler latency), the
// process collector, and the request and RPC metric families, registered on a new registry.
func New(cfg Config) (*Set, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Set{cfg: cfg, reg: prometheus.NewRegistry()}
	s.requests = newRequests(cfg)
	s.rpc = newRPC(cfg)
	goc := collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
		collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/sched/latencies:seconds$`)}))
	for _, c := range []prometheus.Collector{
		goc,
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		s.requests,
		s.rpc,
	} {
		if err := s.reg.Register(c); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Registry returns the Set's registry, to gather from (the admin server's /metrics) or to
// register more collectors on.
func (s *Set) Registry() *prometheus.Registry { return s.reg }

// Requests returns the per-route request metrics.
func (s *Set) Requests() *Requests { return s.requests }

// RPC returns the RPC metrics.
func (s *Set) RPC() *RPC { return s.rpc }

// AddTransport exports a hybrid connector's counters. stats is called at every scrape and may
// return nil while the transport does not exist yet: the counters then read zero. Add one
// transport per Set.
func (s *Set) AddTransport(stats func() *hybrid.Stats) error {
	if stats == nil {
		return fmt.Errorf("%w: nil transport stats", ErrConfig)
	}
	return s.reg.Register(newTransportCollector(stats))
}

// AddEngine exports an engine server's counters, its sessions (by transport, with their outbound
// queue depth when the connections report it), its push scheduler, and its transport (the
// engine creates the hybrid server on Serve; until then the transport counters read zero). It
// also declares the App's routes and dictionary entries for the request metrics.
//
// Register Requests().Filter() on the App (GlobalAfter) before creating the server so that
// request latency is measured.
func (s *Set) AddEngine(es *engine.Server) error {
	if es == nil {
		return fmt.Errorf("%w: nil engine server", ErrConfig)
	}
	s.requests.declareServer(es)
	err := s.AddTransport(func() *hybrid.Stats {
		if hs := es.Transport(); hs != nil {
			return hs.Stats()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.reg.Register(newEngineCollector(es, s.cfg.SampleInterval))
}

// AddRPCStation exports, per remote server, the calls in flight, connection attempts and socket
// writes of a Station's clients. Add one station per Set.
func (s *Set) AddRPCStation(st *rpc.Station) error {
	if st == nil {
		return fmt.Errorf("%w: nil station", ErrConfig)
	}
	return s.reg.Register(newStationCollector(st, s.rpc.remotes))
}

// AddRPCServer exports an RPC server's connection count and socket writes. Add one per Set.
func (s *Set) AddRPCServer(srv *rpc.Server) error {
	if srv == nil {
		return fmt.Errorf("%w: nil RPC server", ErrConfig)
	}
	return s.reg.Register(newRPCServerCollector(srv))
}
