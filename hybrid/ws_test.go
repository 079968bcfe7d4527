package hybrid

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
	pc "github.com/shaddock-io/shaddock/internal/pomeloclient"
)

// forEachWS runs f for WS and WSS.
func forEachWS(t *testing.T, f func(t *testing.T, tr pc.Transport)) {
	for _, tr := range []pc.Transport{pc.WS, pc.WSS} {
		t.Run(tr.String(), func(t *testing.T) { f(t, tr) })
	}
}

// expectClose reads until a Close frame and checks its code; then the connection must end.
func expectClose(t testing.TB, c *pc.Client, code ws.StatusCode) {
	t.Helper()
	for {
		_, err := c.ReadPacket()
		if err == nil {
			continue
		}
		var ce *pc.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("expected a close frame %d, got %v", code, err)
		}
		requireEqual(t, ce.Code, code, "close code")
		_, _, err = c.ReadFrame()
		if err == nil {
			t.Fatal("data after the close frame")
		}
		return
	}
}

func packet(t codec.Type, body string) []byte {
	p, _ := codec.AppendPacket(nil, t, []byte(body))
	return p
}

func request(id uint32, body string) []byte {
	m, _ := codec.AppendRequest(nil, id, "a.b.c", []byte(body))
	return packet(codec.TypeData, string(m))
}

func TestWSPingPong(t *testing.T) {
	h := echoHandler()
	s, addr := startServer(t, Config{}, h)
	forEachWS(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		requireNoError(t, c.WriteFrame(true, ws.OpPing, []byte("are you there")), "ping")
		requireNoError(t, c.WritePackage(codec.TypeData, request(1, `{}`)[4:]), "request")
		readResponse(t, c, 1)
		requireEqual(t, c.Pongs, 1, "pongs")
		requireEqual(t, string(c.LastPong), "are you there", "pong payload")
	})
	requireEqual(t, s.Stats().WSPings.Load(), uint64(2), "pings")
}

func TestWSCloseHandshake(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{}, h)
	forEachWS(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		requireNoError(t, c.WriteFrame(true, ws.OpClose, ws.AppendCloseData(nil, 4001, "bye")), "close")
		expectClose(t, c, 4001) // the server echoes the code, then closes
		requireEqual(t, h.next(t, "closed").reason, CloseByPeer, "reason")

		c = connect(t, addr, tr)
		requireNoError(t, c.WriteFrame(true, ws.OpClose, nil), "close without status")
		expectClose(t, c, ws.StatusNormalClosure)

		c = connect(t, addr, tr)
		requireNoError(t, c.WriteFrame(true, ws.OpClose, []byte{0x03, 0xe8, 0xff}), "close with bad UTF-8")
		expectClose(t, c, ws.StatusInvalidPayloadData)
	})
	requireEqual(t, s.Stats().WSCloses.Load(), uint64(6), "close frames received")
}

func TestWSFragmented(t *testing.T) {
	h := echoHandler()
	_, addr := startServer(t, Config{}, h)
	forEachWS(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		p := request(7, `{"frag":"mented"}`)
		requireNoError(t, c.WriteFrame(false, ws.OpBinary, p[:3]), "first fragment: half a header")
		requireNoError(t, c.WriteFrame(true, ws.OpPing, []byte("x")), "ping between fragments")
		requireNoError(t, c.WriteFrame(false, ws.OpContinuation, p[3:10]), "middle")
		requireNoError(t, c.WriteFrame(true, ws.OpContinuation, p[10:]), "last")
		m := readResponse(t, c, 7)
		requireEqual(t, string(m.Body), `{"frag":"mented"}`, "body")
		requireEqual(t, c.Pongs, 1, "pong for the interleaved ping")
	})
}

func TestWSTextMessageAccepted(t *testing.T) {
	h := echoHandler()
	_, addr := startServer(t, Config{}, h)
	c := connect(t, addr, pc.WS)
	requireNoError(t, c.WriteFrame(true, ws.OpText, request(3, `"text"`)), "text message")
	readResponse(t, c, 3)
}

// TestWSOnePackagePerMessage: a message with several packages, part of one, none, or trailing
// bytes is a protocol error (pomelo disconnects such clients).
func TestWSOnePackagePerMessage(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{}, h)
	two := append(packet(codec.TypeHeartbeat, ""), packet(codec.TypeHeartbeat, "")...)
	cases := map[string][]byte{
		"two packages":   two,
		"half a package": request(1, `{}`)[:6],
		"empty message":  nil,
		"trailing byte":  append(packet(codec.TypeHeartbeat, ""), 0),
	}
	forEachWS(t, func(t *testing.T, tr pc.Transport) {
		for name, msg := range cases {
			t.Run(name, func(t *testing.T) {
				c := connect(t, addr, tr)
				requireNoError(t, c.WriteMessage(msg), "write")
				expectClose(t, c, ws.StatusProtocolError)
				requireEqual(t, h.next(t, "closed").reason, CloseProtocolError, "reason")
			})
		}
	})
	requireEqual(t, s.Stats().ErrWSPackageCount.Load(), uint64(2*len(cases)), "counted")
}

func TestWSBadFrames(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{}, h)
	forEachWS(t, func(t *testing.T, tr pc.Transport) {
		// An unmasked frame from a client.
		c := connect(t, addr, tr)
		requireNoError(t, c.WriteRaw(ws.AppendFrame(nil, ws.OpBinary, packet(codec.TypeHeartbeat, ""))), "unmasked")
		expectClose(t, c, ws.StatusProtocolError)
		// A continuation without a message.
		c = connect(t, addr, tr)
		requireNoError(t, c.WriteFrame(true, ws.OpContinuation, []byte{1}), "continuation")
		expectClose(t, c, ws.StatusProtocolError)
		// A reserved opcode.
		c = connect(t, addr, tr)
		requireNoError(t, c.WriteFrame(true, ws.Opcode(3), []byte{1}), "opcode 3")
		expectClose(t, c, ws.StatusProtocolError)
	})
	requireEqual(t, s.Stats().ErrWSFrame.Load(), uint64(6), "counted")
}

func TestWSUpgradeRefused(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{}, h)
	cases := map[string]string{
		"version 8": "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
		"no key":    "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"POST":      "POST / HTTP/1.1\r\nHost: x\r\n\r\n",
		"too large": "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n",
	}
	want := map[string]string{"version 8": "426", "no key": "400", "POST": "400", "too large": "431"}
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			requireNoError(t, err, "dial")
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(waitTimeout))
			_, err = nc.Write([]byte(req))
			requireNoError(t, err, "write")
			status, err := bufio.NewReader(nc).ReadString('\n')
			requireNoError(t, err, "read status")
			requireEqual(t, strings.Fields(status)[1], want[name], "status")
		})
	}
	requireEqual(t, s.Stats().WSUpgradeFail.Load(), uint64(len(cases)), "counted")
	requireEqual(t, s.Stats().ConnsWS.Load(), uint64(len(cases)), "classified as WebSocket")
}

// TestWSFirstSegmentOneByte sends "G" alone, then the rest of the upgrade: pomelo's switcher would
// take the connection for raw TCP and close it.
func TestWSFirstSegmentOneByte(t *testing.T) {
	h := echoHandler()
	_, addr := startServer(t, Config{}, h)
	nc, err := net.Dial("tcp", addr)
	requireNoError(t, err, "dial")
	defer nc.Close()
	nc.(*net.TCPConn).SetNoDelay(true)
	_, err = nc.Write([]byte("G"))
	requireNoError(t, err, "write G")
	// Not synchronisation: this only makes it likely that "G" travels and is read on its own.
	time.Sleep(50 * time.Millisecond)
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	_, err = nc.Write([]byte("ET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	requireNoError(t, err, "write rest")
	nc.SetDeadline(time.Now().Add(waitTimeout))
	status, err := bufio.NewReader(nc).ReadString('\n')
	requireNoError(t, err, "read status")
	requireEqual(t, status, "HTTP/1.1 101 Switching Protocols\r\n", "status")
}

func TestWSOversizeFrame(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{WSMaxFrameSize: 100, WSMaxMessageSize: 150}, h)
	forEachWS(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		requireNoError(t, c.WriteFrame(true, ws.OpBinary, make([]byte, 101)), "frame over the limit")
		expectClose(t, c, ws.StatusMessageTooBig)

		c = connect(t, addr, tr)
		p := request(1, strings.Repeat("x", 140))
		requireNoError(t, c.WriteFrame(false, ws.OpBinary, p[:100]), "fragment at the frame limit")
		requireNoError(t, c.WriteFrame(true, ws.OpContinuation, p[100:]), "message over the limit")
		expectClose(t, c, ws.StatusMessageTooBig)
	})
	requireEqual(t, s.Stats().ErrWSTooLarge.Load(), uint64(4), "counted")
}

// TestWSOnePackagePerOutboundMessage: packages flushed together leave in one write but each in a
// WebSocket message of its own, because the official pomelo browser client (bundled in pomelo's
// template) decodes only the first package of a message and drops the rest. The first case is how
// interop's TestOfficialClientCluster lost a response: the ACK and a request read in one batch,
// the first heartbeat queued by the ACK and the response flushed together at the batch's end.
func TestWSOnePackagePerOutboundMessage(t *testing.T) {
	h := echoHandler()
	_, addr := startServer(t, Config{Heartbeat: 3 * time.Second}, h)
	for _, deflate := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "deflate"}[deflate], func(t *testing.T) {
			forEachWS(t, func(t *testing.T, tr pc.Transport) {
				c, err := pc.Dial(addr, pc.Options{Transport: tr, Timeout: waitTimeout, Deflate: deflate})
				requireNoError(t, err, "dial")
				defer c.Close()
				_, err = c.Handshake(nil)
				requireNoError(t, err, "handshake")
				// The ACK and a request in one write (frames masked with a zero key): one batch.
				var raw []byte
				for _, p := range [][]byte{packet(codec.TypeHandshakeAck, ""), request(1, `{}`)} {
					raw = ws.AppendFrameHeader(raw, true, ws.OpBinary, len(p), &[4]byte{})
					raw = append(raw, p...)
				}
				requireNoError(t, c.WriteRaw(raw), "ack and request")
				readOnePackage(t, c, codec.TypeHeartbeat)
				readOnePackage(t, c, codec.TypeData)
				sc := h.next(t, "open").c
				// Three pushes, a large one among them (compressed with deflate), flushed at once.
				bodies := []string{"one", strings.Repeat("x", 4<<10), "three"}
				for _, b := range bodies {
					requireNoError(t, sc.Enqueue(packet(codec.TypeData, b)), "enqueue")
				}
				requireNoError(t, sc.Flush(), "flush")
				for _, b := range bodies {
					requireEqual(t, string(readOnePackage(t, c, codec.TypeData).Body), b, "push body")
				}
				requireEqual(t, c.CompressedIn > 0, deflate, "compressed messages received")
			})
		})
	}
}

// readOnePackage reads one WebSocket message and checks that it holds exactly one package, of
// type typ.
func readOnePackage(t *testing.T, c *pc.Client, typ codec.Type) codec.Packet {
	t.Helper()
	op, payload, err := c.ReadFrame()
	requireNoError(t, err, "read message")
	requireEqual(t, op, ws.OpBinary, "opcode")
	p, n, err := codec.ParsePacket(payload, 0)
	requireNoError(t, err, "package")
	requireEqual(t, p.Type, typ, "package type")
	requireEqual(t, n, len(payload), "one package per message")
	return p
}
