package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server errors.
var (
	ErrStarted   = errors.New("admin: server already started")
	ErrNoMetrics = errors.New("admin: nil Gatherer")
)

// Server is the admin HTTP endpoint: pprof, Prometheus metrics, a JSON snapshot and the live
// dashboard, on its own mux (never http.DefaultServeMux) and its own listener.
//
// All methods are safe for concurrent use.
type Server struct {
	cfg     Config
	g       prometheus.Gatherer
	handler http.Handler
	started time.Time // New's time: the dashboard's uptime

	mu      sync.Mutex // guards the fields below
	hs      *http.Server
	ln      net.Listener
	done    chan struct{} // closed by the serving goroutine (its only closer) when Serve returns
	stopped bool          // Shutdown ran
}

// New validates cfg and builds the endpoint over g (usually metrics.Set.Registry()). Nothing
// listens until Start.
func New(cfg Config, g prometheus.Gatherer) (*Server, error) {
	if g == nil {
		return nil, ErrNoMetrics
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg.withDefaults(), g: g, started: time.Now()}
	s.handler = s.routes()
	return s, nil
}

// routes builds the mux.
//
//	GET /                 the dashboard (embedded HTML, no external resources)
//	GET /stats.json       the dashboard's snapshot
//	GET /metrics          Prometheus text exposition
//	    /debug/pprof/...  net/http/pprof: index, named profiles, profile, trace, cmdline, symbol
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveDashboard)
	mux.HandleFunc("GET /stats.json", s.serveStats)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.g, promhttp.HandlerOpts{
		ErrorLog:            slogAdapter{s.cfg.Logger},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves /debug/pprof/<profile name>
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", s.limitSeconds(pprof.Profile))
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", s.limitSeconds(pprof.Trace))
	return mux
}

// limitSeconds refuses profile and trace requests longer than MaxProfile.
func (s *Server) limitSeconds(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if v := r.FormValue("seconds"); v != "" {
			sec, err := strconv.ParseFloat(v, 64)
			if err != nil || sec <= 0 || time.Duration(sec*float64(time.Second)) > s.cfg.MaxProfile {
				http.Error(w, "seconds must be > 0 and at most "+s.cfg.MaxProfile.String(), http.StatusBadRequest)
				return
			}
		}
		h(w, r)
	}
}

// Handler returns the endpoint's handler, for tests or to mount it elsewhere.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on Config.Addr (loopback unless AllowRemote) and serves in a goroutine; listen
// errors are returned. With an empty Addr it does nothing and returns nil.
func (s *Server) Start() error {
	if !s.cfg.Enabled() {
		return nil
	}
	addr, err := s.cfg.listenAddr()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hs != nil {
		return ErrStarted
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if !s.cfg.AllowRemote && !isLoopback(ln.Addr()) {
		ln.Close()
		return ErrRemoteNotAllowed
	}
	s.hs = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	s.ln, s.done = ln, make(chan struct{})
	hs, done := s.hs, s.done
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Error("admin: serve failed", "addr", ln.Addr().String(), "err", err)
		}
	}()
	s.cfg.Logger.Info("admin: serving", "addr", ln.Addr().String())
	return nil
}

// slogAdapter gives promhttp a logger.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Println(v ...any) { a.l.Warn("admin: metrics: " + fmt.Sprint(v...)) }

// isLoopback reports whether a is a loopback TCP address.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// Addr returns the listening address once started, else nil.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown stops listening, waits for requests in progress (a CPU profile runs for its
// duration) until ctx ends, then closes what is left. It returns ctx's error if ctx ended first.
// Safe to call more than once, and before Start.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	hs, done, again := s.hs, s.done, s.stopped
	s.stopped = true
	s.mu.Unlock()
	if hs == nil || again {
		return nil
	}
	err := hs.Shutdown(ctx)
	if err != nil {
		hs.Close()
	}
	<-done
	return err
}
