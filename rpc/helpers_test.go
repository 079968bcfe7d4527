package rpc

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/rpc/pack"
)

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

// requireCode checks that err is an *Error with code.
func requireCode(t testing.TB, err error, code int, what string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %v (%T) is not an *rpc.Error", what, err, err)
	}
	if e.Code != code {
		t.Fatalf("%s: code %d (%q), want %d", what, e.Code, e.Message, code)
	}
	return e
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fwdMsg has the shape of msgRemote.forwardMessage's arguments: the client message (id, type,
// route, body) and the session snapshot (id, frontendId, uid, settings). It decodes without
// allocating: byte fields alias the arguments, valid while the handler runs.
type fwdMsg struct {
	MsgID    uint64
	Type     uint64
	Route    []byte
	Body     []byte
	SID      uint64
	Frontend []byte
	UID      []byte
	Settings []byte // a pack-encoded map, kept raw
}

const fwdFields = 8

func (m *fwdMsg) AppendRPC(dst []byte) ([]byte, error) {
	dst = pack.AppendArrayHeader(dst, fwdFields)
	dst = pack.AppendUint(pack.AppendUint(dst, m.MsgID), m.Type)
	dst = pack.AppendBytes(pack.AppendStringBytes(dst, m.Route), m.Body)
	dst = pack.AppendStringBytes(pack.AppendUint(dst, m.SID), m.Frontend)
	dst = pack.AppendStringBytes(dst, m.UID)
	if len(m.Settings) == 0 {
		return pack.AppendMapHeader(dst, 0), nil
	}
	return append(dst, m.Settings...), nil
}

var errFields = errors.New("fwdMsg: wrong field count")

func (m *fwdMsg) DecodeRPC(b []byte) error {
	d := pack.NewDecoder(b)
	if d.ArrayLen() != fwdFields && d.Err() == nil {
		return errFields
	}
	m.MsgID, m.Type = d.Uint(), d.Uint()
	m.Route, m.Body = d.StringBytesUnsafe(), d.BytesUnsafe()
	m.SID, m.Frontend = d.Uint(), d.StringBytesUnsafe()
	m.UID, m.Settings = d.StringBytesUnsafe(), d.RawUnsafe()
	return d.Done()
}

// fwdResp is a result: code and body. It decodes by copying into its own reused storage (a
// result outlives the read buffer), so decoding into a reused fwdResp does not allocate.
type fwdResp struct {
	Code int64
	Body []byte
}

func (r *fwdResp) AppendRPC(dst []byte) ([]byte, error) {
	dst = pack.AppendArrayHeader(dst, 2)
	return pack.AppendBytes(pack.AppendInt(dst, r.Code), r.Body), nil
}

func (r *fwdResp) DecodeRPC(b []byte) error {
	d := pack.NewDecoder(b)
	if d.ArrayLen() != 2 && d.Err() == nil {
		return errFields
	}
	r.Code = d.Int()
	r.Body = append(r.Body[:0], d.BytesUnsafe()...)
	return d.Done()
}

// echoHandler answers a fwdMsg with code 200 and the same body. Results come from a pool, so
// steady-state dispatch allocates nothing.
func echoHandler() Handler {
	pool := sync.Pool{New: func() any { return new(fwdResp) }}
	return func(_ context.Context, args []byte, r Reply) {
		var m fwdMsg
		if err := m.DecodeRPC(args); err != nil {
			r.Error(err)
			return
		}
		res := pool.Get().(*fwdResp)
		res.Code, res.Body = 200, m.Body
		r.Return(res)
		res.Body = nil
		pool.Put(res)
	}
}

var (
	nameForward = MethodName{"sys", "msgRemote", "forwardMessage"}
	nameEcho    = MethodName{"user", "test", "echo"}
	nameHold    = MethodName{"user", "test", "hold"}
	nameFail    = MethodName{"user", "test", "fail"}
)

// startServer starts a Server on a loopback port with handlers registered by reg, and closes it
// at the end of the test.
func startServer(t testing.TB, cfg ServerConfig, reg func(*Server), opts ...Option) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err, "listen")
	return serveOn(t, ln, cfg, reg, opts...), ln.Addr().String()
}

func serveOn(t testing.TB, ln net.Listener, cfg ServerConfig, reg func(*Server), opts ...Option) *Server {
	t.Helper()
	s, err := NewServer(cfg, opts...)
	requireNoError(t, err, "NewServer")
	if reg != nil {
		reg(s)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		select {
		case err := <-done:
			if err != nil && err != ErrServerClosed { // closed before Serve started
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after Close")
		}
	})
	return s
}

func newClient(t testing.TB, addr string, cfg ClientConfig, opts ...Option) *Client {
	t.Helper()
	if cfg.ServerID == "" {
		cfg.ServerID = "backend-1"
	}
	c, err := NewClient(addr, cfg, opts...)
	requireNoError(t, err, "NewClient")
	t.Cleanup(func() { c.Close() })
	return c
}

// holder is a handler that keeps every Reply until release is called; it answers each with its
// arguments echoed back.
type holder struct {
	mu      sync.Mutex
	replies []Reply
	args    [][]byte
	got     chan struct{} // receives one value per held call (buffered)
}

func newHolder(n int) *holder { return &holder{got: make(chan struct{}, n)} }

func (h *holder) handle(_ context.Context, args []byte, r Reply) {
	h.mu.Lock()
	h.replies = append(h.replies, r)
	h.args = append(h.args, append([]byte(nil), args...))
	h.mu.Unlock()
	h.got <- struct{}{}
}

// wait blocks until n calls are held.
func (h *holder) wait(t testing.TB, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-h.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d calls reached the handler", i, n)
		}
	}
}

// release answers the held calls in the order given by perm (indexes), echoing the arguments.
func (h *holder) release(perm []int) {
	h.mu.Lock()
	replies, args := h.replies, h.args
	h.replies, h.args = nil, nil
	h.mu.Unlock()
	for _, i := range perm {
		replies[i].Return(Raw(args[i]))
	}
}

func (h *holder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.replies)
}

// rawConn is a hand-driven client connection for protocol-level tests.
type rawConn struct {
	t   testing.TB
	nc  net.Conn
	dec FrameDecoder
	buf []byte
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	requireNoError(t, err, "dial")
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, buf: make([]byte, 4096)}
}

func (r *rawConn) write(b []byte) {
	r.t.Helper()
	_, err := r.nc.Write(b)
	requireNoError(r.t, err, "raw write")
}

// next reads the next frame (its payload is valid until the next call).
func (r *rawConn) next() (Frame, error) {
	_ = r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		f, err := r.dec.Next()
		if err != ErrNeedMore {
			return f, err
		}
		n, err := r.nc.Read(r.buf)
		if err != nil {
			return Frame{}, err
		}
		r.dec.Feed(r.buf[:n])
	}
}

func (r *rawConn) mustNext(k Kind) Frame {
	r.t.Helper()
	f, err := r.next()
	requireNoError(r.t, err, "raw read")
	requireEqual(r.t, f.Kind, k, "frame kind")
	return f
}

// helloDeclare returns a HELLO and a DECLARE of id 0 for name.
func helloDeclare(t testing.TB, name MethodName) []byte {
	b, err := AppendHello(nil, "raw-client")
	requireNoError(t, err, "AppendHello")
	b, err = AppendDeclare(b, 0, name)
	requireNoError(t, err, "AppendDeclare")
	return b
}
