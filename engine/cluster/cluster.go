package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/shaddock-io/shaddock/engine"
)

// Errors.
var (
	ErrOptions       = errors.New("cluster: invalid options")
	ErrUnknownServer = errors.New("cluster: no such server in servers.json")
	ErrPortConflict  = errors.New("cluster: two servers use the same address")
	ErrArgs          = errors.New("cluster: bad key=value argument")
	ErrAllExited     = errors.New("cluster: every server process exited and none will be restarted")
)

// Mode says where the servers run.
type Mode uint8

// Modes.
const (
	// Embedded runs every selected server in this process (the default).
	Embedded Mode = iota
	// Master starts every selected server as its own process of the same binary and watches
	// them, as `pomelo start` does.
	Master
	// Single runs exactly one server (Options.ServerID): what a master starts.
	Single
)

var modeNames = [...]string{Embedded: "embedded", Master: "master", Single: "server"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode reads "embedded", "master" or "server".
func ParseMode(s string) (Mode, error) {
	for i, name := range modeNames {
		if s == name {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("%w: mode %q (want embedded, master or server)", ErrOptions, s)
}

// Server is one running server: *engine.Server satisfies it.
type Server interface {
	// Start listens (the client port of a frontend, the RPC port always) and returns once the
	// server accepts connections.
	Start() error
	// Shutdown stops the server; ctx bounds the wait for connections to close.
	Shutdown(ctx context.Context) error
}

// NewServerFunc creates the server self of a cluster whose members are all.
type NewServerFunc func(self engine.ServerInfo, all []engine.ServerInfo) (Server, error)

// Options configure Run. Servers is required; every other zero value is usable.
type Options struct {
	// Mode selects embedded (zero), master or single-server operation.
	Mode Mode
	// Env is the servers.json env; it is passed on to the servers a master starts.
	Env string
	// Servers lists every server of the env in servers.json order (engine.LoadServers). Every
	// server gets this whole list, whatever the filter, so that all processes route alike.
	Servers []engine.ServerInfo
	// Master is master.json's entry. Embedded and Master modes serve the control endpoint on
	// its port, on loopback (see the package doc); Port 0 means no control endpoint.
	Master engine.MasterInfo
	// ServerID is the server that Single mode runs.
	ServerID string
	// Types and IDs select the servers Embedded and Master modes start (pomelo's `-t type` and
	// `-i id`): a server starts when its type is in Types (or Types is empty) and its id is in
	// IDs (or IDs is empty). Unknown names are an error.
	Types, IDs []string

	// NewServer creates each server. Nil means app.NewClusterServer(self, all, ServerOptions(self)...).
	NewServer NewServerFunc
	// ServerOptions returns the options of the engine server self (default NewServer only).
	ServerOptions func(self engine.ServerInfo) []engine.ServerOption

	// Command is the executable a master starts for each server; "" means os.Executable().
	Command string
	// Args come first on each server's command line, before the key=value arguments that name
	// the server (the flags the program needs to find the same configuration, e.g. -config DIR).
	Args []string
	// Stdout and Stderr receive the servers' output (nil: this process's).
	Stdout, Stderr io.Writer
	// Restart is the policy for servers with auto-restart or restart-force.
	Restart RestartPolicy
	// StopTimeout is how long a stopping server may take: a master sends SIGTERM, then SIGKILL
	// after StopTimeout; an in-process server's Shutdown gets StopTimeout. Zero means 10 s.
	StopTimeout time.Duration

	// Ready, if set, is called once, when every selected server has started (in Master mode:
	// when each server process reported that it listens).
	Ready func()
	// Logger receives the cluster's logs; nil means slog.Default().
	Logger *slog.Logger
}

// RestartPolicy bounds how a master restarts a server process that exited by itself. The zero
// value means the defaults.
type RestartPolicy struct {
	// Delay is the wait before the first restart (default 500 ms); it doubles with each restart
	// still within Window of the previous ones, up to MaxDelay (default 30 s).
	Delay, MaxDelay time.Duration
	// Limit is how many restarts are allowed within Window (defaults 5 and 1 min); a server that
	// needs more is given up (state "failed").
	Limit  int
	Window time.Duration
}

func (p RestartPolicy) withDefaults() RestartPolicy {
	if p.Delay <= 0 {
		p.Delay = 500 * time.Millisecond
	}
	if p.MaxDelay < p.Delay {
		p.MaxDelay = max(30*time.Second, p.Delay)
	}
	if p.Limit <= 0 {
		p.Limit = 5
	}
	if p.Window <= 0 {
		p.Window = time.Minute
	}
	return p
}

// Run runs the cluster of app described by opts until ctx is done (a program cancels it on
// SIGINT and SIGTERM, e.g. with signal.NotifyContext) or the control endpoint asks it to stop,
// then stops every server it started and returns. It returns an error if the options are
// invalid, if a server does not start (Embedded and Single modes; the servers already started
// are stopped), or, in Master mode, when every server process has exited for good.
func Run(ctx context.Context, app *engine.App, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 10 * time.Second
	}
	opts.Restart = opts.Restart.withDefaults()
	if opts.NewServer == nil && opts.Mode != Master { // a master runs no server itself
		if app == nil {
			return fmt.Errorf("%w: no App and no NewServer", ErrOptions)
		}
		opts.NewServer = engineServer(app, opts.ServerOptions)
	}
	if len(opts.Servers) == 0 {
		return fmt.Errorf("%w: no servers", ErrOptions)
	}
	switch opts.Mode {
	case Embedded, Master:
		sel, err := Select(opts.Servers, opts.Types, opts.IDs)
		if err != nil {
			return err
		}
		if err := checkAddrs(sel); err != nil {
			return err
		}
		if opts.Mode == Master {
			return runMaster(ctx, opts, sel)
		}
		return runEmbedded(ctx, opts, sel)
	case Single:
		i := slices.IndexFunc(opts.Servers, func(si engine.ServerInfo) bool { return si.ID == opts.ServerID })
		if i < 0 {
			return fmt.Errorf("%w: server %q", ErrUnknownServer, opts.ServerID)
		}
		return runSingle(ctx, opts, opts.Servers[i])
	}
	return fmt.Errorf("%w: %v", ErrOptions, opts.Mode)
}

// Select returns the servers of all whose type is in types (or types is empty) and whose id is
// in ids (or ids is empty), in all's order. A type or id that matches no server is an error, and
// so is an empty result.
func Select(all []engine.ServerInfo, types, ids []string) ([]engine.ServerInfo, error) {
	for _, t := range types {
		if !slices.ContainsFunc(all, func(si engine.ServerInfo) bool { return si.Type == t }) {
			return nil, fmt.Errorf("%w: type %q", ErrUnknownServer, t)
		}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(all, func(si engine.ServerInfo) bool { return si.ID == id }) {
			return nil, fmt.Errorf("%w: id %q", ErrUnknownServer, id)
		}
	}
	var out []engine.ServerInfo
	for _, si := range all {
		if (len(types) == 0 || slices.Contains(types, si.Type)) && (len(ids) == 0 || slices.Contains(ids, si.ID)) {
			out = append(out, si)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no server is both of types %q and among ids %q", ErrUnknownServer, types, ids)
	}
	return out, nil
}

// checkAddrs refuses two selected servers listening on the same port (port 0, "any free port",
// never conflicts). Hosts are compared as written; a port is taken once per port number when
// either host is a wildcard.
func checkAddrs(sel []engine.ServerInfo) error {
	type use struct{ host, what string }
	byPort := make(map[int][]use)
	add := func(host string, port int, what string) error {
		if port == 0 {
			return nil
		}
		for _, u := range byPort[port] {
			if u.host == host || isWildcard(u.host) || isWildcard(host) {
				return fmt.Errorf("%w: %s and %s both on port %d", ErrPortConflict, u.what, what, port)
			}
		}
		byPort[port] = append(byPort[port], use{host, what})
		return nil
	}
	for _, si := range sel {
		if err := add(si.Host, si.Port, si.ID+" (rpc)"); err != nil {
			return err
		}
		if si.Frontend {
			host := si.ClientHost
			if host == "" {
				host = si.Host
			}
			if err := add(host, si.ClientPort, si.ID+" (clients)"); err != nil {
				return err
			}
		}
	}
	return nil
}

func isWildcard(host string) bool {
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// Status is what the control endpoint reports (GET /status).
type Status struct {
	Env     string         `json:"env"`
	Mode    string         `json:"mode"`
	Master  MasterStatus   `json:"master"`
	Servers []ServerStatus `json:"servers"`
}

// MasterStatus describes the process serving the control endpoint.
type MasterStatus struct {
	ID  string `json:"id"`
	PID int    `json:"pid"`
}

// ServerStatus describes one selected server.
type ServerStatus struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	State State  `json:"state"`
	// PID is the server's process (this process in Embedded mode; 0 when not running).
	PID int `json:"pid"`
	// Restarts counts the restarts of the server's process by the master.
	Restarts int `json:"restarts"`
	// Since is when the server entered State.
	Since time.Time `json:"since"`
	// LastExit describes how the last process exited ("" before any exit).
	LastExit string `json:"lastExit,omitempty"`
}

// State is a server's lifecycle state.
type State string

// States.
const (
	StateStarting   State = "starting"   // being started; not listening yet
	StateRunning    State = "running"    // listening
	StateRestarting State = "restarting" // exited by itself; restart pending (backoff)
	StateStopping   State = "stopping"   // asked to stop
	StateStopped    State = "stopped"    // stopped on request
	StateExited     State = "exited"     // exited by itself; no auto-restart
	StateFailed     State = "failed"     // exited too often; given up
)

// terminal reports whether no process will run for the server any more.
func (s State) terminal() bool { return s == StateStopped || s == StateExited || s == StateFailed }

func statusOf(opts *Options) Status {
	return Status{Env: opts.Env, Mode: opts.Mode.String(), Master: MasterStatus{ID: opts.Master.ID, PID: os.Getpid()}}
}
