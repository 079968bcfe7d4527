package ws

import (
	"errors"
	"io"
	"strconv"
	"sync"

	"github.com/klauspost/compress/flate"
)

// permessage-deflate (RFC 7692), in the one form this package negotiates: no context takeover
// in either direction. Each message is compressed and decompressed on its own, so a connection
// keeps no compression state between messages; the compressors and decompressors are pooled
// and shared by all connections. That form is what gorilla/websocket negotiates too, and every
// browser and the Node ws client accept it.

// DeflateExtension is the Sec-WebSocket-Extensions value of a 101 response that accepts a
// permessage-deflate offer (see UpgradeRequest.Deflate).
const DeflateExtension = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// Errors of Inflate.
var (
	ErrBadDeflate error = ProtocolError{StatusInvalidPayloadData, "ws: compressed message is not valid DEFLATE data"}
)

// deflateOK reports whether the Sec-WebSocket-Extensions value v holds a permessage-deflate
// offer that DeflateExtension answers (RFC 7692 §5, §7.1): valid parameters (parseDeflateParams)
// and no server_max_window_bits below 15 (our compressor's window is 32 KB; such an offer is
// declined). Other extensions in v are ignored.
func deflateOK(v []byte) bool {
	for len(v) > 0 {
		var ext []byte
		ext, v = cutByte(v, ',')
		name, params := cutByte(ext, ';')
		if !equalFoldASCII(trimOWS(name), "permessage-deflate") {
			continue
		}
		if d, ok := parseDeflateParams(params); ok && (d.serverBits == 0 || d.serverBits == 15) {
			return true
		}
	}
	return false
}

// deflateParams are the parameters of one permessage-deflate offer or response.
type deflateParams struct {
	serverNoContext, clientNoContext bool
	serverBits, clientBits           int // 0: absent; -1: client_max_window_bits without a value
}

// parseDeflateParams parses the parameters after "permessage-deflate" (RFC 7692 §7): known
// names, each at most once; no value on the no_context_takeover ones; window bits 8 to 15,
// quoted or not, required on server_max_window_bits and optional on client_max_window_bits.
func parseDeflateParams(params []byte) (d deflateParams, ok bool) {
	var seen [4]bool
	for len(params) > 0 {
		var p []byte
		p, params = cutByte(params, ';')
		key, val, hasVal := cutByteFound(p, '=')
		key, val = trimOWS(key), trimOWS(val)
		if hasVal && len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		var i int
		switch {
		case equalFoldASCII(key, "server_no_context_takeover") && !hasVal:
			i, d.serverNoContext = 0, true
		case equalFoldASCII(key, "client_no_context_takeover") && !hasVal:
			i, d.clientNoContext = 1, true
		case equalFoldASCII(key, "server_max_window_bits") && hasVal:
			i = 2
			if d.serverBits, ok = windowBits(val); !ok {
				return d, false
			}
		case equalFoldASCII(key, "client_max_window_bits"):
			i, d.clientBits = 3, -1
			if hasVal {
				if d.clientBits, ok = windowBits(val); !ok {
					return d, false
				}
			}
		default:
			return d, false
		}
		if seen[i] {
			return d, false
		}
		seen[i] = true
	}
	return d, true
}

// windowBits parses a window size parameter: 8 to 15, in decimal without leading zeros.
func windowBits(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 2 || v[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(string(v))
	return n, err == nil && n >= 8 && n <= 15
}

func cutByte(b []byte, sep byte) (before, after []byte) {
	before, after, _ = cutByteFound(b, sep)
	return before, after
}

func cutByteFound(b []byte, sep byte) (before, after []byte, found bool) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}

// deflateTail ends a message's compressed data for the decompressor: the 4 bytes of the empty
// stored block that the sender removed (RFC 7692 §7.2.2), then an empty final stored block, so
// that the stream ends cleanly (io.EOF) instead of running out.
var deflateTail = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflateSource feeds a message's payload, then deflateTail, to a decompressor. It is an
// io.ByteReader, so that the decompressor reads from it directly, without a bufio.Reader.
type inflateSource struct {
	p    []byte
	tail []byte
}

func (s *inflateSource) Read(b []byte) (int, error) {
	if len(s.p) == 0 {
		s.p, s.tail = s.tail, nil
		if len(s.p) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(b, s.p)
	s.p = s.p[n:]
	return n, nil
}

func (s *inflateSource) ReadByte() (byte, error) {
	if len(s.p) == 0 {
		s.p, s.tail = s.tail, nil
		if len(s.p) == 0 {
			return 0, io.EOF
		}
	}
	c := s.p[0]
	s.p = s.p[1:]
	return c, nil
}

type inflater struct {
	src   inflateSource
	r     io.ReadCloser // a flate decompressor reading src
	probe [1]byte       // for the byte after the limit
}

var inflaters = sync.Pool{New: func() any {
	f := new(inflater)
	f.r = flate.NewReader(&f.src)
	return f
}}

// Inflate appends the decompressed form of a permessage-deflate message's payload (the
// message's frames joined, RSV1 set on the first) to dst and returns the extended slice. More
// than limit bytes of output is ErrMessageTooBig, found without producing more than limit+1
// bytes, so a small message that inflates to a huge one costs no more than limit (limit 0 or
// less allows only an empty message); data that is
// not DEFLATE is ErrBadDeflate. Both are ProtocolErrors whose status code closes the
// connection (1009, 1007). Safe for concurrent use; it allocates only to grow dst.
func Inflate(dst, payload []byte, limit int) ([]byte, error) {
	f := inflaters.Get().(*inflater)
	defer func() {
		f.src = inflateSource{} // no reference to payload stays in the pool
		inflaters.Put(f)
	}()
	f.src = inflateSource{p: payload, tail: deflateTail[:]}
	if err := f.r.(flate.Resetter).Reset(&f.src, nil); err != nil {
		return dst, ErrBadDeflate
	}
	limit = max(limit, 0)
	start := len(dst)
	for {
		// At the limit the message must end: read into the probe, where one more byte is too many.
		atLimit := len(dst)-start == limit
		buf := f.probe[:]
		if !atLimit {
			if len(dst) == cap(dst) {
				dst = append(dst, 0)[:len(dst)] // grow
			}
			buf = dst[len(dst):min(cap(dst), start+limit)]
		}
		n, err := f.r.Read(buf)
		if atLimit && n > 0 {
			return dst[:start], ErrMessageTooBig
		}
		if !atLimit {
			dst = dst[:len(dst)+n]
		}
		switch {
		case err == io.EOF:
			return dst, nil
		case err != nil:
			return dst[:start], ErrBadDeflate
		}
	}
}

// deflateBuffer collects a compressor's output.
type deflateBuffer struct{ b []byte }

func (w *deflateBuffer) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

var deflateBuffers = sync.Pool{New: func() any { return new(deflateBuffer) }}

// errDeflate: the compressor failed; it writes to memory, so this does not happen.
var errDeflate = errors.New("ws: deflate failed")

// Deflate appends payload compressed as one permessage-deflate message (without the final 4
// bytes of the sync flush, RFC 7692 §7.2.1) to dst and returns the extended slice. The frame
// that carries it has RSV1 set (AppendCompressedFrameHeader). Safe for concurrent use; it
// allocates only to grow dst.
func Deflate(dst, payload []byte) ([]byte, error) {
	w := deflateBuffers.Get().(*deflateBuffer)
	w.b = dst
	err := flate.StatelessDeflate(w, payload, false, nil)
	dst, w.b = w.b, nil
	deflateBuffers.Put(w)
	if err != nil {
		return dst, errDeflate
	}
	if n := len(dst); n >= 4 && dst[n-4] == 0 && dst[n-3] == 0 && dst[n-2] == 0xff && dst[n-1] == 0xff {
		dst = dst[:n-4]
	}
	return dst, nil
}
