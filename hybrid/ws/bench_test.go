package ws

import (
	"bytes"
	stdflate "compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"testing"
)

func BenchmarkParseHeader(b *testing.B) {
	var cfg Config
	for _, size := range []int{5, 256, 65536} {
		wire := AppendFrameHeader(nil, true, OpBinary, size, &rfcKey)
		b.Run(fmt.Sprintf("len=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(wire)))
			for b.Loop() {
				if _, _, err := cfg.ParseHeader(wire); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var unmaskSizes = []int{16, 64, 256, 1024, 4096, 16384, 65536}

func BenchmarkUnmask(b *testing.B) {
	for _, size := range unmaskSizes {
		buf := make([]byte, size)
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				Unmask(rfcKey, 1, buf)
			}
		})
	}
}

// BenchmarkUnmaskBytewise is the baseline twin of BenchmarkUnmask: the
// RFC definition, one byte at a time.
func BenchmarkUnmaskBytewise(b *testing.B) {
	for _, size := range unmaskSizes {
		buf := make([]byte, size)
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				unmaskBytewise(rfcKey, 1, buf)
			}
		})
	}
}

func BenchmarkParseUpgrade(b *testing.B) {
	reqs := readTestdata(b, "upgrade/*.http")
	for _, name := range []string{"node-ws.http", "chrome.http", "firefox.http"} {
		raw := reqs[name]
		b.Run(name, func(b *testing.B) {
			var cfg Config
			var req UpgradeRequest
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := cfg.ParseUpgrade(raw, &req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendUpgradeResponse(b *testing.B) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(AppendUpgradeResponse(nil, key))))
	for b.Loop() {
		buf = AppendUpgradeResponse(buf[:0], key)
	}
}

// BenchmarkAcceptStdlib is the baseline twin of the accept computation:
// sha1.New, Write, Sum(nil) and EncodeToString, as a straightforward
// implementation would do.
func BenchmarkAcceptStdlib(b *testing.B) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	b.ReportAllocs()
	for b.Loop() {
		h := sha1.New()
		h.Write(key)
		h.Write([]byte(acceptGUID))
		_ = base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
}

func BenchmarkAppendAccept(b *testing.B) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	buf := make([]byte, 0, AcceptSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendAccept(buf[:0], key)
	}
}

// BenchmarkReadMessage is the connector's per-message work for one masked
// binary message: header, unmask, assemble.
func BenchmarkReadMessage(b *testing.B) {
	for _, size := range []int{16, 256, 4096, 65536} {
		payload := make([]byte, size)
		wire := AppendMaskedFrame(nil, OpBinary, rfcKey, payload)
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			var cfg Config
			var a Assembler
			b.ReportAllocs()
			b.SetBytes(int64(len(wire)))
			for b.Loop() {
				h, n, err := cfg.ParseHeader(wire)
				if err != nil {
					b.Fatal(err)
				}
				p := wire[n : n+h.Length]
				Unmask(h.Mask, 0, p)
				if _, _, err := a.Push(h, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	for _, size := range []int{16, 256, 4096, 65536} {
		payload := make([]byte, size)
		buf := make([]byte, 0, size+MaxFrameHeaderSize)
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				buf = AppendFrame(buf[:0], OpBinary, payload)
			}
		})
	}
}

// roomState is a push a game sends often: a room's players as JSON.
func roomState(players int) []byte {
	b := []byte(`{"route":"onState","players":[`)
	for i := range players {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"uid":"player-%d","x":%d,"y":%d,"hp":%d,"team":"%s"}`, i, i*37%1000, i*91%700, 100-i%100, []string{"red", "blue"}[i%2])
	}
	return append(b, "]}"...)
}

// BenchmarkDeflate compresses one outbound frame payload, as the flusher does, and reports the
// compressed size as a percentage of the input (pct); the baseline twin is compress/flate at
// BestSpeed with a sync flush.
func BenchmarkDeflate(b *testing.B) {
	for _, players := range []int{0, 20, 100} {
		p := roomState(players)
		out := make([]byte, 0, 2*len(p))
		b.Run(fmt.Sprintf("%dB", len(p)), func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			var n int
			for b.Loop() {
				z, _ := Deflate(out[:0], p)
				n = len(z)
			}
			b.ReportMetric(100*float64(n)/float64(len(p)), "pct")
		})
		b.Run(fmt.Sprintf("stdlib/%dB", len(p)), func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			var buf bytes.Buffer
			w, _ := stdflate.NewWriter(&buf, stdflate.BestSpeed)
			for b.Loop() {
				buf.Reset()
				w.Reset(&buf)
				w.Write(p)
				w.Flush()
			}
			b.ReportMetric(100*float64(buf.Len()-4)/float64(len(p)), "pct")
		})
	}
}

// BenchmarkInflate inflates one compressed inbound message.
func BenchmarkInflate(b *testing.B) {
	for _, players := range []int{0, 20, 100} {
		p := roomState(players)
		z, _ := Deflate(nil, p)
		out := make([]byte, 0, len(p))
		b.Run(fmt.Sprintf("%dB", len(p)), func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Inflate(out[:0], z, len(p)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
