package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/montanaflynn/stats"

	"github.com/shaddock-io/shaddock/loadgen/internal/driver"
	"github.com/shaddock-io/shaddock/loadgen/internal/hist"
)

// summary describes a latency histogram in milliseconds.
type summary struct {
	Count uint64  `json:"count"`
	Min   float64 `json:"min_ms"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

func summarize(h *hist.Histogram) summary {
	return summary{Count: h.Count(), Min: ms(h.Min()), Mean: h.Mean() / 1e6, P50: ms(h.ValueAt(0.5)),
		P90: ms(h.ValueAt(0.9)), P99: ms(h.ValueAt(0.99)), P999: ms(h.ValueAt(0.999)), Max: ms(h.Max())}
}

// series describes per-second values over the hold (montanaflynn/stats).
type series struct {
	Mean   float64 `json:"mean"`
	StdDev float64 `json:"stddev"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	N      int     `json:"seconds"`
}

func describe(v []float64) series {
	if len(v) == 0 {
		return series{}
	}
	d := stats.Float64Data(v)
	var s series
	s.N = len(v)
	s.Mean, _ = d.Mean()
	s.StdDev, _ = d.StandardDeviation()
	s.Min, _ = d.Min()
	s.Median, _ = d.Median()
	s.Max, _ = d.Max()
	return s
}

type bucket struct {
	Lo    float64 `json:"lo_ms"`
	Hi    float64 `json:"hi_ms"`
	Count uint64  `json:"count"`
}

type serverResult struct {
	PID         int     `json:"pid"`
	CPUTotal    float64 `json:"cpu_seconds_total"` // during the whole run
	CPUHold     float64 `json:"cpu_seconds_hold"`
	CPUHoldPct  float64 `json:"cpu_pct_hold"` // % of one core
	RSSStart    int64   `json:"rss_start"`
	RSSRampEnd  int64   `json:"rss_ramp_end"`
	RSSMax      int64   `json:"rss_max"`
	RSSPerConn  float64 `json:"rss_per_conn"` // (ramp end - start) / open connections
	CPUPerReqUS float64 `json:"cpu_us_per_response,omitempty"`
	// CPUPerConnSecs is hold CPU per open connection per second; only in ServersTotal, where
	// it covers every connection.
	CPUPerConnSecs float64 `json:"cpu_us_per_conn_second,omitempty"`
	Error          string  `json:"error,omitempty"`
}

type selfResult struct {
	Procs          int     `json:"procs"`
	RSSBase        int64   `json:"rss_base"`
	RSSRampEnd     int64   `json:"rss_ramp_end"`
	RSSPerConn     float64 `json:"rss_per_conn"`
	CPUTotal       float64 `json:"cpu_seconds_total"`
	CPUHold        float64 `json:"cpu_seconds_hold"`
	CPUHoldPct     float64 `json:"cpu_pct_hold"`
	CPUPerConnSecs float64 `json:"cpu_us_per_conn_second"` // hold CPU per open connection per second
	CPUPerReqUS    float64 `json:"cpu_us_per_response,omitempty"`
	CPUPerNotifyUS float64 `json:"cpu_us_per_notify,omitempty"`
}

// result is what -json writes.
type result struct {
	Command  string    `json:"command"`
	Started  time.Time `json:"started"`
	Machine  machine   `json:"machine"`
	Scenario string    `json:"scenario"`
	Loop     string    `json:"loop"` // closed (depth) / open (rate)
	Seconds  struct {
		Ramp  float64 `json:"ramp"`
		Hold  float64 `json:"hold"`
		Drain float64 `json:"drain"`
		Total float64 `json:"total"`
	} `json:"seconds"`
	RampTimedOut bool `json:"ramp_timed_out,omitempty"`
	Conns        struct {
		Target        int    `json:"target"`
		Attempted     uint64 `json:"attempted"`
		Established   uint64 `json:"established"`
		Handshaken    uint64 `json:"handshaken"`
		Failed        uint64 `json:"failed"`
		Dropped       uint64 `json:"dropped"`
		DropServer    uint64 `json:"dropped_by_server_close"`
		DropKick      uint64 `json:"dropped_by_kick"`
		DropHeartbeat uint64 `json:"dropped_by_heartbeat_timeout"`
		OpenAtHoldEnd int64  `json:"open_at_hold_end"`
	} `json:"conns"`
	HandshakeRate    float64       `json:"handshakes_per_sec"` // over the ramp
	HandshakePeak    float64       `json:"handshakes_per_sec_peak"`
	HandshakeLatency summary       `json:"handshake_latency"`
	Counts           driver.Counts `json:"counts"`
	Throughput       struct {
		Requests  float64 `json:"requests_per_sec"`
		Responses float64 `json:"responses_per_sec"`
		Notifies  float64 `json:"notifies_per_sec"`
		Pushes    float64 `json:"pushes_per_sec"`
		PerSecond series  `json:"responses_per_second_over_hold"`
	} `json:"throughput"`
	Latency     summary        `json:"latency"`
	PushLatency summary        `json:"push_latency"`
	ChatRatio   float64        `json:"chat_delivered_over_expected,omitempty"`
	Servers     []serverResult `json:"servers,omitempty"`
	// ServersTotal sums Servers (all sampled processes), when there are several.
	ServersTotal *serverResult     `json:"servers_total,omitempty"`
	Self         selfResult        `json:"loadgen"`
	Errors       map[string]uint64 `json:"errors,omitempty"`
	Histogram    []bucket          `json:"latency_histogram"`
	PushHist     []bucket          `json:"push_latency_histogram,omitempty"`
	Timeline     []row             `json:"timeline"`
}

type machine struct {
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
	Kernel     string `json:"kernel"`
}

func machineInfo() machine {
	k, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Go: runtime.Version(), Kernel: strings.TrimSpace(string(k))}
}

// buckets lists the non-empty buckets of h, merged down to at most max entries.
func buckets(h *hist.Histogram, maxN int) []bucket {
	var out []bucket
	for i := 0; i < hist.NumBuckets; i++ {
		if c := h.Bucket(i); c > 0 {
			lo, hi := hist.Bounds(i)
			out = append(out, bucket{Lo: ms(lo), Hi: ms(hi + 1), Count: c})
		}
	}
	for len(out) > maxN {
		merged := out[:0:0]
		for i := 0; i < len(out); i += 2 {
			b := out[i]
			if i+1 < len(out) {
				b.Hi, b.Count = out[i+1].Hi, b.Count+out[i+1].Count
			}
			merged = append(merged, b)
		}
		out = merged
	}
	return out
}

func buildResult(o *options, a *aggregator, m *marks) *result {
	r := &result{Command: "loadgen " + strings.Join(os.Args[1:], " "), Started: m.start, Machine: machineInfo(),
		Scenario: o.scenario, Counts: a.total, Errors: a.errors, Timeline: a.rows}
	r.Loop = fmt.Sprintf("closed, depth %d", o.depth)
	if o.qps > 0 || o.scenario == "notify" {
		r.Loop = fmt.Sprintf("open, %.0f/s", o.qps)
	}
	if o.scenario == "chat" {
		r.Loop = fmt.Sprintf("open, %.2f/s per connection, rooms of %d", o.chatRate, o.room)
	}
	if o.scenario == "idle" || o.scenario == "push" {
		r.Loop = "-"
	}
	ramp := m.rampEnd.Sub(m.start).Seconds()
	hold := m.holdEnd.Sub(m.rampEnd).Seconds()
	r.Seconds.Ramp, r.Seconds.Hold = ramp, hold
	r.Seconds.Drain, r.Seconds.Total = m.drainEnd.Sub(m.holdEnd).Seconds(), m.end.Sub(m.start).Seconds()
	r.RampTimedOut = m.rampTimedOut
	c := &a.total
	r.Conns.Target = o.conns
	r.Conns.Attempted, r.Conns.Established = c[driver.ConnAttempted], c[driver.ConnEstablished]
	r.Conns.Handshaken, r.Conns.Failed = c[driver.Handshakes], c[driver.ConnFailed]
	r.Conns.Dropped, r.Conns.DropServer = c.Dropped(), c[driver.DropServer]
	r.Conns.DropKick, r.Conns.DropHeartbeat = c[driver.DropKick], c[driver.DropHeartbeat]
	r.Conns.OpenAtHoldEnd = a.atHold.open
	if ramp > 0 {
		r.HandshakeRate = float64(a.atRamp.c[driver.Handshakes]) / ramp
	}
	var perSec []float64
	for i := range a.rows {
		row := &a.rows[i]
		if row.Seconds > 0 {
			r.HandshakePeak = max(r.HandshakePeak, float64(row.Handshakes)/row.Seconds)
			// Whole seconds inside the hold only.
			if row.Seconds == 1 && row.T-1 >= ramp && row.T <= ramp+hold {
				perSec = append(perSec, float64(row.Responses+row.Notifies)/row.Seconds)
			}
		}
	}
	r.HandshakeLatency = summarize(&a.hs)
	if hold > 0 {
		r.Throughput.Requests = float64(c[driver.Requests]) / hold
		r.Throughput.Responses = float64(c[driver.Responses]) / hold
		r.Throughput.Notifies = float64(c[driver.Notifies]) / hold
		r.Throughput.Pushes = float64(c[driver.PushesMatched]-a.atRamp.c[driver.PushesMatched]) / hold
	}
	r.Throughput.PerSecond = describe(perSec)
	r.Latency, r.PushLatency = summarize(&a.lat), summarize(&a.push)
	if o.scenario == "chat" && c[driver.ChatExpected] > 0 {
		r.ChatRatio = float64(c[driver.PushesMatched]) / float64(c[driver.ChatExpected])
	}
	r.Histogram = buckets(&a.lat, 200)
	if a.push.Count() > 0 {
		r.PushHist = buckets(&a.push, 200)
	}
	open := float64(a.atRamp.open)
	perConn := func(v float64) float64 {
		if open == 0 {
			return 0
		}
		return v / open
	}
	for _, s := range a.servers {
		sr := serverResult{PID: s.pid, Error: s.err, RSSStart: s.first.RSS, RSSRampEnd: s.rampRSS, RSSMax: s.maxRSS}
		if s.ok {
			sr.CPUTotal = s.last.CPU - s.first.CPU
			sr.CPUHold = s.holdCPU1 - s.holdCPU0
			if hold > 0 {
				sr.CPUHoldPct = sr.CPUHold / hold * 100
			}
			sr.RSSPerConn = perConn(float64(s.rampRSS - s.first.RSS))
			if n := c[driver.Responses]; n > 0 {
				sr.CPUPerReqUS = sr.CPUHold / float64(n) * 1e6
			}
		}
		r.Servers = append(r.Servers, sr)
	}
	if len(r.Servers) > 1 {
		t := &serverResult{}
		for _, sr := range r.Servers {
			t.CPUTotal += sr.CPUTotal
			t.CPUHold += sr.CPUHold
			t.CPUHoldPct += sr.CPUHoldPct
			t.RSSStart += sr.RSSStart
			t.RSSRampEnd += sr.RSSRampEnd
			t.RSSMax += sr.RSSMax
			t.RSSPerConn += sr.RSSPerConn
			t.CPUPerReqUS += sr.CPUPerReqUS
		}
		if hold > 0 {
			t.CPUPerConnSecs = perConn(t.CPUHold / hold * 1e6)
		}
		r.ServersTotal = t
	}
	cpu, _, baseCPU, baseRSS := a.self()
	r.Self = selfResult{Procs: o.procs, RSSBase: baseRSS, RSSRampEnd: a.atRamp.selfRSS, CPUTotal: cpu - baseCPU,
		CPUHold: a.atHold.selfCPU - a.atRamp.selfCPU}
	r.Self.RSSPerConn = perConn(float64(a.atRamp.selfRSS - baseRSS))
	if hold > 0 {
		r.Self.CPUHoldPct = r.Self.CPUHold / hold * 100
		r.Self.CPUPerConnSecs = perConn(r.Self.CPUHold / hold * 1e6)
	}
	if n := c[driver.Responses]; n > 0 {
		r.Self.CPUPerReqUS = r.Self.CPUHold / float64(n) * 1e6
	} else if n := c[driver.Notifies]; n > 0 {
		r.Self.CPUPerNotifyUS = r.Self.CPUHold / float64(n) * 1e6
	}
	return r
}

// writeText prints the human summary.
func writeText(w io.Writer, r *result) {
	c := &r.Counts
	fmt.Fprintf(w, "\n%s\n", r.Command)
	fmt.Fprintf(w, "machine   %s/%s, %d CPUs, GOMAXPROCS %d, %s, kernel %s\n", r.Machine.OS, r.Machine.Arch,
		r.Machine.CPUs, r.Machine.GOMAXPROCS, r.Machine.Go, r.Machine.Kernel)
	fmt.Fprintf(w, "scenario  %s (%s); ramp %.1fs, hold %.1fs, drain %.1fs\n", r.Scenario, r.Loop,
		r.Seconds.Ramp, r.Seconds.Hold, r.Seconds.Drain)
	if r.RampTimedOut {
		fmt.Fprintf(w, "          ramp timed out: the hold started with connections still pending\n")
	}
	fmt.Fprintf(w, "conns     target %d attempted %d established %d handshaken %d failed %d open-at-hold-end %d\n",
		r.Conns.Target, r.Conns.Attempted, r.Conns.Established, r.Conns.Handshaken, r.Conns.Failed, r.Conns.OpenAtHoldEnd)
	fmt.Fprintf(w, "drops     %d (server close %d, kick %d, heartbeat timeout %d)\n", r.Conns.Dropped,
		r.Conns.DropServer, r.Conns.DropKick, r.Conns.DropHeartbeat)
	fmt.Fprintf(w, "handshake %.0f/s over the ramp (peak %.0f/s); latency %s\n", r.HandshakeRate, r.HandshakePeak,
		fmtSummary(&r.HandshakeLatency))
	if c[driver.Requests]+c[driver.Notifies] > 0 {
		fmt.Fprintf(w, "requests  %d sent, %d responses (%d code!=200), %d protocol errors, %d timeouts, %d late, %d aborted, %d unsent, %d notifies\n",
			c[driver.Requests], c[driver.Responses], c[driver.ErrResponses], c[driver.ProtoErrors], c[driver.Timeouts],
			c[driver.Late], c[driver.Aborted], c[driver.Unsent], c[driver.Notifies])
		fmt.Fprintf(w, "rate      %.0f req/s, %.0f resp/s, %.0f notify/s over the hold; per second: mean %.0f sd %.0f min %.0f max %.0f\n",
			r.Throughput.Requests, r.Throughput.Responses, r.Throughput.Notifies, r.Throughput.PerSecond.Mean,
			r.Throughput.PerSecond.StdDev, r.Throughput.PerSecond.Min, r.Throughput.PerSecond.Max)
		fmt.Fprintf(w, "latency   %s\n", fmtSummary(&r.Latency))
	}
	if c[driver.SetupRequests] > 0 {
		fmt.Fprintf(w, "setup     %d entry/trigger requests, %d refused or timed out\n", c[driver.SetupRequests], c[driver.SetupErrors])
	}
	if c[driver.Pushes] > 0 {
		fmt.Fprintf(w, "pushes    %d received, %d on the counted route (%.0f/s over the hold)\n", c[driver.Pushes],
			c[driver.PushesMatched], r.Throughput.Pushes)
		if r.PushLatency.Count > 0 {
			fmt.Fprintf(w, "push lat  %s\n", fmtSummary(&r.PushLatency))
		}
	}
	if r.Scenario == "chat" {
		fmt.Fprintf(w, "chat      %d onChat delivered / %d expected = %.4f\n", c[driver.PushesMatched], c[driver.ChatExpected], r.ChatRatio)
	}
	for _, s := range r.Servers {
		if s.Error != "" && s.CPUTotal == 0 {
			fmt.Fprintf(w, "server    pid %d: %s\n", s.PID, s.Error)
			continue
		}
		fmt.Fprintf(w, "server    pid %d: cpu %.2fs total, %.2fs in the hold (%.0f%% of a core); rss start %s ramp-end %s max %s; %.0f B/conn",
			s.PID, s.CPUTotal, s.CPUHold, s.CPUHoldPct, mib(s.RSSStart), mib(s.RSSRampEnd), mib(s.RSSMax), s.RSSPerConn)
		if s.CPUPerReqUS > 0 {
			fmt.Fprintf(w, "; %.1f µs CPU/response", s.CPUPerReqUS)
		}
		fmt.Fprintln(w)
	}
	if t := r.ServersTotal; t != nil {
		fmt.Fprintf(w, "servers   %d processes: cpu %.2fs in the hold (%.0f%% of a core); rss start %s ramp-end %s; %.0f B/conn",
			len(r.Servers), t.CPUHold, t.CPUHoldPct, mib(t.RSSStart), mib(t.RSSRampEnd), t.RSSPerConn)
		if t.CPUPerReqUS > 0 {
			fmt.Fprintf(w, "; %.1f µs CPU/response", t.CPUPerReqUS)
		} else {
			fmt.Fprintf(w, "; %.2f µs per connection-second", t.CPUPerConnSecs)
		}
		fmt.Fprintln(w)
	}
	s := &r.Self
	fmt.Fprintf(w, "loadgen   %d proc; rss base %s ramp-end %s = %.0f B/conn; cpu %.2fs total, %.2fs in the hold (%.0f%% of a core)",
		s.Procs, mib(s.RSSBase), mib(s.RSSRampEnd), s.RSSPerConn, s.CPUTotal, s.CPUHold, s.CPUHoldPct)
	switch {
	case s.CPUPerReqUS > 0:
		fmt.Fprintf(w, " = %.1f µs/response", s.CPUPerReqUS)
	case s.CPUPerNotifyUS > 0:
		fmt.Fprintf(w, " = %.1f µs/notify", s.CPUPerNotifyUS)
	default:
		fmt.Fprintf(w, " = %.2f µs per connection-second", s.CPUPerConnSecs)
	}
	fmt.Fprintln(w)
	if len(r.Errors) > 0 {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return r.Errors[keys[i]] > r.Errors[keys[j]] })
		fmt.Fprintf(w, "errors   ")
		for i, k := range keys {
			if i == 8 {
				fmt.Fprintf(w, " …")
				break
			}
			fmt.Fprintf(w, " %q×%d", k, r.Errors[k])
		}
		fmt.Fprintln(w)
	}
}

func fmtSummary(s *summary) string {
	if s.Count == 0 {
		return "(none)"
	}
	return fmt.Sprintf("n=%d p50 %.3fms p90 %.3fms p99 %.3fms p99.9 %.3fms max %.3fms (mean %.3fms)",
		s.Count, s.P50, s.P90, s.P99, s.P999, s.Max, s.Mean)
}

func writeJSON(path string, r *result) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
