//go:build linux

package main

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/codec"
)

func startFloor(t *testing.T) string {
	t.Helper()
	s, err := listen("127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(s.lfd)
	if err != nil {
		t.Fatal(err)
	}
	s.start()
	t.Cleanup(s.close)
	return "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
}

// readPacket reads one package from c.
func readPacket(t *testing.T, c net.Conn) (codec.Type, []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hdr [codec.HeaderSize]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatal(err)
	}
	typ, n, err := codec.ParseHeader(hdr[:])
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	return typ, body
}

func TestFloorAnswers(t *testing.T) {
	addr := startFloor(t)
	for _, split := range []bool{false, true} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		var in []byte
		in, _ = codec.AppendPacket(in, codec.TypeHandshake, []byte(`{"sys":{"type":"test"}}`))
		in, _ = codec.AppendPacket(in, codec.TypeHandshakeAck, nil)
		in, _ = codec.AppendPacket(in, codec.TypeHeartbeat, nil)
		req := func(id uint32, body string) {
			p, at := codec.BeginPacket(nil, codec.TypeData)
			if id%2 == 0 {
				p = codec.AppendRequestCode(p, id, 3, []byte(body))
			} else {
				p, _ = codec.AppendRequest(p, id, "connector.entryHandler.echo", []byte(body))
			}
			codec.EndPacket(p, at)
			in = append(in, p...)
		}
		req(1, `{"a":1}`)
		req(2, `{"b":2}`)
		req(300, `{}`)
		if split { // one byte per write: every package arrives in pieces
			for i := range in {
				if _, err := c.Write(in[i : i+1]); err != nil {
					t.Fatal(err)
				}
			}
		} else if _, err := c.Write(in); err != nil {
			t.Fatal(err)
		}
		if typ, body := readPacket(t, c); typ != codec.TypeHandshake || !bytes.Equal(body, handshakeResponse) {
			t.Fatalf("handshake answer %v %q", typ, body)
		}
		if typ, body := readPacket(t, c); typ != codec.TypeHeartbeat || len(body) != 0 {
			t.Fatalf("heartbeat answer %v %q", typ, body)
		}
		for _, want := range []struct {
			id   uint32
			body string
		}{{1, `{"a":1}`}, {2, `{"b":2}`}, {300, `{}`}} {
			typ, body := readPacket(t, c)
			var m codec.Message
			if typ != codec.TypeData || codec.ParseMessage(body, &m) != nil {
				t.Fatalf("answer %v %x", typ, body)
			}
			if m.Type != codec.Response || m.ID != want.id || string(m.Body) != want.body {
				t.Fatalf("split=%v: response %v id %d body %q, want id %d body %q", split, m.Type, m.ID, m.Body, want.id, want.body)
			}
		}
		c.Close()
	}
}

func TestFloorClosesOnBadInput(t *testing.T) {
	addr := startFloor(t)
	for name, in := range map[string][]byte{
		"unknown package type": {9, 0, 0, 0},
		"package over buffer":  {byte(codec.TypeData), byte(bufSize >> 16), 0, 1},
		"bad message flag":     {byte(codec.TypeData), 0, 0, 1, 0xff},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(in); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.Read(make([]byte, 16)); err != io.EOF {
			t.Errorf("%s: read %d, %v; want the connection closed", name, n, err)
		}
		c.Close()
	}
}

// TestFloorManyInOneWrite sends more requests at once than the read buffer holds, so reads fill it
// and the answers outgrow what one write can take while the client is not reading yet.
func TestFloorManyInOneWrite(t *testing.T) {
	c, err := net.Dial("tcp", startFloor(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in, _ := codec.AppendPacket(nil, codec.TypeHandshake, []byte(`{}`))
	const n = 20000
	body := bytes.Repeat([]byte("x"), 40)
	for id := uint32(1); id <= n; id++ {
		var at int
		in, at = codec.BeginPacket(in, codec.TypeData)
		in = codec.AppendRequestCode(in, id, 3, body)
		codec.EndPacket(in, at)
	}
	done := make(chan error, 1)
	go func() { _, err := c.Write(in); done <- err }()
	if typ, _ := readPacket(t, c); typ != codec.TypeHandshake {
		t.Fatalf("first answer %v", typ)
	}
	for id := uint32(1); id <= n; id++ {
		typ, b := readPacket(t, c)
		var m codec.Message
		if typ != codec.TypeData || codec.ParseMessage(b, &m) != nil || m.ID != id || !bytes.Equal(m.Body, body) {
			t.Fatalf("answer %d: %v id %d body %q", id, typ, m.ID, m.Body)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// close stops the acceptor and the pollers and closes the connections.
func TestFloorClose(t *testing.T) {
	s, err := listen("127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(s.lfd)
	s.start()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hs, _ := codec.AppendPacket(nil, codec.TypeHandshake, []byte(`{}`))
	c.Write(hs)
	readPacket(t, c) // accepted and registered
	closed := make(chan struct{})
	go func() { s.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("close did not return")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after close: %v, want EOF", err)
	}
}
