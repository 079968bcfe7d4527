//go:build !race

package metrics

import (
	"context"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/rpc"
)

func requireNoAllocs(t *testing.T, what string, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(1000, f); n != 0 {
		t.Errorf("%s: %v allocations per run, want 0", what, n)
	}
}

// TestAllocRecording pins the recording paths (run once per message or call) at zero
// allocations in steady state.
func TestAllocRecording(t *testing.T) {
	s, err := New(Config{Routes: []string{"connector.entryHandler.entry"}})
	requireNoError(t, err, "New")
	req := s.Requests()
	requireNoAllocs(t, "ObserveRequest declared", func() {
		req.ObserveRequest("connector.entryHandler.entry", 250*time.Microsecond, false)
	})
	requireNoAllocs(t, "observeDeclared (engine filter path)", func() {
		req.observeDeclared("connector.entryHandler.entry", 3*time.Millisecond, true)
	})
	requireNoAllocs(t, "observeDeclared undeclared", func() {
		req.observeDeclared("connector.entryHandler.made-up", time.Millisecond, true)
	})
	r := s.RPC()
	f := r.ClientFilter()
	ctx := context.Background()
	ok := rpc.CallInfo{Peer: "chat-server-1"}
	f(ctx, ok, nil)
	f(ctx, ok, rpc.ErrTimeout) // resolve both children once
	requireNoAllocs(t, "ClientFilter ok", func() { f(ctx, ok, nil) })
	requireNoAllocs(t, "ClientFilter timeout", func() { f(ctx, ok, rpc.ErrTimeout) })
	requireNoAllocs(t, "ObserveCall", func() { r.ObserveCall("chat-server-1", time.Millisecond) })
}
