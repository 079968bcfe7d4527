package hybrid

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	pc "github.com/shaddock-io/shaddock/internal/pomeloclient"
)

// handshakeOfSize returns a valid handshake body of exactly n bytes (n >= 30).
func handshakeOfSize(n int) []byte {
	b := []byte(`{"sys":{},"user":{"p":"`)
	b = append(b, strings.Repeat("x", n-len(b)-3)...)
	return append(b, `"}}`...)
}

// eventually polls cond until it holds; for counters and gauges that have no event to wait on.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, waitTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBodyLimits(t *testing.T) {
	h := newTestHandler()
	const pre, post = 200, 1000
	s, addr := startServer(t, Config{MaxBodyBeforeHandshake: pre, MaxBody: post}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		// Before the handshake: limit passes, limit+1 closes.
		c := dial(t, addr, tr)
		_, err := c.Handshake(handshakeOfSize(pre))
		requireNoError(t, err, "handshake at the limit")
		requireNoError(t, c.WritePackage(codec.TypeData, make([]byte, pre+1)), "data over the pre limit in WAIT_ACK")
		expectEOF(t, c)
		requireEqual(t, h.next(t, "closed").reason, CloseProtocolError, "reason")

		c = dial(t, addr, tr)
		requireNoError(t, c.SendHandshake(handshakeOfSize(pre+1)), "handshake over the limit")
		expectEOF(t, c)

		// Once WORKING: MaxBody.
		c = connect(t, addr, tr)
		body := make([]byte, post)
		requireNoError(t, c.WritePackage(codec.TypeData, body), "data at the limit")
		requireEqual(t, len(h.next(t, "data").body), post, "delivered body")
		requireNoError(t, c.WritePackage(codec.TypeData, make([]byte, post+1)), "data over the limit")
		expectEOF(t, c)
		requireEqual(t, h.next(t, "closed").reason, CloseProtocolError, "reason")
	})
	st := s.Stats()
	// TCP and TLS count ErrBodyTooLarge; WebSocket refuses the frame first (ErrWSTooLarge).
	requireEqual(t, st.ErrBodyTooLarge.Load()+st.ErrWSTooLarge.Load(), uint64(3*len(transports)), "oversize bodies")
	requireEqual(t, st.ErrBodyTooLarge.Load(), uint64(6), "raw oversize bodies (TCP, TLS)")
}

// TestBodyLimitOnHeader: the server closes on the header alone, without waiting for the body.
func TestBodyLimitOnHeader(t *testing.T) {
	h := newTestHandler()
	_, addr := startServer(t, Config{MaxBody: 1000}, h)
	for _, tr := range []pc.Transport{pc.TCP, pc.TLS} {
		c := connect(t, addr, tr)
		requireNoError(t, c.WriteRaw([]byte{byte(codec.TypeData), 0xff, 0xff, 0xff}), "header of a 16 MiB body")
		expectEOF(t, c)
	}
}

func TestUnknownProtocol(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{}, h)
	for _, first := range []string{"\x00", "\x06\x00\x00\x00", "SSH-2.0-x\r\n", "GETX", "\x16\x02"} {
		nc, err := net.Dial("tcp", addr)
		requireNoError(t, err, "dial")
		_, err = nc.Write([]byte(first))
		requireNoError(t, err, "write")
		nc.SetDeadline(time.Now().Add(waitTimeout))
		n, err := nc.Read(make([]byte, 1))
		if n != 0 || err == nil {
			t.Fatalf("%q: read %d bytes, %v; want the connection closed", first, n, err)
		}
		nc.Close()
	}
	requireEqual(t, s.Stats().RejectedProtocol.Load(), uint64(5), "counted")
}

func TestTLSWithoutCertificateIsUnknown(t *testing.T) {
	s, err := NewServer(Config{Logger: testLogger()}, newTestHandler())
	requireNoError(t, err, "NewServer")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err, "listen")
	go s.Serve(ln)
	defer s.Close()
	_, err = pc.Dial(ln.Addr().String(), pc.Options{Transport: pc.TLS, Timeout: waitTimeout})
	if err == nil {
		t.Fatal("TLS handshake succeeded without a certificate")
	}
	eventually(t, "rejected", func() bool { return s.Stats().RejectedProtocol.Load() == 1 })
}

func TestTLSHandshakeFailure(t *testing.T) {
	s, addr := startServer(t, Config{}, newTestHandler())
	nc, err := net.Dial("tcp", addr)
	requireNoError(t, err, "dial")
	defer nc.Close()
	// A TLS record header, then garbage.
	_, err = nc.Write([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5})
	requireNoError(t, err, "write")
	nc.SetDeadline(time.Now().Add(waitTimeout))
	buf := make([]byte, 64)
	for {
		if _, err := nc.Read(buf); err != nil {
			break // alert, then close
		}
	}
	eventually(t, "counted", func() bool { return s.Stats().TLSHandshakeFail.Load() == 1 })
}

func TestMaxConns(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{MaxConns: 2}, h)
	a := connect(t, addr, pc.TCP)
	connect(t, addr, pc.WSS)
	for _, tr := range transports {
		// Refused on classification: TCP sees EOF after its handshake, WS during the upgrade, TLS
		// during the TLS handshake.
		c, err := pc.Connect(addr, pc.Options{Transport: tr, Timeout: waitTimeout})
		if err == nil {
			c.Close()
			t.Fatalf("%v: connection above MaxConns accepted", tr)
		}
	}
	requireEqual(t, s.Stats().RejectedMaxConns.Load(), uint64(len(transports)), "counted")
	requireEqual(t, s.Stats().HandshakeOK.Load(), uint64(2), "handshakes")
	a.Close()
	eventually(t, "slot freed", func() bool { return s.Stats().ClassifiedConns.Load() == 1 })
	connect(t, addr, pc.WS)
}

func TestBlacklistOnAccept(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{Blacklist: []string{"127.0.0.2"}}, h)
	_, port, _ := net.SplitHostPort(addr)
	dialFrom := func(src string) *pc.Client {
		c, err := pc.Dial("127.0.0.1:"+port, pc.Options{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: waitTimeout})
		requireNoError(t, err, "dial from "+src)
		t.Cleanup(func() { c.Close() })
		return c
	}
	// Closed before a byte is read: the client sees EOF without sending anything.
	expectEOF(t, dialFrom("127.0.0.2"))
	c := dialFrom("127.0.0.3")
	_, err := c.Handshake(nil)
	requireNoError(t, err, "handshake from a listed-free address")

	requireNoError(t, s.SetBlacklist([]string{"127.0.0.0/29"}), "replace the blacklist")
	expectEOF(t, dialFrom("127.0.0.3"))
	expectEOF(t, dialFrom("127.0.0.1"))
	requireEqual(t, s.Stats().RejectedBlacklist.Load(), uint64(3), "counted")
	requireEqual(t, errors.Is(s.SetBlacklist([]string{"bad"}), ErrConfig), true, "bad list refused")
	// The established connection is not affected.
	requireNoError(t, c.Ack(), "ack")
	h.next(t, "open")
}

func TestHandshakeTimeout(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{HandshakeTimeout: 300 * time.Millisecond}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		start := time.Now()
		expectEOF(t, dial(t, addr, tr)) // silent after the upgrade / TLS handshake
		if el := time.Since(start); el < 250*time.Millisecond {
			t.Fatalf("closed after %v", el)
		}
		c := dial(t, addr, tr) // half a package or frame header
		half := []byte{byte(codec.TypeHandshake), 0, 0}
		if tr.IsWebSocket() {
			half = []byte{0x82}
		}
		requireNoError(t, c.WriteRaw(half), "half a header")
		expectEOF(t, c)

		c = dial(t, addr, tr) // handshake answered, no ACK
		_, err := c.Handshake(nil)
		requireNoError(t, err, "handshake")
		expectEOF(t, c)
		requireEqual(t, h.next(t, "closed").reason, CloseIdleTimeout, "reason")
	})
	nc, err := net.Dial("tcp", addr) // not even classified
	requireNoError(t, err, "dial")
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(waitTimeout))
	_, err = nc.Read(make([]byte, 1))
	if err == nil {
		t.Fatal("read data from a silent connection")
	}
	requireEqual(t, s.Stats().HandshakeTimeouts.Load(), uint64(3*len(transports)+1), "counted")
}

func TestIdleTimeout(t *testing.T) {
	h := echoHandler()
	s, addr := startServer(t, Config{IdleTimeout: 1500 * time.Millisecond}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		for i := uint32(1); i <= 6; i++ { // traffic keeps it open past the timeout
			time.Sleep(300 * time.Millisecond)
			requireNoError(t, c.Request(i, "a.b.c", nil), "request")
			readResponse(t, c, i)
		}
		start := time.Now()
		expectEOF(t, c)
		if el := time.Since(start); el < 1400*time.Millisecond {
			t.Fatalf("closed %v after the last traffic", el)
		}
		requireEqual(t, h.next(t, "closed").reason, CloseIdleTimeout, "reason")
	})
	requireEqual(t, s.Stats().IdleTimeouts.Load(), uint64(len(transports)), "counted")
}

// pushPkt is a 40-byte DATA package.
var pushPkt = func() []byte {
	m, _ := codec.AppendPush(nil, "onPush", []byte(`{"pad":"0123456789012345678"}`))
	p, _ := codec.AppendPacket(nil, codec.TypeData, m)
	return p
}()

// waitWritten waits until no earlier write of c is still counted in its queue. A TLS connection's
// handshake response is written by a goroutine that may not yet have taken the lock back to
// uncount it when the client's ACK arrives; the overflow tests measure the queue from empty.
func waitWritten(c *Conn) {
	for deadline := time.Now().Add(waitTimeout); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		busy := c.out.flushing || c.out.inflight != 0 || c.out.buf != nil
		c.mu.Unlock()
		if !busy {
			return
		}
	}
}

func TestOverflowDrop(t *testing.T) {
	h := newTestHandler()
	errs := make(chan []error, 1)
	depth := make(chan [2]int, 1)
	h.onOpen = func(c *Conn) {
		waitWritten(c)
		var e []error
		for i := 0; i < 4; i++ {
			e = append(e, c.Enqueue(pushPkt)) // nothing flushed: the queue fills
		}
		e = append(e, c.Enqueue(append(append([]byte(nil), pushPkt...), pushPkt...)))
		b, n := c.QueueDepth() // still in the read batch: nothing flushed yet
		depth <- [2]int{b, n}
		errs <- e
	}
	s, addr := startServer(t, Config{MaxQueuePackages: 3, Overflow: OverflowDrop}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		e := <-errs
		for i, want := range []error{nil, nil, nil, ErrQueueFull, ErrQueueFull} {
			requireEqual(t, e[i], want, "enqueue result")
		}
		requireEqual(t, <-depth, [2]int{3 * len(pushPkt), 3}, "queue depth (bytes, packages)")
		for i := 0; i < 3; i++ {
			readType(t, c, codec.TypeData)
		}
		requireNoError(t, c.Request(0, "a.b.c", nil), "still open")
		h.next(t, "data")
	})
	requireEqual(t, s.Stats().OutboundDropped.Load(), uint64(3*len(transports)), "dropped packages")
}

func TestOverflowKick(t *testing.T) {
	h := newTestHandler()
	errs := make(chan []error, 1)
	h.onOpen = func(c *Conn) {
		waitWritten(c)
		var e []error
		for i := 0; i < 4; i++ {
			e = append(e, c.Enqueue(pushPkt))
		}
		e = append(e, c.Enqueue(pushPkt))
		errs <- e
	}
	s, addr := startServer(t, Config{MaxQueueBytes: 100}, h) // two packages fit
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		e := <-errs
		for i, want := range []error{nil, nil, ErrQueueFull, ErrConnClosed, ErrConnClosed} {
			requireEqual(t, e[i], want, "enqueue result")
		}
		expectEOF(t, c) // closed at once: the queue is dropped
		requireEqual(t, h.next(t, "closed").reason, CloseOverflow, "reason")
	})
	requireEqual(t, s.Stats().OverflowKicks.Load(), uint64(len(transports)), "kicked")
}

func TestEnqueueErrors(t *testing.T) {
	h := newTestHandler()
	res := make(chan []error, 1)
	h.onHandshake = func(c *Conn, _ *HandshakeRequest) HandshakeResult {
		res <- []error{c.Enqueue(pushPkt)}
		return HandshakeResult{Code: 200}
	}
	h.onOpen = func(c *Conn) {
		res <- []error{
			c.Enqueue(nil),
			c.Enqueue(pushPkt[:10]),
			c.Enqueue(append(append([]byte(nil), pushPkt...), 1)),
			c.Enqueue(make([]byte, 200)), // type 0
			c.Enqueue(append(append([]byte(nil), pushPkt...), pushPkt...)),
			c.Enqueue(append(append(append([]byte(nil), pushPkt...), pushPkt...), pushPkt...)),
		}
	}
	s, addr := startServer(t, Config{MaxQueueBytes: 100}, h)
	connect(t, addr, pc.TCP)
	requireEqual(t, (<-res)[0], ErrNotWorking, "before WORKING")
	e := <-res
	for i, want := range []error{ErrBadPackages, ErrBadPackages, ErrBadPackages, ErrBadPackages, nil, ErrPacketTooBig} {
		requireEqual(t, e[i], want, "enqueue result")
	}
	requireEqual(t, s.Stats().OutboundNotWorking.Load(), uint64(1), "refused before WORKING")
}

// TestWriteTimeout: sending to a client that never reads does not block the sender (the socket
// takes what it can, a drain writes the rest when it can), and the client is closed once that
// write has waited WriteTimeout.
func TestWriteTimeout(t *testing.T) {
	h := newTestHandler()
	opened := make(chan *Conn, 1)
	h.onOpen = func(c *Conn) { opened <- c }
	const timeout = time.Second
	s, addr := startServer(t, Config{WriteTimeout: timeout, MaxQueueBytes: 64 << 20}, h)
	for _, tr := range []pc.Transport{pc.TCP, pc.WSS} {
		connect(t, addr, tr) // never reads again
		sc := <-opened
		big := make([]byte, 0, 60<<10)
		big, _ = codec.AppendPacket(big, codec.TypeData, make([]byte, 60<<10-4))
		start := time.Now()
		for i := 0; i < 100; i++ { // 6 MB: more than the socket buffers hold
			if err := sc.Send(big); err != nil {
				t.Fatalf("%v: send %d: %v", tr, i, err)
			}
		}
		if d := time.Since(start); d > timeout/2 {
			// A flush waiting for the client would take the whole timeout.
			t.Errorf("%v: sending took %v: a flush blocked", tr, d)
		}
		requireEqual(t, s.Stats().WritesLeft.Load() > 0, true, "writes left to a drain")
		requireEqual(t, h.next(t, "closed").reason, CloseByPeer, "reason")
		if err := sc.Send(big); err != ErrConnClosed {
			t.Errorf("%v: send after the timeout: %v", tr, err)
		}
	}
	requireEqual(t, s.Stats().WriteTimeouts.Load(), uint64(2), "write timeouts")
}

// TestNoDelay: TCP_NODELAY is on by default (Go's setting), off with Config.Nagle.
func TestNoDelay(t *testing.T) {
	for _, nagle := range []bool{false, true} {
		h := newTestHandler()
		opened := make(chan *Conn, 1)
		h.onOpen = func(c *Conn) { opened <- c }
		_, addr := startServer(t, Config{Nagle: nagle}, h)
		connect(t, addr, pc.TCP)
		sc := <-opened
		fd := int(sc.fd)
		v, err := syscall.GetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
		requireNoError(t, err, "getsockopt")
		requireEqual(t, v != 0, !nagle, "TCP_NODELAY")
	}
}
