package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Layouts of the chat demo.
const (
	layoutEmbedded = "embedded" // connector and chat server in one process
	layoutMulti    = "multi"    // a master, a connector process and a chat server process
)

// Kinds of scenario, deciding the table and the outright-failure check.
const (
	kindIdle = "idle"
	kindEcho = "echo"
	kindChat = "chat"
)

// scenario is one loadgen run against one layout.
type scenario struct {
	name, title string
	layout      string
	kind        string
	fresh       bool // on a newly started cluster (idle: RSS growth is not hidden by memory freed earlier)
	hold        time.Duration
	args        []string // loadgen arguments besides -addr, -hold, -pids, -json, -quiet
}

// scenarios is the fixed matrix; quick shrinks connection counts, rates and holds.
func scenarios(quick bool) []scenario {
	idleN, fanout, hold, idleHold, qps := 5000, 1000, 10*time.Second, 15*time.Second, 5000
	chatRate := "0.05" // 1,000 members: 50 sends/s, 50,000 deliveries/s offered
	if quick {
		idleN, fanout, hold, idleHold, qps = 200, 100, 2*time.Second, 3*time.Second, 500
		chatRate = "0.5" // 100 members: 50 sends/s, 5,000 deliveries/s offered
	}
	n := strconv.Itoa
	idle := func(transport string) []string {
		return []string{"-scenario", "idle", "-transport", transport, "-conns", n(idleN), "-rate", "2000"}
	}
	echo := func(route string, conns, depth int) []string {
		return []string{"-scenario", "echo", "-route", route, "-conns", n(conns), "-depth", n(depth)}
	}
	// Members join at joinRate per second, so that the n²/2 onAdd pushes of a filling room are
	// mostly sent by the end of the ramp and the hold measures onChat fan-out, not that backlog.
	chat := func(members int) []string {
		joinRate := max(members/20, 50)
		return []string{"-scenario", "chat", "-conns", n(members), "-room", n(members), "-chat-rate", chatRate, "-rate", n(joinRate)}
	}
	const fe, be = "connector.entryHandler.echo", "chat.chatHandler.echo"
	m := []scenario{
		{name: "idle-tcp", title: fmt.Sprintf("Idle CCU, TCP, %d connections", idleN), kind: kindIdle, fresh: true, hold: idleHold, args: idle("tcp")},
		{name: "idle-ws", title: fmt.Sprintf("Idle CCU, WebSocket, %d connections", idleN), kind: kindIdle, fresh: true, hold: idleHold, args: idle("ws")},
		{name: "fe-echo-100x1", title: "Frontend echo (connector.entryHandler.echo), 100 conns × depth 1", kind: kindEcho, hold: hold, args: echo(fe, 100, 1)},
		{name: "fe-echo-100x10", title: "Frontend echo (connector.entryHandler.echo), 100 conns × depth 10", kind: kindEcho, hold: hold, args: echo(fe, 100, 10)},
		{name: "be-echo-1x1", title: "Backend echo (chat.chatHandler.echo), 1 conn × depth 1", kind: kindEcho, hold: hold, args: echo(be, 1, 1)},
		{name: "be-echo-100x1", title: "Backend echo (chat.chatHandler.echo), 100 conns × depth 1", kind: kindEcho, hold: hold, args: echo(be, 100, 1)},
		{name: "be-echo-100x10", title: "Backend echo (chat.chatHandler.echo), 100 conns × depth 10", kind: kindEcho, hold: hold, args: echo(be, 100, 10)},
	}
	// Fan-out rooms: the 1,000-member room, and a quarter of it as the size known to fit here.
	rooms := []int{fanout / 4, fanout}
	if quick {
		rooms = []int{fanout}
	}
	for _, members := range rooms {
		m = append(m, scenario{name: "chat-fanout-" + n(members), kind: kindChat, hold: hold, args: chat(members),
			title: fmt.Sprintf("Chat fan-out, one room of %d members, %s sends/s per member", members, chatRate)})
	}
	m = append(m,
		scenario{name: "open-loop", title: fmt.Sprintf("Open-loop backend echo at %d requests/s, 100 conns", qps), kind: kindEcho, hold: hold,
			args: []string{"-scenario", "echo", "-route", be, "-conns", "100", "-qps", n(qps)}})
	for i := range m {
		m[i].layout = layoutEmbedded
	}
	// The same backend paths with the connector and the chat server in their own processes.
	multi := []string{"be-echo-1x1", "be-echo-100x10"}
	for _, members := range rooms {
		multi = append(multi, "chat-fanout-"+n(members))
	}
	for _, s := range selectScenarios(m, multi) {
		s.name = "multi-" + s.name
		s.layout = layoutMulti
		s.title += ", multi-process"
		m = append(m, s)
	}
	for i := range m {
		if m[i].layout == layoutEmbedded {
			m[i].title += ", embedded"
		}
	}
	return m
}

// selectScenarios keeps the scenarios named (or prefixed) in only; all when only is empty.
func selectScenarios(all []scenario, only []string) []scenario {
	if len(only) == 0 {
		return all
	}
	var out []scenario
	for _, s := range all {
		for _, o := range only {
			o = strings.TrimSpace(o)
			if o != "" && (s.name == o || strings.HasPrefix(s.name, o)) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// check returns why a run failed outright ("" when it did not).
func (sc scenario) check(r *report) string {
	c := r.Conns
	if c.Handshaken < uint64(c.Target) {
		return fmt.Sprintf("%d of %d connections handshaken (%d failed)", c.Handshaken, c.Target, c.Failed)
	}
	switch sc.kind {
	case kindIdle:
		if c.OpenAtHoldEnd < int64(c.Target) {
			return fmt.Sprintf("%d of %d connections open at the end of the hold", c.OpenAtHoldEnd, c.Target)
		}
	case kindEcho:
		if r.Counts["responses"] == 0 {
			return "zero responses"
		}
		if r.Counts["err_responses"] > 0 {
			return fmt.Sprintf("%d error responses", r.Counts["err_responses"])
		}
	case kindChat:
		if r.Counts["pushes_matched"] == 0 {
			return "zero deliveries"
		}
		if r.ChatRatio < 0.5 {
			return fmt.Sprintf("only %.4f of the expected deliveries", r.ChatRatio)
		}
		if r.Counts["setup_errors"] > 0 {
			return fmt.Sprintf("%d entry errors", r.Counts["setup_errors"])
		}
	}
	return ""
}

// report is the part of loadgen's -json output the harness reads.
type report struct {
	Command string `json:"command"`
	Seconds struct {
		Ramp, Hold, Drain, Total float64
	} `json:"seconds"`
	Conns struct {
		Target        int    `json:"target"`
		Handshaken    uint64 `json:"handshaken"`
		Failed        uint64 `json:"failed"`
		Dropped       uint64 `json:"dropped"`
		OpenAtHoldEnd int64  `json:"open_at_hold_end"`
	} `json:"conns"`
	HandshakeRate float64           `json:"handshakes_per_sec"`
	HandshakeLat  summary           `json:"handshake_latency"`
	Counts        map[string]uint64 `json:"counts"`
	Throughput    struct {
		Responses float64 `json:"responses_per_sec"`
		Pushes    float64 `json:"pushes_per_sec"`
	} `json:"throughput"`
	Latency     summary        `json:"latency"`
	PushLatency summary        `json:"push_latency"`
	ChatRatio   float64        `json:"chat_delivered_over_expected"`
	Servers     []serverReport `json:"servers"`
}

type summary struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

type serverReport struct {
	PID         int     `json:"pid"`
	CPUHold     float64 `json:"cpu_seconds_hold"`
	CPUTotal    float64 `json:"cpu_seconds_total"`
	CPUHoldPct  float64 `json:"cpu_pct_hold"`
	RSSStart    int64   `json:"rss_start"`
	RSSRampEnd  int64   `json:"rss_ramp_end"`
	RSSMax      int64   `json:"rss_max"`
	RSSPerConn  float64 `json:"rss_per_conn"`
	CPUPerReqUS float64 `json:"cpu_us_per_response"`
	Error       string  `json:"error"`
}

// result is one scenario's outcome.
type result struct {
	sc      scenario
	load    string // load average before the run
	command string
	rep     report
	failure string
}

// serverCPU returns the servers' CPU seconds during the hold, summed, and their % of a core.
func (r *result) serverCPU() (secs, pct float64) {
	for _, s := range r.rep.Servers {
		secs += s.CPUHold
		pct += s.CPUHoldPct
	}
	return secs, pct
}

// cpuPerUnitUS is the servers' CPU µs per response (echo) or per delivery (chat), summed over
// the server processes; 0 when nothing was counted.
func (r *result) cpuPerUnitUS() float64 {
	secs, _ := r.serverCPU()
	var units float64
	switch r.sc.kind {
	case kindChat:
		units = r.rep.Throughput.Pushes * r.rep.Seconds.Hold
	default:
		units = r.rep.Throughput.Responses * r.rep.Seconds.Hold
	}
	if units == 0 {
		return 0
	}
	return secs * 1e6 / units
}

// rssPerConn sums the servers' (ramp end - start) RSS and divides by the open connections.
func (r *result) rssPerConn() float64 {
	var d int64
	for _, s := range r.rep.Servers {
		d += s.RSSRampEnd - s.RSSStart
	}
	if r.rep.Conns.Handshaken == 0 {
		return 0
	}
	return float64(d) / float64(r.rep.Conns.Handshaken)
}

func (r *result) summary() string {
	switch r.sc.kind {
	case kindIdle:
		return fmt.Sprintf("%d/%d conns, %.0f B RSS/conn", r.rep.Conns.Handshaken, r.rep.Conns.Target, r.rssPerConn())
	case kindChat:
		return fmt.Sprintf("%.0f deliveries/s, push p99 %.2f ms", r.rep.Throughput.Pushes, r.rep.PushLatency.P99)
	}
	return fmt.Sprintf("%.0f resp/s, p50 %.3f ms, p99 %.3f ms", r.rep.Throughput.Responses, r.rep.Latency.P50, r.rep.Latency.P99)
}
