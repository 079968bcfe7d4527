//go:build !race

package hybrid

import (
	"testing"
	"time"
)

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
