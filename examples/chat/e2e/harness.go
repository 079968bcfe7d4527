// Package e2e runs the chat demo as a multi-process cluster, for the end-to-end tests here and in
// package interop: it builds the demo binary, writes a pomelo config directory whose ports are
// chosen at run time (loopback, free a moment before), starts the binary in master mode (one
// process per server, plus the master) and talks to the master's control endpoint (GET /status,
// POST /stop: package engine/cluster).
//
// The programs are the demo (DemoPackage) and sessionapp (SessionAppPackage: the demo plus two
// backend routes that bind and kick sessions held by the connectors, which the demo itself never
// does from a backend). Nothing here imports package testing; every function returns an error,
// and a Cluster is stopped with Stop. The tests are in e2e_test.go:
//
//	go test ./examples/chat/e2e/
//
// They build the programs once per test binary (with -race when the tests run with -race) and
// start a fresh cluster per test.
package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shaddock-io/shaddock/engine"
	"github.com/shaddock-io/shaddock/engine/cluster"
)

// ErrTimeout is returned when the cluster does not reach the awaited state in time.
var ErrTimeout = errors.New("e2e: timed out")

// Programs Build compiles.
const (
	// DemoPackage is the chat demo command.
	DemoPackage = "github.com/shaddock-io/shaddock/examples/chat"
	// SessionAppPackage is the demo plus backend routes acting on frontend sessions.
	SessionAppPackage = "github.com/shaddock-io/shaddock/examples/chat/e2e/sessionapp"
)

// Build compiles the command pkg into dir and returns the binary's path. race adds -race.
func Build(dir, pkg string, race bool) (string, error) {
	bin := filepath.Join(dir, filepath.Base(pkg))
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), append(args, pkg)...)
	cmd.Dir = sourceDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("e2e: go build: %w\n%s", err, out)
	}
	return bin, nil
}

// sourceDir is this package's directory (the tests run from the source tree).
func sourceDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Layout says how many servers of each type a config has.
type Layout struct {
	Connectors, Chats int
	// AutoRestart sets auto-restart on every server.
	AutoRestart bool
}

// WriteConfig writes a pomelo config directory for env "development" into dir: the demo's
// dictionary.json and proto files, servers.json with l's servers (connector-server-<n>,
// chat-server-<n>) on loopback ports free a moment ago, and master.json likewise.
func WriteConfig(dir string, l Layout) error {
	src := filepath.Join(sourceDir(), "..", "config")
	for _, name := range []string{"dictionary.json", "clientProtos.json", "serverProtos.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	ports, err := FreePorts(2*l.Connectors + l.Chats + 1)
	if err != nil {
		return err
	}
	type entry map[string]any
	var connectors, chats []entry
	for i := range l.Connectors {
		connectors = append(connectors, entry{"id": "connector-server-" + strconv.Itoa(i+1), "host": "127.0.0.1",
			"port": ports[2*i], "clientHost": "127.0.0.1", "clientPort": ports[2*i+1], "frontend": true,
			"auto-restart": l.AutoRestart})
	}
	for i := range l.Chats {
		chats = append(chats, entry{"id": "chat-server-" + strconv.Itoa(i+1), "host": "127.0.0.1",
			"port": ports[2*l.Connectors+i], "auto-restart": l.AutoRestart})
	}
	// Written by hand to keep the type order: connector first, as in the demo.
	cj, _ := json.Marshal(connectors)
	hj, _ := json.Marshal(chats)
	servers := fmt.Sprintf(`{"development":{"connector":%s,"chat":%s}}`, cj, hj)
	master := fmt.Sprintf(`{"development":{"id":"master-server-1","host":"127.0.0.1","port":%d}}`, ports[len(ports)-1])
	if err := os.WriteFile(filepath.Join(dir, "servers.json"), []byte(servers), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "master.json"), []byte(master), 0o644)
}

// FreePorts returns n distinct loopback TCP ports that were free a moment ago.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Cluster is a running demo master and its server processes.
type Cluster struct {
	Dir     string              // the config directory
	Servers []engine.ServerInfo // servers.json, in order
	Master  engine.MasterInfo
	Log     *Output // everything the master and the servers wrote

	cmd  *exec.Cmd
	done chan struct{} // closed when the master exited
	err  error         // its Wait result, once done is closed
}

// Output is a concurrency-safe buffer of process output.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Start runs bin in master mode on the config in dir (env development) with extra arguments,
// and waits until every server is running (at most timeout). The extra arguments come last, so
// "-mode embedded" among them runs every server in the one process instead.
func Start(bin, dir string, timeout time.Duration, extra ...string) (*Cluster, error) {
	files := os.DirFS(dir)
	servers, err := engine.LoadServers(files, "development")
	if err != nil {
		return nil, err
	}
	master, err := engine.LoadMaster(files, "development")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, Servers: servers, Master: master, Log: &Output{}, done: make(chan struct{})}
	c.cmd = exec.Command(bin, append([]string{"-config", dir, "-mode", "master"}, extra...)...)
	c.cmd.Stdout, c.cmd.Stderr = c.Log, c.Log
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	if err := c.WaitAll(timeout); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// ControlAddr is the master's control endpoint.
func (c *Cluster) ControlAddr() string { return c.Master.Addr() }

// Status reads the master's status.
func (c *Cluster) Status() (cluster.Status, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + c.ControlAddr() + "/status")
	if err != nil {
		return cluster.Status{}, err
	}
	defer resp.Body.Close()
	var st cluster.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return cluster.Status{}, err
	}
	return st, nil
}

// Server returns the status of server id.
func (c *Cluster) Server(id string) (cluster.ServerStatus, error) {
	st, err := c.Status()
	if err != nil {
		return cluster.ServerStatus{}, err
	}
	for _, s := range st.Servers {
		if s.ID == id {
			return s, nil
		}
	}
	return cluster.ServerStatus{}, fmt.Errorf("e2e: no server %q in the status", id)
}

// WaitAll waits until every server is running.
func (c *Cluster) WaitAll(timeout time.Duration) error {
	return c.poll(timeout, "every server running", func() (bool, error) {
		st, err := c.Status()
		if err != nil {
			return false, nil
		}
		for _, s := range st.Servers {
			if s.State != cluster.StateRunning {
				return false, nil
			}
		}
		return len(st.Servers) == len(c.Servers), nil
	})
}

// WaitRunning waits until server id runs again after at least restarts restarts, and returns
// its status.
func (c *Cluster) WaitRunning(id string, restarts int, timeout time.Duration) (cluster.ServerStatus, error) {
	var s cluster.ServerStatus
	err := c.poll(timeout, id+" running", func() (bool, error) {
		var err error
		s, err = c.Server(id)
		return err == nil && s.State == cluster.StateRunning && s.Restarts >= restarts, nil
	})
	return s, err
}

func (c *Cluster) poll(timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-c.done:
			return fmt.Errorf("e2e: the master exited (%v) while waiting for %s", c.err, what)
		default:
		}
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %v waiting for %s", ErrTimeout, timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill sends sig to the process of server id and returns its pid.
func (c *Cluster) Kill(id string, sig syscall.Signal) (int, error) {
	s, err := c.Server(id)
	if err != nil {
		return 0, err
	}
	if s.PID == 0 {
		return 0, fmt.Errorf("e2e: %s has no process (%s)", id, s.State)
	}
	return s.PID, syscall.Kill(s.PID, sig)
}

// PIDs returns the master's pid and its servers' pids.
func (c *Cluster) PIDs() ([]int, error) {
	st, err := c.Status()
	if err != nil {
		return nil, err
	}
	pids := []int{c.cmd.Process.Pid}
	for _, s := range st.Servers {
		if s.PID != 0 {
			pids = append(pids, s.PID)
		}
	}
	return pids, nil
}

// ClientAddrs returns the connectors' client addresses, in servers.json order.
func (c *Cluster) ClientAddrs() []string {
	var out []string
	for _, si := range c.Servers {
		if si.Frontend {
			out = append(out, si.ClientAddr())
		}
	}
	return out
}

// Stop stops the master with SIGTERM and waits for it (and so for its servers); after 30 s it
// kills it. It returns the master's exit error.
func (c *Cluster) Stop() error {
	pids, _ := c.PIDs()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%w: the master did not stop in 30 s", ErrTimeout)
	}
	for _, pid := range pids[1:] { // the master waits for its servers; check anyway
		if syscall.Kill(pid, 0) == nil && !zombie(pid) {
			return fmt.Errorf("e2e: server process %d outlived the master", pid)
		}
	}
	return c.err
}

func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// Exited reports whether the master has exited.
func (c *Cluster) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}
