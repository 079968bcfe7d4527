package codec

import (
	"bytes"
	"math/rand"
	"testing"
)

// decodePieces drains d, then feeds pieces to it one after the other, draining Next until ErrNeedMore
// after each,
// and checks that the packages come out as want, in order, with nothing left over.
func decodePieces(t testing.TB, d *Decoder, pieces [][]byte, want []Packet, what ...any) {
	t.Helper()
	i := 0
	drain := func() {
		t.Helper()
		for {
			p, err := d.Next()
			if err == ErrNeedMore {
				return
			}
			requireNoError(t, err, label(what), "package", i)
			if i >= len(want) {
				t.Fatalf("%s: extra package %v", label(what), viewPacket(p))
			}
			requireEqual(t, p.Type, want[i].Type, label(what), "type of package", i)
			requireBytes(t, p.Body, want[i].Body, label(what), "body of package", i)
			i++
		}
	}
	drain() // whatever was fed before
	for _, piece := range pieces {
		d.Feed(piece)
		drain()
	}
	requireEqual(t, i, len(want), label(what), "packages decoded")
	requireEqual(t, d.Buffered(), 0, label(what), "bytes left buffered")
}

// starts returns the offset of each package in a stream of whole packages, and the stream length.
func starts(want []Packet) []int {
	offs := make([]int, 0, len(want)+1)
	off := 0
	for _, p := range want {
		offs = append(offs, off)
		off += HeaderSize + len(p.Body)
	}
	return append(offs, off)
}

func TestDecoderVectorsWhole(t *testing.T) {
	for _, s := range vectorStreams(t) {
		var d Decoder
		decodePieces(t, &d, [][]byte{s.wire}, s.want, s.name)
		_, err := d.Next()
		requireErrorIs(t, err, ErrNeedMore, "after the stream")
	}
}

// splitPoints lists every position of a stream of whole packages (offsets offs). With sparse set,
// positions deep inside a long body (more than 64 bytes from both its ends) are thinned to every
// 97th: there the decoder is in the same state whatever the position, copying the rest of one
// body, and TestDecoderVectorsBytewise still walks every one of them.
func splitPoints(offs []int, sparse bool) []int {
	var ks []int
	for i := 0; i+1 < len(offs); i++ {
		bodyStart, end := offs[i]+HeaderSize, offs[i+1]
		for k := offs[i]; k < end; k++ {
			deep := k > bodyStart+64 && k < end-64
			if !sparse || !deep || (k-bodyStart)%97 == 0 {
				ks = append(ks, k)
			}
		}
	}
	return append(ks, offs[len(offs)-1])
}

// Every two-piece split of every vector stream decodes to the same packages. Packages lying whole in
// one piece are returned in place (their body's first byte is the byte in the fed slice); a package
// cut by the split is copied (its body lies in neither piece).
//
// All positions take seconds because of the 70000-byte vector (a 70 KB copy per split); under the
// race detector or -short the positions deep inside that body are thinned (see splitPoints).
func TestDecoderVectorsEverySplit(t *testing.T) {
	for _, s := range vectorStreams(t) {
		offs := starts(s.want)
		requireEqual(t, offs[len(s.want)], len(s.wire), s.name, "stream length")
		var d Decoder
		for _, k := range splitPoints(offs, raceEnabled || testing.Short()) {
			d.Reset()
			a, b := s.wire[:k], s.wire[k:]
			i := 0
			check := func(p Packet) {
				t.Helper()
				start, end := offs[i], offs[i+1]
				want := s.want[i]
				if p.Type != want.Type || !bytes.Equal(p.Body, want.Body) {
					t.Fatalf("%s split %d: package %d: got %v, want %v", s.name, k, i, p.Type, want.Type)
				}
				if len(p.Body) > 0 {
					switch {
					case end <= k:
						requireEqual(t, &p.Body[0], &a[start+HeaderSize], s.name, "split", k, "package", i, "in place in the first piece")
					case start >= k:
						requireEqual(t, &p.Body[0], &b[start-k+HeaderSize], s.name, "split", k, "package", i, "in place in the second piece")
					default:
						requireEqual(t, within(p.Body, a) || within(p.Body, b), false, s.name, "split", k, "package", i, "straddling package copied")
					}
				}
				i++
			}
			for _, piece := range [][]byte{a, b} {
				d.Feed(piece)
				for {
					p, err := d.Next()
					if err == ErrNeedMore {
						break
					}
					requireNoError(t, err, s.name, "split", k)
					check(p)
				}
			}
			requireEqual(t, i, len(s.want), s.name, "split", k, "packages decoded")
			requireEqual(t, d.Buffered(), 0, s.name, "split", k, "left buffered")
		}
	}
}

func TestDecoderVectorsBytewise(t *testing.T) {
	for _, s := range vectorStreams(t) {
		pieces := make([][]byte, len(s.wire))
		for i := range s.wire {
			pieces[i] = s.wire[i : i+1]
		}
		var d Decoder
		decodePieces(t, &d, pieces, s.want, s.name, "1-byte pieces")
	}
}

// randomPieces cuts b at random points: mostly small pieces, sometimes large ones, sometimes empty.
func randomPieces(r *rand.Rand, b []byte) [][]byte {
	var pieces [][]byte
	for len(b) > 0 {
		var n int
		switch r.Intn(4) {
		case 0:
			n = r.Intn(8)
		case 1:
			n = 1 + r.Intn(64)
		case 2:
			n = 1 + r.Intn(1024)
		default:
			n = 1 + r.Intn(len(b))
		}
		n = min(n, len(b))
		pieces = append(pieces, b[:n])
		b = b[n:]
	}
	return pieces
}

func TestDecoderVectorsRandomPieces(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, s := range vectorStreams(t) {
		var d Decoder
		for trial := 0; trial < 200; trial++ {
			decodePieces(t, &d, randomPieces(r, s.wire), s.want, s.name, "trial", trial)
		}
	}
}

// decodeEarly is decodePieces where the next piece is sometimes fed before Next has said
// ErrNeedMore, while the decoder still holds unread input.
func decodeEarly(t testing.TB, r *rand.Rand, d *Decoder, pieces [][]byte, want []Packet, what ...any) {
	t.Helper()
	i, fed := 0, 0
	feed := func() { d.Feed(pieces[fed]); fed++ }
	for {
		if fed < len(pieces) && r.Intn(3) == 0 {
			feed()
		}
		p, err := d.Next()
		if err == ErrNeedMore {
			if fed == len(pieces) {
				break
			}
			feed()
			continue
		}
		requireNoError(t, err, label(what), "package", i)
		if i >= len(want) {
			t.Fatalf("%s: extra package", label(what))
		}
		requireEqual(t, p.Type, want[i].Type, label(what), "type of package", i)
		requireBytes(t, p.Body, want[i].Body, label(what), "body of package", i)
		i++
	}
	requireEqual(t, i, len(want), label(what), "packages decoded")
	requireEqual(t, d.Buffered(), 0, label(what), "left buffered")
}

func TestDecoderEarlyFeed(t *testing.T) {
	hb, ack := wire(`03 000000`), wire(`02 000000`)
	data := wire(`04 000007 '{"a":1}'`)
	kick := wire(`05 00000e '{"reason":"x"}'`)
	pkt := func(b []byte) Packet { p, _, _ := ParsePacket(b, 0); return p }

	t.Run("two whole packages unread, then another feed", func(t *testing.T) {
		var d Decoder
		d.Feed(cat(hb, hb))
		d.Feed(ack)
		decodePieces(t, &d, nil, []Packet{pkt(hb), pkt(hb), pkt(ack)})
	})
	t.Run("one package and a half unread", func(t *testing.T) {
		var d Decoder
		d.Feed(cat(hb, data[:5]))
		d.Feed(cat(data[5:], kick))
		decodePieces(t, &d, nil, []Packet{pkt(hb), pkt(data), pkt(kick)})
	})
	t.Run("feed after the first of several packages", func(t *testing.T) {
		var d Decoder
		d.Feed(cat(hb, data, kick[:3]))
		p, err := d.Next()
		requireNoError(t, err, "first")
		requireEqual(t, viewPacket(p), viewPacket(pkt(hb)), "first")
		d.Feed(kick[3:])
		decodePieces(t, &d, nil, []Packet{pkt(data), pkt(kick)})
	})
	t.Run("feed while a straddled package is out", func(t *testing.T) {
		var d Decoder
		d.Feed(data[:6])
		_, err := d.Next()
		requireErrorIs(t, err, ErrNeedMore, "first half")
		d.Feed(cat(data[6:], hb, kick[:9]))
		p, err := d.Next()
		requireNoError(t, err, "straddled")
		requireEqual(t, viewPacket(p), viewPacket(pkt(data)), "straddled")
		d.Feed(kick[9:]) // hb and the start of kick still unread
		decodePieces(t, &d, nil, []Packet{pkt(hb), pkt(kick)})
	})
	t.Run("feed before a header is complete", func(t *testing.T) {
		var d Decoder
		d.Feed(kick[:1])
		d.Feed(kick[1:2])
		d.Feed(nil)
		d.Feed(kick[2:])
		decodePieces(t, &d, nil, []Packet{pkt(kick)})
	})
	t.Run("random, vector streams", func(t *testing.T) {
		r := rand.New(rand.NewSource(3))
		for _, s := range vectorStreams(t) {
			var d Decoder
			for trial := 0; trial < 200; trial++ {
				decodeEarly(t, r, &d, randomPieces(r, s.wire), s.want, s.name, "trial", trial)
			}
		}
	})
}

func TestDecoderBigStraddleBufferDropped(t *testing.T) {
	pv := loadPackages(t)
	var big []byte
	for _, c := range pv.Cases {
		if len(c.Body) > keepPartialCap {
			big = c.Hex
		}
	}
	if big == nil {
		t.Fatal("no vector larger than keepPartialCap")
	}
	var d Decoder
	d.Feed(big[:100])
	_, err := d.Next()
	requireErrorIs(t, err, ErrNeedMore, "first part")
	requireEqual(t, cap(d.partial), len(big), "straddle buffer sized to the package at once")
	d.Feed(cat(big[100:], wire(`03 00`)))
	p, err := d.Next()
	requireNoError(t, err, "big package")
	requireEqual(t, len(p.Body), len(big)-HeaderSize, "body")
	_, err = d.Next()
	requireErrorIs(t, err, ErrNeedMore, "half a heartbeat")
	requireEqual(t, cap(d.partial) <= keepPartialCap, true, "big buffer dropped")

	// A small straddle buffer is kept for the next package.
	d.Feed(wire(`0000`))
	_, err = d.Next()
	requireNoError(t, err, "heartbeat")
	_, err = d.Next()
	requireErrorIs(t, err, ErrNeedMore, "end")
	requireEqual(t, cap(d.partial) > 0, true, "small buffer kept")
}

func TestDecoderMaxBodyRaisedAfterHandshake(t *testing.T) {
	pv := loadPackages(t)
	byName := map[string]packageVector{}
	for _, c := range pv.Cases {
		byName[c.Name] = c
	}
	hs, ack, big := byName["handshake request (js client)"], byName["handshake ack"], byName["data 70000 bytes"]
	if hs.Hex == nil || ack.Hex == nil || big.Hex == nil {
		t.Fatal("vectors missing")
	}
	const small = 128

	var d Decoder
	requireEqual(t, d.MaxBody(), MaxBodySize, "zero value")
	d.SetMaxBody(small)
	requireEqual(t, d.MaxBody(), small, "before the handshake")
	decodePieces(t, &d, [][]byte{cat(hs.Hex, ack.Hex)},
		[]Packet{{hs.Type, hs.Body}, {ack.Type, ack.Body}}, "handshake under the small limit")

	d.SetMaxBody(1 << 17)
	decodePieces(t, &d, [][]byte{big.Hex[:10], big.Hex[10:]}, []Packet{{big.Type, big.Body}}, "after raising")

	// The twin: without raising, the same package is refused on its header.
	var e Decoder
	e.SetMaxBody(small)
	e.Feed(big.Hex[:HeaderSize])
	_, err := e.Next()
	requireErrorIs(t, err, ErrBodyTooLarge, "big package under the small limit")

	for _, n := range []int{0, -5, MaxBodySize + 1} {
		d.SetMaxBody(n)
		requireEqual(t, d.MaxBody(), MaxBodySize, "SetMaxBody", n)
	}
}

func TestDecoderLimitCheckedOnHeader(t *testing.T) {
	const limit = 64
	header := func(n int) []byte { return []byte{byte(TypeData), byte(n >> 16), byte(n >> 8), byte(n)} }
	over := header(limit + 1)
	body := bytes.Repeat([]byte{'b'}, limit+1)

	newDecoder := func() *Decoder {
		d := new(Decoder)
		d.SetMaxBody(limit)
		return d
	}

	t.Run("header alone, one feed", func(t *testing.T) {
		d := newDecoder()
		d.Feed(over)
		_, err := d.Next()
		requireErrorIs(t, err, ErrBodyTooLarge, "header alone")
		requireEqual(t, d.Buffered() <= HeaderSize, true, "buffered")
	})
	t.Run("header byte by byte, then the body", func(t *testing.T) {
		d := newDecoder()
		for i := 0; i < HeaderSize-1; i++ {
			d.Feed(over[i : i+1])
			_, err := d.Next()
			requireErrorIs(t, err, ErrNeedMore, "header byte", i)
			requireEqual(t, d.Buffered(), i+1, "buffered after header byte", i)
		}
		d.Feed(over[HeaderSize-1:])
		_, err := d.Next()
		requireErrorIs(t, err, ErrBodyTooLarge, "last header byte")
		for i := range body {
			d.Feed(body[i : i+1])
			_, err := d.Next()
			requireErrorIs(t, err, ErrBodyTooLarge, "body byte", i)
			requireEqual(t, d.Buffered() <= HeaderSize, true, "buffered after body byte", i)
		}
	})
	t.Run("header and body in pieces of 5", func(t *testing.T) {
		d := newDecoder()
		in := cat(over, body)
		for i := 0; i < len(in); i += 5 {
			d.Feed(in[i:min(i+5, len(in))])
			_, err := d.Next()
			requireErrorIs(t, err, ErrBodyTooLarge, "piece at", i)
			requireEqual(t, d.Buffered() <= HeaderSize, true, "buffered after piece at", i)
		}
	})
	t.Run("after a good package in the same feed", func(t *testing.T) {
		d := newDecoder()
		d.Feed(cat(wire(`03 000000`), over, body))
		p, err := d.Next()
		requireNoError(t, err, "heartbeat")
		requireEqual(t, p.Type, TypeHeartbeat, "heartbeat")
		_, err = d.Next()
		requireErrorIs(t, err, ErrBodyTooLarge, "oversized")
	})
	t.Run("after a straddled package", func(t *testing.T) {
		d := newDecoder()
		d.Feed(wire(`05 000002 7b`))
		_, err := d.Next()
		requireErrorIs(t, err, ErrNeedMore, "half a kick")
		d.Feed(cat(wire(`7d`), over[:2]))
		_, err = d.Next()
		requireNoError(t, err, "kick")
		_, err = d.Next()
		requireErrorIs(t, err, ErrNeedMore, "half a header")
		d.Feed(over[2:])
		_, err = d.Next()
		requireErrorIs(t, err, ErrBodyTooLarge, "oversized header completed")
		requireEqual(t, d.Buffered() <= HeaderSize, true, "buffered")
	})
	t.Run("exactly the limit is accepted", func(t *testing.T) {
		d := newDecoder()
		ok := header(limit)
		d.Feed(ok)
		_, err := d.Next()
		requireErrorIs(t, err, ErrNeedMore, "header alone")
		requireEqual(t, d.Buffered(), HeaderSize, "buffered")
		for i := 0; i < limit-1; i++ {
			d.Feed(body[i : i+1])
			_, err := d.Next()
			requireErrorIs(t, err, ErrNeedMore, "body byte", i)
			requireEqual(t, d.Buffered(), HeaderSize+i+1, "buffered")
		}
		d.Feed(body[limit-1 : limit])
		p, err := d.Next()
		requireNoError(t, err, "last body byte")
		requireBytes(t, p.Body, body[:limit], "body")
	})
}

func TestDecoderStickyErrorAndReset(t *testing.T) {
	hb := wire(`03 000000`)
	var d Decoder
	d.SetMaxBody(1000)
	d.Feed(cat(hb, wire(`06 000000`), hb))
	p, err := d.Next()
	requireNoError(t, err, "first heartbeat")
	requireEqual(t, p.Type, TypeHeartbeat, "first heartbeat")
	for i := 0; i < 3; i++ {
		_, err = d.Next()
		requireErrorIs(t, err, ErrUnknownType, "type 6, call", i)
		requireEqual(t, d.Buffered(), 0, "nothing kept after the error")
	}
	d.Feed(hb)
	_, err = d.Next()
	requireErrorIs(t, err, ErrUnknownType, "feeding after the error changes nothing")
	requireEqual(t, d.Buffered(), 0, "fed bytes discarded after the error")

	d.Reset()
	requireEqual(t, d.MaxBody(), 1000, "Reset keeps the limit")
	decodePieces(t, &d, [][]byte{hb}, []Packet{{Type: TypeHeartbeat}}, "after Reset")

	// Reset in the middle of a package forgets it.
	d.Feed(wire(`04 000010 'abc'`))
	_, err = d.Next()
	requireErrorIs(t, err, ErrNeedMore, "half a package")
	requireEqual(t, d.Buffered(), 7, "buffered")
	d.Reset()
	requireEqual(t, d.Buffered(), 0, "after Reset")
	decodePieces(t, &d, [][]byte{hb[:2], hb[2:]}, []Packet{{Type: TypeHeartbeat}}, "after Reset mid-package")

	// Reset with unread input forgets it too.
	d.Feed(cat(hb, hb))
	_, _ = d.Next()
	d.Reset()
	requireEqual(t, d.Buffered(), 0, "after Reset with unread input")
	_, err = d.Next()
	requireErrorIs(t, err, ErrNeedMore, "nothing left")
}

func TestDecoderUnknownTypes(t *testing.T) {
	for _, typ := range []byte{0, 6, 255} {
		in := []byte{typ, 0, 0, 1, 'x'}
		for k := 0; k <= len(in); k++ {
			var d Decoder
			d.Feed(in[:k])
			_, err := d.Next()
			if k < HeaderSize {
				requireErrorIs(t, err, ErrNeedMore, "type", int(typ), "split", k)
				d.Feed(in[k:])
				_, err = d.Next()
			}
			requireErrorIs(t, err, ErrUnknownType, "type", int(typ), "split", k)
		}
	}
}

// randomPackets draws a sequence of packages of every type, mostly small, sometimes large.
func randomPackets(r *rand.Rand) []Packet {
	ps := make([]Packet, 1+r.Intn(20))
	for i := range ps {
		n := r.Intn(40)
		switch r.Intn(10) {
		case 0:
			n = 0
		case 1:
			n = r.Intn(9000)
		}
		ps[i] = Packet{Type: Type(1 + r.Intn(5)), Body: make([]byte, n)}
		r.Read(ps[i].Body)
	}
	return ps
}

func TestDecoderRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	var d, e Decoder
	for i := 0; i < iterations; i++ {
		want := randomPackets(r)
		var stream []byte
		for _, p := range want {
			var err error
			stream, err = AppendPacket(stream, p.Type, p.Body)
			requireNoError(t, err, "AppendPacket")
		}
		pieces := randomPieces(r, stream)
		decodePieces(t, &d, pieces, want, "iteration", i)
		decodeEarly(t, r, &e, pieces, want, "iteration", i, "early feeds")
	}
}
