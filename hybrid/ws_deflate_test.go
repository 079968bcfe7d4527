package hybrid

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
	pc "github.com/shaddock-io/shaddock/internal/pomeloclient"
)

// connectDeflate dials with a permessage-deflate offer, handshakes and acknowledges.
func connectDeflate(t testing.TB, addr string, tr pc.Transport) *pc.Client {
	t.Helper()
	c, err := pc.Dial(addr, pc.Options{Transport: tr, Timeout: waitTimeout, Deflate: true})
	requireNoError(t, err, "dial "+tr.String())
	t.Cleanup(func() { c.Close() })
	_, err = c.Handshake(nil)
	requireNoError(t, err, "handshake")
	requireNoError(t, c.Ack(), "ack")
	return c
}

// A client that offers permessage-deflate gets it, over WS and WSS: its compressed messages (the
// handshake included) are inflated, frames from 1 KiB up come back compressed, smaller ones
// plain; a client that does not offer it gets plain frames only.
func TestWSDeflate(t *testing.T) {
	h := echoHandler()
	s, addr := startServer(t, Config{}, h)
	big := `{"players":[` + strings.Repeat(`{"uid":"player-17","x":120,"y":-40},`, 60) + `{}]}`
	forEachWS(t, func(t *testing.T, tr pc.Transport) {
		c := connectDeflate(t, addr, tr)
		requireEqual(t, c.Deflate, true, "negotiated")
		requireNoError(t, c.WritePackage(codec.TypeData, request(1, big)[4:]), "big request")
		requireEqual(t, string(readResponse(t, c, 1).Body), big, "big echo")
		requireEqual(t, c.CompressedIn, 1, "compressed responses")
		requireNoError(t, c.WritePackage(codec.TypeData, request(2, `{"x":1}`)[4:]), "small request")
		requireEqual(t, string(readResponse(t, c, 2).Body), `{"x":1}`, "small echo")
		requireEqual(t, c.CompressedIn, 1, "small responses are not compressed")

		plain := connect(t, addr, tr)
		requireEqual(t, plain.Deflate, false, "not offered, not negotiated")
		requireNoError(t, plain.WritePackage(codec.TypeData, request(3, big)[4:]), "big request")
		requireEqual(t, string(readResponse(t, plain, 3).Body), big, "big echo")
		requireEqual(t, plain.CompressedIn, 0, "compressed responses")
	})
	st := s.Stats()
	requireEqual(t, st.WSDeflateConns.Load(), uint64(2), "connections with deflate")
	requireEqual(t, st.WSInflated.Load(), uint64(2*4), "messages inflated (handshake, ack, two requests)")
	requireEqual(t, st.WSDeflated.Load(), uint64(2), "frames compressed")
	if saved := st.WSDeflateSaved.Load(); saved < uint64(len(big)) {
		t.Errorf("compression saved %d bytes of two %d-byte responses", saved, len(big))
	}
}

// Compressed input that breaks the rules closes the connection with the status RFC 7692 and
// RFC 6455 give, and is counted: RSV1 where deflate was not negotiated (1002), a message that
// inflates beyond the message limit (1009, without inflating it all), data that is not DEFLATE
// (1007), and compressed text that is not UTF-8 (1007).
func TestWSDeflateErrors(t *testing.T) {
	h := newTestHandler()
	s, addr := startServer(t, Config{MaxBody: 1000}, h)
	forEachWS(t, func(t *testing.T, tr pc.Transport) {
		c := connect(t, addr, tr)
		requireNoError(t, c.WriteCompressed(packet(codec.TypeHeartbeat, "")), "RSV1 without deflate")
		expectClose(t, c, ws.StatusProtocolError)

		c = connectDeflate(t, addr, tr)
		bomb := request(1, `{"s":"`+strings.Repeat("a", 1<<20)+`"}`)
		requireNoError(t, c.WriteCompressed(bomb), "1 MiB in a few KiB")
		expectClose(t, c, ws.StatusMessageTooBig)

		c = connectDeflate(t, addr, tr)
		var key [4]byte
		junk := []byte{0xff, 0xff, 0xff, 0xff}
		f := ws.AppendCompressedFrameHeader(nil, true, ws.OpBinary, len(junk), &key)
		requireNoError(t, c.WriteRaw(append(f, junk...)), "not DEFLATE")
		expectClose(t, c, ws.StatusInvalidPayloadData)

		c = connectDeflate(t, addr, tr)
		z, err := ws.Deflate(nil, []byte{0xc3, 0x28})
		requireNoError(t, err, "deflate")
		f = ws.AppendCompressedFrameHeader(nil, true, ws.OpText, len(z), &key)
		requireNoError(t, c.WriteRaw(append(f, z...)), "compressed text, not UTF-8")
		expectClose(t, c, ws.StatusInvalidPayloadData)
	})
	st := s.Stats()
	requireEqual(t, st.ErrWSTooLarge.Load(), uint64(2), "too large")
	requireEqual(t, st.ErrWSFrame.Load(), uint64(6), "bad frames")
}

// With WSNoDeflate the offer is declined: no extension in the 101 response.
func TestWSNoDeflate(t *testing.T) {
	s, addr := startServer(t, Config{WSNoDeflate: true}, echoHandler())
	nc, err := net.Dial("tcp", addr)
	requireNoError(t, err, "dial")
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(waitTimeout))
	_, err = nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"))
	requireNoError(t, err, "write")
	br := bufio.NewReader(nc)
	for {
		line, err := br.ReadString('\n')
		requireNoError(t, err, "read response")
		if line == "\r\n" {
			break
		}
		if strings.HasPrefix(strings.ToLower(line), "sec-websocket-extensions") {
			t.Fatalf("extension accepted with WSNoDeflate: %q", line)
		}
	}
	requireEqual(t, s.Stats().WSDeflateConns.Load(), uint64(0), "connections with deflate")
}
