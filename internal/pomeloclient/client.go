// Package pomeloclient is a small blocking pomelo client for tests and tools: raw TCP, WebSocket,
// TLS and WSS; the handshake with options; the ACK; heartbeats; requests and notifies (with an
// uncompressed route or a dictionary code); reading packages and messages; and raw byte writes
// for bad-input tests.
//
// A Client is used by one goroutine at a time, except Close, which may be called from any.
package pomeloclient

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
)

// Transport is how the client connects.
type Transport uint8

// Transports.
const (
	TCP Transport = iota
	WS
	TLS
	WSS
)

func (t Transport) String() string {
	return [...]string{"tcp", "ws", "tls", "wss"}[t]
}

// IsWebSocket reports whether t frames packages in WebSocket messages.
func (t Transport) IsWebSocket() bool { return t == WS || t == WSS }

// IsTLS reports whether t runs over TLS.
func (t Transport) IsTLS() bool { return t == TLS || t == WSS }

// Errors.
var (
	ErrUpgrade   = errors.New("pomeloclient: websocket upgrade refused")
	ErrHandshake = errors.New("pomeloclient: handshake refused")
	ErrNotWS     = errors.New("pomeloclient: not a websocket client")
)

// CloseError is returned by reads when the server sent a WebSocket Close frame.
type CloseError struct{ Code ws.StatusCode }

func (e *CloseError) Error() string {
	return "pomeloclient: websocket closed with " + strconv.Itoa(int(e.Code))
}

// Options configure Dial and Handshake. The zero value dials raw TCP with a 10 s I/O timeout and
// sends the Unity client's handshake.
type Options struct {
	Transport Transport
	TLSConfig *tls.Config   // for TLS and WSS; nil means InsecureSkipVerify
	Timeout   time.Duration // deadline of each blocking call; default 10 s
	LocalAddr net.Addr      // source address, e.g. 127.0.0.2:0, to spread many connections
	Path      string        // WebSocket request path; default "/"

	// SplitWrites writes every outgoing byte with its own write call (1-byte segments), to test
	// servers against arbitrary segmentation (the WebSocket upgrade included).
	SplitWrites bool

	// Deflate offers permessage-deflate in the WebSocket upgrade, as browsers do. When the server
	// accepts (Client.Deflate), every message sent with WriteMessage or WritePackage is
	// compressed, as Chrome does, and compressed messages received are inflated.
	Deflate bool
}

// Client is a pomelo client connection.
type Client struct {
	opts  Options
	conn  net.Conn
	br    *bufio.Reader
	wsCfg ws.Config

	// Heartbeat is the interval from the handshake response (0 when absent).
	Heartbeat time.Duration
	// Pongs counts WebSocket pongs received.
	Pongs int
	// LastPong is the payload of the last pong.
	LastPong []byte
	// Deflate reports that the server accepted permessage-deflate.
	Deflate bool
	// CompressedIn counts the compressed messages received.
	CompressedIn int
}

// Dial connects and, for WS and WSS, performs the WebSocket upgrade. The pomelo handshake is left
// to Handshake.
func Dial(addr string, o Options) (*Client, error) {
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	d := net.Dialer{Timeout: o.Timeout, LocalAddr: o.LocalAddr}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Client{opts: o, conn: nc, wsCfg: ws.Config{Role: ws.RoleClient, MaxMessageSize: codec.MaxBodySize + codec.HeaderSize}}
	if o.Transport.IsTLS() {
		cfg := o.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{InsecureSkipVerify: true}
		}
		tc := tls.Client(nc, cfg)
		tc.SetDeadline(time.Now().Add(o.Timeout))
		if err := tc.Handshake(); err != nil {
			nc.Close()
			return nil, err
		}
		c.conn = tc
	}
	c.br = bufio.NewReaderSize(c.conn, 4096)
	if o.Transport.IsWebSocket() {
		if err := c.upgrade(); err != nil {
			c.conn.Close()
			return nil, err
		}
	}
	return c, nil
}

// Conn returns the underlying connection (the TLS connection for TLS and WSS).
func (c *Client) Conn() net.Conn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) deadline() { c.conn.SetDeadline(time.Now().Add(c.opts.Timeout)) }

// WriteRaw writes b to the socket as it is (inside TLS for TLS and WSS), one byte per write with
// SplitWrites.
func (c *Client) WriteRaw(b []byte) error {
	c.deadline()
	if c.opts.SplitWrites {
		for i := range b {
			if _, err := c.conn.Write(b[i : i+1]); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := c.conn.Write(b)
	return err
}

func (c *Client) upgrade() error {
	var key [16]byte
	rand.Read(key[:])
	k := base64.StdEncoding.EncodeToString(key[:])
	path := c.opts.Path
	if path == "" {
		path = "/"
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + c.conn.RemoteAddr().String() +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + k +
		"\r\nSec-WebSocket-Version: 13\r\n"
	if c.opts.Deflate {
		req += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
	}
	req += "\r\n"
	if err := c.WriteRaw([]byte(req)); err != nil {
		return err
	}
	status, err := c.br.ReadString('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix([]byte(status), []byte("HTTP/1.1 101 ")) {
		return fmt.Errorf("%w: %q", ErrUpgrade, status)
	}
	h := sha1.Sum([]byte(k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	want := "Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(h[:])
	ok := false
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" {
			break
		}
		if line[:len(line)-2] == want {
			ok = true
		}
		if name, value, _ := strings.Cut(line[:len(line)-2], ":"); strings.EqualFold(name, "Sec-WebSocket-Extensions") {
			if !c.opts.Deflate || strings.TrimSpace(value) != ws.DeflateExtension {
				return fmt.Errorf("%w: unexpected extensions %q", ErrUpgrade, value)
			}
			c.Deflate = true
			c.wsCfg.Deflate = true
		}
	}
	if !ok {
		return fmt.Errorf("%w: bad Sec-WebSocket-Accept", ErrUpgrade)
	}
	return nil
}

// WriteMessage sends payload as one masked binary WebSocket message (WS and WSS only), whatever it
// holds: several packages, half a package, nothing.
func (c *Client) WriteMessage(payload []byte) error {
	if c.Deflate {
		return c.WriteCompressed(payload)
	}
	return c.WriteFrame(true, ws.OpBinary, payload)
}

// WriteCompressed sends payload as one masked binary message compressed with permessage-deflate
// (RSV1 set), whether or not it was negotiated.
func (c *Client) WriteCompressed(payload []byte) error {
	if !c.opts.Transport.IsWebSocket() {
		return ErrNotWS
	}
	z, err := ws.Deflate(nil, payload)
	if err != nil {
		return err
	}
	var key [4]byte
	rand.Read(key[:])
	f := ws.AppendCompressedFrameHeader(nil, true, ws.OpBinary, len(z), &key)
	start := len(f)
	f = append(f, z...)
	ws.Unmask(key, 0, f[start:])
	return c.WriteRaw(f)
}

// WriteFrame sends one masked frame (WS and WSS only).
func (c *Client) WriteFrame(fin bool, op ws.Opcode, payload []byte) error {
	if !c.opts.Transport.IsWebSocket() {
		return ErrNotWS
	}
	var key [4]byte
	rand.Read(key[:])
	f := ws.AppendFrameHeader(nil, fin, op, len(payload), &key)
	start := len(f)
	f = append(f, payload...)
	ws.Unmask(key, 0, f[start:])
	return c.WriteRaw(f)
}

// WritePackage sends one package: as it is on TCP and TLS, as one binary message on WS and WSS.
func (c *Client) WritePackage(t codec.Type, body []byte) error {
	p, err := codec.AppendPacket(nil, t, body)
	if err != nil {
		return err
	}
	if c.opts.Transport.IsWebSocket() {
		return c.WriteMessage(p)
	}
	return c.WriteRaw(p)
}

// SendHandshake sends a HANDSHAKE package with the given JSON body.
func (c *Client) SendHandshake(body []byte) error { return c.WritePackage(codec.TypeHandshake, body) }

// HandshakeBody builds a handshake body: sys.type/version as the Unity client sends them, the
// extra sys members given as raw JSON (e.g. `"protoVersion":"abc"`), and user (nil for {}).
func HandshakeBody(sysExtra string, user json.RawMessage) []byte {
	b := []byte(`{"sys":{"type":"unity-socket","version":"0.3.0"`)
	if sysExtra != "" {
		b = append(append(b, ','), sysExtra...)
	}
	b = append(b, `},"user":`...)
	if user == nil {
		user = json.RawMessage(`{}`)
	}
	b = append(b, user...)
	return append(b, '}')
}

// HandshakeResponse is the server's parsed handshake response.
type HandshakeResponse struct {
	Code int             `json:"code"`
	Sys  json.RawMessage `json:"sys"`
	User json.RawMessage `json:"user"`
	Raw  []byte          `json:"-"`
}

// ReadHandshake reads packages until the HANDSHAKE response and parses it. A code other than 200
// is returned with ErrHandshake.
func (c *Client) ReadHandshake() (*HandshakeResponse, error) {
	p, err := c.ReadPacket()
	if err != nil {
		return nil, err
	}
	if p.Type != codec.TypeHandshake {
		return nil, fmt.Errorf("pomeloclient: got %v, want a handshake response", p.Type)
	}
	r := &HandshakeResponse{Raw: append([]byte(nil), p.Body...)}
	if err := json.Unmarshal(p.Body, r); err != nil {
		return r, err
	}
	if r.Code != 200 {
		return r, fmt.Errorf("%w: code %d", ErrHandshake, r.Code)
	}
	var sys struct {
		Heartbeat int `json:"heartbeat"`
	}
	json.Unmarshal(r.Sys, &sys)
	c.Heartbeat = time.Duration(sys.Heartbeat) * time.Second
	return r, nil
}

// Handshake sends body (HandshakeBody("", nil) when nil) and reads the response.
func (c *Client) Handshake(body []byte) (*HandshakeResponse, error) {
	if body == nil {
		body = HandshakeBody("", nil)
	}
	if err := c.SendHandshake(body); err != nil {
		return nil, err
	}
	return c.ReadHandshake()
}

// Ack sends the HANDSHAKE_ACK.
func (c *Client) Ack() error { return c.WritePackage(codec.TypeHandshakeAck, nil) }

// SendHeartbeat sends a HEARTBEAT.
func (c *Client) SendHeartbeat() error { return c.WritePackage(codec.TypeHeartbeat, nil) }

// Connect dials, handshakes with the default body and acknowledges. With heartbeats on, the
// server's first heartbeat is left unread.
func Connect(addr string, o Options) (*Client, error) {
	c, err := Dial(addr, o)
	if err != nil {
		return nil, err
	}
	if _, err := c.Handshake(nil); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Ack(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Request sends a REQUEST (id > 0) or a NOTIFY (id 0) with an uncompressed route.
func (c *Client) Request(id uint32, route string, body []byte) error {
	m, err := codec.AppendRequest(nil, id, route, body)
	if err != nil {
		return err
	}
	return c.WritePackage(codec.TypeData, m)
}

// RequestCode sends a REQUEST (id > 0) or a NOTIFY (id 0) with a dictionary code.
func (c *Client) RequestCode(id uint32, code uint16, body []byte) error {
	return c.WritePackage(codec.TypeData, codec.AppendRequestCode(nil, id, code, body))
}

// ReadPacket returns the next package from the server. Body is a copy. On WebSocket a message
// must hold exactly one package, as the official browser client bundled in pomelo's template
// requires (it reads the first and drops the rest): a message with more is ErrSeveralPackages.
// Pongs are counted and skipped; a Close frame is returned as *CloseError.
func (c *Client) ReadPacket() (codec.Packet, error) {
	if !c.opts.Transport.IsWebSocket() {
		c.deadline()
		var h [codec.HeaderSize]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return codec.Packet{}, err
		}
		t, n, err := codec.ParseHeader(h[:])
		if err != nil {
			return codec.Packet{}, err
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(c.br, body); err != nil {
			return codec.Packet{}, err
		}
		return codec.Packet{Type: t, Body: body}, nil
	}
	for {
		op, payload, err := c.ReadFrame()
		if err != nil {
			return codec.Packet{}, err
		}
		switch op {
		case ws.OpBinary, ws.OpText:
			p, n, err := codec.ParsePacket(payload, 0)
			if err != nil {
				return codec.Packet{}, fmt.Errorf("pomeloclient: websocket message: %w", err)
			}
			if n != len(payload) {
				return codec.Packet{}, ErrSeveralPackages
			}
			return codec.Packet{Type: p.Type, Body: append([]byte(nil), p.Body...)}, nil
		case ws.OpPong:
			c.Pongs++
			c.LastPong = payload
		case ws.OpClose:
			code, _, _ := ws.ParseCloseData(payload)
			return codec.Packet{}, &CloseError{Code: code}
		}
	}
}

// ErrSeveralPackages is ReadPacket's answer to a WebSocket message that holds more than one
// package, which the official browser client would read only the first of.
var ErrSeveralPackages = errors.New("pomeloclient: a websocket message holds more than one package")

// ReadFrame reads one whole WebSocket message or control frame (WS and WSS only).
func (c *Client) ReadFrame() (ws.Opcode, []byte, error) {
	if !c.opts.Transport.IsWebSocket() {
		return 0, nil, ErrNotWS
	}
	c.deadline()
	var msg []byte
	var first ws.Opcode
	compressed := false
	for {
		h, err := c.readFrameHeader()
		if err != nil {
			return 0, nil, err
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return 0, nil, err
		}
		if h.Op.IsControl() {
			return h.Op, payload, nil
		}
		if h.Op != ws.OpContinuation {
			first, compressed = h.Op, h.Compressed
		}
		msg = append(msg, payload...)
		if !h.Fin {
			continue
		}
		if compressed {
			c.CompressedIn++
			out, err := ws.Inflate(nil, msg, codec.MaxBodySize+codec.HeaderSize)
			if err != nil {
				return 0, nil, err
			}
			return first, out, nil
		}
		return first, msg, nil
	}
}

func (c *Client) readFrameHeader() (ws.Header, error) {
	need := 2
	for {
		b, err := c.br.Peek(need)
		if err != nil {
			return ws.Header{}, err
		}
		h, n, err := c.wsCfg.ParseHeader(b)
		if err == ws.ErrShortBuffer {
			need = n
			continue
		}
		if err != nil {
			return ws.Header{}, err
		}
		c.br.Discard(n)
		return h, nil
	}
}

// ReadMessage reads packages until a DATA package and returns its message. Heartbeats from the
// server are answered at once when echo is set, and skipped otherwise. A KICK is returned as an
// error carrying its body.
func (c *Client) ReadMessage(echo bool) (codec.Message, error) {
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return codec.Message{}, err
		}
		switch p.Type {
		case codec.TypeHeartbeat:
			if echo {
				if err := c.SendHeartbeat(); err != nil {
					return codec.Message{}, err
				}
			}
		case codec.TypeKick:
			return codec.Message{}, &KickError{Body: p.Body}
		case codec.TypeData:
			var m codec.Message
			err := codec.ParseMessage(p.Body, &m)
			return m, err
		}
	}
}

// KickError is returned by ReadMessage when the server kicked the client.
type KickError struct{ Body []byte }

func (e *KickError) Error() string { return "pomeloclient: kicked: " + string(e.Body) }
