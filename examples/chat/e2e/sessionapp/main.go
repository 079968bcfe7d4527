// Command sessionapp is the chat demo with three more backend routes, for the multi-process
// tests of package e2e: the demo never acts on a session from a backend, these do, over the sys
// remotes (pomelo's sessionRemote) to the connector process holding the session.
//
//	chat.sessionHandler.bind   {"uid": u}            binds the caller's session to u from the chat
//	                                                 server (BackendSession.Bind); answers {"uid": u}
//	chat.sessionHandler.whoami {}                    answers {"uid": <the uid the forwarded session
//	                                                 carries>}
//	chat.sessionHandler.kick   {"uid": u, "reason": r}  kicks u on every connector (kickByUid);
//	                                                 answers {"code": 200}
//
// The extra routes shift the demo's dictionary codes; clients read them from the handshake.
// Command line: -config DIR and -mode as the demo's; a master passes pomelo's key=value
// arguments (serverType=… id=…) to the servers it starts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/shaddock-io/shaddock/engine"
	"github.com/shaddock-io/shaddock/engine/cluster"
	"github.com/shaddock-io/shaddock/examples/chat/chatapp"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sessionapp:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("config", "", "pomelo config directory (required)")
	mode := flag.String("mode", "embedded", "embedded | master | server")
	flag.Bool("quiet", false, "accepted for the demo's command line; logs are always quiet")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if *dir == "" {
		return errors.New("-config is required")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	kv, err := cluster.ParseArgs(flag.Args())
	if err != nil {
		return err
	}
	files := os.DirFS(abs)
	servers, err := engine.LoadServers(files, "development")
	if err != nil {
		return err
	}
	master, err := engine.LoadMaster(files, "development")
	if err != nil {
		return err
	}
	opts := cluster.Options{Env: "development", Servers: servers, Master: master, Args: []string{"-config", abs}}
	if kv["serverType"] != "" {
		*mode, opts.ServerID = "server", kv["id"]
	}
	if opts.Mode, err = cluster.ParseMode(*mode); err != nil {
		return err
	}
	app, err := chatapp.LoadApp(files)
	if err != nil {
		return err
	}
	if err := register(app); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cluster.Run(ctx, app, opts)
}

type uidMsg struct {
	UID string `json:"uid"`
}

type kickReq struct {
	UID    string `json:"uid"`
	Reason string `json:"reason"`
}

type codeMsg struct {
	Code int `json:"code"`
}

var errNoSession = errors.New("sessionapp: not a forwarded request")

func register(app *engine.App) error {
	return errors.Join(
		// The sessionRemote calls wait for the frontend: off the dispatching goroutine.
		engine.HandleAsync(app, "chat.sessionHandler.bind", func(ctx *engine.Context, req *uidMsg, reply func(*uidMsg, error)) {
			bs := ctx.BackendSession()
			if bs == nil {
				reply(nil, errNoSession)
				return
			}
			go func() {
				if err := bs.Bind(req.UID); err != nil {
					reply(nil, err)
					return
				}
				reply(&uidMsg{UID: bs.UID()}, nil)
			}()
		}),
		engine.Handle(app, "chat.sessionHandler.whoami", func(ctx *engine.Context, _ *struct{}) (*uidMsg, error) {
			return &uidMsg{UID: ctx.UID()}, nil
		}),
		engine.HandleAsync(app, "chat.sessionHandler.kick", func(ctx *engine.Context, req *kickReq, reply func(*codeMsg, error)) {
			srv := ctx.Server()
			go func() {
				var errs []error
				for _, fe := range srv.ServersByType(chatapp.FrontendType) {
					errs = append(errs, srv.BackendSessions().KickByUID(context.Background(), fe.ID, req.UID, req.Reason))
				}
				if err := errors.Join(errs...); err != nil {
					reply(nil, err)
					return
				}
				reply(&codeMsg{Code: 200}, nil)
			}()
		}),
	)
}
