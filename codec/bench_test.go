package codec

import (
	"bytes"
	"strconv"
	"testing"
)

// Benchmarks climb a ladder of body sizes and report bytes and allocations (style practice 13).
// Baseline twins: "fresh-buffer" encodes into a new slice each time instead of a reused one, and
// "naive-copy" decodes the way nano's codec does, copying every package into a new slice.
//
//	go test -run x -bench . -benchmem ./codec/

var benchSizes = []int{16, 256, 4 << 10, 64 << 10}

func sizeName(n int) string {
	switch {
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	default:
		return strconv.Itoa(n) + "B"
	}
}

func benchBody(n int) []byte { return bytes.Repeat([]byte{'x'}, n) }

func BenchmarkAppendPacket(b *testing.B) {
	for _, n := range benchSizes {
		body := benchBody(n)
		b.Run(sizeName(n), func(b *testing.B) {
			buf := make([]byte, 0, HeaderSize+n)
			b.ReportAllocs()
			b.SetBytes(int64(HeaderSize + n))
			for b.Loop() {
				buf, _ = AppendPacket(buf[:0], TypeData, body)
			}
		})
		b.Run(sizeName(n)+"/fresh-buffer", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(HeaderSize + n))
			for b.Loop() {
				_, _ = AppendPacket(nil, TypeData, body)
			}
		})
	}
}

// benchMessages are the three shapes a server writes or reads most.
func benchMessages(body []byte) []struct {
	name string
	m    Message
	fast func(dst []byte) []byte
} {
	const route = "connector.entryHandler.entry"
	return []struct {
		name string
		m    Message
		fast func(dst []byte) []byte
	}{
		{"request-route", Message{Type: Request, ID: 300, Route: []byte(route), Body: body},
			func(dst []byte) []byte { dst, _ = AppendRequest(dst, 300, route, body); return dst }},
		{"push-code", Message{Type: Push, Compressed: true, Code: 3, Body: body},
			func(dst []byte) []byte { return AppendPushCode(dst, 3, body) }},
		{"response", Message{Type: Response, ID: 300, Body: body},
			func(dst []byte) []byte { return AppendResponse(dst, 300, body) }},
	}
}

func BenchmarkAppendMessage(b *testing.B) {
	for _, n := range benchSizes {
		for _, c := range benchMessages(benchBody(n)) {
			enc, _ := AppendMessage(nil, &c.m)
			b.Run(c.name+"/"+sizeName(n), func(b *testing.B) {
				buf := make([]byte, 0, len(enc))
				b.ReportAllocs()
				b.SetBytes(int64(len(enc)))
				for b.Loop() {
					buf, _ = AppendMessage(buf[:0], &c.m)
				}
			})
			b.Run(c.name+"/"+sizeName(n)+"/fast", func(b *testing.B) {
				buf := make([]byte, 0, len(enc))
				b.ReportAllocs()
				b.SetBytes(int64(len(enc)))
				for b.Loop() {
					buf = c.fast(buf[:0])
				}
			})
			b.Run(c.name+"/"+sizeName(n)+"/fresh-buffer", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(enc)))
				for b.Loop() {
					_, _ = AppendMessage(nil, &c.m)
				}
			})
		}
	}
}

func BenchmarkParseMessage(b *testing.B) {
	for _, n := range benchSizes {
		for _, c := range benchMessages(benchBody(n)) {
			enc, _ := AppendMessage(nil, &c.m)
			b.Run(c.name+"/"+sizeName(n), func(b *testing.B) {
				var m Message
				b.ReportAllocs()
				b.SetBytes(int64(len(enc)))
				for b.Loop() {
					if err := ParseMessage(enc, &m); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// benchStream is about 64 KiB of DATA packages with n-byte bodies (at least 4 packages).
func benchStream(n int) (stream []byte, packages int) {
	packages = max(4, (64<<10)/(HeaderSize+n))
	body := benchBody(n)
	for range packages {
		stream, _ = AppendPacket(stream, TypeData, body)
	}
	return stream, packages
}

// naiveDecoder is the baseline: it accumulates input in a bytes.Buffer and copies every package
// into a new slice, as nano's codec.Decoder does.
type naiveDecoder struct{ buf bytes.Buffer }

func (d *naiveDecoder) decode(p []byte, f func(Packet)) {
	d.buf.Write(p)
	for d.buf.Len() >= HeaderSize {
		t, size, err := ParseHeader(d.buf.Bytes())
		if err != nil || d.buf.Len() < HeaderSize+size {
			return
		}
		d.buf.Next(HeaderSize)
		body := make([]byte, size)
		copy(body, d.buf.Next(size))
		f(Packet{Type: t, Body: body})
	}
}

// benchDecode runs one decoder over pieces per iteration and checks the package count.
func benchDecode(b *testing.B, pieces [][]byte, size, packages int, naive bool) {
	b.ReportAllocs()
	b.SetBytes(int64(packages * (HeaderSize + size)))
	var d Decoder
	var nd naiveDecoder
	count := 0
	onPacket := func(Packet) { count++ }
	for b.Loop() {
		for _, p := range pieces {
			if naive {
				nd.decode(p, onPacket)
				continue
			}
			d.Feed(p)
			for {
				pkt, err := d.Next()
				if err != nil {
					break
				}
				onPacket(pkt)
			}
		}
	}
	if count%packages != 0 || count == 0 {
		b.Fatalf("decoded %d packages, not a multiple of %d", count, packages)
	}
}

// BenchmarkDecoderWhole feeds about 64 KiB of whole packages at a time.
func BenchmarkDecoderWhole(b *testing.B) {
	for _, n := range benchSizes {
		stream, packages := benchStream(n)
		pieces := [][]byte{stream}
		b.Run(sizeName(n), func(b *testing.B) { benchDecode(b, pieces, n, packages, false) })
		b.Run(sizeName(n)+"/naive-copy", func(b *testing.B) { benchDecode(b, pieces, n, packages, true) })
	}
}

// BenchmarkDecoderStraddle feeds the same stream cut half way through every package, so that every
// package straddles two feeds and is copied.
func BenchmarkDecoderStraddle(b *testing.B) {
	for _, n := range benchSizes {
		stream, packages := benchStream(n)
		step := HeaderSize + n
		pieces := [][]byte{stream[:step/2]}
		for off := step / 2; off < len(stream); off += step {
			pieces = append(pieces, stream[off:min(off+step, len(stream))])
		}
		b.Run(sizeName(n), func(b *testing.B) { benchDecode(b, pieces, n, packages, false) })
		b.Run(sizeName(n)+"/naive-copy", func(b *testing.B) { benchDecode(b, pieces, n, packages, true) })
	}
}
