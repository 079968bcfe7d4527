//go:build !race

package hybrid

import (
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
)

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

// workingConn returns a connection already WORKING in the given mode.
func workingConn(t *testing.T, mode readMode) (*Conn, *Server) {
	s, c, _ := newFakeConn(t, Config{Heartbeat: 3 * time.Second}, nopHandler{})
	c.mode, c.opened = mode, true
	if mode == modeFrames {
		c.headroom = wsHeadroom
		c.ws = &wsReader{}
		c.ws.asm.Reset(&s.wsMessages)
	}
	c.state.Store(stateWorking)
	return c, s
}

// TestAllocReadPath: decoding packages (raw or in WebSocket frames), answering heartbeats and
// handing DATA to the handler allocate nothing in the steady state.
func TestAllocReadPath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mode  readMode
		input []byte
	}{
		{"tcp", modePackages, steadyInput()},
		{"ws", modeFrames, wsFrames(steadyInput())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s := workingConn(t, tc.mode)
			buf := make([]byte, len(tc.input))
			r := &sliceReader{}
			var b batch
			run := func() {
				copy(buf, tc.input) // frames are unmasked in place
				r.b, r.off = buf, 0
				if need := c.process(r, &b); need == 0 {
					t.Fatal("reader stopped")
				}
				c.mu.Lock()
				c.releaseOutLocked() // what a flush does with the queue's buffer
				c.mu.Unlock()
			}
			run()
			allocs := testing.AllocsPerRun(200, run)
			if allocs != 0 {
				t.Fatalf("allocs per batch = %v, want 0", allocs)
			}
			requireEqual(t, r.off, len(buf), "consumed")
			requireEqual(t, s.Stats().OutOfState.Load(), uint64(0), "ignored")
		})
	}
}

// TestAllocEnqueue: queueing packages on a connection with a pooled buffer allocates nothing.
func TestAllocEnqueue(t *testing.T) {
	c, _ := workingConn(t, modePackages)
	pkt := steadyInput()
	run := func() {
		for i := 0; i < 10; i++ {
			if err := c.Enqueue(pkt); err != nil {
				t.Fatal(err)
			}
		}
		c.mu.Lock()
		c.releaseOutLocked()
		c.mu.Unlock()
	}
	run()
	if allocs := testing.AllocsPerRun(200, run); allocs != 0 {
		t.Fatalf("allocs = %v, want 0", allocs)
	}
}
