package ws

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func requireNoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func requireErrorIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func requireEqual[T comparable](t testing.TB, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func requireBytes(t testing.TB, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("bytes differ\n got % x\nwant % x", got, want)
	}
}

// bits turns a string of 0s and 1s into bytes, most significant bit first.
// Spaces only separate fields for the reader: bits("1 000 0001") is 0x81.
func bits(s string) []byte {
	s = strings.ReplaceAll(s, " ", "")
	if len(s)%8 != 0 {
		panic("bits: length not a multiple of 8: " + s)
	}
	out := make([]byte, len(s)/8)
	for i := range len(s) {
		switch s[i] {
		case '1':
			out[i/8] |= 0x80 >> (i % 8)
		case '0':
		default:
			panic("bits: bad character in " + s)
		}
	}
	return out
}

// cat concatenates byte slices into a new slice.
func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// readTestdata returns the contents of the files matching pattern under
// testdata/, keyed by base name.
func readTestdata(t testing.TB, pattern string) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", pattern))
	requireNoError(t, err)
	if len(names) == 0 {
		t.Fatalf("no testdata matches %s", pattern)
	}
	out := make(map[string][]byte, len(names))
	for _, name := range names {
		b, err := os.ReadFile(name)
		requireNoError(t, err)
		out[filepath.Base(name)] = b
	}
	return out
}

// conn plays the part of a connection's read loop over this package: it
// buffers what arrives, parses whole frames in place (header, then payload
// once all of it is there), unmasks and assembles them, exactly as the
// hybrid connector does over its read buffer.
type conn struct {
	cfg  Config
	asm  Assembler
	buf  []byte
	msgs []Message // payloads copied: the originals die with the next frame
	err  error

	onHeader func(h Header, wire []byte) // optional: every accepted header and its bytes
}

func newConn(cfg Config) *conn {
	c := &conn{cfg: cfg}
	c.asm.Reset(&c.cfg)
	return c
}

// feed appends p to the input and consumes every whole frame.
func (c *conn) feed(t testing.TB, p []byte) {
	t.Helper()
	c.buf = append(c.buf, p...)
	for c.err == nil {
		h, n, err := c.cfg.ParseHeader(c.buf)
		if err == ErrShortBuffer {
			if n <= len(c.buf) || n > MaxFrameHeaderSize {
				t.Fatalf("ErrShortBuffer with n=%d for %d buffered bytes", n, len(c.buf))
			}
			return
		}
		if err != nil {
			c.err = err
			return
		}
		if err := c.asm.CheckHeader(h); err != nil {
			c.err = err
			return
		}
		if len(c.buf)-n < h.Length {
			return
		}
		if c.onHeader != nil {
			c.onHeader(h, c.buf[:n])
		}
		payload := c.buf[n : n+h.Length]
		if h.Masked {
			Unmask(h.Mask, 0, payload)
		}
		m, ok, err := c.asm.Push(h, payload)
		if err != nil {
			c.err = err
			return
		}
		if ok {
			c.msgs = append(c.msgs, Message{Op: m.Op, Payload: bytes.Clone(m.Payload)})
		}
		c.buf = c.buf[n+h.Length:]
	}
}
