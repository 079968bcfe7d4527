package hybrid

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	pc "github.com/shaddock-io/shaddock/internal/pomeloclient"
)

func TestConfigValidate(t *testing.T) {
	var zero Config
	requireNoError(t, zero.Validate(), "zero value")
	bad := []Config{
		{MaxConns: -1},
		{HandshakeTimeout: -1},
		{IdleTimeout: -time.Second},
		{Heartbeat: 1500 * time.Millisecond},
		{Heartbeat: -time.Second},
		{HeartbeatTimeout: -1},
		{MaxBody: 1 << 24},
		{MaxBody: -1},
		{MaxBodyBeforeHandshake: 1 << 24},
		{WSMaxFrameSize: -1},
		{WSMaxMessageSize: -1},
		{MaxQueueBytes: -1},
		{MaxQueuePackages: -1},
		{Overflow: 7},
		{WriteTimeout: -1},
		{Pollers: -1},
		{CertFile: "x.pem"},
		{TLS: &tls.Config{}},
		{Blacklist: []string{"not an ip"}},
		{Blacklist: []string{"10.0.0.0/33"}},
	}
	for i, c := range bad {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("case %d (%+v): got %v, want ErrConfig", i, c, err)
		}
	}
	if _, err := NewServer(Config{MaxConns: -1}, newTestHandler()); !errors.Is(err, ErrConfig) {
		t.Errorf("NewServer accepted a bad config: %v", err)
	}
	if _, err := NewServer(Config{}, nil); err != ErrNoHandler {
		t.Errorf("NewServer(nil handler) = %v", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	s := (&Config{}).settings()
	requireEqual(t, s.handshakeTimeout, DefaultHandshakeTimeout, "handshake timeout")
	requireEqual(t, s.idleTimeout, DefaultIdleTimeout, "idle timeout")
	requireEqual(t, s.heartbeat, time.Duration(0), "heartbeat off")
	requireEqual(t, s.maxBody, DefaultMaxBody, "max body")
	requireEqual(t, s.maxBodyPre, DefaultMaxBodyBeforeHandshake, "max body before handshake")
	requireEqual(t, s.wsMaxFrame, DefaultMaxBody+4, "ws frame")
	requireEqual(t, s.overflow, OverflowKick, "overflow")

	s = (&Config{Heartbeat: 3 * time.Second, MaxBody: 1000}).settings()
	requireEqual(t, s.heartbeatTimeout, 6*time.Second, "heartbeat timeout = 2 × interval")
	requireEqual(t, s.heartbeatSecs, 3, "seconds")
	requireEqual(t, s.maxBodyPre, 1000, "pre-handshake limit capped by MaxBody")
	s = (&Config{Heartbeat: 3 * time.Second, HeartbeatTimeout: time.Second}).settings()
	requireEqual(t, s.heartbeatTimeout, time.Second, "explicit heartbeat timeout")
}

func TestBlacklist(t *testing.T) {
	b, err := parseBlacklist([]string{"10.0.0.7", " 192.168.0.0/16 ", "::1", "2001:db8::/32"})
	requireNoError(t, err, "parse")
	for addr, want := range map[string]bool{
		"10.0.0.7": true, "10.0.0.8": false, "192.168.44.1": true, "192.169.0.1": false,
		"::1": true, "::ffff:10.0.0.7": true, "2001:db8:1::5": true, "2001:db9::1": false,
	} {
		requireEqual(t, b.contains(netip.MustParseAddr(addr)), want, addr)
	}
	var none *blacklist
	requireEqual(t, none.contains(netip.MustParseAddr("10.0.0.7")), false, "nil list")
	requireEqual(t, addrOf(&net.TCPAddr{IP: net.IPv4(1, 2, 3, 4), Port: 5}), netip.MustParseAddr("1.2.3.4"), "addrOf TCPAddr")
	requireEqual(t, addrOf(nil).IsValid(), false, "addrOf nil")
}

func TestCertFiles(t *testing.T) {
	cert := serverTLS(t).Certificates[0]
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	requireNoError(t, err, "marshal key")
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	requireNoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600), "write cert")
	requireNoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600), "write key")

	h := newTestHandler()
	s, err := NewServer(Config{Addr: "127.0.0.1:0", CertFile: certFile, KeyFile: keyFile, Logger: testLogger()}, h)
	requireNoError(t, err, "NewServer with key pair files")
	served := make(chan error, 1)
	go func() { served <- s.ListenAndServe() }()
	eventually(t, "listening", func() bool { return s.Addr() != nil })
	c, err := pc.Connect(s.Addr().String(), pc.Options{Transport: pc.WSS, Timeout: waitTimeout})
	requireNoError(t, err, "connect over WSS")
	c.Close()
	requireNoError(t, s.Close(), "close")
	requireEqual(t, <-served, ErrServerClosed, "ListenAndServe result")

	_, err = NewServer(Config{CertFile: filepath.Join(dir, "missing.pem"), KeyFile: keyFile}, h)
	if err == nil {
		t.Fatal("missing certificate file accepted")
	}
}
