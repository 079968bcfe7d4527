package hybrid

import (
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	pc "github.com/shaddock-io/shaddock/internal/pomeloclient"
)

// openIdle opens n idle connections (handshake and ACK done), half TCP and half WebSocket, from
// a few loopback source addresses, with a handful of dialing goroutines that exit when done.
func openIdle(t *testing.T, addr string, n int, into *[]*pc.Client) {
	t.Helper()
	const dialers = 4
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, dialers)
	for d := 0; d < dialers; d++ {
		wg.Add(1)
		go func(d int) {
			defer wg.Done()
			src := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(10+d))}
			for i := d; i < n; i += dialers {
				tr := pc.TCP
				if i%2 == 1 {
					tr = pc.WS
				}
				c, err := pc.Connect(addr, pc.Options{Transport: tr, LocalAddr: src, Timeout: waitTimeout})
				if err != nil {
					errs <- fmt.Errorf("connection %d: %w", i, err)
					return
				}
				mu.Lock()
				*into = append(*into, c)
				mu.Unlock()
			}
		}(d)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// settledGoroutines waits for the server's worker goroutines to go idle and returns the lowest
// goroutine count seen over a short window.
func settledGoroutines() int {
	best := runtime.NumGoroutine()
	for i := 0; i < 40; i++ {
		time.Sleep(25 * time.Millisecond)
		best = min(best, runtime.NumGoroutine())
	}
	return best
}

// TestGoroutinesFlat: idle connections hold no goroutine. The count with 5,000 idle connections
// (TCP and WebSocket) is the count with 100.
func TestGoroutinesFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 5,000 connections")
	}
	h := newTestHandler()
	h.events = make(chan event, 1<<16)
	s, addr := startServer(t, Config{}, h)
	var clients []*pc.Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	openIdle(t, addr, 100, &clients)
	eventually(t, "100 open", func() bool { return s.Len() == 100 })
	at100 := settledGoroutines()

	openIdle(t, addr, 4900, &clients)
	eventually(t, "5000 open", func() bool { return s.Len() == 5000 })
	at5000 := settledGoroutines()
	t.Logf("goroutines: %d with 100 idle connections, %d with 5000", at100, at5000)
	if at5000 > at100+10 {
		t.Fatalf("goroutines grew from %d to %d with 4,900 more idle connections", at100, at5000)
	}
	requireEqual(t, s.Stats().HandshakeOK.Load(), uint64(5000), "handshakes")
}
