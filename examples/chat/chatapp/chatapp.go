package chatapp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"time"

	"github.com/shaddock-io/shaddock/codec/pomelopb"
	"github.com/shaddock-io/shaddock/dict"
	"github.com/shaddock-io/shaddock/engine"
	"github.com/shaddock-io/shaddock/scheduler"
)

// Connector options of the demo (its app.js).
const (
	Heartbeat = 3 * time.Second
	// FrontendType is the server type the demo's frontends run.
	FrontendType = "connector"
)

// Config selects what to start. The zero value is not usable: Files is required.
type Config struct {
	// Files holds the pomelo configuration directory (servers.json, master.json,
	// dictionary.json, clientProtos.json, serverProtos.json).
	Files fs.FS
	// Env is the servers.json env; "" means "development".
	Env string
	// ServerID selects the connector that Demo.Connector names (and that Addr and the options
	// given to New apply to); "" means the first frontend of the env.
	ServerID string
	// Addr overrides that connector's clientHost:clientPort (e.g. "127.0.0.1:0" for a free port).
	Addr string
	// FreePorts makes every server listen on free loopback ports (RPC, and clients for the other
	// frontends) instead of those of servers.json, so that tests can run side by side.
	FreePorts bool
	// Scheduler is the push scheduler of the frontends (zero: direct).
	Scheduler scheduler.Config
	// UseCrypto turns on pomelo's useCrypto (clients must sign their messages; the demo's
	// pomelo-protobuf routes cannot carry a signature, as in pomelo).
	UseCrypto bool
	// RPC configures the server-to-server transport (zero: pomelo's 30 s timeout).
	RPC engine.RPCConfig
	// Logger receives the logs; nil means slog.Default().
	Logger *slog.Logger
}

// Demo is the chat demo's cluster running in this process: every server of the env, each
// created with engine.App.NewClusterServer, talking over loopback RPC.
type Demo struct {
	App       *engine.App
	Connector *engine.Server // the selected frontend
	Info      engine.ServerInfo
	Master    engine.MasterInfo // from master.json
	Servers   []*engine.Server  // every server, in servers.json order
	Infos     []engine.ServerInfo
	Remotes   *Remotes // chatRemote's handles
}

// LoadApp reads dictionary.json and the proto descriptions from files and returns the App with
// everything of the demo registered (see Register).
func LoadApp(files fs.FS) (*engine.App, error) {
	app, _, err := loadApp(files)
	return app, err
}

func loadApp(files fs.FS) (*engine.App, *Remotes, error) {
	var cfg engine.AppConfig
	data, err := fs.ReadFile(files, "dictionary.json")
	switch {
	case err == nil:
		if cfg.Dictionary, err = dict.ParseDictionaryFile(data); err != nil {
			return nil, nil, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, nil, err
	}
	if cfg.ClientProtos, err = loadProtos(files, "clientProtos.json"); err != nil {
		return nil, nil, err
	}
	if cfg.ServerProtos, err = loadProtos(files, "serverProtos.json"); err != nil {
		return nil, nil, err
	}
	app, err := engine.NewApp(cfg)
	if err != nil {
		return nil, nil, err
	}
	r, err := Register(app)
	if err != nil {
		return nil, nil, err
	}
	return app, r, nil
}

func loadProtos(files fs.FS, name string) (*pomelopb.Table, error) {
	data, err := fs.ReadFile(files, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t, err := pomelopb.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("chatapp: %s: %w", name, err)
	}
	return t, nil
}

// New builds every server of the env in this process (not started: see Start). opts are passed
// to the selected connector (hooks such as engine.WithCheckClient).
func New(cfg Config, opts ...engine.ServerOption) (*Demo, error) {
	if cfg.Files == nil {
		return nil, errors.New("chatapp: Config.Files is required")
	}
	env := cfg.Env
	if env == "" {
		env = "development"
	}
	infos, err := engine.LoadServers(cfg.Files, env)
	if err != nil {
		return nil, err
	}
	master, err := engine.LoadMaster(cfg.Files, env)
	if err != nil {
		return nil, err
	}
	sel, err := pickConnector(infos, cfg.ServerID)
	if err != nil {
		return nil, err
	}
	app, remotes, err := loadApp(cfg.Files)
	if err != nil {
		return nil, err
	}
	d := &Demo{App: app, Remotes: remotes, Master: master}
	var lns []net.Listener // opened here, handed to the servers; closed if New fails
	fail := func(err error) (*Demo, error) {
		for _, ln := range lns {
			ln.Close()
		}
		return nil, err
	}
	listen := func(addr string) (net.Listener, int, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, 0, err
		}
		lns = append(lns, ln)
		return ln, ln.Addr().(*net.TCPAddr).Port, nil
	}
	perServer := make([][]engine.ServerOption, len(infos))
	for i := range infos {
		si := &infos[i]
		if cfg.FreePorts {
			ln, port, err := listen("127.0.0.1:0")
			if err != nil {
				return fail(err)
			}
			si.Host, si.Port = "127.0.0.1", port
			perServer[i] = append(perServer[i], engine.WithRPCListener(ln))
		}
		if !si.Frontend {
			continue
		}
		addr := ""
		switch {
		case si.ID == sel && cfg.Addr != "":
			addr = cfg.Addr
		case cfg.FreePorts:
			addr = "127.0.0.1:0"
		}
		if addr != "" {
			ln, port, err := listen(addr)
			if err != nil {
				return fail(err)
			}
			si.ClientHost, si.ClientPort = ln.Addr().(*net.TCPAddr).IP.String(), port
			perServer[i] = append(perServer[i], engine.WithClientListener(ln))
		}
	}
	for i, si := range infos {
		o := append(perServer[i], engine.WithConfig(func(c *engine.ServerConfig) {
			c.Logger, c.Transport.Logger = cfg.Logger, cfg.Logger
			c.RPC = cfg.RPC
			if si.Frontend {
				c.Scheduler, c.UseCrypto = cfg.Scheduler, cfg.UseCrypto
			}
		}))
		if si.ID == sel {
			o = append(o, opts...)
		}
		srv, err := app.NewClusterServer(si, infos, o...)
		if err != nil {
			return fail(err)
		}
		d.Servers = append(d.Servers, srv)
		if si.ID == sel {
			d.Connector, d.Info = srv, si
		}
	}
	d.Infos = infos
	return d, nil
}

// pickConnector returns the id of the frontend id, or of the first frontend.
func pickConnector(list []engine.ServerInfo, id string) (string, error) {
	for _, si := range list {
		if (id == "" || si.ID == id) && si.Frontend {
			return si.ID, nil
		}
	}
	return "", fmt.Errorf("chatapp: no frontend %q in servers.json", id)
}

// Start starts every server, the frontends first, and returns once all listen. On error the servers already started are
// shut down. Calls made before a peer listens fail fast and are retried by the RPC client's
// reconnection; nothing is sent before Start returns.
func (d *Demo) Start() error {
	var started []*engine.Server
	for _, frontends := range []bool{true, false} {
		for i, srv := range d.Servers {
			if d.Infos[i].Frontend != frontends {
				continue
			}
			if err := srv.Start(); err != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				for _, s := range started {
					_ = s.Shutdown(ctx)
				}
				return err
			}
			started = append(started, srv)
		}
	}
	return nil
}

// Shutdown stops every server, the frontends first (their sessions' close hooks still reach the
// chat servers), and returns the first error.
func (d *Demo) Shutdown(ctx context.Context) error {
	var first error
	for _, frontends := range []bool{true, false} {
		for i, srv := range d.Servers {
			if d.Infos[i].Frontend == frontends {
				if err := srv.Shutdown(ctx); err != nil && first == nil {
					first = err
				}
			}
		}
	}
	return first
}

// Server returns the server id, or nil.
func (d *Demo) Server(id string) *engine.Server {
	for i, si := range d.Infos {
		if si.ID == id {
			return d.Servers[i]
		}
	}
	return nil
}
