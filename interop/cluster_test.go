package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/examples/chat/e2e"
)

// TestOfficialClientCluster runs official-test.js (unchanged: the official client's handshake,
// heartbeats, entry, onAdd, a backend send and its onChat, frontend and backend echo) against
// each connector of the chat demo running as a multi-process cluster: a master, two connector
// processes and two chat server processes, on ports chosen at run time.
func TestOfficialClientCluster(t *testing.T) {
	node := requireNodeModules(t)
	dir := t.TempDir()
	bin, err := e2e.Build(dir, e2e.DemoPackage, false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config")
	if err := os.Mkdir(cfg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := e2e.WriteConfig(cfg, e2e.Layout{Connectors: 2, Chats: 2}); err != nil {
		t.Fatal(err)
	}
	c, err := e2e.Start(bin, cfg, 60*time.Second, "-quiet")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("cluster output:\n%s", c.Log.String())
		}
	}()
	for _, si := range c.Servers {
		if !si.Frontend {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, node, "official-test.js")
		cmd.Env = append(os.Environ(), "HOST="+si.ClientHost, "PORT="+strconv.Itoa(si.ClientPort))
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("official-test.js against %s: %v\n%s", si.ID, err, out)
		}
		if !strings.Contains(string(out), "\nPASS\n") {
			t.Fatalf("official-test.js against %s did not print PASS:\n%s", si.ID, out)
		}
	}
}
