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
	// ServerID selects the connector entry; "" means the first connector of the env.
	ServerID string
	// Addr overrides the entry's clientHost:clientPort (e.g. "127.0.0.1:0" for a free port).
	Addr string
	// Scheduler is the push scheduler (zero: direct).
	Scheduler scheduler.Config
	// UseCrypto turns on pomelo's useCrypto (clients must sign their messages; the demo's
	// pomelo-protobuf routes cannot carry a signature, as in pomelo).
	UseCrypto bool
	// Logger receives the logs; nil means slog.Default().
	Logger *slog.Logger
}

// Demo is a running chat demo connector.
type Demo struct {
	App       *engine.App
	Connector *engine.Server
	Info      engine.ServerInfo
	Master    engine.MasterInfo // from master.json (not used until the cluster issue)
}

// LoadApp reads dictionary.json and the proto descriptions from files and returns the App with
// every handler of the demo registered.
func LoadApp(files fs.FS) (*engine.App, error) {
	var cfg engine.AppConfig
	data, err := fs.ReadFile(files, "dictionary.json")
	switch {
	case err == nil:
		if cfg.Dictionary, err = dict.ParseDictionaryFile(data); err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if cfg.ClientProtos, err = loadProtos(files, "clientProtos.json"); err != nil {
		return nil, err
	}
	if cfg.ServerProtos, err = loadProtos(files, "serverProtos.json"); err != nil {
		return nil, err
	}
	app, err := engine.NewApp(cfg)
	if err != nil {
		return nil, err
	}
	if err := Register(app); err != nil {
		return nil, err
	}
	return app, nil
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

// New builds the demo's connector from cfg. opts are passed to the server (hooks, a Forwarder).
func New(cfg Config, opts ...engine.ServerOption) (*Demo, error) {
	if cfg.Files == nil {
		return nil, errors.New("chatapp: Config.Files is required")
	}
	env := cfg.Env
	if env == "" {
		env = "development"
	}
	data, err := fs.ReadFile(cfg.Files, "servers.json")
	if err != nil {
		return nil, err
	}
	servers, err := engine.ParseServers(data, env)
	if err != nil {
		return nil, err
	}
	info, err := pickConnector(servers[FrontendType], cfg.ServerID)
	if err != nil {
		return nil, err
	}
	data, err = fs.ReadFile(cfg.Files, "master.json")
	if err != nil {
		return nil, err
	}
	master, err := engine.ParseMaster(data, env)
	if err != nil {
		return nil, err
	}
	app, err := LoadApp(cfg.Files)
	if err != nil {
		return nil, err
	}
	addr := cfg.Addr
	if addr == "" {
		addr = info.ClientAddr()
	}
	scfg := engine.ServerConfig{
		ID: info.ID, Type: info.Type,
		UseDict: true, UseProtobuf: true, UseCrypto: cfg.UseCrypto,
		Scheduler: cfg.Scheduler,
		Logger:    cfg.Logger,
	}
	scfg.Transport.Addr = addr
	scfg.Transport.Heartbeat = Heartbeat
	scfg.Transport.MaxConns = info.MaxConnections
	scfg.Transport.Logger = cfg.Logger
	srv, err := app.NewServer(scfg, opts...)
	if err != nil {
		return nil, err
	}
	return &Demo{App: app, Connector: srv, Info: info, Master: master}, nil
}

func pickConnector(list []engine.ServerInfo, id string) (engine.ServerInfo, error) {
	for _, si := range list {
		if (id == "" || si.ID == id) && si.Frontend {
			return si, nil
		}
	}
	return engine.ServerInfo{}, fmt.Errorf("chatapp: no frontend connector %q in servers.json", id)
}

// Listen opens the connector's listener (so that the address is known before serving).
func (d *Demo) Listen() (net.Listener, error) {
	return net.Listen("tcp", d.Connector.Config().Transport.Addr)
}

// Serve serves clients on ln until Shutdown.
func (d *Demo) Serve(ln net.Listener) error { return d.Connector.Serve(ln) }

// Shutdown stops the connector.
func (d *Demo) Shutdown(ctx context.Context) error { return d.Connector.Shutdown(ctx) }
