package hybrid

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/hybrid/ws"
)

// vectorFile is the part of testdata/packages.json (bytes produced by pomelo-protocol@0.1.6) the
// fuzzers use as seeds.
type vectorFile struct {
	Cases []struct {
		Name    string `json:"name"`
		Type    int    `json:"type"`
		BodyHex string `json:"body_hex"`
		Hex     string `json:"hex"`
	} `json:"cases"`
	Stream struct {
		Hex string `json:"hex"`
	} `json:"stream"`
}

func loadVectors(f *testing.F) vectorFile {
	f.Helper()
	raw, err := os.ReadFile("testdata/packages.json")
	if err != nil {
		f.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(raw, &v); err != nil {
		f.Fatal(err)
	}
	return v
}

func unhex(f *testing.F, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzHandshake: the handshake parser never panics; what it accepts renders a response that is
// JSON; its cost is bounded by the input (the package limit bounds the input before a handshake).
func FuzzHandshake(f *testing.F) {
	for _, c := range loadVectors(f).Cases {
		if c.Type == int(codec.TypeHandshake) {
			f.Add(unhex(f, c.BodyHex))
		}
	}
	var crypto struct {
		RSA json.RawMessage `json:"handshake_sys_rsa"`
	}
	raw, _ := os.ReadFile("testdata/crypto.json")
	json.Unmarshal(raw, &crypto)
	f.Add([]byte(`{"sys":{"type":"js-websocket","version":"0.0.1","rsa":` + string(crypto.RSA) + `},"user":{}}`))
	for _, s := range []string{`{"sys":{"protoVersion":0,"dictVersion":"abc"},"user":{"a":[1,{"b":null}]}}`,
		`{"sys":null}`, `{"sys":{"rsa":{"rsa_n":"ff","rsa_e":"3"}}}`, `[`, `{"sys":{},"user":"\ud800"}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > DefaultMaxBodyBeforeHandshake {
			return
		}
		var req HandshakeRequest
		if err := parseHandshake(body, &req); err != nil {
			if err != ErrHandshakeNotJSON && err != ErrHandshakeNoSys {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		resp := appendHandshakeBody(nil, 200, 3, nil, req.User)
		if !json.Valid(resp) {
			t.Fatalf("response %s is not JSON", resp)
		}
		if req.RSA != nil && (req.RSA.N.Sign() <= 0 || req.RSA.E < 2) {
			t.Fatalf("malformed key accepted: %v", req.RSA)
		}
	})
}

// recorder is a Handler that logs what it is told, for comparing two runs.
type recorder struct {
	log []string
}

func (r *recorder) Handshake(c *Conn, req *HandshakeRequest) HandshakeResult {
	r.log = append(r.log, fmt.Sprintf("handshake %q %q %q", req.Type, req.ProtoVersion, req.User))
	switch req.Type {
	case "r500":
		return HandshakeResult{Code: 500}
	case "r501":
		return HandshakeResult{Code: 501}
	}
	return HandshakeResult{Code: 200, User: req.User}
}
func (r *recorder) Open(c *Conn) { r.log = append(r.log, "open") }
func (r *recorder) Data(c *Conn, body []byte) {
	r.log = append(r.log, "data "+hex.EncodeToString(body))
	if len(body) > 0 && body[0] == 'k' {
		c.Kick("fuzz")
	}
}
func (r *recorder) ReadBatchDone(c *Conn)              {}
func (r *recorder) Closed(c *Conn, reason CloseReason) {}

// fuzzConfig has small limits, so that the fuzzer reaches them.
var fuzzConfig = Config{
	Heartbeat:              3 * time.Second,
	MaxBodyBeforeHandshake: 200,
	MaxBody:                400,
	WSMaxFrameSize:         300,
	WSMaxMessageSize:       380,
	WSMaxHeaderSize:        512,
	MaxQueuePackages:       8,
	Overflow:               OverflowDrop,
}

// feedResult is everything observable from feeding a connection.
type feedResult struct {
	log     []string
	out     []byte // bytes written to the socket
	closing uint32
	stopped bool
	state   uint32
}

// feed runs the read path of a fresh connection over data delivered in the given pieces (the
// lengths cycle; 0 means everything at once), as reads from the socket would deliver them: each
// piece is decoded with what the connection kept of an incomplete unit (consume), and must be
// consumed whole (the read buffer is reused by the next read), unless the connection stopped or
// turned out to be TLS.
func feed(t *testing.T, data []byte, pieces []byte) feedResult {
	rec := &recorder{}
	cfg := fuzzConfig
	cfg.TLS = serverTLS(t)
	_, c, f := newFakeConn(t, cfg, rec)
	var b batch
	for i, off := 0, 0; off < len(data) && !c.readDone(); i++ {
		n := len(data) - off
		if len(pieces) > 0 && pieces[i%len(pieces)] != 0 {
			n = min(n, int(pieces[i%len(pieces)]))
		}
		read := append([]byte(nil), data[off:off+n]...) // the read buffer
		off += n
		in := input{read}
		c.consume(&in, &b)
		if c.readDone() || c.mode == modeTLS {
			break
		}
		if in.Len() != 0 {
			t.Fatalf("%d bytes left unconsumed in the read buffer", in.Len())
		}
		if c.tail != nil && len(c.tail.b) >= c.tail.need {
			t.Fatalf("reader stalls: the tail holds %d bytes and needs %d", len(c.tail.b), c.tail.need)
		}
		clear(read) // reused by the next read: nothing may point into it
	}
	c.Flush()
	return feedResult{log: rec.log, out: f.written(), closing: c.closing.Load(),
		stopped: c.readDone() || c.mode == modeTLS, state: c.state.Load()}
}

// FuzzReader feeds arbitrary bytes to a connection's read path, whole and in arbitrary pieces:
// it never panics, never stalls with a whole unit buffered, and what it does does not depend on
// how the bytes were split.
func FuzzReader(f *testing.F) {
	v := loadVectors(f)
	hs := unhex(f, v.Cases[0].Hex)
	ack := []byte{2, 0, 0, 0}
	hb := []byte{3, 0, 0, 0}
	data, _ := codec.AppendPacket(nil, codec.TypeData, []byte("k-kick me"))
	session := bytes.Join([][]byte{hs, ack, hb, unhex(f, v.Stream.Hex), data}, nil)
	f.Add(session, []byte{1})
	f.Add(session, []byte{3, 7, 1})
	for _, c := range v.Cases {
		f.Add(append(append([]byte(nil), hs...), unhex(f, c.Hex)...), []byte{5})
	}
	key := [4]byte{9, 8, 7, 6}
	upgrade := []byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	wsSession := append([]byte(nil), upgrade...)
	for _, p := range [][]byte{hs, ack, hb} {
		wsSession = ws.AppendMaskedFrame(wsSession, ws.OpBinary, key, p)
	}
	wsSession = ws.AppendMaskedFrame(wsSession, ws.OpPing, key, []byte("p"))
	frag := ws.AppendFrameHeader(nil, false, ws.OpBinary, 3, &key)
	wsSession = append(wsSession, frag...)
	part := append([]byte(nil), data[:3]...)
	ws.Unmask(key, 0, part)
	wsSession = append(wsSession, part...)
	wsSession = ws.AppendMaskedFrame(wsSession, ws.OpContinuation, key, data[3:])
	wsSession = ws.AppendMaskedFrame(wsSession, ws.OpClose, key, ws.AppendCloseData(nil, 1000, ""))
	f.Add(wsSession, []byte{0})
	f.Add(wsSession, []byte{1, 2, 100})
	// The same with permessage-deflate: compressed messages, the request fragmented.
	compressed := func(dst, p []byte, fragment bool) []byte {
		z, err := ws.Deflate(nil, p)
		if err != nil {
			f.Fatal(err)
		}
		first := z
		if fragment {
			first = z[:2]
		}
		dst = ws.AppendCompressedFrameHeader(dst, !fragment, ws.OpBinary, len(first), &key)
		at := len(dst)
		dst = append(dst, first...)
		ws.Unmask(key, 0, dst[at:])
		if fragment {
			dst = ws.AppendMaskedFrame(dst, ws.OpContinuation, key, z[2:])
		}
		return dst
	}
	dfl := []byte(strings.Replace(string(upgrade), "\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", 1))
	for _, p := range [][]byte{hs, ack, hb} {
		dfl = compressed(dfl, p, false)
	}
	dfl = compressed(dfl, data, true)
	f.Add(dfl, []byte{3})
	f.Add([]byte("\x16\x03\x01\x00\x10"), []byte{1})
	f.Add([]byte("GE"), []byte{1})
	f.Add([]byte{4, 0xff, 0xff, 0xff}, []byte{2})
	f.Fuzz(func(t *testing.T, data, pieces []byte) {
		if len(data) > 4096 || len(pieces) > 64 {
			return
		}
		whole := feed(t, data, nil)
		split := feed(t, data, pieces)
		if fmt.Sprint(whole.log) != fmt.Sprint(split.log) {
			t.Fatalf("handler calls differ:\nwhole %q\nsplit %q", whole.log, split.log)
		}
		if !bytes.Equal(whole.out, split.out) {
			t.Fatalf("output differs:\nwhole %x\nsplit %x", whole.out, split.out)
		}
		if whole.closing != split.closing || whole.stopped != split.stopped || whole.state != split.state {
			t.Fatalf("end state differs: whole %+v, split %+v", whole, split)
		}
	})
}
