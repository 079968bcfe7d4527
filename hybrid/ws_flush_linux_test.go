package hybrid

import (
	"strings"
	"syscall"
	"testing"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
)

// TestWSFlushOneWriteManyMessages: what is flushed together still leaves in one write, each
// package a message of its own. A SOCK_SEQPACKET socket keeps write boundaries, so one read is one
// write.
func TestWSFlushOneWriteManyMessages(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "deflate"}[deflate], func(t *testing.T) {
			_, c, peer := newSocketConn(t, syscall.SOCK_SEQPACKET)
			c.mode, c.headroom = modeFrames, wsHeadroom
			c.out.deflate = deflate
			bodies := []string{"one", strings.Repeat("compressible ", 200), "three", "four"}
			for _, b := range bodies {
				requireNoError(t, c.Enqueue(packet(codec.TypeData, b)), "enqueue")
			}
			requireNoError(t, c.Flush(), "flush")
			got := make([]byte, 64<<10)
			n, err := syscall.Read(peer, got)
			requireNoError(t, err, "read")
			got = got[:n]
			cfg := &ws.Config{Role: ws.RoleClient, Deflate: true}
			for i, want := range bodies {
				h, hn, err := cfg.ParseHeader(got)
				requireNoError(t, err, "frame header")
				requireEqual(t, h.Op, ws.OpBinary, "opcode")
				requireEqual(t, h.Fin, true, "fin")
				payload := got[hn : hn+h.Length]
				got = got[hn+h.Length:]
				if h.Compressed {
					payload, err = ws.Inflate(nil, payload, 1<<20)
					requireNoError(t, err, "inflate")
				}
				requireEqual(t, h.Compressed, deflate && i == 1, "compressed")
				p, pn, err := codec.ParsePacket(payload, 0)
				requireNoError(t, err, "package")
				requireEqual(t, pn, len(payload), "one package per message")
				requireEqual(t, string(p.Body), want, "body")
			}
			requireEqual(t, len(got), 0, "bytes after the last message of the write")
		})
	}
}
