package hybrid

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	pc "github.com/shaddock-io/shaddock/internal/pomeloclient"
)

// waitTimeout bounds every wait on an event in these tests: generous, for -race on 2 busy cores.
const waitTimeout = 20 * time.Second

func requireNoError(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func requireEqual[T comparable](t testing.TB, got, want T, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// event is one Handler call, as recorded by testHandler.
type event struct {
	kind   string // "handshake", "open", "data", "batch", "closed"
	c      *Conn
	req    *HandshakeRequest // handshake
	body   []byte            // data (copy)
	reason CloseReason       // closed
}

// testHandler records every call on a channel and answers handshakes with onHandshake (200 when
// nil). onData, when set, runs inside Data.
type testHandler struct {
	events      chan event
	onHandshake func(c *Conn, req *HandshakeRequest) HandshakeResult
	onData      func(c *Conn, body []byte)
	onOpen      func(c *Conn)
}

func newTestHandler() *testHandler { return &testHandler{events: make(chan event, 100000)} }

func (h *testHandler) Handshake(c *Conn, req *HandshakeRequest) HandshakeResult {
	cp := *req
	cp.User = append([]byte(nil), req.User...)
	h.events <- event{kind: "handshake", c: c, req: &cp}
	if h.onHandshake != nil {
		return h.onHandshake(c, req)
	}
	return HandshakeResult{Code: 200}
}

func (h *testHandler) Open(c *Conn) {
	h.events <- event{kind: "open", c: c}
	if h.onOpen != nil {
		h.onOpen(c)
	}
}

func (h *testHandler) Data(c *Conn, body []byte) {
	h.events <- event{kind: "data", c: c, body: append([]byte(nil), body...)}
	if h.onData != nil {
		h.onData(c, body)
	}
}

func (h *testHandler) ReadBatchDone(c *Conn) { h.events <- event{kind: "batch", c: c} }

func (h *testHandler) Closed(c *Conn, reason CloseReason) {
	h.events <- event{kind: "closed", c: c, reason: reason}
}

// next returns the next event of one of the given kinds, skipping others.
func (h *testHandler) next(t testing.TB, kinds ...string) event {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case e := <-h.events:
			for _, k := range kinds {
				if e.kind == k {
					return e
				}
			}
		case <-deadline:
			t.Fatalf("no %v event within %v", kinds, waitTimeout)
		}
	}
}

// closedOf returns the "closed" event of c, skipping those of other connections (which an
// earlier subtest's cleanup may have closed meanwhile).
func (h *testHandler) closedOf(t testing.TB, c *Conn) event {
	t.Helper()
	for {
		if e := h.next(t, "closed"); e.c == c {
			return e
		}
	}
}

// testLogger logs at Debug to stderr when HYBRID_LOG is set, and discards otherwise.
func testLogger() *slog.Logger {
	if os.Getenv("HYBRID_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startServer starts a Server on a loopback port with cfg (TLS filled in with the test certificate
// when nil) and stops it at the end of the test.
func startServer(t testing.TB, cfg Config, h Handler) (*Server, string) {
	t.Helper()
	if cfg.TLS == nil {
		cfg.TLS = serverTLS(t)
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	s, err := NewServer(cfg, h)
	requireNoError(t, err, "NewServer")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err, "listen")
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		requireNoError(t, s.Close(), "Close")
		select {
		case err := <-served:
			if !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("Serve did not return")
		}
	})
	return s, ln.Addr().String()
}

var (
	certOnce sync.Once
	certPair tls.Certificate
	certErr  error
)

// serverTLS returns a TLS config with a self-signed certificate for 127.0.0.1, generated once.
func serverTLS(t testing.TB) *tls.Config {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			certErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "hybrid test"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			certErr = err
			return
		}
		certPair = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	requireNoError(t, certErr, "certificate")
	return &tls.Config{Certificates: []tls.Certificate{certPair}}
}

// transports lists every way a client reaches the one port.
var transports = []pc.Transport{pc.TCP, pc.WS, pc.TLS, pc.WSS}

var hybridTransport = map[pc.Transport]Transport{pc.TCP: TransportTCP, pc.WS: TransportWS, pc.TLS: TransportTLS, pc.WSS: TransportWSS}

// forEachTransport runs f as a subtest for TCP, WS, TLS-TCP and WSS, in the manner of yamux's
// testConnTypes: the same assertions over every transport, against servers on one port each.
func forEachTransport(t *testing.T, f func(t *testing.T, tr pc.Transport)) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) { f(t, tr) })
	}
}

// dial connects a client with the given transport.
func dial(t testing.TB, addr string, tr pc.Transport) *pc.Client {
	t.Helper()
	c, err := pc.Dial(addr, pc.Options{Transport: tr, Timeout: waitTimeout})
	requireNoError(t, err, "dial "+tr.String())
	t.Cleanup(func() { c.Close() })
	return c
}

// connect dials, handshakes and acknowledges.
func connect(t testing.TB, addr string, tr pc.Transport) *pc.Client {
	t.Helper()
	c := dial(t, addr, tr)
	_, err := c.Handshake(nil)
	requireNoError(t, err, "handshake")
	requireNoError(t, c.Ack(), "ack")
	return c
}

// expectEOF reads until the server closes the connection and fails on any package read first
// unless allowPackages. WebSocket Close frames count as the end too.
func expectEOF(t testing.TB, c *pc.Client) {
	t.Helper()
	for {
		p, err := c.ReadPacket()
		if err != nil {
			var ce *pc.CloseError
			if errors.As(err, &ce) || errors.Is(err, io.EOF) || isConnReset(err) {
				return
			}
			t.Fatalf("expected the server to close, got %v", err)
		}
		t.Fatalf("expected the server to close, got a %v package %q", p.Type, p.Body)
	}
}

func isConnReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}
