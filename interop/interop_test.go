package interop

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/examples/chat/chatapp"
	"github.com/shaddock-io/shaddock/hybrid"
)

func requireNodeModules(t *testing.T) string {
	t.Helper()
	enforced := os.Getenv("SHADDOCK_INTEROP") == "1"
	if _, err := os.Stat("node_modules/pomelo/package.json"); err != nil {
		if enforced {
			t.Fatalf("SHADDOCK_INTEROP=1 but interop/node_modules is missing: %v", err)
		}
		t.Skip("interop/node_modules missing: run `cd interop && npm install --no-package-lock --no-audit --no-fund` (scripts/test.sh does it and sets SHADDOCK_INTEROP=1)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if enforced {
			t.Fatalf("SHADDOCK_INTEROP=1 but node is not installed: %v", err)
		}
		t.Skip("node is not installed")
	}
	return node
}

func TestOfficialClient(t *testing.T) {
	node := requireNodeModules(t)
	d, err := chatapp.New(chatapp.Config{Files: os.DirFS("../examples/chat/config"), Addr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := d.Listen()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-served; !errors.Is(err, hybrid.ErrServerClosed) {
			t.Error(err)
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "interop.js")
	cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT="+strconv.Itoa(port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("interop.js: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "\nPASS\n") {
		t.Fatalf("interop.js did not print PASS:\n%s", out)
	}
	if s := d.Connector.Stats(); s.Malformed+s.UnknownCode+s.NoDict+s.BadRoute != 0 {
		t.Fatalf("the server saw bad input from the official client: %+v", s)
	}
}
