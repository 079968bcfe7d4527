package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shaddock-io/shaddock/loadgen/internal/driver"
	"github.com/shaddock-io/shaddock/loadgen/internal/hist"
	"github.com/shaddock-io/shaddock/loadgen/internal/procstat"
)

// row is one second of the run, summed over every process.
type row struct {
	T          float64   `json:"t"` // end of the second, in seconds since the start
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
	perSec   []procstat.Sample
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

// pending is a second whose snapshots are still arriving.
type pending struct {
	k       int
	c       driver.Counts
	lat     hist.Histogram
	push    hist.Histogram
	selfCPU []float64 // latest cumulative CPU seconds per worker within the second
	selfRSS []int64
}

// aggregator merges the snapshots of every worker, exactly: counters add, histograms merge.
//
// Each snapshot covers the events of one worker since its previous one (250 ms). It is booked to
// the second that holds the middle of that span, on the worker's clock (which starts with the
// parent's, give or take a process start). A second is complete once every running worker has
// reported past its end; then it becomes a row.
type aggregator struct {
	start   time.Time
	total   driver.Counts
	lat     hist.Histogram // whole run
	hs      hist.Histogram
	push    hist.Histogram
	last    []driver.Snapshot // latest per worker
	prevEl  []float64         // Elapsed of the previous snapshot per worker
	done    []bool
	pend    []*pending
	cpuSeen []float64 // per worker, cumulative CPU at the end of the last row
	errors  map[string]uint64
	rows    []row
	servers []*server
	phases  []phaseAt // phase changes, parent clock
	atRamp  mark      // when the ramp ended
	atHold  mark      // when the hold ended
}

type phaseAt struct {
	t     float64
	phase string
}

// mark is the state of the run at a phase change (as of the latest snapshots).
type mark struct {
	c       driver.Counts
	selfCPU float64
	selfRSS int64
	open    int64
}

func newAggregator(workers int, pids []int) *aggregator {
	a := &aggregator{start: time.Now(), last: make([]driver.Snapshot, workers), prevEl: make([]float64, workers),
		done: make([]bool, workers), cpuSeen: make([]float64, workers), errors: map[string]uint64{},
		phases: []phaseAt{{0, driver.PhaseRamp.String()}}}
	for _, p := range pids {
		s := &server{pid: p}
		if ps, ok := s.sample(); ok {
			s.perSec = append(s.perSec, ps)
		}
		a.servers = append(a.servers, s)
	}
	return a
}

func (a *aggregator) since(t time.Time) float64 { return t.Sub(a.start).Seconds() }

// setPhase records a phase change at parent time now.
func (a *aggregator) setPhase(now time.Time, p driver.Phase) {
	a.phases = append(a.phases, phaseAt{a.since(now), p.String()})
}

func (a *aggregator) phaseAt(t float64) string {
	p := a.phases[0].phase
	for _, ph := range a.phases {
		if ph.t <= t {
			p = ph.phase
		}
	}
	return p
}

// sampleServers records the servers' usage at the start of each second of the parent's clock.
func (a *aggregator) sampleServers(now time.Time) {
	k := int(a.since(now))
	for _, s := range a.servers {
		for len(s.perSec) > 0 && len(s.perSec) <= k {
			ps, ok := s.sample()
			if !ok {
				ps = s.perSec[len(s.perSec)-1]
			}
			s.perSec = append(s.perSec, ps)
		}
	}
}

// add merges snapshot s of worker i.
func (a *aggregator) add(i int, s *driver.Snapshot) error {
	mid := (a.prevEl[i] + s.Elapsed) / 2
	a.prevEl[i] = s.Elapsed
	p := a.pendingFor(int(math.Floor(mid)))
	for _, h := range []struct {
		dst []*hist.Histogram
		sp  *hist.Sparse
	}{{[]*hist.Histogram{&a.lat, &p.lat}, &s.Lat}, {[]*hist.Histogram{&a.hs}, &s.HS}, {[]*hist.Histogram{&a.push, &p.push}, &s.Push}} {
		for _, d := range h.dst {
			if err := d.AddSparse(h.sp); err != nil {
				return err
			}
		}
	}
	a.total.Add(&s.C)
	p.c.Add(&s.C)
	p.selfCPU[i], p.selfRSS[i] = s.SelfCPU, s.SelfRSS
	for k, v := range s.Errors {
		a.errors[k] += v
	}
	a.last[i] = *s
	if s.Final {
		a.done[i] = true
	}
	return nil
}

func (a *aggregator) pendingFor(k int) *pending {
	if n := len(a.rows); n > 0 {
		k = max(k, int(math.Round(a.rows[n-1].T))) // a straggler for a closed second goes to the next one
	}
	for _, p := range a.pend {
		if p.k == k {
			return p
		}
	}
	p := &pending{k: k, selfCPU: make([]float64, len(a.last)), selfRSS: make([]int64, len(a.last))}
	i := len(a.pend)
	for i > 0 && a.pend[i-1].k > k {
		i--
	}
	a.pend = append(a.pend, nil)
	copy(a.pend[i+1:], a.pend[i:])
	a.pend[i] = p
	return p
}

// complete turns the seconds every running worker has reported past into rows and returns them;
// with all set, it flushes every pending second (end of run).
func (a *aggregator) complete(all bool) []row {
	horizon := math.Inf(1)
	for i := range a.last {
		if !a.done[i] {
			horizon = min(horizon, a.prevEl[i])
		}
	}
	var out []row
	for len(a.pend) > 0 && (all || float64(a.pend[0].k+1) <= horizon) {
		p := a.pend[0]
		a.pend = a.pend[1:]
		out = append(out, a.row(p, all && len(a.pend) == 0))
	}
	return out
}

// row summarizes a completed second.
func (a *aggregator) row(p *pending, last bool) row {
	g := a.gauges()
	c := &p.c
	secs := 1.0
	end := float64(p.k + 1)
	if last {
		maxEl := 0.0
		for i := range a.last {
			maxEl = max(maxEl, a.last[i].Elapsed)
		}
		if maxEl > float64(p.k) && maxEl < end {
			secs, end = maxEl-float64(p.k), maxEl
		}
	}
	r := row{T: end, Phase: a.phaseAt(float64(p.k) + secs/2), Open: g.Open, Ready: g.Ready, Connecting: g.Connecting,
		Inflight: g.Inflight, Handshakes: c[driver.Handshakes], Requests: c[driver.Requests],
		Responses: c[driver.Responses], Errors: c[driver.ErrResponses] + c[driver.ProtoErrors],
		Timeouts: c[driver.Timeouts], Notifies: c[driver.Notifies], Pushes: c[driver.PushesMatched],
		Dropped: c.Dropped(), Failed: c[driver.ConnFailed], Seconds: secs,
		P50: ms(p.lat.ValueAt(0.5)), P90: ms(p.lat.ValueAt(0.9)), P99: ms(p.lat.ValueAt(0.99)),
		Max: ms(p.lat.Max()), PushP50: ms(p.push.ValueAt(0.5)), PushP99: ms(p.push.ValueAt(0.99))}
	for _, s := range a.servers {
		cpu, rss := 0.0, int64(0)
		if p.k+1 < len(s.perSec) {
			cpu = (s.perSec[p.k+1].CPU - s.perSec[p.k].CPU) * 100
			rss = s.perSec[p.k+1].RSS
		} else if n := len(s.perSec); n > 0 {
			rss = s.perSec[n-1].RSS
		}
		r.ServerCPU = append(r.ServerCPU, cpu)
		r.ServerRSS = append(r.ServerRSS, rss)
	}
	for i := range a.last {
		if p.selfCPU[i] == 0 { // no snapshot of worker i in this second
			continue
		}
		r.SelfCPU += (p.selfCPU[i] - max(a.cpuSeen[i], a.last[i].BaseCPU)) / secs * 100
		a.cpuSeen[i] = p.selfCPU[i]
		r.SelfRSS += p.selfRSS[i]
	}
	a.rows = append(a.rows, r)
	return r
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

func (a *aggregator) mark() mark {
	cpu, rss, _, _ := a.self()
	return mark{c: a.total, selfCPU: cpu, selfRSS: rss, open: a.gauges().Open}
}

func (a *aggregator) markRamp() { a.atRamp = a.mark() }
func (a *aggregator) markHold() { a.atHold = a.mark() }

func ms(ns int64) float64 { return float64(ns) / 1e6 }

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
