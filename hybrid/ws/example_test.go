package ws_test

import (
	"fmt"
	"strings"

	"github.com/shaddock-io/shaddock/hybrid/ws"
)

// A server reads the opening handshake and the first frame from the bytes
// received so far, the way the hybrid connector does on its read buffer.
func Example() {
	in := []byte("GET /chat HTTP/1.1\r\n" +
		"Host: server.example.com\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n")
	// The client's first message: a heartbeat package, masked.
	in = ws.AppendMaskedFrame(in, ws.OpBinary, [4]byte{1, 2, 3, 4}, []byte{3, 0, 0, 0})

	var cfg ws.Config // server role, default limits
	var req ws.UpgradeRequest
	n, err := cfg.ParseUpgrade(in, &req)
	if err != nil {
		fmt.Printf("%q\n", ws.AppendHTTPError(nil, ws.HTTPStatus(err)))
		return
	}
	fmt.Printf("path %s, host %s\n", req.Path, req.Host)
	resp := ws.AppendUpgradeResponse(nil, req.Key)
	fmt.Print(strings.ReplaceAll(string(resp), "\r\n", "\\r\\n\n"))
	in = in[n:] // req's slices die here: they pointed into the consumed bytes

	var asm ws.Assembler
	asm.Reset(&cfg)
	h, n, err := cfg.ParseHeader(in)
	if err != nil {
		fmt.Printf("close %d\n", ws.CloseCode(err))
		return
	}
	payload := in[n : n+h.Length]
	ws.Unmask(h.Mask, 0, payload)
	m, ok, err := asm.Push(h, payload)
	fmt.Println(m.Op, m.Payload, ok, err)

	// Output:
	// path /chat, host server.example.com
	// HTTP/1.1 101 Switching Protocols\r\n
	// Upgrade: websocket\r\n
	// Connection: Upgrade\r\n
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n
	// \r\n
	// binary [3 0 0 0] true <nil>
}

// Messages that need more bytes report ErrShortBuffer and how many bytes to
// wait for, without consuming anything.
func ExampleConfig_ParseHeader() {
	cfg := ws.Config{Role: ws.RoleClient} // parsing what a server sent
	frame := ws.AppendFrame(nil, ws.OpBinary, make([]byte, 300))
	for _, k := range []int{1, 3, 4} {
		h, n, err := cfg.ParseHeader(frame[:k])
		fmt.Println(k, h.Length, n, err)
	}
	// Output:
	// 1 0 2 ws: short buffer
	// 3 0 4 ws: short buffer
	// 4 300 4 <nil>
}

func ExampleAppendCloseFrame() {
	fmt.Printf("% x\n", ws.AppendCloseFrame(nil, ws.StatusGoingAway, "restart"))
	code, reason, err := ws.ParseCloseData([]byte{0x03, 0xe9, 'b', 'y', 'e'})
	fmt.Println(code, string(reason), err)
	// Output:
	// 88 09 03 e9 72 65 73 74 61 72 74
	// 1001 bye <nil>
}
