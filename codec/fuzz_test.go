package codec

import (
	"errors"
	"testing"
)

// Fuzz targets (style practice 7), seeded from the vectors in testdata/ produced by the published
// pomelo-protocol library. Run each with
//
//	go test -run x -fuzz FuzzDecoder -fuzztime 30s ./codec/
//	go test -run x -fuzz FuzzParseMessage -fuzztime 30s ./codec/

// decoded is what a run of the Decoder produced: the packages (copied) and where it stopped.
type decoded struct {
	packets  []pktView
	err      error // ErrNeedMore or the protocol error
	buffered int   // Decoder.Buffered() at the end
}

// decodeFeeds drains a new Decoder after each feed and records everything it returns. With early
// set, each feed but the last is followed by one call to Next only, so that the next piece arrives
// while the decoder still holds unread input; with prefed set, all feeds happen before any Next.
func decodeFeeds(maxBody int, feeds [][]byte, mode feedMode) decoded {
	var d Decoder
	d.SetMaxBody(maxBody)
	var out decoded
	next := func() bool {
		p, err := d.Next()
		if err != nil {
			out.err = err
			return false
		}
		out.packets = append(out.packets, viewPacket(p))
		return true
	}
	for i, f := range feeds {
		d.Feed(f)
		switch {
		case mode == prefed:
		case mode == early && i+1 < len(feeds):
			if !next() && out.err != ErrNeedMore {
				return finish(&d, out)
			}
			out.err = nil
		default:
			for next() {
			}
			if out.err != ErrNeedMore {
				return finish(&d, out)
			}
		}
	}
	for next() {
	}
	return finish(&d, out)
}

type feedMode int

const (
	drained feedMode = iota // Next until ErrNeedMore after each feed
	early                   // one Next between feeds
	prefed                  // every feed before the first Next
)

func finish(d *Decoder, out decoded) decoded {
	out.buffered = d.Buffered()
	return out
}

func requireSameDecode(t *testing.T, got, want decoded, what string) {
	t.Helper()
	requireEqual(t, len(got.packets), len(want.packets), what, "package count")
	for i := range got.packets {
		requireEqual(t, got.packets[i], want.packets[i], what, "package", i)
	}
	requireEqual(t, got.err, want.err, what, "error")
	requireEqual(t, got.buffered, want.buffered, what, "buffered")
}

func FuzzDecoder(f *testing.F) {
	pv := loadPackages(f)
	for _, c := range pv.Cases {
		f.Add([]byte(c.Hex), uint(len(c.Hex)/2), uint16(0))
		f.Add([]byte(c.Hex), uint(2), uint16(len(c.Body))) // limit exactly the body
	}
	for _, s := range vectorStreams(f) {
		f.Add(s.wire, uint(HeaderSize+1), uint16(0))
		f.Add(s.wire, uint(len(s.wire)-1), uint16(300))
	}
	f.Add(wire(`03 000000 06 000000`), uint(4), uint16(0))   // unknown type after a package
	f.Add(wire(`04 000065 'abc'`), uint(2), uint16(100))     // limit+1 announced
	f.Add(wire(`04 0000`), uint(1), uint16(0))               // short header
	f.Add(wire(`05 000011 '{"reason"'`), uint(9), uint16(0)) // short body

	f.Fuzz(func(t *testing.T, data []byte, k uint, limit uint16) {
		// A limit of 0 stands for 128 KiB rather than MaxBodySize, to keep the fuzzer from
		// spending its time allocating 16 MiB straddle buffers.
		maxBody := int(limit)
		if maxBody == 0 {
			maxBody = 1 << 17
		}
		k = k % uint(len(data)+1)

		whole := decodeFeeds(maxBody, [][]byte{data}, drained)
		if whole.err != ErrNeedMore && whole.err != ErrUnknownType && whole.err != ErrBodyTooLarge {
			t.Fatalf("unexpected error %v", whole.err)
		}
		if whole.err != ErrNeedMore {
			requireEqual(t, whole.buffered, 0, "buffered after a protocol error")
		}

		// The same packages and error however the bytes arrive.
		split := [][]byte{data[:k], data[k:]}
		requireSameDecode(t, decodeFeeds(maxBody, split, drained), whole, "split")
		requireSameDecode(t, decodeFeeds(maxBody, split, early), whole, "split, early feed")
		requireSameDecode(t, decodeFeeds(maxBody, split, prefed), whole, "split, both fed before Next")

		// ParsePacket agrees, and every package re-encodes to the bytes it came from.
		off := 0
		for _, p := range whole.packets {
			q, n, err := ParsePacket(data[off:], maxBody)
			requireNoError(t, err, "ParsePacket at", off)
			requireEqual(t, viewPacket(q), p, "ParsePacket at", off)
			enc, err := AppendPacket(nil, p.Type, []byte(p.Body))
			requireNoError(t, err, "AppendPacket")
			requireBytes(t, enc, data[off:off+n], "re-encoded package at", off)
			off += n
		}
		_, _, err := ParsePacket(data[off:], maxBody)
		switch whole.err {
		case ErrNeedMore:
			if err != ErrShortHeader && err != ErrShortBody {
				t.Fatalf("decoder wants more, ParsePacket says %v", err)
			}
			requireEqual(t, whole.buffered, len(data)-off, "buffered tail")
		default:
			requireEqual(t, err, whole.err, "ParsePacket error")
		}
	})
}

var messageErrors = []error{
	ErrEmptyMessage, ErrReservedFlag, ErrUnknownMessageType, ErrShortMessage, ErrIDOverflow,
}

// canonicalMessage is the form in which pomelo-protocol writes the message in b (which parsed
// without error): G never set, R never set on a response, the id in its shortest varint.
func canonicalMessage(b []byte, id uint32) []byte {
	flag := b[0] &^ flagGzip
	typ := MessageType(flag >> 1 & 7)
	if typ == Response {
		flag &^= flagCompressed
	}
	out := []byte{flag}
	rest := b[1:]
	if typ.HasID() {
		n := 0
		for rest[n] >= 0x80 {
			n++
		}
		n++ // the varint is rest[:n]
		if n == 1 || rest[n-1] != 0 {
			out = append(out, rest[:n]...) // already the shortest form
		} else {
			out = AppendID(out, id)
		}
		rest = rest[n:]
	}
	return append(out, rest...)
}

func FuzzParseMessage(f *testing.F) {
	for _, v := range loadMessages(f) {
		f.Add([]byte(v.Hex))
	}
	for _, c := range messageCases {
		f.Add(c.wire)
	}
	for _, c := range lenientCases {
		f.Add(c.wire)
	}
	f.Add(wire(`04 8080808010`))   // id 2^32
	f.Add(wire(`04 808080808000`)) // 6-byte id
	f.Add(wire(`0b000_0_111_0`))   // type 7
	f.Add(wire(`0b001_0_000_0`))   // reserved bit

	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		err := ParseMessage(data, &m)
		if err != nil {
			known := false
			for _, e := range messageErrors {
				known = known || errors.Is(err, e)
			}
			if !known {
				t.Fatalf("undefined error %v", err)
			}
			return
		}
		if len(m.Body) > 0 {
			requireEqual(t, &m.Body[0], &data[len(data)-len(m.Body)], "body aliases the input")
		}

		enc, err := AppendMessage(nil, &m)
		requireNoError(t, err, "AppendMessage of a parsed message")
		if data[0]&flagGzip == 0 && !(m.Type == Response && data[0]&flagCompressed != 0) && !overlongID(data, m.Type) {
			requireBytes(t, enc, data, "re-encoded")
		}
		requireBytes(t, enc, canonicalMessage(data, m.ID), "re-encoded, canonical form")

		var again Message
		requireNoError(t, ParseMessage(enc, &again), "re-parse")
		m.Gzip = false
		requireEqual(t, viewMessage(&again), viewMessage(&m), "re-parsed")

		if !raceEnabled {
			allocs := testing.AllocsPerRun(5, func() { _ = ParseMessage(data, &again) })
			requireEqual(t, allocs, 0.0, "allocations re-decoding")
		}
	})
}

// overlongID reports whether the id varint of a parsed message is longer than needed.
func overlongID(b []byte, t MessageType) bool {
	if !t.HasID() {
		return false
	}
	n := 1
	for b[n] >= 0x80 {
		n++
	}
	return n > 1 && b[n] == 0
}
