package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shaddock-io/shaddock/loadgen/internal/driver"
)

// controlTick is how often the controller checks the phase conditions; stopGrace is how long
// workers get to close their connections and report before children are killed.
const (
	controlTick = 50 * time.Millisecond
	stopGrace   = 15 * time.Second
)

// marks are the wall-clock times at which the run changed phase.
type marks struct {
	start, rampEnd, holdEnd, drainEnd, end time.Time
	rampTimedOut                           bool
}

// runParent runs the whole test: workers (this process or -procs children), phases, sampling,
// and returns the merged result. progress lines go to status (nil: none).
func runParent(o *options, fs *flag.FlagSet, status io.Writer) (*result, error) {
	pids, err := parsePIDs(o.pids)
	if err != nil {
		return nil, err
	}
	var workers []*worker
	if o.procs == 1 {
		cfg, err := o.driverConfig()
		if err != nil {
			return nil, err
		}
		w, err := startLocal(cfg)
		if err != nil {
			return nil, err
		}
		workers = append(workers, w)
	} else {
		probe := *o
		probe.childCount = o.procs
		if _, err := probe.driverConfig(); err != nil {
			return nil, err
		}
		for i := 0; i < o.procs; i++ {
			w, err := startChild(i, o.procs, childArgs(fs, i, o.procs))
			if err != nil {
				for _, w := range workers {
					w.setPhase(driver.PhaseStop)
				}
				return nil, err
			}
			workers = append(workers, w)
		}
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	agg := newAggregator(len(workers), pids)
	m := marks{start: agg.start}
	phase := driver.PhaseRamp
	var stopAt time.Time
	setPhase := func(p driver.Phase) {
		phase = p
		agg.setPhase(time.Now(), p)
		if p == driver.PhaseStop {
			stopAt = time.Now()
		}
		for _, w := range workers {
			if !w.done {
				w.setPhase(p)
			}
		}
	}
	rampTimeout := o.rampTimeout
	if rampTimeout == 0 {
		rampTimeout = o.connTimeout + 10*time.Second
		if o.rate > 0 {
			rampTimeout += time.Duration(float64(o.conns) / o.rate * float64(time.Second))
		}
	}
	tick := time.NewTicker(controlTick)
	defer tick.Stop()
	var snapErr error
	emit := func(rows []row) {
		for i := range rows {
			if status != nil {
				fmt.Fprintln(status, progress(&rows[i], o.conns, &agg.total))
			}
		}
	}
	for {
		select {
		case <-tick.C:
		case <-sigs:
			if phase >= driver.PhaseStop {
				os.Exit(130)
			}
			fmt.Fprintln(os.Stderr, "interrupted: stopping")
			if m.rampEnd.IsZero() {
				m.rampEnd = time.Now()
			}
			if m.holdEnd.IsZero() {
				m.holdEnd = time.Now()
			}
			setPhase(driver.PhaseStop)
		}
		alive := 0
		for i, w := range workers {
			for !w.done {
				select {
				case s, ok := <-w.snaps:
					if !ok {
						w.done = true
						if err := w.wait(); err != nil {
							snapErr = fmt.Errorf("child %d: %w", i, err)
						}
						continue
					}
					if err := agg.add(i, &s); err != nil {
						snapErr = fmt.Errorf("child %d: %w", i, err)
					}
					w.last = s
					continue
				default:
				}
				break
			}
			if !w.done {
				alive++
			}
		}
		now := time.Now()
		agg.sampleServers(now)
		if phase == driver.PhaseStop && now.Sub(stopAt) > stopGrace {
			for i, w := range workers {
				if !w.done {
					fmt.Fprintf(os.Stderr, "worker %d did not stop: killed\n", i)
					w.kill()
				}
			}
			stopAt = now
		}
		if alive == 0 {
			m.end = now
			emit(agg.complete(true))
			break
		}
		emit(agg.complete(false))
		switch phase {
		case driver.PhaseRamp:
			done := true
			for _, w := range workers {
				done = done && w.last.RampDone && w.last.Seq > 0
			}
			if done || now.Sub(m.start) >= rampTimeout {
				m.rampEnd, m.rampTimedOut = now, !done
				for _, s := range agg.servers {
					if ps, ok := s.sample(); ok {
						s.rampRSS, s.holdCPU0 = ps.RSS, ps.CPU
					}
				}
				agg.markRamp()
				setPhase(driver.PhaseHold)
			}
		case driver.PhaseHold:
			if now.Sub(m.rampEnd) >= o.hold {
				m.holdEnd = now
				for _, s := range agg.servers {
					if ps, ok := s.sample(); ok {
						s.holdCPU1 = ps.CPU
					}
				}
				agg.markHold()
				setPhase(driver.PhaseDrain)
			}
		case driver.PhaseDrain:
			drained := true
			for _, w := range workers {
				drained = drained && w.last.Drained
			}
			// Workers may not have seen the drain yet when their last snapshot was taken.
			if drained && now.Sub(m.holdEnd) > 2*flagPoll+controlTick || now.Sub(m.holdEnd) >= o.drain {
				m.drainEnd = now
				setPhase(driver.PhaseStop)
			}
		}
	}
	if m.drainEnd.IsZero() {
		m.drainEnd = m.end
	}
	res := buildResult(o, agg, &m)
	if snapErr != nil {
		res.Errors["loadgen: "+snapErr.Error()]++
	}
	return res, nil
}

func parsePIDs(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := strconv.Atoi(f)
		if err != nil || p <= 0 {
			return nil, fmt.Errorf("%w: -pids %q", errUsage, f)
		}
		out = append(out, p)
	}
	return out, nil
}
