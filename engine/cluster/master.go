package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shaddock-io/shaddock/engine"
)

// master starts and watches one process per selected server.
type master struct {
	opts    *Options
	command string
	taskset string // path of taskset(1), "" when absent
	spawn   *spawner

	mu        sync.Mutex // guards the status, cmd and everReady of every proc, and readyDone
	procs     []*proc
	readyDone bool
}

// proc is one server's process slot. Its supervise goroutine owns the restarts; fields marked
// (mu) are guarded by master.mu.
type proc struct {
	info      engine.ServerInfo
	status    ServerStatus // (mu)
	cmd       *exec.Cmd    // (mu) the current process; nil when none runs
	everReady bool         // (mu) some process of this server reported ready

	stopReq  chan struct{} // closed (once, by requestStop) to stop this server for good
	stopOnce sync.Once
	done     chan struct{} // closed by supervise when it returns
}

func (p *proc) requestStop() { p.stopOnce.Do(func() { close(p.stopReq) }) }

// runMaster starts sel as processes and watches them until ctx is done, the control endpoint
// says stop, or every process has exited for good.
func runMaster(ctx context.Context, opts Options, sel []engine.ServerInfo) error {
	command := opts.Command
	if command == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("cluster: cannot find this program to start servers: %w", err)
		}
		command = exe
	}
	m := &master{opts: &opts, command: command}
	if slices.ContainsFunc(sel, func(si engine.ServerInfo) bool { return si.CPU != "" }) {
		if path, err := exec.LookPath("taskset"); err == nil {
			m.taskset = path
		} else {
			opts.Logger.Warn("cluster: servers.json asks for cpu pinning but taskset is not installed; not pinned")
		}
	}
	now := time.Now()
	for _, si := range sel {
		m.procs = append(m.procs, &proc{info: si, stopReq: make(chan struct{}), done: make(chan struct{}),
			status: ServerStatus{ID: si.ID, Type: si.Type, State: StateStarting, Since: now}})
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	ctl, err := serveControl(&opts, m, stop)
	if err != nil {
		return err
	}
	defer closeControl(ctl)

	m.spawn = newSpawner()
	var wg sync.WaitGroup
	for _, p := range m.procs {
		wg.Go(func() { m.supervise(ctx, p) })
	}
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	select {
	case <-ctx.Done():
		opts.Logger.Info("cluster: master stopping every server", "servers", len(m.procs))
		<-all
	case <-all:
	}
	m.spawn.close() // every supervise, the spawner's only senders, has returned
	if ctx.Err() != nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.procs {
		if p.status.State != StateStopped {
			return ErrAllExited
		}
	}
	return nil
}

// supervise runs p's process, restarting it by p's policy, until p is stopped or gives up.
func (m *master) supervise(ctx context.Context, p *proc) {
	defer close(p.done)
	pol := m.opts.Restart
	restart := p.info.AutoRestart || p.info.RestartForce
	var recent []time.Time // restarts within the window
	delay := pol.Delay
	for {
		started := time.Now()
		exit, stopped := m.runOnce(ctx, p)
		if stopped {
			m.set(p, StateStopped, 0, exit)
			return
		}
		ran := time.Since(started)
		if !restart {
			m.opts.Logger.Warn("cluster: server exited", "id", p.info.ID, "exit", exit, "ran", ran.Round(time.Millisecond))
			m.set(p, StateExited, 0, exit)
			return
		}
		now := time.Now()
		if ran > pol.Window {
			recent, delay = recent[:0], pol.Delay
		}
		recent = slices.DeleteFunc(recent, func(t time.Time) bool { return now.Sub(t) > pol.Window })
		if len(recent) >= pol.Limit {
			m.opts.Logger.Error("cluster: server exits too often; given up", "id", p.info.ID, "exit", exit,
				"restarts", len(recent), "window", pol.Window)
			m.set(p, StateFailed, 0, exit)
			return
		}
		m.opts.Logger.Warn("cluster: server exited; restarting", "id", p.info.ID, "exit", exit,
			"ran", ran.Round(time.Millisecond), "in", delay)
		m.set(p, StateRestarting, 0, exit)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			m.set(p, StateStopped, 0, exit)
			return
		case <-p.stopReq:
			m.set(p, StateStopped, 0, exit)
			return
		}
		recent = append(recent, time.Now())
		delay = min(2*delay, pol.MaxDelay)
		m.mu.Lock()
		p.status.Restarts++
		p.status.State, p.status.Since = StateStarting, time.Now()
		m.mu.Unlock()
	}
}

// runOnce starts one process for p and waits for it to exit by itself (stopped false) or until
// it is asked to stop (stopped true; the process is then terminated first). exit describes how
// the process ended.
func (m *master) runOnce(ctx context.Context, p *proc) (exit string, stopped bool) {
	select { // stop requests win over a start
	case <-ctx.Done():
		return "", true
	case <-p.stopReq:
		return "", true
	default:
	}
	cmd, ready, err := m.start(p)
	if err != nil {
		return err.Error(), false
	}
	m.mu.Lock()
	p.cmd = cmd
	p.status.PID, p.status.State, p.status.Since = cmd.Process.Pid, StateStarting, time.Now()
	m.mu.Unlock()
	m.opts.Logger.Info("cluster: server process started", "id", p.info.ID, "pid", cmd.Process.Pid)
	go m.awaitReady(p, cmd, ready)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		m.clearCmd(p, cmd)
		return exitText(err), false
	case <-ctx.Done():
	case <-p.stopReq:
	}
	m.set(p, StateStopping, cmd.Process.Pid, "")
	err = m.terminate(cmd, waited)
	m.clearCmd(p, cmd)
	return exitText(err), true
}

func (m *master) clearCmd(p *proc, cmd *exec.Cmd) {
	m.mu.Lock()
	if p.cmd == cmd {
		p.cmd = nil
	}
	m.mu.Unlock()
}

// start starts a process for p. ready is the read end of the pipe on which the process reports
// that it listens.
func (m *master) start(p *proc) (*exec.Cmd, *os.File, error) {
	args := append(slices.Clone(m.opts.Args), serverArgs(m.opts.Env, p.info)...)
	name := m.command
	if p.info.CPU != "" && m.taskset != "" {
		args = append([]string{"-c", p.info.CPU, name}, args...)
		name = m.taskset
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = m.opts.Stdout, m.opts.Stderr
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.ExtraFiles = []*os.File{w} // descriptor 3 in the child
	cmd.Env = append(withoutEnv(os.Environ(), EnvReadyFD, EnvMasterPID),
		EnvReadyFD+"=3", EnvMasterPID+"="+strconv.Itoa(os.Getpid()))
	cmd.SysProcAttr = sysProcAttr()
	err = m.spawn.start(cmd)
	w.Close()
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return cmd, r, nil
}

func withoutEnv(env []string, keys ...string) []string {
	return slices.DeleteFunc(env, func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(keys, k)
	})
}

// awaitReady marks p running when cmd reports ready, and calls Options.Ready once every server
// has been ready once.
func (m *master) awaitReady(p *proc, cmd *exec.Cmd, r *os.File) {
	defer r.Close()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil || line != "ready\n" {
		return // exited (or closed the pipe) before listening
	}
	m.mu.Lock()
	if p.cmd != cmd || p.status.State != StateStarting {
		m.mu.Unlock()
		return
	}
	p.status.State, p.status.Since = StateRunning, time.Now()
	p.everReady = true
	call := !m.readyDone && !slices.ContainsFunc(m.procs, func(q *proc) bool { return !q.everReady })
	if call {
		m.readyDone = true
	}
	m.mu.Unlock()
	m.opts.Logger.Info("cluster: server ready", "id", p.info.ID, "pid", cmd.Process.Pid)
	if call && m.opts.Ready != nil {
		m.opts.Ready()
	}
}

// terminate stops cmd: SIGTERM, then SIGKILL after StopTimeout. It returns Wait's error.
func (m *master) terminate(cmd *exec.Cmd, waited <-chan error) error {
	if err := terminateSignal(cmd.Process); err != nil && !errors.Is(err, os.ErrProcessDone) {
		m.opts.Logger.Warn("cluster: cannot signal server", "pid", cmd.Process.Pid, "err", err)
	}
	t := time.NewTimer(m.opts.StopTimeout)
	defer t.Stop()
	select {
	case err := <-waited:
		return err
	case <-t.C:
	}
	m.opts.Logger.Warn("cluster: server did not stop in time; killing it", "pid", cmd.Process.Pid, "after", m.opts.StopTimeout)
	_ = cmd.Process.Kill()
	return <-waited
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func (m *master) set(p *proc, s State, pid int, exit string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p.status.State, p.status.PID, p.status.Since = s, pid, time.Now()
	if exit != "" {
		p.status.LastExit = exit
	}
}

// Status implements controller.
func (m *master) Status() Status {
	st := statusOf(m.opts)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.procs {
		st.Servers = append(st.Servers, p.status)
	}
	return st
}

// StopServer implements controller: it stops one server for good and waits until it is down.
func (m *master) StopServer(id string) error {
	for _, p := range m.procs {
		if p.info.ID == id {
			p.requestStop()
			<-p.done
			return nil
		}
	}
	return fmt.Errorf("%w: %q is not started by this master", ErrUnknownServer, id)
}

// spawner starts processes from one goroutine locked to its OS thread: on Linux a child's
// parent-death signal (Pdeathsig) fires when the THREAD that forked it exits, and Go may end
// threads, so every fork happens on a thread that lives as long as the spawner. The spawner is
// closed by runMaster once every supervise goroutine (its only senders) has returned; its thread
// then exits with it, after every child has been reaped.
type spawner struct{ reqs chan spawnReq }

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq)}
	go s.loop()
	return s
}

func (s *spawner) loop() {
	runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
	for r := range s.reqs {
		r.done <- r.cmd.Start()
	}
}

func (s *spawner) start(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	s.reqs <- spawnReq{cmd, done}
	return <-done
}

func (s *spawner) close() { close(s.reqs) }
