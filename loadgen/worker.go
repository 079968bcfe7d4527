package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shaddock-io/shaddock/loadgen/internal/driver"
)

// childEnv marks a process started by -procs: it runs its share and talks JSON lines.
const childEnv = "LOADGEN_CHILD"

// snapshotEvery is how often a worker reports; flagPoll is how often it checks whether its ramp
// or drain just finished, which it reports at once so that the phases move on without waiting.
const (
	snapshotEvery = 250 * time.Millisecond
	flagPoll      = 20 * time.Millisecond
)

// worker is one source of snapshots: the driver in this process, or a child process. snaps is
// closed by the worker's own goroutine after the final snapshot.
type worker struct {
	snaps    chan driver.Snapshot
	setPhase func(driver.Phase)
	wait     func() error // after snaps is closed: the child's exit status
	kill     func()       // ends a child that does not stop by itself
	last     driver.Snapshot
	done     bool
}

// startLocal runs cfg on a driver in this process.
func startLocal(cfg driver.Config) (*worker, error) {
	d, err := driver.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := d.Start(); err != nil {
		return nil, err
	}
	w := &worker{snaps: make(chan driver.Snapshot, 16), setPhase: d.SetPhase, wait: func() error { return nil }, kill: func() {}}
	stopped := make(chan struct{})
	go func() { d.Wait(); close(stopped) }()
	go func() {
		t := time.NewTicker(snapshotEvery)
		defer t.Stop()
		poll := time.NewTicker(flagPoll)
		defer poll.Stop()
		var rampDone, drained bool
		for {
			select {
			case <-t.C:
				s := d.Snapshot()
				rampDone, drained = s.RampDone, s.Drained
				w.snaps <- s
			case <-poll.C:
				if d.RampDone() != rampDone || d.Drained() != drained {
					s := d.Snapshot()
					rampDone, drained = s.RampDone, s.Drained
					w.snaps <- s
				}
			case <-stopped:
				s := d.Snapshot()
				s.Final = true
				w.snaps <- s
				close(w.snaps)
				return
			}
		}
	}()
	return w, nil
}

// startChild re-executes this binary as child i of n, with args.
func startChild(i, n int, args []string) (*worker, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = &prefixWriter{prefix: "[child " + strconv.Itoa(i) + "] ", w: os.Stderr}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w := &worker{snaps: make(chan driver.Snapshot, 16), wait: cmd.Wait, kill: func() { cmd.Process.Kill() }}
	var mu sync.Mutex
	w.setPhase = func(p driver.Phase) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdin, "phase %d\n", p)
		if p == driver.PhaseStop {
			stdin.Close()
		}
	}
	go func() {
		defer close(w.snaps)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var s driver.Snapshot
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				fmt.Fprintf(os.Stderr, "[child %d] bad snapshot: %v\n", i, err)
				continue
			}
			w.snaps <- s
			if s.Final {
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	return w, nil
}

// runChild is the hidden child mode: run this process's share, write a JSON snapshot line per
// second to stdout, take "phase N" lines from stdin. Stdin closing means stop.
func runChild(o *options) error {
	cfg, err := o.driverConfig()
	if err != nil {
		return err
	}
	w, err := startLocal(cfg)
	if err != nil {
		return err
	}
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "phase "); ok {
				if p, err := strconv.Atoi(v); err == nil {
					w.setPhase(driver.Phase(p))
				}
			}
		}
		w.setPhase(driver.PhaseStop)
	}()
	enc := json.NewEncoder(os.Stdout)
	for s := range w.snaps {
		if err := enc.Encode(&s); err != nil {
			w.setPhase(driver.PhaseStop)
		}
	}
	return nil
}

// prefixWriter prefixes each line written to w.
type prefixWriter struct {
	mu     sync.Mutex
	prefix string
	w      io.Writer
	mid    bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []byte
	for _, c := range b {
		if !p.mid {
			out = append(out, p.prefix...)
			p.mid = true
		}
		out = append(out, c)
		if c == '\n' {
			p.mid = false
		}
	}
	_, err := p.w.Write(out)
	return len(b), err
}
