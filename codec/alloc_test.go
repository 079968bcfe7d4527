//go:build !race

package codec

import (
	"bytes"
	"testing"
)

// Allocation budgets (style practice 4): every hot path of the codec allocates nothing in steady
// state. Each case also checks its result, so that a case that stopped doing its work fails too.

// sliceTable is a RouteTable that hands out stored bytes, as dict.Table does.
type sliceTable [][]byte

func (s *sliceTable) RouteBytes(code uint16) ([]byte, bool) {
	if int(code) >= len(*s) || (*s)[code] == nil {
		return nil, false
	}
	return (*s)[code], true
}

func requireNoAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	if allocs := testing.AllocsPerRun(200, f); allocs != 0 {
		t.Fatalf("%s: %v allocations per run, want 0", name, allocs)
	}
}

func TestAllocEncoders(t *testing.T) {
	body := bytes.Repeat([]byte{'x'}, 300)
	route := "connector.entryHandler.entry"
	buf := make([]byte, 0, 1024)
	var err error
	check := func(name string, want []byte) {
		t.Helper()
		requireNoError(t, err, name)
		requireBytes(t, buf, want, name)
	}

	requireNoAllocs(t, "AppendPacket", func() { buf, err = AppendPacket(buf[:0], TypeData, body) })
	check("AppendPacket", cat(wire(`04 00012c`), body))

	requireNoAllocs(t, "AppendHeader", func() { buf, err = AppendHeader(buf[:0], TypeKick, 17) })
	check("AppendHeader", wire(`05 000011`))

	requireNoAllocs(t, "BeginPacket+AppendResponse+EndPacket", func() {
		var at int
		buf, at = BeginPacket(buf[:0], TypeData)
		buf = AppendResponse(buf, 1, body)
		err = EndPacket(buf, at)
	})
	check("BeginPacket+AppendResponse+EndPacket", cat(wire(`04 00012e 04 01`), body))

	req := Message{Type: Request, ID: 300, Route: []byte(route), Body: body}
	requireNoAllocs(t, "AppendMessage request", func() { buf, err = AppendMessage(buf[:0], &req) })
	check("AppendMessage request", cat(wire(`00 ac02 1c`), []byte(route), body))

	push := Message{Type: Push, Compressed: true, Code: 3, Body: body}
	requireNoAllocs(t, "AppendMessage push code", func() { buf, err = AppendMessage(buf[:0], &push) })
	check("AppendMessage push code", cat(wire(`07 0003`), body))

	resp := Message{Type: Response, ID: 1<<32 - 1, Body: body}
	requireNoAllocs(t, "AppendMessage response", func() { buf, err = AppendMessage(buf[:0], &resp) })
	check("AppendMessage response", cat(wire(`04 ffffffff0f`), body))

	requireNoAllocs(t, "AppendResponse", func() { buf = AppendResponse(buf[:0], 128, body) })
	check("AppendResponse", cat(wire(`04 8001`), body))

	requireNoAllocs(t, "AppendPushCode", func() { buf = AppendPushCode(buf[:0], 513, body) })
	check("AppendPushCode", cat(wire(`07 0201`), body))

	requireNoAllocs(t, "AppendPush", func() { buf, err = AppendPush(buf[:0], "onChat", body) })
	check("AppendPush", cat(wire(`06 06 'onChat'`), body))

	requireNoAllocs(t, "AppendRequest", func() { buf, err = AppendRequest(buf[:0], 1, route, body) })
	check("AppendRequest", cat(wire(`00 01 1c`), []byte(route), body))

	requireNoAllocs(t, "AppendRequestCode", func() { buf = AppendRequestCode(buf[:0], 0, 1, body) })
	check("AppendRequestCode", cat(wire(`03 0001`), body))
}

func TestAllocParsers(t *testing.T) {
	msgs := loadMessages(t)
	var m Message
	n := 0
	requireNoAllocs(t, "ParseMessage", func() {
		n = 0
		for i := range msgs {
			if ParseMessage(msgs[i].Hex, &m) == nil {
				n++
			}
		}
	})
	requireEqual(t, n, len(msgs), "messages parsed")

	table := sliceTable(make([][]byte, 514))
	table[513] = []byte("chat.chatHandler.send")
	compressed := wire(`03 0201 '{}'`)
	requireNoAllocs(t, "ParseMessage+ResolveRoute", func() {
		if ParseMessage(compressed, &m) != nil || m.ResolveRoute(&table) != nil {
			n = -1
		}
	})
	requireEqual(t, n, len(msgs), "ParseMessage+ResolveRoute succeeded")
	requireEqual(t, string(m.Route), "chat.chatHandler.send", "resolved route")

	pv := loadPackages(t)
	size := 0
	requireNoAllocs(t, "ParseHeader", func() {
		size = 0
		for i := range pv.Cases {
			_, l, err := ParseHeader(pv.Cases[i].Hex)
			if err == nil {
				size += l
			}
		}
	})
	requireEqual(t, size, totalBody(pv), "body bytes announced")

	requireNoAllocs(t, "ParsePacket", func() {
		size = 0
		for i := range pv.Cases {
			p, _, err := ParsePacket(pv.Cases[i].Hex, 0)
			if err == nil {
				size += len(p.Body)
			}
		}
	})
	requireEqual(t, size, totalBody(pv), "body bytes parsed")
}

func totalBody(pv packageVectors) int {
	n := 0
	for _, c := range pv.Cases {
		n += len(c.Body)
	}
	return n
}

// smallStream is every vector stream package no larger than keepPartialCap, back to back.
func smallStream(t *testing.T) (stream []byte, packages, bodyBytes int) {
	for _, s := range vectorStreams(t) {
		for _, p := range s.want {
			if HeaderSize+len(p.Body) > keepPartialCap {
				continue
			}
			var err error
			stream, err = AppendPacket(stream, p.Type, p.Body)
			requireNoError(t, err, "AppendPacket")
			packages++
			bodyBytes += len(p.Body)
		}
	}
	return stream, packages, bodyBytes
}

func TestAllocDecoderWhole(t *testing.T) {
	stream, packages, bodyBytes := smallStream(t)
	var d Decoder
	gotPackages, gotBytes := 0, 0
	requireNoAllocs(t, "Decoder, whole packages", func() {
		gotPackages, gotBytes = 0, 0
		d.Feed(stream)
		for {
			p, err := d.Next()
			if err != nil {
				break
			}
			gotPackages++
			gotBytes += len(p.Body)
		}
	})
	requireEqual(t, gotPackages, packages, "packages")
	requireEqual(t, gotBytes, bodyBytes, "body bytes")
}

// Packages cut across feeds are copied into the decoder's straddle buffer; once that buffer has
// grown to the largest of them (the warm-up run of AllocsPerRun), decoding allocates nothing.
func TestAllocDecoderStraddle(t *testing.T) {
	stream, packages, bodyBytes := smallStream(t)
	for _, piece := range []int{1, 3, 7, 100, 1000} {
		var pieces [][]byte
		for b := stream; len(b) > 0; {
			n := min(piece, len(b))
			pieces, b = append(pieces, b[:n]), b[n:]
		}
		var d Decoder
		gotPackages, gotBytes := 0, 0
		requireNoAllocs(t, "Decoder, straddling packages", func() {
			gotPackages, gotBytes = 0, 0
			for _, p := range pieces {
				d.Feed(p)
				for {
					p, err := d.Next()
					if err != nil {
						break
					}
					gotPackages++
					gotBytes += len(p.Body)
				}
			}
		})
		requireEqual(t, gotPackages, packages, "packages, pieces of", piece)
		requireEqual(t, gotBytes, bodyBytes, "body bytes, pieces of", piece)
	}
}
