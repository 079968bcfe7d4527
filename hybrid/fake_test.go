package hybrid

import (
	"net"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
	"sync/atomic"
	"testing"

	"github.com/cloudwego/netpoll"
)

// fakeConn stands in for a netpoll connection in tests that drive the read path directly: writes
// go to a LinkBuffer, Close is recorded. Any other method panics (the embedded interface is nil).
type fakeConn struct {
	netpoll.Connection
	out    *netpoll.LinkBuffer
	closed atomic.Bool
}

var fakeAddr = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}

func (f *fakeConn) Close() error           { f.closed.Store(true); return nil }
func (f *fakeConn) Writer() netpoll.Writer { return f.out }
func (f *fakeConn) RemoteAddr() net.Addr   { return fakeAddr }
func (f *fakeConn) LocalAddr() net.Addr    { return fakeAddr }
func (f *fakeConn) IsActive() bool         { return !f.closed.Load() }
func (f *fakeConn) Reader() netpoll.Reader { panic("fakeConn: Reader") }
func (f *fakeConn) String() string         { return "fakeConn" }

// fdConn is a fakeConn with a socket: the transport writes to it directly (sockWrite).
type fdConn struct {
	fakeConn
	fd int
}

func (f *fdConn) Fd() int { return f.fd }

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
	f := &fakeConn{out: netpoll.NewLinkBuffer()}
	return s, newConn(s, f), f
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
