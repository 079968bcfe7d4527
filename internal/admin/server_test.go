package admin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// newEndpoint starts an admin endpoint over an empty registry with the Go collector.
func newEndpoint(t *testing.T, cfg Config) *Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	cfg.Logger = quiet
	s, err := New(cfg, reg)
	requireNoError(t, err, "New")
	requireNoError(t, s.Start(), "Start")
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return s
}

func TestOffByDefault(t *testing.T) {
	s, err := New(Config{}, prometheus.NewRegistry())
	requireNoError(t, err, "New")
	requireNoError(t, s.Start(), "Start with no Addr")
	if a := s.Addr(); a != nil {
		t.Fatalf("disabled endpoint listens on %v", a)
	}
	requireNoError(t, s.Shutdown(context.Background()), "Shutdown of a disabled endpoint")
	if _, err := New(Config{}, nil); !errors.Is(err, ErrNoMetrics) {
		t.Fatalf("New with nil Gatherer: %v", err)
	}
	if _, err := New(Config{Addr: "0.0.0.0:0"}, prometheus.NewRegistry()); !errors.Is(err, ErrRemoteNotAllowed) {
		t.Fatalf("New with a wildcard Addr: %v", err)
	}
}

// TestLoopbackOnlyByDefault starts the endpoint with a host-less address and checks that it is
// bound to loopback: reachable on 127.0.0.1, refused on every non-loopback address of the
// machine.
func TestLoopbackOnlyByDefault(t *testing.T) {
	s := newEndpoint(t, Config{Addr: ":0"})
	ta, ok := s.Addr().(*net.TCPAddr)
	if !ok || !ta.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("listening on %v, want 127.0.0.1", s.Addr())
	}
	res, err := http.Get("http://" + ta.String() + "/metrics")
	requireNoError(t, err, "GET over loopback")
	res.Body.Close()
	requireEqual(t, res.StatusCode, http.StatusOK, "status over loopback")

	addrs, err := net.InterfaceAddrs()
	requireNoError(t, err, "InterfaceAddrs")
	tried := 0
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		tried++
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), strconv.Itoa(ta.Port)), time.Second)
		if err == nil {
			c.Close()
			t.Fatalf("endpoint reachable on non-loopback %s", ipn.IP)
		}
	}
	t.Logf("checked %d non-loopback addresses", tried)
}

func TestRemoteNeedsAllowRemote(t *testing.T) {
	s, err := New(Config{Addr: "0.0.0.0:0", AllowRemote: true}, prometheus.NewRegistry())
	requireNoError(t, err, "New with AllowRemote")
	requireNoError(t, s.Start(), "Start with AllowRemote")
	defer s.Shutdown(context.Background())
	if ta := s.Addr().(*net.TCPAddr); !ta.IP.IsUnspecified() {
		t.Fatalf("AllowRemote on 0.0.0.0: listening on %v", ta)
	}
}

func TestShutdown(t *testing.T) {
	s := newEndpoint(t, Config{Addr: "127.0.0.1:0"})
	addr := s.Addr().String()
	if err := s.Start(); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}

	// A CPU profile in progress holds Shutdown until ctx ends; then it is cut off.
	profDone := make(chan error, 1)
	go func() {
		res, err := http.Get("http://" + addr + "/debug/pprof/profile?seconds=20")
		if err == nil {
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		profDone <- err
	}()
	eventually(t, 5*time.Second, "the profile request to start", func() bool {
		_, b := getURL(t, "http://"+addr+"/debug/pprof/goroutine?debug=1")
		return bytes.Contains(b, []byte("pprof.Profile"))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a profile running: %v, want DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("Shutdown took %v", el)
	}
	select {
	case <-profDone:
	case <-time.After(5 * time.Second):
		t.Fatal("profile request still running after Shutdown")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("endpoint still accepting after Shutdown")
	}
	requireNoError(t, s.Shutdown(context.Background()), "second Shutdown")
}

func TestShutdownIdle(t *testing.T) {
	s := newEndpoint(t, Config{Addr: "127.0.0.1:0"})
	addr := s.Addr().String()
	code, _ := getURL(t, "http://"+addr+"/stats.json")
	requireEqual(t, code, http.StatusOK, "stats.json before Shutdown")
	requireNoError(t, s.Shutdown(context.Background()), "Shutdown")
	if _, err := http.Get("http://" + addr + "/stats.json"); err == nil {
		t.Fatal("GET succeeded after Shutdown")
	}
}

func TestPprofEndpoints(t *testing.T) {
	s := newEndpoint(t, Config{Addr: "127.0.0.1:0", MaxProfile: 5 * time.Second})
	base := "http://" + s.Addr().String()
	cases := []struct {
		path string
		want []byte // a prefix or a substring
	}{
		{"/debug/pprof/", []byte("goroutine")},
		{"/debug/pprof/heap?debug=1", []byte("heap profile:")},
		{"/debug/pprof/goroutine?debug=1", []byte("goroutine profile:")},
		{"/debug/pprof/goroutine?debug=2", []byte("goroutine ")},
		{"/debug/pprof/allocs?debug=1", []byte("heap profile:")},
		{"/debug/pprof/cmdline", []byte("admin.test")},
		{"/debug/pprof/symbol", []byte("num_symbols:")},
		{"/debug/pprof/heap", []byte{0x1f, 0x8b}},                     // gzipped protobuf
		{"/debug/pprof/profile?seconds=1", []byte{0x1f, 0x8b}},        // gzipped protobuf
		{"/debug/pprof/trace?seconds=0.2", []byte("go 1.")},           // execution trace header
		{"/debug/pprof/threadcreate?debug=1", []byte("threadcreate")}, // named profile via Index
	}
	for _, c := range cases {
		code, body := getURL(t, base+c.path)
		if code != http.StatusOK || !bytes.Contains(body[:min(len(body), 4096)], c.want) {
			t.Errorf("%s: status %d, body starts %q; want 200 containing %q", c.path, code, head(body), c.want)
		}
	}
	for _, p := range []string{"/debug/pprof/profile?seconds=6", "/debug/pprof/trace?seconds=100", "/debug/pprof/profile?seconds=x", "/debug/pprof/profile?seconds=-1"} {
		if code, _ := getURL(t, base+p); code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", p, code)
		}
	}
	// Nothing is served on the process-wide mux by this package's server.
	if code, _ := getURL(t, base+"/debug/vars"); code != http.StatusNotFound {
		t.Errorf("/debug/vars: status %d, want 404", code)
	}
}

func TestDashboardServed(t *testing.T) {
	s := newEndpoint(t, Config{Addr: "127.0.0.1:0"})
	res, err := http.Get("http://" + s.Addr().String() + "/")
	requireNoError(t, err, "GET /")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	requireEqual(t, res.StatusCode, http.StatusOK, "status")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if !bytes.Equal(body, dashboardHTML) {
		t.Error("GET / did not serve the embedded page")
	}
	// No external resource: no absolute URL and no protocol-relative one anywhere in the page.
	for _, bad := range []string{"http://", "https://", `src="//`, `href="//`, "@import", "url("} {
		if bytes.Contains(body, []byte(bad)) {
			t.Errorf("dashboard contains %q", bad)
		}
	}
	for _, link := range []string{`href="debug/pprof/"`, `href="debug/pprof/profile?seconds=10"`, `href="debug/pprof/heap"`,
		`href="debug/pprof/goroutine?debug=1"`, `href="debug/pprof/trace?seconds=5"`} {
		if !bytes.Contains(body, []byte(link)) {
			t.Errorf("dashboard lacks the link %s", link)
		}
	}
	if code, _ := getURL(t, "http://"+s.Addr().String()+"/nope"); code != http.StatusNotFound {
		t.Errorf("/nope: status %d, want 404", code)
	}
}

func getURL(t testing.TB, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	requireNoError(t, err, "GET "+url)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	requireNoError(t, err, "read "+url)
	return res.StatusCode, b
}

func head(b []byte) []byte { return b[:min(len(b), 80)] }
