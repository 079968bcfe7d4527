package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Markers delimiting the generated part of BENCHMARKS.md.
const (
	markBegin = "<!-- bench:begin -->"
	markEnd   = "<!-- bench:end -->"
)

// ErrScenario reports that at least one scenario failed outright.
var ErrScenario = errors.New("bench: scenario failed")

// options are the command line.
type options struct {
	quick   bool
	out     string
	only    []string
	hold    time.Duration
	verbose bool
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	var only string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.BoolVar(&o.quick, "quick", false, "seconds-long smoke version of the matrix (small N, short holds); writes to a temp file unless -out is given")
	fs.StringVar(&o.out, "out", "", "markdown file whose generated section is rewritten (default: BENCHMARKS.md at the module root; a temp file with -quick)")
	fs.StringVar(&only, "only", "", "run only these scenarios (comma-separated names or name prefixes)")
	fs.DurationVar(&o.hold, "hold", 0, "override every scenario's hold phase")
	fs.BoolVar(&o.verbose, "v", false, "print loadgen's text reports")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if only != "" {
		o.only = strings.Split(only, ",")
	}
	return o, nil
}

func run(args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	work, err := os.MkdirTemp("", "shaddock-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	h := &harness{root: root, work: work, opts: o, ctx: ctx}
	defer h.killAll()

	out := o.out
	if out == "" {
		if o.quick {
			out = filepath.Join(work, "BENCHMARKS.md")
		} else {
			out = filepath.Join(root, "BENCHMARKS.md")
		}
	}

	matrix := selectScenarios(scenarios(o.quick), o.only)
	if len(matrix) == 0 {
		return fmt.Errorf("bench: -only %q matches no scenario", strings.Join(o.only, ","))
	}
	if o.hold > 0 {
		for i := range matrix {
			matrix[i].hold = o.hold
		}
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "bench: building into %s\n", work)
	if err := h.build(); err != nil {
		return err
	}
	results := h.runMatrix(matrix)
	section := renderSection(machineInfo(), o, results, time.Since(start))
	if err := rewriteSection(out, section); err != nil {
		return err
	}
	if o.quick && o.out == "" {
		fmt.Print(section)
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s (%s)\n", out, time.Since(start).Round(time.Second))
	var failed []string
	for _, r := range results {
		if r.failure != "" {
			failed = append(failed, r.sc.name+": "+r.failure)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %s", ErrScenario, strings.Join(failed, "; "))
	}
	return nil
}

// moduleRoot finds the directory holding go.mod, from the working directory upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("bench: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// harness owns the built binaries and every process started.
type harness struct {
	root, work string
	opts       options
	ctx        context.Context
	procs      []*exec.Cmd
}

func (h *harness) build() error {
	for _, b := range [][2]string{{"chat", "./examples/chat"}, {"loadgen", "./loadgen"}} {
		cmd := exec.CommandContext(h.ctx, "go", "build", "-o", filepath.Join(h.work, b[0]), b[1])
		cmd.Dir = h.root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("bench: go build %s: %w", b[1], err)
		}
	}
	return nil
}

// command makes a process that dies with this one (Pdeathsig) in its own process group.
func (h *harness) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	return cmd
}

func (h *harness) track(cmd *exec.Cmd) { h.procs = append(h.procs, cmd) }

// stopProc asks a process group to end (SIGTERM), then kills it after grace.
func stopProc(cmd *exec.Cmd, grace time.Duration) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	pid := cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
}

func (h *harness) killAll() {
	for _, cmd := range h.procs {
		stopProc(cmd, 3*time.Second)
	}
	h.procs = nil
}

// freePorts reserves n distinct loopback ports and releases them for the servers to take.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for len(ports) < n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// cluster is a running chat demo.
type cluster struct {
	layout  string
	cmd     *exec.Cmd
	addr    string // client address of the connector
	control string
	pids    []int // processes running servers
	log     string
}

// startCluster writes a config with one connector and one chat server on free ports and starts
// the demo in mode (embedded or master); it returns once every server runs.
func (h *harness) startCluster(layout, mode string) (*cluster, error) {
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(h.work, "config-"+layout)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, f := range []string{"dictionary.json", "clientProtos.json", "serverProtos.json"} {
		b, err := os.ReadFile(filepath.Join(h.root, "examples/chat/config", f))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return nil, err
		}
	}
	servers := fmt.Sprintf(`{"development":{"connector":[{"id":"connector-server-1","host":"127.0.0.1","port":%d,"clientHost":"127.0.0.1","clientPort":%d,"frontend":true}],"chat":[{"id":"chat-server-1","host":"127.0.0.1","port":%d}]}}`+"\n",
		ports[1], ports[0], ports[2])
	master := fmt.Sprintf(`{"development":{"id":"master-server-1","host":"127.0.0.1","port":%d}}`+"\n", ports[3])
	if err := os.WriteFile(filepath.Join(dir, "servers.json"), []byte(servers), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "master.json"), []byte(master), 0o644); err != nil {
		return nil, err
	}
	c := &cluster{layout: layout, addr: "127.0.0.1:" + strconv.Itoa(ports[0]),
		control: "127.0.0.1:" + strconv.Itoa(ports[3]), log: filepath.Join(h.work, layout+".log")}
	logf, err := os.Create(c.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	c.cmd = h.command(filepath.Join(h.work, "chat"), "-config", dir, "-mode", mode, "-quiet")
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	h.track(c.cmd)
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		st, err := status(client, c.control)
		if err == nil && len(st.Servers) == 2 && allRunning(st) {
			for _, s := range st.Servers {
				if s.PID > 0 && !slices.Contains(c.pids, s.PID) {
					c.pids = append(c.pids, s.PID)
				}
			}
			if len(c.pids) > 0 {
				return c, nil
			}
		}
		if time.Now().After(deadline) || h.ctx.Err() != nil {
			stopProc(c.cmd, time.Second)
			b, _ := os.ReadFile(c.log)
			return nil, fmt.Errorf("bench: the %s cluster did not start (%v): %s", layout, err, tail(b, 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type clusterStatus struct {
	Servers []struct {
		ID    string `json:"id"`
		State string `json:"state"`
		PID   int    `json:"pid"`
	} `json:"servers"`
}

func status(client *http.Client, addr string) (clusterStatus, error) {
	var st clusterStatus
	resp, err := client.Get("http://" + addr + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

func allRunning(st clusterStatus) bool {
	for _, s := range st.Servers {
		if s.State != "running" {
			return false
		}
	}
	return true
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func (h *harness) stopCluster(c *cluster) {
	stopProc(c.cmd, 5*time.Second)
	h.procs = slices.DeleteFunc(h.procs, func(p *exec.Cmd) bool { return p == c.cmd })
}

// runMatrix runs the scenarios in order, one cluster per layout run of consecutive scenarios.
func (h *harness) runMatrix(matrix []scenario) []result {
	var results []result
	var cur *cluster
	for _, sc := range matrix {
		if h.ctx.Err() != nil {
			results = append(results, result{sc: sc, failure: "interrupted"})
			continue
		}
		if cur == nil || cur.layout != sc.layout || sc.fresh {
			if cur != nil {
				h.stopCluster(cur)
				cur = nil
			}
			mode := "embedded"
			if sc.layout == layoutMulti {
				mode = "master"
			}
			c, err := h.startCluster(sc.layout, mode)
			if err != nil {
				results = append(results, result{sc: sc, failure: err.Error()})
				continue
			}
			cur = c
			fmt.Fprintf(os.Stderr, "bench: %s cluster up, client address %s, server pids %v\n", c.layout, c.addr, c.pids)
		}
		r := h.runScenario(cur, sc)
		state := "ok"
		if r.failure != "" {
			state = "FAILED: " + r.failure
		}
		fmt.Fprintf(os.Stderr, "bench: %-22s %s  (%s)\n", sc.name, r.summary(), state)
		results = append(results, r)
	}
	if cur != nil {
		h.stopCluster(cur)
	}
	return results
}

func (h *harness) runScenario(c *cluster, sc scenario) result {
	r := result{sc: sc, load: loadavg()}
	jsonPath := filepath.Join(h.work, sc.name+".json")
	pids := make([]string, len(c.pids))
	for i, p := range c.pids {
		pids[i] = strconv.Itoa(p)
	}
	args := append([]string{"-quiet", "-addr", c.addr, "-hold", sc.hold.String(), "-pids", strings.Join(pids, ",")}, sc.args...)
	r.command = "loadgen " + strings.Join(append(slices.Clone(args), "-json", "out.json"), " ")
	args = append(args, "-json", jsonPath)
	// Bounded: ramp, hold, drain and start-up, with room to spare.
	limit := sc.hold + 90*time.Second
	ctx, cancel := context.WithTimeout(h.ctx, limit)
	defer cancel()
	cmd := h.command(filepath.Join(h.work, "loadgen"), args...)
	var text strings.Builder
	cmd.Stdout, cmd.Stderr = &text, &text
	if err := cmd.Start(); err != nil {
		r.failure = err.Error()
		return r
	}
	h.track(cmd)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var runErr error
	select {
	case runErr = <-done:
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		runErr = <-done
		r.failure = "loadgen did not finish within " + limit.String()
	}
	h.procs = slices.DeleteFunc(h.procs, func(p *exec.Cmd) bool { return p == cmd })
	if h.opts.verbose {
		fmt.Fprint(os.Stderr, text.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err == nil {
		err = json.Unmarshal(b, &r.rep)
	}
	switch {
	case r.failure != "":
	case err != nil:
		r.failure = fmt.Sprintf("no loadgen report (%v, exit %v): %s", err, runErr, tail([]byte(text.String()), 1000))
	case runErr != nil:
		r.failure = fmt.Sprintf("loadgen: %v: %s", runErr, tail([]byte(text.String()), 1000))
	default:
		r.failure = sc.check(&r.rep)
	}
	return r
}

// loadavg returns the first three fields of /proc/loadavg.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// machine describes where the numbers were taken.
type machine struct {
	CPU, Kernel, Go string
	Cores, MaxProcs int
	MemGiB          float64
}

func machineInfo() machine {
	m := machine{Cores: runtime.NumCPU(), MaxProcs: runtime.GOMAXPROCS(0), CPU: "?", Kernel: "?", Go: "?"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				f := strings.Fields(rest)
				if len(f) > 0 {
					kb, _ := strconv.ParseFloat(f[0], 64)
					m.MemGiB = kb / (1 << 20)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out))
	}
	return m
}
