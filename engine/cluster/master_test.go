package cluster

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/engine"
)

// masterRun is a master running in this process until the test ends.
type masterRun struct {
	ctl    string // control endpoint
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // Run's result, once done is closed
}

// wait waits for Run to return.
func (m *masterRun) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-m.done:
		return m.err
	case <-time.After(d):
		t.Fatalf("master did not stop within %v", d)
		return nil
	}
}

// startMaster runs a master of servers (this test binary as every server) until the test ends.
func startMaster(t *testing.T, servers []engine.ServerInfo, opts Options) *masterRun {
	t.Helper()
	t.Setenv(helperEnv, "1") // inherited by the servers
	port := freePorts(t, 1)[0]
	opts.Mode, opts.Env, opts.Servers, opts.Command = Master, "e", servers, os.Args[0]
	opts.Master = engine.MasterInfo{ID: "master-server-1", Host: "127.0.0.1", Port: port}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &masterRun{ctl: "127.0.0.1:" + strconv.Itoa(port), cancel: cancel, done: make(chan struct{})}
	go func() {
		m.err = Run(ctx, nil, opts)
		close(m.done)
	}()
	t.Cleanup(func() {
		cancel()
		m.wait(t, 30*time.Second)
	})
	eventually(t, 10*time.Second, "control endpoint up", func() bool {
		select {
		case <-m.done:
			t.Fatalf("Run returned: %v", m.err)
		default:
		}
		return dial(m.ctl)
	})
	return m
}

func waitState(t *testing.T, ctl, id string, want State, d time.Duration) ServerStatus {
	t.Helper()
	var s ServerStatus
	eventually(t, d, fmt.Sprintf("%s reaches %s", id, want), func() bool {
		st, err := getStatus(ctl)
		if err != nil {
			return false
		}
		s = byID(st)[id]
		return s.State == want
	})
	return s
}

func TestMaster(t *testing.T) {
	p := freePorts(t, 4)
	servers := serverList(t,
		"connector", fmt.Sprintf(`{"id":"c1","host":"127.0.0.1","port":%d,"clientPort":%d,"frontend":true,"auto-restart":true}`, p[0], p[1]),
		"chat", fmt.Sprintf(`{"id":"h1","host":"127.0.0.1","port":%d,"auto-restart":"true"},
			{"id":"h2","host":"127.0.0.1","port":%d}`, p[2], p[3]))
	readyCalls := make(chan struct{}, 4)
	m := startMaster(t, servers, Options{Restart: RestartPolicy{Delay: 50 * time.Millisecond},
		Ready: func() { readyCalls <- struct{}{} }})
	ctl := m.ctl
	select {
	case <-readyCalls:
	case <-time.After(20 * time.Second):
		t.Fatalf("not ready: %+v", mustStatus(t, ctl))
	}
	st := mustStatus(t, ctl)
	requireEqual(t, st.Mode, "master")
	requireEqual(t, st.Master.PID, os.Getpid())
	pids := map[int]bool{}
	for i, s := range st.Servers {
		requireEqual(t, s.ID, servers[i].ID)
		requireEqual(t, s.State, StateRunning)
		if s.PID == os.Getpid() || pids[s.PID] || !alive(s.PID) {
			t.Fatalf("%s: pid %d is not a process of its own", s.ID, s.PID)
		}
		pids[s.PID] = true
	}
	for _, si := range servers {
		if !dial(si.RPCAddr()) || (si.Frontend && !dial(si.ClientAddr())) {
			t.Fatalf("%s does not listen", si.ID)
		}
	}

	// A crash of a server with auto-restart: a new process, on the same ports.
	old := byID(st)["h1"].PID
	requireNoError(t, syscall.Kill(old, syscall.SIGKILL))
	h1 := waitState(t, ctl, "h1", StateRunning, 10*time.Second)
	for h1.Restarts == 0 || h1.PID == old {
		h1 = waitState(t, ctl, "h1", StateRunning, 10*time.Second)
	}
	requireEqual(t, h1.Restarts, 1)
	requireEqual(t, h1.LastExit, "signal: killed")
	requireEqual(t, alive(old), false)
	requireEqual(t, dial(servers[1].RPCAddr()), true)

	// Without auto-restart the server stays down.
	old = byID(st)["h2"].PID
	requireNoError(t, syscall.Kill(old, syscall.SIGKILL))
	h2 := waitState(t, ctl, "h2", StateExited, 10*time.Second)
	requireEqual(t, h2.PID, 0)
	requireEqual(t, h2.Restarts, 0)

	// Stopped on request: SIGTERM (a clean exit), and never restarted.
	old = byID(st)["c1"].PID
	code, err := postStop(ctl, "c1")
	requireNoError(t, err)
	requireEqual(t, code, http.StatusNoContent)
	c1 := byID(mustStatus(t, ctl))["c1"]
	requireEqual(t, c1.State, StateStopped)
	requireEqual(t, c1.LastExit, "exit status 0")
	requireEqual(t, alive(old), false)
	time.Sleep(300 * time.Millisecond)
	requireEqual(t, byID(mustStatus(t, ctl))["c1"].State, StateStopped)
	requireEqual(t, len(readyCalls), 0) // Ready is called once, not per restart

	m.cancel()
	requireNoError(t, m.wait(t, 20*time.Second))
	requireEqual(t, alive(h1.PID), false)
	requireEqual(t, dial(ctl), false)
}

func TestMasterCrashLoop(t *testing.T) {
	p := freePorts(t, 1)
	servers := serverList(t, "chat", fmt.Sprintf(`{"id":"h1","host":"127.0.0.1","port":%d,"auto-restart":true,"behavior":"crash"}`, p[0]))
	m := startMaster(t, servers, Options{Restart: RestartPolicy{Delay: 20 * time.Millisecond, Limit: 3, Window: time.Minute}})
	requireErrorIs(t, m.wait(t, 30*time.Second), ErrAllExited)
}

func TestMasterAllStoppedOnRequest(t *testing.T) {
	p := freePorts(t, 1)
	servers := serverList(t, "chat", fmt.Sprintf(`{"id":"h1","host":"127.0.0.1","port":%d}`, p[0]))
	m := startMaster(t, servers, Options{})
	waitState(t, m.ctl, "h1", StateRunning, 20*time.Second)
	code, err := postStop(m.ctl, "h1")
	requireNoError(t, err)
	requireEqual(t, code, http.StatusNoContent)
	requireNoError(t, m.wait(t, 10*time.Second)) // every server stopped on request: a normal end
}

func TestMasterKillsStubbornServer(t *testing.T) {
	p := freePorts(t, 1)
	servers := serverList(t, "chat", fmt.Sprintf(`{"id":"h1","host":"127.0.0.1","port":%d,"behavior":"ignore-term"}`, p[0]))
	m := startMaster(t, servers, Options{StopTimeout: 300 * time.Millisecond})
	var pid int
	eventually(t, 10*time.Second, "process started", func() bool {
		st, err := getStatus(m.ctl)
		pid = byID(st)["h1"].PID
		return err == nil && pid > 0 && alive(pid)
	})
	time.Sleep(200 * time.Millisecond) // let it install its SIG_IGN
	start := time.Now()
	m.cancel()
	requireNoError(t, m.wait(t, 10*time.Second))
	if time.Since(start) < 300*time.Millisecond {
		t.Fatalf("stopped after %v: SIGTERM should have been ignored", time.Since(start))
	}
	requireEqual(t, alive(pid), false)
}

func TestMasterCPU(t *testing.T) {
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset is not installed")
	}
	p := freePorts(t, 1)
	servers := serverList(t, "chat", fmt.Sprintf(`{"id":"h1","host":"127.0.0.1","port":%d,"cpu":0}`, p[0]))
	m := startMaster(t, servers, Options{})
	h1 := waitState(t, m.ctl, "h1", StateRunning, 20*time.Second)
	b, err := os.ReadFile("/proc/" + strconv.Itoa(h1.PID) + "/status")
	requireNoError(t, err)
	if !strings.Contains(string(b), "Cpus_allowed_list:\t0\n") {
		t.Fatalf("not pinned to cpu 0:\n%s", b)
	}
}

// TestMasterDeathKillsServers kills a master with SIGKILL: its servers must not outlive it, not
// even one that ignores SIGTERM and never looks at its parent (Pdeathsig).
func TestMasterDeathKillsServers(t *testing.T) {
	p := freePorts(t, 3)
	cfg := fmt.Sprintf(`{"e":{"chat":[{"id":"h1","host":"127.0.0.1","port":%d},
		{"id":"h2","host":"127.0.0.1","port":%d,"behavior":"ignore-term"}]}}`, p[0], p[1])
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperServers+"="+cfg, helperMaster+"="+strconv.Itoa(p[2]))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	requireNoError(t, cmd.Start())
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()
	defer func() {
		cmd.Process.Kill()
		<-waited
	}()
	ctl := "127.0.0.1:" + strconv.Itoa(p[2])
	var pids []int
	eventually(t, 20*time.Second, "servers started", func() bool {
		st, err := getStatus(ctl)
		if err != nil {
			return false
		}
		pids = pids[:0]
		for _, s := range st.Servers {
			if s.PID == 0 || !alive(s.PID) {
				return false
			}
			pids = append(pids, s.PID)
		}
		return len(pids) == 2
	})
	time.Sleep(200 * time.Millisecond)
	requireNoError(t, cmd.Process.Kill())
	<-waited
	eventually(t, 5*time.Second, "servers die with their master", func() bool {
		return !alive(pids[0]) && !alive(pids[1])
	})
	for _, pid := range pids {
		requireEqual(t, alive(pid), false)
	}
}
