package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shaddock-io/shaddock/loadgen/internal/driver"
	"github.com/shaddock-io/shaddock/loadgen/internal/hist"
	"github.com/shaddock-io/shaddock/loadgen/internal/procstat"
)

// row is one second of the run, summed over every process.
type row struct {
	T          float64   `json:"t"` // seconds since the start
	Phase      string    `json:"phase"`
	Open       int64     `json:"open"`
	Ready      int64     `json:"ready"`
	Connecting int64     `json:"connecting"`
	Inflight   int64     `json:"inflight"`
	Handshakes uint64    `json:"handshakes"`
	Requests   uint64    `json:"requests"`
	Responses  uint64    `json:"responses"`
	Errors     uint64    `json:"errors"` // code != 200 and protocol errors
	Timeouts   uint64    `json:"timeouts"`
	Notifies   uint64    `json:"notifies"`
	Pushes     uint64    `json:"pushes"`
	Dropped    uint64    `json:"dropped"`
	Failed     uint64    `json:"failed"`
	P50        float64   `json:"p50_ms"`
	P90        float64   `json:"p90_ms"`
	P99        float64   `json:"p99_ms"`
	Max        float64   `json:"max_ms"`
	PushP50    float64   `json:"push_p50_ms"`
	PushP99    float64   `json:"push_p99_ms"`
	ServerCPU  []float64 `json:"server_cpu_pct,omitempty"` // per -pids entry, % of one core
	ServerRSS  []int64   `json:"server_rss,omitempty"`
	SelfCPU    float64   `json:"self_cpu_pct"`
	SelfRSS    int64     `json:"self_rss"`
	Seconds    float64   `json:"seconds"` // length of the interval
}

// server samples one -pids process.
type server struct {
	pid      int
	first    procstat.Sample
	last     procstat.Sample
	ok       bool
	maxRSS   int64
	rampRSS  int64   // RSS when the ramp ended
	holdCPU0 float64 // CPU seconds when the hold started
	holdCPU1 float64 // ... and when it ended
	err      string
}

func (s *server) sample() (procstat.Sample, bool) {
	ps, err := procstat.Read(s.pid)
	if err != nil {
		if s.err == "" {
			s.err = err.Error()
		}
		return procstat.Sample{}, false
	}
	if !s.ok {
		s.first, s.ok = ps, true
	}
	s.last = ps
	s.maxRSS = max(s.maxRSS, ps.RSS)
	return ps, true
}

// aggregator merges the snapshots of every worker, exactly: counters add, histograms merge.
type aggregator struct {
	start   time.Time
	total   driver.Counts
	lat     hist.Histogram // whole run
	hs      hist.Histogram
	push    hist.Histogram
	winC    driver.Counts // since the last row
	winLat  hist.Histogram
	winPush hist.Histogram
	last    []driver.Snapshot // latest per worker
	errors  map[string]uint64
	rows    []row
	lastRow time.Time
	servers []*server
	selfCPU float64 // at the previous row
	atRamp  mark    // when the ramp ended
	atHold  mark    // when the hold ended
}

// mark is the state of the run at a phase change (as of the latest snapshots).
type mark struct {
	c       driver.Counts
	selfCPU float64
	selfRSS int64
	open    int64
}

func (a *aggregator) mark() mark {
	cpu, rss, _, _ := a.self()
	return mark{c: a.total, selfCPU: cpu, selfRSS: rss, open: a.gauges().Open}
}

func (a *aggregator) markRamp() { a.atRamp = a.mark() }
func (a *aggregator) markHold() { a.atHold = a.mark() }

func newAggregator(workers int, pids []int) *aggregator {
	a := &aggregator{start: time.Now(), last: make([]driver.Snapshot, workers), errors: map[string]uint64{}}
	a.lastRow = a.start
	for _, p := range pids {
		s := &server{pid: p}
		s.sample()
		a.servers = append(a.servers, s)
	}
	return a
}

// add merges one snapshot of worker i.
func (a *aggregator) add(i int, s *driver.Snapshot) error {
	for _, p := range []struct {
		h  [2]*hist.Histogram
		sp *hist.Sparse
	}{{[2]*hist.Histogram{&a.lat, &a.winLat}, &s.Lat}, {[2]*hist.Histogram{&a.hs, nil}, &s.HS},
		{[2]*hist.Histogram{&a.push, &a.winPush}, &s.Push}} {
		for _, h := range p.h {
			if h != nil {
				if err := h.AddSparse(p.sp); err != nil {
					return err
				}
			}
		}
	}
	a.total.Add(&s.C)
	a.winC.Add(&s.C)
	for k, v := range s.Errors {
		a.errors[k] += v
	}
	a.last[i] = *s
	return nil
}

// gauges returns the current gauges summed over the workers.
func (a *aggregator) gauges() (g driver.Gauges) {
	for i := range a.last {
		g.Open += a.last[i].G.Open
		g.Ready += a.last[i].G.Ready
		g.Connecting += a.last[i].G.Connecting
		g.Inflight += a.last[i].G.Inflight
	}
	return g
}

// self returns loadgen's own CPU seconds and RSS, and the same before the first connection: the
// sum over the processes that run connections (a -procs parent only supervises and is left out).
func (a *aggregator) self() (cpu float64, rss int64, baseCPU float64, baseRSS int64) {
	for i := range a.last {
		cpu += a.last[i].SelfCPU
		rss += a.last[i].SelfRSS
		baseCPU += a.last[i].BaseCPU
		baseRSS += a.last[i].BaseRSS
	}
	return
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// row closes the current second and returns its summary.
func (a *aggregator) row(now time.Time, phase string) row {
	secs := now.Sub(a.lastRow).Seconds()
	a.lastRow = now
	g := a.gauges()
	c := &a.winC
	r := row{T: now.Sub(a.start).Seconds(), Phase: phase, Open: g.Open, Ready: g.Ready, Connecting: g.Connecting,
		Inflight: g.Inflight, Handshakes: c[driver.Handshakes], Requests: c[driver.Requests],
		Responses: c[driver.Responses], Errors: c[driver.ErrResponses] + c[driver.ProtoErrors],
		Timeouts: c[driver.Timeouts], Notifies: c[driver.Notifies], Pushes: c[driver.PushesMatched],
		Dropped: c.Dropped(), Failed: c[driver.ConnFailed], Seconds: secs,
		P50: ms(a.winLat.ValueAt(0.5)), P90: ms(a.winLat.ValueAt(0.9)), P99: ms(a.winLat.ValueAt(0.99)),
		Max: ms(a.winLat.Max()), PushP50: ms(a.winPush.ValueAt(0.5)), PushP99: ms(a.winPush.ValueAt(0.99))}
	for _, s := range a.servers {
		prev := s.last
		cpu, rss := 0.0, int64(0)
		if ps, ok := s.sample(); ok && secs > 0 {
			cpu, rss = (ps.CPU-prev.CPU)/secs*100, ps.RSS
		}
		r.ServerCPU = append(r.ServerCPU, cpu)
		r.ServerRSS = append(r.ServerRSS, rss)
	}
	selfCPU, selfRSS, _, _ := a.self()
	if secs > 0 && a.selfCPU > 0 {
		r.SelfCPU = (selfCPU - a.selfCPU) / secs * 100
	}
	a.selfCPU, r.SelfRSS = selfCPU, selfRSS
	a.winC = driver.Counts{}
	if a.winLat.Count() > 0 {
		a.winLat.Reset()
	}
	if a.winPush.Count() > 0 {
		a.winPush.Reset()
	}
	a.rows = append(a.rows, r)
	return r
}

// progress formats a row as the live status line.
func progress(r *row, conns int, tot *driver.Counts) string {
	var b strings.Builder
	per := func(n uint64) float64 {
		if r.Seconds <= 0 {
			return 0
		}
		return float64(n) / r.Seconds
	}
	fmt.Fprintf(&b, "%6.1fs %-5s open %d/%d conn %d hs %.0f/s", r.T, r.Phase, r.Open, conns, r.Connecting, per(r.Handshakes))
	if r.Requests+r.Responses+tot[driver.Requests] > 0 {
		fmt.Fprintf(&b, " | req %.0f/s resp %.0f/s err %d to %d | p50 %.2fms p99 %.2fms max %.2fms",
			per(r.Requests), per(r.Responses), r.Errors, r.Timeouts, r.P50, r.P99, r.Max)
	}
	if r.Notifies > 0 {
		fmt.Fprintf(&b, " | notify %.0f/s", per(r.Notifies))
	}
	if tot[driver.Pushes] > 0 {
		fmt.Fprintf(&b, " | push %.0f/s", per(r.Pushes))
		if r.PushP50 > 0 {
			fmt.Fprintf(&b, " p50 %.2fms p99 %.2fms", r.PushP50, r.PushP99)
		}
	}
	fmt.Fprintf(&b, " | drop %d fail %d", tot.Dropped(), tot[driver.ConnFailed])
	for i := range r.ServerCPU {
		fmt.Fprintf(&b, " | srv %.0f%% %s", r.ServerCPU[i], mib(r.ServerRSS[i]))
	}
	fmt.Fprintf(&b, " | self %.0f%% %s", r.SelfCPU, mib(r.SelfRSS))
	return b.String()
}

func mib(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + "MiB" }
