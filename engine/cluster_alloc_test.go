//go:build !race

package engine

import (
	"testing"

	"github.com/shaddock-io/shaddock/codec"
)

// The steady-state forward path does not allocate: on the frontend, routing by crc32(uid), the
// session snapshot, forwardMessage's arguments encoded into the RPC frame, the answer decoded
// and the response encoded for the client; on the backend, the frame decoded, dispatch, the
// pipeline with its Context and the echo handler, the answer encoded into the reply frame. Both
// sides run for real over loopback TCP (the backend's connection is served by
// rpc.Server.ServeConn, as Serve serves every connection).
func TestAllocForward(t *testing.T) {
	r := newForwardRig(t, func(app *App) {
		mustHandle(t, Handle(app, "chat.chatHandler.echo", echoRaw))
	})
	msg := request(7, "chat.chatHandler.echo", `{"x":1,"s":"backend echo"}`)
	run := func() { r.roundTrip(msg) }
	for i := 0; i < 100; i++ { // warm the pools on both sides
		run()
	}
	var m codec.Message
	p, _, err := codec.ParsePacket(r.conn.lastFlush(), 0)
	requireNoError(t, err)
	requireNoError(t, codec.ParseMessage(p.Body, &m))
	requireEqual(t, m.ID, uint32(7))
	requireEqual(t, string(m.Body), `{"x":1,"s":"backend echo"}`)
	if allocs := testing.AllocsPerRun(2000, run); allocs != 0 {
		t.Fatalf("forward round trip: %v allocations per request, want 0", allocs)
	}
	requireEqual(t, r.back.Stats().ForwardedIn, r.front.Stats().Forwarded)
}
