package interop

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/examples/chat/chatapp"
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

// startDemo runs the chat demo's cluster from examples/chat/config (a connector and a chat
// server, each created with engine.App.NewClusterServer) in this process, on free loopback
// ports, until the test ends. It returns the connector's client port.
func startDemo(t *testing.T) (*chatapp.Demo, int) {
	t.Helper()
	d, err := chatapp.New(chatapp.Config{Files: os.DirFS("../examples/chat/config"), FreePorts: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return d, d.Connector.Addr().(*net.TCPAddr).Port
}

// runNode runs a script of this directory against the demo and requires it to exit 0 after
// printing PASS on a line of its own.
func runNode(t *testing.T, node, script string, port int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT="+strconv.Itoa(port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	if !strings.Contains(string(out), "\nPASS\n") {
		t.Fatalf("%s did not print PASS:\n%s", script, out)
	}
	return string(out)
}

func TestOfficialClient(t *testing.T) {
	node := requireNodeModules(t)
	t.Parallel()
	d, port := startDemo(t)
	runNode(t, node, "interop.js", port)
	if s := d.Connector.Stats(); s.Malformed+s.UnknownCode+s.NoDict+s.BadRoute != 0 {
		t.Fatalf("the server saw bad input from the official client: %+v", s)
	}
	// The large echo went compressed both ways.
	ts := d.Connector.Transport().Stats()
	if ts.WSDeflateConns.Load() != 1 || ts.WSInflated.Load() < 1 || ts.WSDeflated.Load() < 1 {
		t.Fatalf("permessage-deflate: %d connections, %d messages inflated, %d frames compressed; want 1, >= 1, >= 1",
			ts.WSDeflateConns.Load(), ts.WSInflated.Load(), ts.WSDeflated.Load())
	}
}

// official-test.js, unchanged: two official clients, entry, onAdd, chat.chatHandler.send (an
// onChat push through the chat server), the frontend echo, the backend echo, heartbeats.
func TestOfficialChat(t *testing.T) {
	node := requireNodeModules(t)
	t.Parallel()
	d, port := startDemo(t)
	out := runNode(t, node, "official-test.js", port)
	t.Logf("official-test.js:\n%s", out)
	for _, step := range []string{"push.onAdd", "push.onChat", "send.response", "echo.backend"} {
		if !strings.Contains(out, step) {
			t.Fatalf("official-test.js passed without %s:\n%s", step, out)
		}
	}
	s := d.Connector.Stats()
	if s.Malformed+s.UnknownCode+s.NoDict+s.BadRoute+s.ForwardErrors != 0 {
		t.Fatalf("the connector saw bad input or failed forwards: %+v", s)
	}
	if s.Forwarded < 2 {
		t.Fatalf("%d requests forwarded to the chat server, want at least 2 (send, echo)", s.Forwarded)
	}
}
