package hybrid

import (
	"testing"

	"github.com/shaddock-io/shaddock/codec"
	pc "github.com/shaddock-io/shaddock/internal/pomeloclient"
)

func TestSmoke(t *testing.T) {
	h := newTestHandler()
	h.onData = func(c *Conn, body []byte) {
		var m codec.Message
		if codec.ParseMessage(body, &m) != nil {
			return
		}
		pkt, at := codec.BeginPacket(nil, codec.TypeData)
		pkt = codec.AppendResponse(pkt, m.ID, m.Body)
		codec.EndPacket(pkt, at)
		c.Enqueue(pkt)
	}
	_, addr := startServer(t, Config{Heartbeat: 1e9}, h)
	forEachTransport(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		p, err := c.ReadPacket()
		requireNoError(t, err, "read heartbeat")
		requireEqual(t, p.Type, codec.TypeHeartbeat, "first package after ack")
		requireNoError(t, c.Request(7, "a.b.c", []byte(`{"x":1}`)), "request")
		m, err := c.ReadMessage(false)
		requireNoError(t, err, "response")
		requireEqual(t, m.ID, uint32(7), "id")
		requireEqual(t, string(m.Body), `{"x":1}`, "body")
		e := h.next(t, "open")
		requireEqual(t, e.c.Transport(), hybridTransport[tr], "transport")
	})
}
