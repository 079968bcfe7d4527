package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shaddock-io/shaddock/engine"
)

// Environment variables a master sets for the server processes it starts.
const (
	// EnvReadyFD names the file descriptor on which a server process writes "ready\n" once it
	// listens.
	EnvReadyFD = "SHADDOCK_CLUSTER_READY_FD"
	// EnvMasterPID holds the master's process id; a server process whose parent is no longer
	// that process stops.
	EnvMasterPID = "SHADDOCK_CLUSTER_MASTER_PID"
)

// parentPoll is how often a server process checks that its master is alive.
const parentPoll = 250 * time.Millisecond

// inproc holds the servers of this process (Embedded and Single modes).
type inproc struct {
	opts *Options
	mu   sync.Mutex // guards the status and servers entries of every member
	mems []*member
}

type member struct {
	info   engine.ServerInfo
	srv    Server // nil once stopped
	status ServerStatus
}

func newInproc(opts *Options, sel []engine.ServerInfo) *inproc {
	p := &inproc{opts: opts}
	now := time.Now()
	for _, si := range sel {
		p.mems = append(p.mems, &member{info: si,
			status: ServerStatus{ID: si.ID, Type: si.Type, State: StateStarting, Since: now}})
	}
	return p
}

// start creates and starts every server, the frontends first, each group in servers.json
// order; on the first failure it stops the ones started and returns the error. Frontends go
// first (no longer required: kept from when the transports shared netpoll state).
func (p *inproc) start() error {
	order := slices.Clone(p.mems)
	slices.SortStableFunc(order, func(a, b *member) int { return cmpBool(b.info.Frontend, a.info.Frontend) })
	for _, m := range order {
		srv, err := p.opts.NewServer(m.info, p.opts.Servers)
		if err == nil {
			err = srv.Start()
			if err != nil {
				p.shutdownOne(srv)
			}
		}
		if err != nil {
			p.stopAll()
			return fmt.Errorf("cluster: start %s: %w", m.info.ID, err)
		}
		p.mu.Lock()
		m.srv = srv
		m.status.State, m.status.PID, m.status.Since = StateRunning, os.Getpid(), time.Now()
		p.mu.Unlock()
		p.opts.Logger.Info("cluster: server started", "id", m.info.ID, "type", m.info.Type,
			"rpc", m.info.RPCAddr(), "clients", clientAddr(m.info))
	}
	return nil
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func clientAddr(si engine.ServerInfo) string {
	if !si.Frontend {
		return ""
	}
	return si.ClientAddr()
}

func (p *inproc) shutdownOne(srv Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.StopTimeout)
	defer cancel()
	return srv.Shutdown(ctx)
}

// stop stops one server (id) or, with id "", every server: frontends first, so that no request
// arrives for a backend that is gone, then the others, each group in parallel.
func (p *inproc) stop(id string) error {
	var errs []error
	for _, frontends := range []bool{true, false} {
		var wg sync.WaitGroup
		var emu sync.Mutex
		for _, m := range p.mems {
			if m.info.Frontend != frontends || (id != "" && m.info.ID != id) {
				continue
			}
			p.mu.Lock()
			srv := m.srv
			m.srv = nil
			if srv != nil {
				m.status.State, m.status.Since = StateStopping, time.Now()
			}
			p.mu.Unlock()
			if srv == nil {
				continue
			}
			wg.Go(func() {
				err := p.shutdownOne(srv)
				p.mu.Lock()
				m.status.State, m.status.PID, m.status.Since = StateStopped, 0, time.Now()
				p.mu.Unlock()
				if err != nil {
					emu.Lock()
					errs = append(errs, fmt.Errorf("cluster: stop %s: %w", m.info.ID, err))
					emu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	return errors.Join(errs...)
}

func (p *inproc) stopAll() error { return p.stop("") }

// Status implements controller.
func (p *inproc) Status() Status {
	st := statusOf(p.opts)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.mems {
		st.Servers = append(st.Servers, m.status)
	}
	return st
}

// StopServer implements controller.
func (p *inproc) StopServer(id string) error {
	for _, m := range p.mems {
		if m.info.ID == id {
			return p.stop(id)
		}
	}
	return fmt.Errorf("%w: %q is not run here", ErrUnknownServer, id)
}

// runEmbedded runs sel in this process until ctx is done or the control endpoint says stop.
func runEmbedded(ctx context.Context, opts Options, sel []engine.ServerInfo) error {
	p := newInproc(&opts, sel)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	ctl, err := serveControl(&opts, p, stop)
	if err != nil {
		return err
	}
	defer closeControl(ctl)
	if err := p.start(); err != nil {
		return err
	}
	if opts.Ready != nil {
		opts.Ready()
	}
	<-ctx.Done()
	opts.Logger.Info("cluster: stopping", "servers", len(sel))
	return p.stopAll()
}

// runSingle runs one server: what a master starts. It reports readiness on the descriptor named
// by EnvReadyFD and stops when its master is gone.
func runSingle(ctx context.Context, opts Options, self engine.ServerInfo) error {
	p := newInproc(&opts, []engine.ServerInfo{self})
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := p.start(); err != nil {
		return err
	}
	if err := reportReady(); err != nil {
		opts.Logger.Warn("cluster: cannot report readiness to the master", "err", err)
	}
	if opts.Ready != nil {
		opts.Ready()
	}
	if pid, err := strconv.Atoi(os.Getenv(EnvMasterPID)); err == nil && pid > 0 {
		go watchParent(ctx, pid, stop, &opts)
	}
	<-ctx.Done()
	return p.stopAll()
}

// reportReady writes "ready\n" to the descriptor EnvReadyFD names, if any, and closes it.
func reportReady() error {
	v := os.Getenv(EnvReadyFD)
	if v == "" {
		return nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return fmt.Errorf("%w: %s=%q", ErrArgs, EnvReadyFD, v)
	}
	f := os.NewFile(uintptr(fd), "ready")
	if f == nil {
		return fmt.Errorf("%w: %s=%q is not open", ErrArgs, EnvReadyFD, v)
	}
	defer f.Close()
	_, err = f.WriteString("ready\n")
	return err
}

// watchParent cancels the process's run when its parent is no longer the master pid (the
// master died and the process was re-parented). On Linux the kernel also kills a master's
// children (Pdeathsig); this covers the other systems.
func watchParent(ctx context.Context, pid int, stop context.CancelFunc, opts *Options) {
	t := time.NewTicker(parentPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != pid {
				opts.Logger.Warn("cluster: master is gone, stopping", "master", pid)
				stop()
				return
			}
		}
	}
}

// closeControl closes the control endpoint, if any.
func closeControl(srv *http.Server) {
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
