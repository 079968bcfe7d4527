package driver

import (
	"encoding/json"
	"sync"

	"github.com/shaddock-io/shaddock/loadgen/internal/hist"
)

// Counter names one event count.
type Counter uint8

// Counters. "Setup" requests are the chat entry and the push trigger: they are counted apart so
// that the scenario's own numbers are not mixed with them.
const (
	ConnAttempted   Counter = iota // connect() issued
	ConnEstablished                // TCP connected (and, for ws, upgraded)
	Handshakes                     // handshake response 200 received, ACK sent
	ConnFailed                     // closed before the handshake completed (any reason)
	DropServer                     // closed by the server after the handshake (EOF, reset, ws close)
	DropKick                       // kicked by the server after the handshake
	DropHeartbeat                  // heartbeat timeout (JS client rule)
	Requests                       // scenario requests sent
	Responses                      // scenario responses received (any code)
	ErrResponses                   // responses whose top-level code is not 200
	Timeouts                       // requests without a response after Config.Timeout
	Late                           // responses that arrived after their request timed out
	Aborted                        // requests lost with their connection (closed by the server)
	Unsent                         // open-loop sends that found no connection with room
	Notifies                       // notifies sent
	Pushes                         // pushes received, any route
	PushesMatched                  // pushes on the counted route (Push: PushRoute; Chat: onChat)
	ChatExpected                   // onChat deliveries expected from accepted sends
	ProtoErrors                    // malformed or unexpected input (the connection is closed)
	SetupRequests                  // entry / trigger requests sent
	SetupErrors                    // entry / trigger answered with code != 200
	HeartbeatsIn                   // heartbeats received
	HeartbeatsOut                  // heartbeats sent
	BytesIn                        // bytes read
	BytesOut                       // bytes written
	CompressedIn                   // compressed WebSocket messages received (permessage-deflate)
	NumCounters
)

var counterNames = [NumCounters]string{
	"conn_attempted", "conn_established", "handshakes", "conn_failed",
	"drop_server", "drop_kick", "drop_heartbeat",
	"requests", "responses", "err_responses", "timeouts", "late", "aborted", "unsent", "notifies",
	"pushes", "pushes_matched", "chat_expected", "proto_errors",
	"setup_requests", "setup_errors", "heartbeats_in", "heartbeats_out", "bytes_in", "bytes_out",
	"compressed_in",
}

func (c Counter) String() string { return counterNames[c] }

// Counts is a set of counters. It marshals to a JSON object keyed by counter name.
type Counts [NumCounters]uint64

// Add adds o to c.
func (c *Counts) Add(o *Counts) {
	for i := range c {
		c[i] += o[i]
	}
}

// Dropped returns the connections lost after their handshake for any server-side reason.
func (c *Counts) Dropped() uint64 { return c[DropServer] + c[DropKick] + c[DropHeartbeat] }

// MarshalJSON writes the counters by name.
func (c Counts) MarshalJSON() ([]byte, error) {
	m := make(map[string]uint64, NumCounters)
	for i, v := range c {
		m[counterNames[i]] = v
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads counters by name; unknown names are ignored.
func (c *Counts) UnmarshalJSON(b []byte) error {
	var m map[string]uint64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for i, n := range counterNames {
		c[i] = m[n]
	}
	return nil
}

// Gauges are current values, not event counts.
type Gauges struct {
	Open       int64 `json:"open"`       // connections past their handshake
	Ready      int64 `json:"ready"`      // connections past their setup (entry / trigger), sending
	Connecting int64 `json:"connecting"` // connections between connect() and ready
	Inflight   int64 `json:"inflight"`   // requests awaiting a response
}

func (g *Gauges) add(o *Gauges) {
	g.Open += o.Open
	g.Ready += o.Ready
	g.Connecting += o.Connecting
	g.Inflight += o.Inflight
}

// Stats is what a loop accumulates between two publications.
type Stats struct {
	C    Counts
	Lat  hist.Histogram // scenario request latency, ns, from the intended send time
	HS   hist.Histogram // connect() to handshake response, ns
	Push hist.Histogram // push latency (server timestamp or chat send time to receipt), ns
	// Errors counts error messages (connect errors, handshake refusals ...), for the report.
	Errors map[string]uint64
}

func (s *Stats) addError(msg string) {
	if s.Errors == nil {
		s.Errors = make(map[string]uint64)
	}
	if len(s.Errors) < 64 || s.Errors[msg] > 0 {
		s.Errors[msg]++
	}
}

// merge adds o to s.
func (s *Stats) merge(o *Stats) {
	s.C.Add(&o.C)
	s.Lat.Merge(&o.Lat)
	s.HS.Merge(&o.HS)
	s.Push.Merge(&o.Push)
	for k, v := range o.Errors {
		if s.Errors == nil {
			s.Errors = make(map[string]uint64)
		}
		s.Errors[k] += v
	}
}

// reset empties s, keeping its error map.
func (s *Stats) reset() {
	s.C = Counts{}
	if s.Lat.Count() > 0 {
		s.Lat.Reset()
	}
	if s.HS.Count() > 0 {
		s.HS.Reset()
	}
	if s.Push.Count() > 0 {
		s.Push.Reset()
	}
	clear(s.Errors)
}

// Snapshot is one interval of a run, as a process reports it: counters and histograms of the
// events since the previous snapshot, gauges as they are now. A child process writes one JSON
// line per snapshot; the parent merges them.
type Snapshot struct {
	Seq      int               `json:"seq"`
	Elapsed  float64           `json:"elapsed"` // seconds since the process started its driver
	Phase    string            `json:"phase"`
	RampDone bool              `json:"ramp_done"`
	Drained  bool              `json:"drained"`
	Final    bool              `json:"final"`
	C        Counts            `json:"c"`
	G        Gauges            `json:"g"`
	Lat      hist.Sparse       `json:"lat"`
	HS       hist.Sparse       `json:"hs"`
	Push     hist.Sparse       `json:"push"`
	Errors   map[string]uint64 `json:"errors,omitempty"`
	SelfCPU  float64           `json:"self_cpu"` // CPU seconds of the reporting process
	SelfRSS  int64             `json:"self_rss"` // resident bytes of the reporting process
	BaseCPU  float64           `json:"base_cpu"` // the same, just before the first connection
	BaseRSS  int64             `json:"base_rss"`
	Children int               `json:"children,omitempty"`
}

// collector receives the loops' publications. Lock order: a loop holds no other lock when it
// takes mu.
type collector struct {
	mu      sync.Mutex
	pending Stats    // guarded by mu
	gauges  []Gauges // guarded by mu, one per loop
}

func (c *collector) publish(loop int, s *Stats, g Gauges) {
	c.mu.Lock()
	c.pending.merge(s)
	c.gauges[loop] = g
	c.mu.Unlock()
}

// take moves the pending interval into snap.
func (c *collector) take(snap *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	snap.C = c.pending.C
	c.pending.Lat.AppendSparse(&snap.Lat)
	c.pending.HS.AppendSparse(&snap.HS)
	c.pending.Push.AppendSparse(&snap.Push)
	snap.Errors = nil
	if len(c.pending.Errors) > 0 {
		snap.Errors = make(map[string]uint64, len(c.pending.Errors))
		for k, v := range c.pending.Errors {
			snap.Errors[k] = v
		}
	}
	snap.G = Gauges{}
	for i := range c.gauges {
		snap.G.add(&c.gauges[i])
	}
	c.pending.reset()
}
