// Command chat starts the chat demo (docs/chat-demo.md) as a pomelo cluster described by
// config/servers.json and config/master.json. By default every server of the env runs in this
// process: connector-server-1 (TCP and WebSocket clients on 127.0.0.1:3010, RPC on 3150) and
// chat-server-1 (RPC on 6050), heartbeat 3 s, route dictionary and pomelo-protobuf on, and a
// control endpoint on master.json's port (127.0.0.1:3005: GET /status, POST /stop).
//
//	go run ./examples/chat                                  # embedded copy of ./config, env development
//	go run ./examples/chat -config examples/chat/config -env production
//	go run ./examples/chat -addr 127.0.0.1:0                # the connector on any free port (printed)
//	go run ./examples/chat -config examples/chat/config-cluster -mode master
//	                                                        # 2 connectors + 2 chat servers, one process each
//	go run ./examples/chat -config examples/chat/config-cluster -type chat    # only the chat servers
//	go run ./examples/chat -mode server -id chat-server-1   # one server, as a master starts it
//
// Modes (package engine/cluster): embedded runs the selected servers in this process; master
// starts each as its own process of this binary and restarts those with auto-restart; server
// runs one. A master starts servers with pomelo's key=value arguments after its own flags
// (`chat -config DIR env=development serverType=chat id=chat-server-1 host=… port=…`); a command
// line holding serverType=… and id=… runs that server. env=, type= and startId= are read as
// pomelo's CLI passes them to a master.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/shaddock-io/shaddock/engine"
	"github.com/shaddock-io/shaddock/engine/cluster"
	"github.com/shaddock-io/shaddock/examples/chat/chatapp"
	"github.com/shaddock-io/shaddock/scheduler"
)

//go:embed config/*.json
var embedded embed.FS

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// flags are the command line.
type flags struct {
	configDir, env, mode, id, types, addr string
	buffered                              time.Duration
	rpcBuffer                             time.Duration
	inline                                bool
	cpuProfile                            string
	quiet, noControl                      bool
	admin                                 string // admin endpoint address, "" = off
	adminRemote                           bool
	kv                                    map[string]string // pomelo-style key=value arguments
	clientLn                              net.Listener      // opened for -addr
}

func parseFlags(args []string) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.StringVar(&f.configDir, "config", "", "pomelo config directory (default: the embedded copy of examples/chat/config)")
	fs.StringVar(&f.env, "env", "development", "servers.json env")
	fs.StringVar(&f.mode, "mode", "", "embedded | master | server (default embedded; server when the arguments name a server)")
	fs.StringVar(&f.id, "id", "", "server mode: the server to run; embedded and master: start only these ids (comma-separated)")
	fs.StringVar(&f.types, "type", "", "embedded and master: start only servers of these types (comma-separated)")
	fs.StringVar(&f.addr, "addr", "", "client address of the first frontend run in this process, overriding clientHost:clientPort")
	fs.DurationVar(&f.buffered, "buffered", 0, "use the buffered push scheduler with this flush interval (0: direct)")
	fs.BoolVar(&f.inline, "inline", false, "run each frontend's read batches on its transport's pollers (hybrid.Config.Inline: no hand-off to a worker; handlers must not block)")
	fs.DurationVar(&f.rpcBuffer, "rpc-buffer", 0, "write RPC frames at most once per this interval, both ways (pomelo's rpcConfig bufferMsg + interval; 0: at once)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of this process to this file until exit")
	fs.BoolVar(&f.quiet, "quiet", false, "log warnings and errors only")
	fs.StringVar(&f.admin, "admin", "", "serve pprof, /metrics and the dashboard on this address, e.g. 127.0.0.1:9100 (embedded and server modes; empty: off)")
	fs.BoolVar(&f.adminRemote, "admin-remote", false, "allow a non-loopback -admin address")
	fs.BoolVar(&f.noControl, "no-control", false, "do not serve the control endpoint on master.json's port")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	kv, err := cluster.ParseArgs(fs.Args())
	if err != nil {
		return nil, err
	}
	f.kv = kv
	if v := kv["env"]; v != "" {
		f.env = v
	}
	return f, nil
}

func run(args []string) error {
	f, err := parseFlags(args)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if f.quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	files, err := configFiles(f.configDir)
	if err != nil {
		return err
	}
	opts, err := clusterOptions(f, files, log)
	if err != nil {
		return err
	}
	app, err := chatapp.LoadApp(files)
	if err != nil {
		return err
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	adm, err := newAdminEndpoint(f, app, log)
	if err != nil {
		return err
	}
	if adm != nil {
		opts.NewServer = adm.newServer(app, opts.ServerOptions)
		if err := adm.start(); err != nil {
			return err
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = adm.shutdown(ctx)
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cluster.Run(ctx, app, opts)
}

func configFiles(dir string) (fs.FS, error) {
	if dir != "" {
		return os.DirFS(dir), nil
	}
	return fs.Sub(embedded, "config")
}

// clusterOptions turns the command line and the config files into cluster.Options.
func clusterOptions(f *flags, files fs.FS, log *slog.Logger) (cluster.Options, error) {
	servers, err := engine.LoadServers(files, f.env)
	if err != nil {
		return cluster.Options{}, err
	}
	master, err := engine.LoadMaster(files, f.env)
	if err != nil {
		return cluster.Options{}, err
	}
	opts := cluster.Options{Env: f.env, Servers: servers, Master: master, Logger: log,
		Types: split(f.types), IDs: split(f.id)}
	if f.noControl {
		opts.Master.Port = 0
	}
	mode := f.mode
	if st := f.kv["serverType"]; st != "" && st != "master" && mode == "" {
		mode, f.id = "server", f.kv["id"] // started by a master
	}
	if mode == "" {
		mode = "embedded"
	}
	if opts.Mode, err = cluster.ParseMode(mode); err != nil {
		return cluster.Options{}, err
	}
	if v := f.kv["type"]; v != "" && v != "all" { // pomelo start -t
		opts.Types = split(v)
	}
	if v := f.kv["startId"]; v != "" { // pomelo start -i
		opts.IDs = split(v)
	}
	switch opts.Mode {
	case cluster.Single:
		if f.id == "" {
			return cluster.Options{}, errors.New("server mode needs -id (or id=)")
		}
		opts.ServerID, opts.IDs = f.id, nil
	case cluster.Master:
		if f.addr != "" {
			return cluster.Options{}, errors.New("-addr applies to embedded and server modes")
		}
		opts.Args, err = childArgs(f)
		if err != nil {
			return cluster.Options{}, err
		}
	}
	addrFor := firstFrontend(opts)
	if f.addr != "" {
		if addrFor == "" {
			return cluster.Options{}, errors.New("-addr: no frontend runs in this process")
		}
		// Listening here makes a port-0 address known before the server starts.
		if f.clientLn, err = net.Listen("tcp", f.addr); err != nil {
			return cluster.Options{}, err
		}
	}
	opts.ServerOptions = func(self engine.ServerInfo) []engine.ServerOption {
		return serverOptions(f, log, self, self.ID == addrFor)
	}
	opts.Ready = func() { ready(f, opts) }
	return opts, nil
}

// firstFrontend returns the id of the first frontend this process runs ("" if none).
func firstFrontend(opts cluster.Options) string {
	var sel []engine.ServerInfo
	if opts.Mode == cluster.Single {
		for _, si := range opts.Servers {
			if si.ID == opts.ServerID {
				sel = append(sel, si)
			}
		}
	} else {
		sel, _ = cluster.Select(opts.Servers, opts.Types, opts.IDs)
	}
	for _, si := range sel {
		if si.Frontend {
			return si.ID
		}
	}
	return ""
}

// childArgs are the flags a master passes on to the servers it starts.
func childArgs(f *flags) ([]string, error) {
	var args []string
	if f.configDir != "" {
		abs, err := filepath.Abs(f.configDir)
		if err != nil {
			return nil, err
		}
		args = append(args, "-config", abs)
	}
	if f.buffered > 0 {
		args = append(args, "-buffered", f.buffered.String())
	}
	if f.rpcBuffer > 0 {
		args = append(args, "-rpc-buffer", f.rpcBuffer.String())
	}
	if f.inline {
		args = append(args, "-inline")
	}
	if f.quiet {
		args = append(args, "-quiet")
	}
	return args, nil
}

// serverOptions are the engine options of one server of this process: logger, scheduler, RPC
// buffering, inline reads, and the -addr listener for the first frontend.
func serverOptions(f *flags, log *slog.Logger, self engine.ServerInfo, withAddr bool) []engine.ServerOption {
	opts := []engine.ServerOption{engine.WithConfig(func(cfg *engine.ServerConfig) {
		cfg.Logger = log.With("server", self.ID)
		cfg.Transport.Logger = cfg.Logger
		if f.inline {
			cfg.Transport.Inline = true
		}
		if f.rpcBuffer > 0 {
			cfg.RPC.Client.BufferInterval, cfg.RPC.Server.BufferInterval = f.rpcBuffer, f.rpcBuffer
		}
		if f.buffered > 0 {
			cfg.Scheduler = scheduler.Config{Kind: scheduler.Buffered, FlushInterval: f.buffered}
		}
	})}
	if withAddr && f.clientLn != nil {
		opts = append(opts, engine.WithClientListener(f.clientLn))
	}
	return opts
}

// ready prints one line per server this process runs (or starts), once all listen.
func ready(f *flags, opts cluster.Options) {
	var parts []string
	sel, _ := cluster.Select(opts.Servers, opts.Types, opts.IDs)
	if opts.Mode == cluster.Single {
		sel, _ = cluster.Select(opts.Servers, nil, []string{opts.ServerID})
	}
	for _, si := range sel {
		s := si.ID + " rpc " + si.RPCAddr()
		if si.Frontend {
			addr := si.ClientAddr()
			if f.clientLn != nil && si.ID == firstFrontend(opts) {
				addr = f.clientLn.Addr().String()
			}
			s += " clients " + addr + " (tcp+ws)"
		}
		parts = append(parts, s)
	}
	fmt.Fprintf(os.Stdout, "chat: ready (%s mode, env %s, pid %d): %s\n", opts.Mode, f.env, os.Getpid(), strings.Join(parts, "; "))
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
