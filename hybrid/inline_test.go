package hybrid

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	pc "github.com/shaddock-io/shaddock/internal/pomeloclient"
)

// These tests cover how read batches are dispatched (dispatch.go): inline on the poller or on a
// worker, closes requested while a batch runs, and the read path's hand-over between tasks.

// dispatchModes runs f with the default dispatch (worker pool) and with Config.Inline.
func dispatchModes(t *testing.T, f func(t *testing.T, cfg Config)) {
	for _, inline := range []bool{false, true} {
		name := "worker-pool"
		if inline {
			name = "inline"
		}
		t.Run(name, func(t *testing.T) { f(t, Config{Inline: inline}) })
	}
}

// onPoller reports whether the calling goroutine is a poller.
func onPoller() bool {
	var buf [16 << 10]byte
	return bytes.Contains(buf[:runtime.Stack(buf[:], false)], []byte("hybrid.(*poller).loop"))
}

// TestDispatch: with Config.Inline, DATA is handed over on the poller goroutine that read it;
// by default, and for the handshake always, on another goroutine.
func TestDispatch(t *testing.T) {
	dispatchModes(t, func(t *testing.T, cfg Config) {
		h := echoHandler()
		var hsOnPoller, dataOnPoller atomic.Int32
		h.onHandshake = func(*Conn, *HandshakeRequest) HandshakeResult {
			if onPoller() {
				hsOnPoller.Add(1)
			}
			return HandshakeResult{Code: 200}
		}
		echo := h.onData
		h.onData = func(c *Conn, body []byte) {
			if onPoller() {
				dataOnPoller.Add(1)
			}
			echo(c, body)
		}
		_, addr := startServer(t, cfg, h)
		for _, tr := range []pc.Transport{pc.TCP, pc.WS} {
			c := connect(t, addr, tr)
			h.next(t, "open")
			// A request that arrives while the ACK's task is still on its worker is read by that
			// task; the next ones come in batches of their own. Inline: one on the poller is
			// enough; default: none in 20.
			dataOnPoller.Store(0)
			for id := uint32(1); id <= 20 && (!cfg.Inline || dataOnPoller.Load() == 0); id++ {
				requireNoError(t, c.Request(id, "a.b.c", []byte(`{}`)), "request")
				readResponse(t, c, id)
			}
			if got := dataOnPoller.Load(); (got > 0) != cfg.Inline {
				t.Fatalf("%v: %d DATA batches on the poller with Inline %v", tr, got, cfg.Inline)
			}
		}
		requireEqual(t, hsOnPoller.Load(), int32(0), "handshakes on the poller")
	})
}

// TestCloseInsideBatch: a Handler that closes or kicks its own connection, or another one, while
// its batch runs (on the poller, with Inline) leaves the server serving: the close takes effect when
// the batch ends.
func TestCloseInsideBatch(t *testing.T) {
	dispatchModes(t, func(t *testing.T, cfg Config) {
		h := echoHandler()
		echo := h.onData
		var other atomic.Pointer[Conn]
		h.onData = func(c *Conn, body []byte) {
			var m codec.Message
			codec.ParseMessage(body, &m)
			switch string(m.Body) {
			case "close":
				c.Close()
			case "kick":
				c.Kick("bye")
			case "close-other":
				other.Load().Close()
			default:
				echo(c, body)
			}
		}
		opened := make(chan *Conn, 8)
		h.onOpen = func(c *Conn) { opened <- c }
		s, addr := startServer(t, cfg, h)
		for _, what := range []string{"close", "kick", "close-other"} {
			a := connect(t, addr, pc.TCP)
			<-opened
			b := connect(t, addr, pc.WS)
			other.Store(<-opened)
			requireNoError(t, a.Request(1, "a.b.c", []byte(what)), "request")
			victim := a
			if what == "close-other" {
				victim = b
			}
			if what == "kick" {
				readType(t, a, codec.TypeKick)
			}
			expectEOF(t, victim)
			// The poller is not stuck: a new connection, and the survivor, are served.
			c := connect(t, addr, pc.TCP)
			<-opened
			requireNoError(t, c.Request(2, "a.b.c", []byte(`{}`)), "request after "+what)
			readResponse(t, c, 2)
			if what == "close-other" {
				requireNoError(t, a.Request(3, "a.b.c", []byte(`{}`)), "request")
				readResponse(t, a, 3)
			}
		}
		eventually(t, "closed connections unregistered", func() bool { return s.Len() == 6 })
	})
}

// TestCloseDuringTraffic closes connections from other goroutines while their batches run, and
// shuts the server down under load: no close may stall a poller or be lost.
func TestCloseDuringTraffic(t *testing.T) {
	dispatchModes(t, func(t *testing.T, cfg Config) {
		var closed atomic.Int32
		h := &countingEcho{closed: &closed}
		s, addr := startServer(t, cfg, h)
		const n = 40
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			tr := pc.TCP
			if i%2 == 1 {
				tr = pc.WS
			}
			c := connect(t, addr, tr)
			wg.Add(1)
			go func() { // pipelines 4 requests at a time until the server closes the connection
				defer wg.Done()
				for id := uint32(1); ; id += 4 {
					for k := uint32(0); k < 4; k++ {
						if c.Request(id+k, "a.b.c", []byte(`{"k":1}`)) != nil {
							return
						}
					}
					for k := 0; k < 4; k++ {
						if _, err := c.ReadMessage(true); err != nil {
							return
						}
					}
				}
			}()
		}
		eventually(t, "all open", func() bool { return h.opened.Load() == n })
		time.Sleep(50 * time.Millisecond)
		for i, c := range s.snapshot() {
			if i%2 == 0 {
				go c.Close()
			}
		}
		eventually(t, "half closed", func() bool { return closed.Load() == n/2 })
		c := connect(t, addr, pc.TCP)
		requireNoError(t, c.Request(1, "a.b.c", []byte(`{}`)), "request")
		if _, err := c.ReadMessage(true); err != nil {
			t.Fatalf("a new connection is not served: %v", err)
		}
		requireNoError(t, s.Close(), "shutdown under load")
		wg.Wait()
		requireEqual(t, closed.Load(), int32(n+1), "Closed calls")
	})
}

// countingEcho answers requests with their body and counts opens and closes, without recording
// events (a full event channel would block the poller).
type countingEcho struct {
	opened atomic.Int32
	closed *atomic.Int32
}

func (e *countingEcho) Handshake(*Conn, *HandshakeRequest) HandshakeResult {
	return HandshakeResult{Code: 200}
}
func (e *countingEcho) Open(*Conn) { e.opened.Add(1) }
func (e *countingEcho) Data(c *Conn, body []byte) {
	var m codec.Message
	if codec.ParseMessage(body, &m) != nil || m.Type != codec.Request {
		return
	}
	var stack [128]byte
	pkt, at := codec.BeginPacket(stack[:0], codec.TypeData)
	pkt = codec.AppendResponse(pkt, m.ID, m.Body)
	codec.EndPacket(pkt, at)
	c.Enqueue(pkt)
}
func (e *countingEcho) ReadBatchDone(c *Conn)     { c.Flush() }
func (e *countingEcho) Closed(*Conn, CloseReason) { e.closed.Add(1) }

// TestSlowReaderKeepsOrder: pushes to a client that stops reading fill the socket; the rest goes
// through a drain as the socket makes room, and the client, once it reads again, gets
// every package once and in order.
func TestSlowReaderKeepsOrder(t *testing.T) {
	dispatchModes(t, func(t *testing.T, cfg Config) {
		h := newTestHandler()
		opened := make(chan *Conn, 1)
		h.onOpen = func(c *Conn) { opened <- c }
		s, addr := startServer(t, cfg, h)
		for _, tr := range []pc.Transport{pc.TCP, pc.WS} {
			c := connect(t, addr, tr)
			sc := <-opened
			left := s.Stats().WritesLeft.Load()
			// Push until a write is left for a drain, then 200 more (under MaxQueueBytes).
			var pushes uint32
			for more := 200; more > 0; pushes++ {
				if pushes == 20000 {
					t.Fatalf("%v: the socket took %d pushes without filling up", tr, pushes)
				}
				if s.Stats().WritesLeft.Load() > left {
					more--
				}
				body := make([]byte, 4+int(pushes%7)*1000) // sequence number, then padding
				binary.BigEndian.PutUint32(body, pushes)
				pkt, _ := codec.AppendPacket(nil, codec.TypeData, body)
				requireNoError(t, sc.Send(pkt), "send "+strconv.Itoa(int(pushes)))
			}
			for i := uint32(0); i < pushes; i++ {
				p := readType(t, c, codec.TypeData)
				requireEqual(t, binary.BigEndian.Uint32(p.Body), i, "sequence number")
				requireEqual(t, len(p.Body), 4+int(i%7)*1000, "body length")
			}
		}
	})
}

// TestStraddlingPackages: packages longer than a task's read buffer, so that each straddles
// reads, are all answered, in order.
func TestStraddlingPackages(t *testing.T) {
	dispatchModes(t, func(t *testing.T, cfg Config) {
		h := echoHandler()
		s, addr := startServer(t, cfg, h)
		const n = 5
		for _, tr := range []pc.Transport{pc.TCP, pc.WS} {
			c := connect(t, addr, tr)
			h.next(t, "open") // WORKING: with Inline, the next batches run inline
			reads := s.Stats().Reads.Load()
			size := func(id uint32) int { return readBufSize + 5000 - int(id)*37 }
			for id := uint32(1); id <= n; id++ {
				body := bytes.Repeat([]byte{'a' + byte(id)}, size(id))
				requireNoError(t, c.Request(id, "a.b.c", body), "request")
			}
			for id := uint32(1); id <= n; id++ {
				m := readResponse(t, c, id)
				requireEqual(t, len(m.Body), size(id), "body length")
				requireEqual(t, m.Body[0], 'a'+byte(id), "body")
			}
			if got := s.Stats().Reads.Load() - reads; got <= n {
				t.Fatalf("%v: %d reads for %d packages larger than the read buffer", tr, got, n)
			}
		}
	})
}

// TestHandlerPanic: a Handler that panics closes its connection only; the server goes on serving
// (the task recovers it, on a worker and inline).
func TestHandlerPanic(t *testing.T) {
	dispatchModes(t, func(t *testing.T, cfg Config) {
		h := echoHandler()
		echo := h.onData
		h.onData = func(c *Conn, body []byte) {
			var m codec.Message
			codec.ParseMessage(body, &m)
			if string(m.Body) == "panic" {
				panic("handler bug")
			}
			echo(c, body)
		}
		_, addr := startServer(t, cfg, h)
		for _, tr := range []pc.Transport{pc.TCP, pc.WS} {
			a := connect(t, addr, tr)
			h.next(t, "open")
			requireNoError(t, a.Request(1, "a.b.c", []byte("panic")), "request")
			expectEOF(t, a)
			requireEqual(t, h.next(t, "closed").reason, CloseByApp, "reason")
			b := connect(t, addr, tr)
			requireNoError(t, b.Request(2, "a.b.c", []byte(`{}`)), "request")
			readResponse(t, b, 2)
		}
	})
}
