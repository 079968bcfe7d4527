package engine

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/shaddock-io/shaddock/codec"
)

func benchBody(n int) string {
	if n < 8 {
		n = 8
	}
	return `{"s":"` + strings.Repeat("x", n-8) + `"}`
}

// BenchmarkEchoRaw is the json.RawMessage echo path, decode to enqueue, by body size.
func BenchmarkEchoRaw(b *testing.B) {
	for _, size := range []int{16, 64, 256, 1024, 4096} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			e := newEnv(b, AppConfig{}, func(app *App) {
				mustHandle(b, Handle(app, "connector.entryHandler.echo", echoRaw))
			}, ServerConfig{UseDict: true})
			c := &nopConn{}
			s := e.srv.open(c)
			msg := codec.AppendRequestCode(nil, 1, 1, []byte(benchBody(size)))
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				e.srv.data(s, msg)
				e.srv.readBatchDone(s)
			}
		})
	}
}

// BenchmarkEchoRawBatch is BenchmarkEchoRaw with ten requests per read batch, as a client that
// pipelines ten sends them; ns/op is per request.
func BenchmarkEchoRawBatch(b *testing.B) {
	e := newEnv(b, AppConfig{}, func(app *App) {
		mustHandle(b, Handle(app, "connector.entryHandler.echo", echoRaw))
	}, ServerConfig{UseDict: true})
	c := &nopConn{}
	s := e.srv.open(c)
	msg := codec.AppendRequestCode(nil, 1, 1, []byte(`{"x":1,"s":"frontend echo"}`))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.srv.data(s, msg)
		if i++; i%10 == 0 {
			e.srv.readBatchDone(s)
		}
	}
}

type echoStruct struct {
	S string `json:"s"`
}

// BenchmarkEchoTyped is the baseline twin of BenchmarkEchoRaw: the same echo with encoding/json
// decoding and encoding a struct.
func BenchmarkEchoTyped(b *testing.B) {
	for _, size := range []int{16, 64, 256, 1024, 4096} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			e := newEnv(b, AppConfig{}, func(app *App) {
				mustHandle(b, Handle(app, "connector.entryHandler.echo", func(_ *Context, r *echoStruct) (*echoStruct, error) {
					return r, nil
				}))
			}, ServerConfig{UseDict: true})
			c := &nopConn{}
			s := e.srv.open(c)
			msg := codec.AppendRequestCode(nil, 1, 1, []byte(benchBody(size)))
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				e.srv.data(s, msg)
				e.srv.readBatchDone(s)
			}
		})
	}
}

// BenchmarkPush pushes one message to a growing number of sessions (encoded once).
func BenchmarkPush(b *testing.B) {
	for _, fanout := range []int{1, 10, 100, 1000} {
		b.Run(strconv.Itoa(fanout), func(b *testing.B) {
			e := newEnv(b, AppConfig{Dictionary: []string{"onChat"}}, nil, ServerConfig{UseDict: true})
			ids := make([]uint64, fanout)
			for i := range ids {
				ids[i] = e.srv.open(&nopConn{id: uint64(i + 1)}).ID()
			}
			var msg any = json.RawMessage(benchBody(64))
			b.SetBytes(int64(64 * fanout))
			b.ReportAllocs()
			for b.Loop() {
				_ = e.srv.PushToSessions("onChat", msg, ids...)
			}
		})
	}
}

// BenchmarkCryptoVerify is the useCrypto check of one signed request.
func BenchmarkCryptoVerify(b *testing.B) {
	v, pub := loadCryptoVectors(b)
	e, _ := cryptoEnv(b, AppConfig{})
	c := &nopConn{pub: pub}
	s := e.srv.open(c)
	msg := request(1, "connector.h.m", v.Cases[0].SignedBodyJSON)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		e.srv.data(s, msg)
		e.srv.readBatchDone(s)
	}
	if e.srv.Stats().BadSignature != 0 {
		b.Fatal("signature rejected")
	}
}

// BenchmarkValidJSON compares the body check with encoding/json.Valid (baseline twin).
func BenchmarkValidJSON(b *testing.B) {
	for _, size := range []int{27, 256, 4096} {
		body := []byte(benchBody(size))
		if size == 27 {
			body = []byte(`{"x":1,"s":"frontend echo"}`)
		}
		b.Run("engine/"+strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if !validJSON(body) {
					b.Fatal("invalid")
				}
			}
		})
		b.Run("encoding-json/"+strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if !json.Valid(body) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

// BenchmarkForward is one request forwarded from a frontend to a backend over loopback RPC and
// answered (msgRemote.forwardMessage, the json.RawMessage echo handler), waiting for each
// response before the next request: the latency of the hop, by body size. The backend's
// connection is served by rpc.Server.ServeConn (a reading goroutine); BenchmarkEchoRaw is the
// same request handled on the frontend.
func BenchmarkForward(b *testing.B) {
	for _, size := range []int{16, 64, 256, 1024} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			r := newForwardRig(b, func(app *App) {
				mustHandle(b, Handle(app, "chat.chatHandler.echo", echoRaw))
			})
			msg := request(1, "chat.chatHandler.echo", benchBody(size))
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				r.roundTrip(msg)
			}
		})
	}
}

// BenchmarkForwardPipelined forwards batches of requests read together (one read batch of the
// client connection), so that calls and replies share RPC writes: throughput of the hop.
func BenchmarkForwardPipelined(b *testing.B) {
	for _, batch := range []int{8, 64} {
		b.Run(strconv.Itoa(batch), func(b *testing.B) {
			r := newForwardRig(b, func(app *App) {
				mustHandle(b, Handle(app, "chat.chatHandler.echo", echoRaw))
			})
			msg := request(1, "chat.chatHandler.echo", benchBody(64))
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for i := 0; i < b.N; i += batch {
				r.batch(msg, min(batch, b.N-i))
			}
		})
	}
}
