package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shaddock-io/shaddock/engine"
	"github.com/shaddock-io/shaddock/hybrid"
	"github.com/shaddock-io/shaddock/scheduler"
)

// QueueReporter is implemented by connections that can tell how much is waiting in their
// outbound queue (queued plus being written). The engine collector samples it on every session
// at scrape time; connections that do not implement it are left out of the queue gauges, and the
// gauges are absent when no connection implements it. Must be safe for concurrent use.
type QueueReporter interface {
	QueueDepth() (bytes, packages int)
}

// transporter is implemented by *hybrid.Conn.
type transporter interface {
	Transport() hybrid.Transport
}

// sessionSample is the result of one walk over the sessions.
type sessionSample struct {
	byTransport          [len(transportLabels)]int // index: hybrid.Transport; 0 for unknown
	queues               int                       // sessions whose connection reported its queue
	qBytes, qBytesMax    int
	qPackets, qPacketMax int
}

// transportLabels are the label values of sessionSample.byTransport, by hybrid.Transport.
var transportLabels = [...]string{"other", "tcp", "ws", "tls", "wss"}

// add folds one connection into the sample.
func (s *sessionSample) add(c engine.Conn) {
	t := 0
	if tc, ok := c.(transporter); ok && int(tc.Transport()) < len(s.byTransport) {
		t = int(tc.Transport())
	}
	s.byTransport[t]++
	if q, ok := c.(QueueReporter); ok {
		b, p := q.QueueDepth()
		s.queues++
		s.qBytes += b
		s.qBytesMax = max(s.qBytesMax, b)
		s.qPackets += p
		s.qPacketMax = max(s.qPacketMax, p)
	}
}

// sampler walks the sessions at most once per interval and hands out the last walk in between.
type sampler struct {
	interval time.Duration
	walk     func(f func(engine.Conn))

	mu   sync.Mutex // guards the fields below
	at   time.Time
	last sessionSample
}

func (s *sampler) sample() sessionSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := time.Now(); s.at.IsZero() || now.Sub(s.at) >= s.interval {
		var fresh sessionSample
		s.walk(fresh.add)
		s.last, s.at = fresh, now
	}
	return s.last
}

// engineSnap is what one scrape reads from an engine server.
type engineSnap struct {
	e  engine.Stats
	sc scheduler.Stats
	ss sessionSample
}

// newEngineCollector exports an engine server's counters, scheduler counters and sessions.
func newEngineCollector(es *engine.Server, interval time.Duration) prometheus.Collector {
	smp := &sampler{interval: interval, walk: func(f func(engine.Conn)) {
		es.Sessions().ForEach(func(s *engine.Session) { f(s.Conn()) })
	}}
	type S = engineSnap
	const C = prometheus.CounterValue
	f := func(v func(*S) uint64) func(*S) float64 { return func(s *S) float64 { return float64(v(s)) } }
	fam := []family[S]{
		byLabel("engine_dropped_messages_total", "Client messages dropped without an answer: malformed, no_dict (compressed route while useDict is off), unknown_code (not in the dictionary), no_dot (route without a dot).", "reason", C,
			lv("malformed", f(func(s *S) uint64 { return s.e.Malformed })),
			lv("no_dict", f(func(s *S) uint64 { return s.e.NoDict })),
			lv("unknown_code", f(func(s *S) uint64 { return s.e.UnknownCode })),
			lv("no_dot", f(func(s *S) uint64 { return s.e.NoDot }))),
		byLabel("engine_refused_messages_total", "Client messages refused before routing: bad_route (not three parts, answered 500), attack (method \"constructor\", session kicked), bad_signature (useCrypto, answered 500).", "reason", C,
			lv("bad_route", f(func(s *S) uint64 { return s.e.BadRoute })),
			lv("attack", f(func(s *S) uint64 { return s.e.Attacks })),
			lv("bad_signature", f(func(s *S) uint64 { return s.e.BadSignature }))),
		one("engine_handler_errors_total", "Errors returned by local before filters and handlers.", C, f(func(s *S) uint64 { return s.e.HandlerErrors })),
		one("engine_error_responses_total", "Responses sent for an error.", C, f(func(s *S) uint64 { return s.e.ErrorResponses })),
		one("engine_encode_errors_total", "Responses or pushes that did not encode.", C, f(func(s *S) uint64 { return s.e.EncodeErrors })),
		one("engine_forwarded_messages_total", "Client messages handed to the Forwarder (routes of other server types).", C, f(func(s *S) uint64 { return s.e.Forwarded })),
		one("engine_handshakes_refused_total", "Handshakes the engine refused (500 or 501).", C, f(func(s *S) uint64 { return s.e.HandshakeRefused })),
		one("pushes_total", "Push messages encoded (once per push, whatever the fan-out).", C, f(func(s *S) uint64 { return s.e.PushEncodes })),
		one("push_deliveries_total", "Connections push packages were handed to (the fan-out).", C, f(func(s *S) uint64 { return s.e.PushTargets })),
		one("scheduler_enqueued_packages_total", "Packages the push scheduler handed to connections.", C, f(func(s *S) uint64 { return s.sc.Enqueued })),
		one("scheduler_enqueue_errors_total", "Packages the push scheduler could not enqueue (connection closed or queue full).", C, f(func(s *S) uint64 { return s.sc.EnqueueErrors })),
		one("scheduler_flushes_total", "Connection flushes made by the push scheduler.", C, f(func(s *S) uint64 { return s.sc.Flushes })),
		one("scheduler_flush_errors_total", "Connection flushes by the push scheduler that failed.", C, f(func(s *S) uint64 { return s.sc.FlushErrors })),
	}
	sessions := family[S]{desc: newDesc("sessions", "Sessions (connections past their handshake) by transport, sampled.", "transport"),
		kind: prometheus.GaugeValue}
	for t, name := range transportLabels {
		sessions.samples = append(sessions.samples, sample[S]{labels: []string{name},
			value: func(s *S) float64 { return float64(s.ss.byTransport[t]) }})
	}
	noQueues := func(s *S) bool { return s.ss.queues == 0 }
	g := func(v func(*S) int) func(*S) float64 { return func(s *S) float64 { return float64(v(s)) } }
	fam = append(fam, sessions,
		unless(noQueues, one("outbound_queue_bytes", "Bytes waiting in outbound queues, summed over sessions, sampled.", prometheus.GaugeValue, g(func(s *S) int { return s.ss.qBytes }))),
		unless(noQueues, one("outbound_queue_bytes_max", "Bytes waiting in the fullest outbound queue, sampled.", prometheus.GaugeValue, g(func(s *S) int { return s.ss.qBytesMax }))),
		unless(noQueues, one("outbound_queue_packages", "Packages waiting in outbound queues, summed over sessions, sampled.", prometheus.GaugeValue, g(func(s *S) int { return s.ss.qPackets }))),
		unless(noQueues, one("outbound_queue_packages_max", "Packages waiting in the fullest outbound queue, sampled.", prometheus.GaugeValue, g(func(s *S) int { return s.ss.qPacketMax }))),
	)
	return &funcCollector[S]{
		snap: func(s *S) bool {
			s.e, s.sc, s.ss = es.Stats(), es.SchedulerStats(), smp.sample()
			return true
		},
		families: fam,
	}
}
