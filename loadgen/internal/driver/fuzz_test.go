package driver

import (
	"testing"

	"github.com/shaddock-io/shaddock/codec"
)

// FuzzServerInput feeds arbitrary server bytes to a connection that has done its handshake and
// has two requests outstanding, whole and split at every 7th byte: no panic, and both deliveries
// count the same events and end in the same state.
func FuzzServerInput(f *testing.F) {
	resp := func(id uint32, body string) []byte {
		return pkt(codec.TypeData, codec.AppendResponse(nil, id, []byte(body)))
	}
	f.Add(append(resp(2, `{"code":200}`), resp(1, `{"code":500}`)...), false)
	f.Add(append(pkt(codec.TypeHeartbeat, nil), pkt(codec.TypeData, codec.AppendPushCode(nil, 6, []byte{0x0a, 1, '5'}))...), true)
	f.Add(pkt(codec.TypeKick, []byte(`{"reason":"x"}`)), false)
	f.Add([]byte{4, 0, 0, 2, 4, 9}, true)
	f.Add(serverBytes(WS, resp(1, `{}`), pkt(codec.TypeHeartbeat, nil)), true)
	f.Fuzz(func(t *testing.T, data []byte, overWS bool) {
		tr := TCP
		if overWS {
			tr = WS
		}
		run := func(split int) (Counts, connState, int) {
			cfg := testConfig(Echo, tr)
			cfg.Depth = 2
			l := handshakenLoop(t, cfg)
			l.enter(PhaseHold)
			for rest := data; len(rest) > 0 && l.c.state != stClosed; {
				n := min(len(rest), split)
				l.input(l.c, rest[:n])
				l.flush(l.c)
				rest = rest[n:]
			}
			return l.st.C, l.c.state, l.c.ring.live
		}
		c1, s1, live1 := run(len(data) + 1)
		c2, s2, live2 := run(7)
		c1[BytesOut], c2[BytesOut] = 0, 0
		if c1 != c2 || s1 != s2 || live1 != live2 {
			t.Fatalf("whole: %v %v %d\nsplit: %v %v %d", c1, s1, live1, c2, s2, live2)
		}
	})
}
