package hybrid

import (
	"strconv"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
)

var benchSizes = []int{32, 256, 1024, 4096}

// batchOf returns n DATA packages with bodies of size bytes.
func batchOf(n, size int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b, _ = codec.AppendPacket(b, codec.TypeData, make([]byte, size))
	}
	return b
}

// BenchmarkReadPath measures the per-package read path (decode, state machine, hand-over to the
// Handler) over 16 packages per batch, raw and in WebSocket frames, against the bare package
// parser as the baseline twin.
func BenchmarkReadPath(b *testing.B) {
	for _, size := range benchSizes {
		in := batchOf(16, size)
		b.Run("tcp/"+strconv.Itoa(size), func(b *testing.B) {
			c, _ := workingConnB(b, modePackages)
			benchProcess(b, c, in)
		})
		b.Run("ws/"+strconv.Itoa(size), func(b *testing.B) {
			c, _ := workingConnB(b, modeFrames)
			benchProcess(b, c, wsFrames(in))
		})
		b.Run("baseline-codec/"+strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for p := in; len(p) > 0; {
					_, n, err := codec.ParsePacket(p, 0)
					if err != nil {
						b.Fatal(err)
					}
					p = p[n:]
				}
			}
		})
	}
}

func benchProcess(b *testing.B, c *Conn, data []byte) {
	buf := make([]byte, len(data))
	var bt batch
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(buf, data)
		in := input{buf}
		c.process(&in, &bt)
	}
}

func workingConnB(b *testing.B, mode readMode) (*Conn, *Server) {
	s, c, _ := newFakeConn(b, Config{Heartbeat: 3 * time.Second, MaxBody: 1 << 20}, nopHandler{})
	c.mode, c.opened = mode, true
	if mode == modeFrames {
		c.headroom = wsHeadroom
		c.ws = &wsReader{}
		c.ws.asm.Reset(&s.wsMessages)
	}
	c.state.Store(stateWorking)
	return c, s
}

// BenchmarkEcho measures request/response round trips over loopback through the whole server
// (socket read, state machine, handler, queue, flush), one client at a time.
func BenchmarkEcho(b *testing.B) {
	h := echoHandler()
	h.events = make(chan event, 1)
	h2 := &echoOnly{h}
	_, addr := startServer(b, Config{}, h2)
	for _, tr := range transports {
		for _, size := range []int{32, 1024} {
			b.Run(tr.String()+"/"+strconv.Itoa(size), func(b *testing.B) {
				c := connect(b, addr, tr)
				body := make([]byte, size)
				for i := range body {
					body[i] = 'a'
				}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := c.Request(uint32(i+1), "a.b.c", body); err != nil {
						b.Fatal(err)
					}
					if _, err := c.ReadMessage(false); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// echoOnly answers requests like echoHandler without recording events.
type echoOnly struct{ h *testHandler }

func (e *echoOnly) Handshake(c *Conn, r *HandshakeRequest) HandshakeResult {
	return HandshakeResult{Code: 200}
}
func (e *echoOnly) Open(*Conn)                {}
func (e *echoOnly) Data(c *Conn, body []byte) { e.h.onData(c, body) }
func (e *echoOnly) ReadBatchDone(*Conn)       {}
func (e *echoOnly) Closed(*Conn, CloseReason) {}
