package rpc

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// frameSizes is the payload size ladder of the frame benchmarks.
var frameSizes = []int{16, 64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10}

// BenchmarkFrameEncode appends a CALL frame with a payload of each size into a reused buffer
// (header, payload in place, EndFrame).
func BenchmarkFrameEncode(b *testing.B) {
	for _, n := range frameSizes {
		payload := Raw(make([]byte, n))
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			buf := make([]byte, 0, n+64)
			for i := 0; i < b.N; i++ {
				buf = AppendCallHeader(buf[:0], uint32(i), 3)
				buf, _ = payload.AppendRPC(buf)
				var err error
				if buf, err = EndFrame(buf, 0, MaxFrameLimit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFrameDecode decodes one frame of each size through the streaming decoder, with
// ParseFrame on the same bytes as the baseline twin.
func BenchmarkFrameDecode(b *testing.B) {
	for _, n := range frameSizes {
		wire := AppendCall(nil, 1, 3, make([]byte, n))
		b.Run("stream/"+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(wire)))
			var d FrameDecoder
			d.SetMaxFrame(MaxFrameLimit)
			for i := 0; i < b.N; i++ {
				d.Feed(wire)
				if f, err := d.Next(); err != nil || len(f.Payload) != n {
					b.Fatal(err)
				}
				if _, err := d.Next(); err != ErrNeedMore {
					b.Fatal(err)
				}
			}
		})
		b.Run("parse/"+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(wire)))
			for i := 0; i < b.N; i++ {
				if f, _, err := ParseFrame(wire, MaxFrameLimit); err != nil || len(f.Payload) != n {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkForwardArgs encodes and decodes forwardMessage-shaped arguments through the fast path.
func BenchmarkForwardArgs(b *testing.B) {
	m := sampleForward(32)
	buf, _ := m.AppendRPC(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	var out fwdMsg
	for i := 0; i < b.N; i++ {
		buf, _ = m.AppendRPC(buf[:0])
		if err := out.DecodeRPC(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCall measures loopback calls of msgRemote.forwardMessage-shaped arguments: one
// caller at a time (latency), 32 × GOMAXPROCS synchronous callers on one connection through
// b.RunParallel (throughput), and one caller keeping a window of asynchronous calls in flight.
func BenchmarkCall(b *testing.B) {
	for _, body := range []int{16, 4096} {
		b.Run("seq/"+strconv.Itoa(body), func(b *testing.B) { benchCalls(b, body, false) })
		b.Run("parallel/"+strconv.Itoa(body), func(b *testing.B) { benchCalls(b, body, true) })
		b.Run("window256/"+strconv.Itoa(body), func(b *testing.B) { benchWindow(b, body, 256) })
	}
}

func benchSetup(b *testing.B) (*Client, Method) {
	_, addr := startServer(b, ServerConfig{}, func(s *Server) {
		requireNoError(b, s.Handle(nameForward, echoHandler()), "Handle")
	})
	c := newClient(b, addr, ClientConfig{})
	fwd, _ := c.Method(nameForward.Namespace, nameForward.Service, nameForward.Method)
	requireNoError(b, c.Call(context.Background(), fwd, sampleForward(1), &fwdResp{}), "warm-up")
	return c, fwd
}

func benchCalls(b *testing.B, body int, parallel bool) {
	c, fwd := benchSetup(b)
	b.ReportAllocs()
	b.SetBytes(int64(body))
	start := time.Now()
	if !parallel {
		args, res := sampleForward(body), new(fwdResp)
		for i := 0; i < b.N; i++ {
			if err := c.Call(context.Background(), fwd, args, res); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(32) // 32 × GOMAXPROCS synchronous callers share the connection
		b.RunParallel(func(pb *testing.PB) {
			args, res := sampleForward(body), new(fwdResp)
			for pb.Next() {
				if err := c.Call(context.Background(), fwd, args, res); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// benchWindow keeps window asynchronous calls in flight on one connection.
func benchWindow(b *testing.B, body, window int) {
	c, fwd := benchSetup(b)
	b.ReportAllocs()
	b.SetBytes(int64(body))
	args := sampleForward(body)
	slots := make(chan *fwdResp, window)
	for i := 0; i < window; i++ {
		slots <- new(fwdResp)
	}
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < b.N; i++ {
		res := <-slots
		wg.Add(1)
		done := func(err error) {
			if err != nil {
				b.Error(err)
			}
			slots <- res
			wg.Done()
		}
		if err := c.Go(context.Background(), fwd, args, res, done); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

func sampleForward(body int) *fwdMsg {
	return &fwdMsg{MsgID: 12345, Route: []byte("chat.chatHandler.send"), Body: make([]byte, body),
		SID: 42, Frontend: []byte("connector-server-1"), UID: []byte("user-1001"),
		Settings: []byte{0x8a, 0x01, 0x03, 'r', 'i', 'd', 0x87, 0x02, 'r', '1'}}
}

// BenchmarkTCPPingPongBaseline is the floor for BenchmarkCall/seq: a bare loopback round trip of
// 64 bytes between two net.Conn goroutines, no framing, no dispatch.
func BenchmarkTCPPingPongBaseline(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(b, err, "listen")
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(nc, buf); err != nil {
				return
			}
			if _, err := nc.Write(buf); err != nil {
				return
			}
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	requireNoError(b, err, "dial")
	defer nc.Close()
	buf := make([]byte, 64)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := nc.Write(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(nc, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkCallGoroutineServerBaseline is BenchmarkCall/seq/16 against a minimal server that
// speaks the same frames with one goroutine per connection, as Server does, but without its
// method table, filters and reply batching: the difference is what those cost.
func BenchmarkCallGoroutineServerBaseline(b *testing.B) {
	addr := goroutineServer(b)
	c := newClient(b, addr, ClientConfig{})
	fwd, _ := c.Method(nameForward.Namespace, nameForward.Service, nameForward.Method)
	args, res := sampleForward(16), new(fwdResp)
	requireNoError(b, c.Call(context.Background(), fwd, args, res), "warm-up")
	b.ReportAllocs()
	b.SetBytes(16)
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := c.Call(context.Background(), fwd, args, res); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// goroutineServer answers HELLO, and every CALL with a fwdResp carrying the call's body.
func goroutineServer(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(b, err, "listen")
	var mu sync.Mutex
	var conns []net.Conn
	b.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, nc := range conns {
			nc.Close()
		}
	})
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			go serveGoroutineConn(nc)
		}
	}()
	return ln.Addr().String()
}

func serveGoroutineConn(nc net.Conn) {
	var d FrameDecoder
	var m fwdMsg
	var res fwdResp
	buf, out := make([]byte, 64<<10), make([]byte, 0, 64<<10)
	for {
		n, err := nc.Read(buf)
		if err != nil {
			return
		}
		d.Feed(buf[:n])
		out = out[:0]
		for f, err := d.Next(); err == nil; f, err = d.Next() {
			switch f.Kind {
			case KindHello:
				out, _ = AppendHello(out, "goroutine-server")
			case KindCall:
				_ = m.DecodeRPC(f.Payload)
				res.Code, res.Body = 200, m.Body
				start := len(out)
				out, _ = res.AppendRPC(AppendReplyHeader(out, f.ID))
				out, _ = EndFrame(out, start, 0)
			}
		}
		if _, err := nc.Write(out); err != nil {
			return
		}
	}
}
