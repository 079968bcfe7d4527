package admin

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/internal/metrics"
)

// benchServer is an endpoint over a Set whose 32 routes and 4 remotes have seen traffic, plus
// the Go runtime and process collectors.
func benchServer(b *testing.B) *Server {
	set, err := metrics.New(metrics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 32 {
		route := "connector.handler" + strconv.Itoa(i) + ".method"
		set.Requests().Declare(route)
		for j := range 50 {
			set.Requests().ObserveRequest(route, time.Duration(j*37)*time.Microsecond, j%10 == 0)
		}
	}
	for i := range 4 {
		set.RPC().ObserveCall("chat-server-"+strconv.Itoa(i), time.Millisecond)
	}
	s, err := New(Config{Logger: quiet}, set.Registry())
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkStatsJSON is the cost of one dashboard poll (one per second per open dashboard).
func BenchmarkStatsJSON(b *testing.B) {
	benchEndpoint(b, "/stats.json")
}

// BenchmarkMetrics is the cost of one Prometheus scrape; the baseline of BenchmarkStatsJSON,
// which gathers the same registry.
func BenchmarkMetrics(b *testing.B) {
	benchEndpoint(b, "/metrics")
}

func benchEndpoint(b *testing.B, path string) {
	s := benchServer(b)
	h := s.Handler()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d", path, w.Code)
		}
		n = w.Body.Len()
	}
	b.SetBytes(int64(n))
}
