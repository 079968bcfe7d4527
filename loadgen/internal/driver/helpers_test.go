package driver

import (
	"net/netip"
	"syscall"
	"testing"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
)

// Handshake response used by the driver tests: a dictionary and the chat demo's protos (parsed
// form, as pomelo sends them).
const testHandshake = `{"code":200,"sys":{"heartbeat":3,` +
	`"dict":{"chat.chatHandler.send":2,"connector.entryHandler.echo":3,"connector.entryHandler.entry":5,"onChat":6,"onAdd":7,"onLeave":8},` +
	`"protos":{"client":{"connector.entryHandler.entry":{"username":{"option":"required","type":"string","tag":1},"rid":{"option":"required","type":"string","tag":2},"__messages":{},"__tags":{"1":"username","2":"rid"}},` +
	`"chat.chatHandler.send":{"rid":{"option":"required","type":"string","tag":1},"content":{"option":"required","type":"string","tag":2},"from":{"option":"required","type":"string","tag":3},"target":{"option":"required","type":"string","tag":4},"__messages":{},"__tags":{"1":"rid","2":"content","3":"from","4":"target"}}},` +
	`"server":{"connector.entryHandler.entry":{"code":{"option":"required","type":"uInt32","tag":1},"users":{"option":"repeated","type":"string","tag":2},"__messages":{},"__tags":{"1":"code","2":"users"}},` +
	`"onChat":{"msg":{"option":"required","type":"string","tag":1},"from":{"option":"required","type":"string","tag":2},"target":{"option":"required","type":"string","tag":3},"__messages":{},"__tags":{"1":"msg","2":"from","3":"target"}}},"version":"v"}}}`

func testConfig(s Scenario, tr Transport) Config {
	return Config{Scenario: s, Transport: tr, Conns: 1, Loops: 1, Route: "connector.entryHandler.echo",
		Body: []byte(`{"msg":"hello"}`), Handshake: []byte(`{"sys":{"type":"t","version":"1"},"user":{}}`), Depth: 1,
		Targets: []Target{{Addr: netip.MustParseAddrPort("127.0.0.1:1"), Host: "h"}}}
}

// serverBytes frames packages as the server sends them on tr.
func serverBytes(tr Transport, pkts ...[]byte) []byte {
	var out []byte
	for _, p := range pkts {
		if tr == WS {
			out = ws.AppendFrame(out, ws.OpBinary, p)
		} else {
			out = append(out, p...)
		}
	}
	return out
}

func pkt(t codec.Type, body []byte) []byte {
	p, _ := codec.AppendPacket(nil, t, body)
	return p
}

// clientPackets undoes the client's framing of l.out and returns the packages in it.
func clientPackets(t testing.TB, tr Transport, out []byte) []codec.Packet {
	t.Helper()
	var raw []byte
	if tr == WS {
		cfg := &ws.Config{}
		for len(out) > 0 {
			h, n, err := cfg.ParseHeader(out)
			if err != nil || len(out) < n+h.Length {
				t.Fatalf("client frame: %v", err)
			}
			p := append([]byte(nil), out[n:n+h.Length]...)
			ws.Unmask(h.Mask, 0, p)
			raw = append(raw, p...)
			out = out[n+h.Length:]
		}
	} else {
		raw = out
	}
	var pkts []codec.Packet
	for len(raw) > 0 {
		p, n, err := codec.ParsePacket(raw, 0)
		if err != nil {
			t.Fatalf("client package: %v", err)
		}
		pkts = append(pkts, p)
		raw = raw[n:]
	}
	return pkts
}

// testLoop is a loop with one connection whose socket is one end of a socket pair: tests feed
// server bytes to l.input and read what the client sent with sent.
type testLoop struct {
	*loop
	c    *conn
	peer int
}

// sent returns what the connection wrote (flushed to the socket, then still in l.out) and clears it.
func (tl *testLoop) sent(t testing.TB) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := syscall.Read(tl.peer, buf)
		if n <= 0 || err != nil {
			break
		}
		out = append(out, buf[:n]...)
	}
	out = append(out, tl.out...)
	tl.out = tl.out[:0]
	return out
}

// handshakenLoop returns a loop with one connection that has completed its handshake (and, for
// chat, sent its entry request).
func handshakenLoop(t testing.TB, cfg Config) *testLoop {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := newLoop(d, 0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.closeFDs)
	d.loops = []*loop{l}
	c := &l.conns[0]
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fds[0]); syscall.Close(fds[1]) })
	c.fd = fds[0]
	l.byFD = make([]*conn, c.fd+1)
	l.byFD[c.fd] = c
	c.state, c.started = stHandshaking, 0
	l.g.Connecting++
	if cfg.Transport == WS {
		c.asm.Reset(&d.wsCfg)
	}
	l.input(c, serverBytes(cfg.Transport, pkt(codec.TypeHandshake, []byte(testHandshake))))
	if c.sess == nil {
		t.Fatalf("handshake failed: %v", l.st.Errors)
	}
	return &testLoop{loop: l, c: c, peer: fds[1]}
}

func itoa(v int64) string { return string(appendInt(nil, v)) }
