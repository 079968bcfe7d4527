package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/shaddock-io/shaddock/engine"
	"github.com/shaddock-io/shaddock/engine/cluster"
	"github.com/shaddock-io/shaddock/internal/admin"
	"github.com/shaddock-io/shaddock/internal/metrics"
	"github.com/shaddock-io/shaddock/rpc"
)

// adminEndpoint is this process's admin HTTP endpoint (pprof, /metrics, /stats.json and the
// dashboard), on when -admin is given. Its metrics follow the first frontend the process runs:
// per-route latency (a global after filter, so it sees every request the frontend answers,
// forwarded or not), sessions, pushes, the transport's counters and the server's RPC peers, and
// the RPC calls of every server in the process.
type adminEndpoint struct {
	set *metrics.Set
	srv *admin.Server
	log *slog.Logger

	mu       sync.Mutex
	attached bool // a frontend's engine server is exported; guarded by mu
}

// newAdminEndpoint registers the request filter on app (before any server is created) and
// builds the endpoint; nil when -admin is empty.
func newAdminEndpoint(f *flags, app *engine.App, log *slog.Logger) (*adminEndpoint, error) {
	if f.admin == "" {
		return nil, nil
	}
	set, err := metrics.New(metrics.Config{})
	if err != nil {
		return nil, err
	}
	if err := app.GlobalAfter(set.Requests().Filter()); err != nil {
		return nil, err
	}
	srv, err := admin.New(admin.Config{Addr: f.admin, AllowRemote: f.adminRemote, Title: "shaddock chat", Logger: log}, set.Registry())
	if err != nil {
		return nil, err
	}
	return &adminEndpoint{set: set, srv: srv, log: log}, nil
}

// newServer wraps the cluster's server factory: the first frontend created is exported, and
// every server's RPC calls, made and served, are counted and timed per remote.
func (a *adminEndpoint) newServer(app *engine.App, opts func(engine.ServerInfo) []engine.ServerOption) cluster.NewServerFunc {
	return func(self engine.ServerInfo, all []engine.ServerInfo) (cluster.Server, error) {
		o := append(opts(self),
			engine.WithRPCClientOptions(rpc.WithAfter(a.set.RPC().ClientFilter())),
			engine.WithRPCServerOptions(rpc.WithAfter(a.set.RPC().ServerFilter())))
		s, err := app.NewClusterServer(self, all, o...)
		if err != nil || !self.Frontend {
			return s, err
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.attached {
			return s, nil
		}
		a.attached = true
		if err := a.set.AddEngine(s); err != nil {
			return nil, err
		}
		if st := s.RPCStation(); st != nil {
			if err := a.set.AddRPCStation(st); err != nil {
				a.log.Warn("admin: RPC station metrics", "err", err)
			}
		}
		return s, nil
	}
}

func (a *adminEndpoint) start() error { return a.srv.Start() }

func (a *adminEndpoint) shutdown(ctx context.Context) error { return a.srv.Shutdown(ctx) }
