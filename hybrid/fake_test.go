package hybrid

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
	"sync/atomic"
	"testing"
)

// fakeConn stands in for the socket in tests that drive the read path directly: writes go to a
// buffer, Close is recorded. Any other method panics (the embedded interface is nil).
type fakeConn struct {
	net.Conn
	mu     sync.Mutex
	out    bytes.Buffer
	closed atomic.Bool
}

var fakeAddr = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}

func (f *fakeConn) Close() error         { f.closed.Store(true); return nil }
func (f *fakeConn) RemoteAddr() net.Addr { return fakeAddr }
func (f *fakeConn) LocalAddr() net.Addr  { return fakeAddr }

func (f *fakeConn) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.Write(p)
}

// written returns what was written so far.
func (f *fakeConn) written() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.out.Bytes())
}

// newTestConn returns a connection of s on nc, which stands in for its socket.
func newTestConn(s *Server, nc net.Conn) *Conn {
	c := newConn(s, -1, netip.AddrPort{})
	c.nc = nc
	return c
}

// newSocketConn returns a WORKING raw-TCP-mode connection of a new Server (nopHandler) on one
// end of a Unix socket pair of type sotype, and the other end, from which a test reads exactly
// what the connection writes. Both ends are closed when the test ends.
func newSocketConn(t *testing.T, sotype int) (*Server, *Conn, int) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, sotype, 0)
	requireNoError(t, err, "socketpair")
	t.Cleanup(func() {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
	})
	requireNoError(t, syscall.SetNonblock(fds[0], true), "nonblock")
	s, err := NewServer(Config{Logger: testLogger()}, nopHandler{})
	requireNoError(t, err, "NewServer")
	c := newConn(s, fds[0], netip.AddrPort{})
	c.mode, c.opened = modePackages, true
	c.state.Store(stateWorking)
	return s, c, fds[1]
}

// nopHandler accepts every handshake and does nothing else.
type nopHandler struct{}

func (nopHandler) Handshake(*Conn, *HandshakeRequest) HandshakeResult {
	return HandshakeResult{Code: 200}
}
func (nopHandler) Open(*Conn)                {}
func (nopHandler) Data(*Conn, []byte)        {}
func (nopHandler) ReadBatchDone(*Conn)       {}
func (nopHandler) Closed(*Conn, CloseReason) {}

// newFakeConn returns a server (not serving: its wheel never runs) and a connection on a
// fakeConn, in the sniffing state.
func newFakeConn(t testing.TB, cfg Config, h Handler) (*Server, *Conn, *fakeConn) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	s, err := NewServer(cfg, h)
	requireNoError(t, err, "NewServer")
	f := &fakeConn{}
	return s, newTestConn(s, f), f
}

// steadyInput is what a WORKING client sends in the steady state: a heartbeat and requests.
func steadyInput() []byte {
	var b []byte
	b, _ = codec.AppendPacket(b, codec.TypeHeartbeat, nil)
	for id := uint32(1); id <= 3; id++ {
		m, _ := codec.AppendRequest(nil, id, "connector.entryHandler.entry", []byte(`{"uid":1}`))
		b, _ = codec.AppendPacket(b, codec.TypeData, m)
	}
	return b
}

// wsDeflateFrames frames each package of pkts as one masked binary message, compressed.
func wsDeflateFrames(pkts []byte) []byte {
	var out []byte
	key := [4]byte{1, 2, 3, 4}
	for len(pkts) > 0 {
		_, n, _ := codec.ParseHeader(pkts)
		z, _ := ws.Deflate(nil, pkts[:codec.HeaderSize+n])
		out = ws.AppendCompressedFrameHeader(out, true, ws.OpBinary, len(z), &key)
		at := len(out)
		out = append(out, z...)
		ws.Unmask(key, 0, out[at:])
		pkts = pkts[codec.HeaderSize+n:]
	}
	return out
}

// wsFrames frames each package of pkts as one masked binary message.
func wsFrames(pkts []byte) []byte {
	var out []byte
	key := [4]byte{1, 2, 3, 4}
	for len(pkts) > 0 {
		_, n, _ := codec.ParseHeader(pkts)
		out = ws.AppendMaskedFrame(out, ws.OpBinary, key, pkts[:codec.HeaderSize+n])
		pkts = pkts[codec.HeaderSize+n:]
	}
	return out
}
