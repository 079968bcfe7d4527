// Command chat starts the chat demo's connector (docs/chat-demo.md): TCP and WebSocket clients on
// one port (127.0.0.1:3010 by default), heartbeat 3 s, route dictionary and pomelo-protobuf on.
//
//	go run ./examples/chat                      # embedded copy of ./config, env development
//	go run ./examples/chat -config examples/chat/config -env production
//	go run ./examples/chat -addr 127.0.0.1:0    # any free port (printed on start)
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/shaddock-io/shaddock/examples/chat/chatapp"
	"github.com/shaddock-io/shaddock/hybrid"
	"github.com/shaddock-io/shaddock/scheduler"
)

//go:embed config/*.json
var embedded embed.FS

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

func run() error {
	configDir := flag.String("config", "", "pomelo config directory (default: the embedded copy of examples/chat/config)")
	env := flag.String("env", "development", "servers.json env")
	id := flag.String("id", "", "connector id from servers.json (default: the first one)")
	addr := flag.String("addr", "", "listen address, overriding clientHost:clientPort")
	buffered := flag.Duration("buffered", 0, "use the buffered push scheduler with this flush interval (0: direct)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file until exit")
	quiet := flag.Bool("quiet", false, "log warnings and errors only")
	flag.Parse()

	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	var files fs.FS
	if *configDir != "" {
		files = os.DirFS(*configDir)
	} else {
		sub, err := fs.Sub(embedded, "config")
		if err != nil {
			return err
		}
		files = sub
	}
	cfg := chatapp.Config{Files: files, Env: *env, ServerID: *id, Addr: *addr, Logger: log}
	if *buffered > 0 {
		cfg.Scheduler = scheduler.Config{Kind: scheduler.Buffered, FlushInterval: *buffered}
	}
	demo, err := chatapp.New(cfg)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ln, err := demo.Listen()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "chat: %s listening on %s (tcp+ws), env %s, pid %d\n", demo.Info.ID, ln.Addr(), *env, os.Getpid())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- demo.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-sig:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := demo.Shutdown(ctx); err != nil && !errors.Is(err, hybrid.ErrServerClosed) {
		return err
	}
	return nil
}
