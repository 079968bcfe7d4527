//go:build !race

package hybrid

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
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
// handing DATA to the handler allocate nothing in the steady state, also when the bytes arrive in
// two pieces that split a package (the tail is pooled).
func TestAllocReadPath(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mode    readMode
		input   []byte
		deflate bool
	}{
		{"tcp", modePackages, steadyInput(), false},
		{"ws", modeFrames, wsFrames(steadyInput()), false},
		{"ws-deflate", modeFrames, wsDeflateFrames(steadyInput()), true},
	} {
		for _, split := range []int{0, 7, len(tc.input) - 3} {
			t.Run(tc.name+"/split="+strconv.Itoa(split), func(t *testing.T) {
				c, s := workingConn(t, tc.mode)
				if tc.deflate {
					c.ws.deflate = true
				}
				buf := make([]byte, len(tc.input))
				var b batch
				run := func() {
					copy(buf, tc.input) // frames are unmasked in place
					for _, piece := range [][]byte{buf[:split], buf[split:]} {
						in := input{piece}
						c.consume(&in, &b)
						if in.Len() != 0 || c.readDone() {
							t.Fatalf("consume left %d bytes, stopped %v", in.Len(), c.readDone())
						}
					}
					if c.tail != nil {
						t.Fatalf("tail of %d bytes after whole packages", len(c.tail.b))
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
				requireEqual(t, s.Stats().OutOfState.Load(), uint64(0), "ignored")
				if tc.deflate && s.Stats().WSInflated.Load() == 0 {
					t.Fatal("no message was inflated")
				}
			})
		}
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

// TestAllocFlush: queueing packages and flushing them straight to the socket with writev
// allocates nothing (TCP and WebSocket framing, and WebSocket frames compressed).
func TestAllocFlush(t *testing.T) {
	for _, mode := range []string{"tcp", "ws", "ws-deflate"} {
		t.Run(mode, func(t *testing.T) {
			s, c, peer := newSocketConn(t, syscall.SOCK_STREAM)
			pkt := steadyInput()
			if mode != "tcp" {
				c.mode, c.headroom = modeFrames, wsHeadroom
			}
			if mode == "ws-deflate" {
				c.out.deflate = true
				pkt = packet(codec.TypeData, `{"s":"`+strings.Repeat("compressible ", 100)+`"}`)
			}
			got := make([]byte, 4096)
			run := func() {
				for i := 0; i < 3; i++ {
					if err := c.Enqueue(pkt); err != nil {
						t.Fatal(err)
					}
				}
				if err := c.Flush(); err != nil {
					t.Fatal(err)
				}
				n, err := syscall.Read(peer, got)
				if err != nil || (n < 3*len(pkt)) != (mode == "ws-deflate") {
					t.Fatalf("read %d bytes of %d queued, %v", n, 3*len(pkt), err)
				}
			}
			run()
			if allocs := testing.AllocsPerRun(200, run); allocs != 0 {
				t.Fatalf("allocs = %v, want 0", allocs)
			}
			requireEqual(t, s.Stats().WritesLeft.Load(), uint64(0), "writes left for a drain")
			per, frames := uint64(4), uint64(0)
			if mode == "ws-deflate" {
				per, frames = 1, (1+1+200)*3 // one message, compressed, per package
			}
			requireEqual(t, s.Stats().PackagesOut.Load(), (1+1+200)*3*per, "packages out") // run, AllocsPerRun's warm-up, 200 runs
			requireEqual(t, s.Stats().WSDeflated.Load(), frames, "frames compressed")
		})
	}
}
