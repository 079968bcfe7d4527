package metrics

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shaddock-io/shaddock/rpc"
)

// benchRoutes declares n routes and returns them.
func benchRoutes(b *testing.B, n int) (*Set, []string) {
	routes := make([]string, n)
	for i := range routes {
		routes[i] = "connector.handler" + strconv.Itoa(i) + ".method"
	}
	s, err := New(Config{Routes: routes})
	if err != nil {
		b.Fatal(err)
	}
	return s, routes
}

// BenchmarkObserveRequest is the per-message cost of the request metrics, by number of declared
// routes (the lookup is one map read whatever the size).
func BenchmarkObserveRequest(b *testing.B) {
	for _, n := range []int{1, 16, 256} {
		b.Run(strconv.Itoa(n)+"routes", func(b *testing.B) {
			s, routes := benchRoutes(b, n)
			req := s.Requests()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				req.observeDeclared(routes[i%n], time.Duration(i&1023)*time.Microsecond, i&15 == 0)
			}
		})
	}
}

// BenchmarkObserveRequestParallel measures contention on one hot route from every core.
func BenchmarkObserveRequestParallel(b *testing.B) {
	s, routes := benchRoutes(b, 1)
	req := s.Requests()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req.observeDeclared(routes[0], 300*time.Microsecond, false)
		}
	})
}

// BenchmarkObserveRequestWithLabelValues is the baseline twin: resolving the children by label
// on every message, which the pre-resolved table avoids.
func BenchmarkObserveRequestWithLabelValues(b *testing.B) {
	s, routes := benchRoutes(b, 16)
	req := s.Requests()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := routes[i%16]
		req.latency.WithLabelValues(r).Observe(float64(i&1023) / 1e6)
		req.total.WithLabelValues(r, resultOK).Inc()
	}
}

func BenchmarkClientFilter(b *testing.B) {
	s, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	f := s.RPC().ClientFilter()
	ci := rpc.CallInfo{Peer: "chat-server-1"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		f(ctx, ci, nil)
	}
}

// BenchmarkGather is the cost of one scrape of a Set with 64 active routes: what /metrics and
// /stats.json pay per request, off the hot path.
func BenchmarkGather(b *testing.B) {
	s, routes := benchRoutes(b, 64)
	for i, r := range routes {
		s.Requests().observeDeclared(r, time.Duration(i)*time.Microsecond, false)
	}
	var g prometheus.Gatherer = s.Registry()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
