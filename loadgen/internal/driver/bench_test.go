package driver

import (
	"syscall"
	"testing"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
)

// BenchmarkResponsePath measures one closed-loop exchange on the client side, system calls
// included: write the server's response into the socket pair, read and handle it (match,
// latency, code check, next request encoded and written), read the request at the peer.
func BenchmarkResponsePath(b *testing.B) {
	for _, tr := range []Transport{TCP, WS} {
		for _, size := range []int{16, 256, 4096} {
			name := map[Transport]string{TCP: "tcp", WS: "ws"}[tr] + "/" + itoa(int64(size))
			b.Run(name, func(b *testing.B) {
				cfg := testConfig(Echo, tr)
				l := handshakenLoop(b, cfg)
				c := l.c
				l.enter(PhaseHold)
				l.sent(b)
				body := []byte(`{"msg":"` + string(repeat('x', size)) + `"}`)
				id := uint32(1)
				pk := make([]byte, 0, size+64)
				frame := make([]byte, 0, size+128)
				buf := make([]byte, 64<<10)
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					var at int
					pk, at = codec.BeginPacket(pk[:0], codec.TypeData)
					pk = codec.AppendResponse(pk, id, body)
					codec.EndPacket(pk, at)
					in := pk
					if tr == WS {
						frame = ws.AppendFrame(frame[:0], ws.OpBinary, pk)
						in = frame
					}
					syscall.Write(l.peer, in)
					l.readable(c)
					syscall.Read(l.peer, buf)
					id++
				}
			})
		}
	}
}

// BenchmarkInputOnly is the same exchange without system calls: bytes handed to input, the next
// request left in the loop's buffer.
func BenchmarkInputOnly(b *testing.B) {
	l := handshakenLoop(b, testConfig(Echo, TCP))
	c := l.c
	l.enter(PhaseHold)
	l.sent(b)
	id := uint32(1)
	pk := make([]byte, 0, 128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var at int
		pk, at = codec.BeginPacket(pk[:0], codec.TypeData)
		pk = codec.AppendResponse(pk, id, []byte(`{"msg":"hello"}`))
		codec.EndPacket(pk, at)
		l.input(c, pk)
		l.out = l.out[:0]
		id++
	}
}

func repeat(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}
