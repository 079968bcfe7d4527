package rpc

import "errors"

// ErrNeedMore is returned by FrameDecoder.Next when the input fed so far holds no further whole
// frame. It is not a protocol error: feed more bytes and call Next again.
var ErrNeedMore = errors.New("rpc: need more input")

// keepPartialCap is the largest straddle buffer a FrameDecoder keeps between frames; a larger one
// (left behind by a big frame) is dropped once that frame has been returned. Under load most
// reads end inside a frame, so the buffer is kept large enough for typical frames: a server has
// one decoder per peer server, not per player.
const keepPartialCap = 64 << 10

// FrameDecoder reassembles frames from a byte stream that arrives in pieces of any size: several
// frames per read, or one frame over many reads. A frame lying whole inside one fed slice is
// returned without copying; only a frame that straddles two feeds is copied, into a buffer the
// decoder owns. The size limit is checked on each header before any byte of its body is copied.
//
// The zero value is ready to use with DefaultMaxFrame. A FrameDecoder is not safe for concurrent
// use; it belongs to the goroutine that reads the connection.
//
// After a protocol error the stream cannot be resynchronised: the decoder drops what it holds,
// Feed discards its input and Next keeps returning that error until Reset.
type FrameDecoder struct {
	max     int    // size limit; 0 means DefaultMaxFrame
	in      []byte // unread rest of the last fed slice (borrowed)
	partial []byte // bytes copied out of earlier feeds (owned); partial[:off] was returned
	off     int    // start of the unread bytes in partial
	err     error  // sticky protocol error
}

// SetMaxFrame sets the frame size limit (the length field's largest accepted value); n <= 0
// means DefaultMaxFrame. It applies to headers parsed from now on.
func (d *FrameDecoder) SetMaxFrame(n int) { d.max = n }

// Buffered reports how many bytes are held but not yet returned as frames.
func (d *FrameDecoder) Buffered() int { return len(d.in) + len(d.partial) - d.off }

// Feed hands the decoder the next piece of the stream. p is borrowed: it must stay unmodified
// until Next has returned ErrNeedMore (everything in it consumed or copied). Feeding before that
// is allowed but copies the unconsumed rest. After a protocol error Feed discards p.
func (d *FrameDecoder) Feed(p []byte) {
	if d.err != nil {
		return
	}
	if len(d.in) > 0 {
		d.compact()
		d.partial = append(d.partial, d.in...)
	}
	d.in = p
}

// Next returns the next whole frame. Its payload is valid until the next call to Next or Feed
// (a frame that lay whole inside one fed slice aliases that slice, and stays valid as long as the
// slice does). ErrNeedMore means the input is exhausted; any other error is a protocol error.
func (d *FrameDecoder) Next() (Frame, error) {
	if d.err != nil {
		return Frame{}, d.err
	}
	if d.off == len(d.partial) {
		d.clearPartial()
		return d.fromInput()
	}
	return d.fromPartial()
}

// fromInput returns a frame lying whole in d.in, or stashes the incomplete rest of d.in.
func (d *FrameDecoder) fromInput() (Frame, error) {
	k, n, err := ParseFrameHeader(d.in, d.max)
	if err == ErrShortFrame {
		d.stash(FrameHeaderSize)
		return Frame{}, ErrNeedMore
	}
	if err != nil {
		return Frame{}, d.fail(err)
	}
	if len(d.in) < n {
		d.stash(n)
		return Frame{}, ErrNeedMore
	}
	f, err := parseBody(k, d.in[FrameHeaderSize:n:n])
	if err != nil {
		return Frame{}, d.fail(err)
	}
	d.in = d.in[n:]
	return f, nil
}

// fromPartial returns the frame starting at d.partial[d.off:], completing it from d.in.
func (d *FrameDecoder) fromPartial() (Frame, error) {
	if len(d.partial)-d.off < FrameHeaderSize {
		d.compact()
		d.take(FrameHeaderSize - len(d.partial))
		if len(d.partial) < FrameHeaderSize {
			return Frame{}, ErrNeedMore
		}
	}
	k, n, err := ParseFrameHeader(d.partial[d.off:], d.max)
	if err != nil {
		return Frame{}, d.fail(err)
	}
	if len(d.partial)-d.off < n {
		d.compact()
		d.reserve(n)
		d.take(n - len(d.partial))
		if len(d.partial) < n {
			return Frame{}, ErrNeedMore
		}
	}
	start := d.off
	f, err := parseBody(k, d.partial[start+FrameHeaderSize:start+n:start+n])
	if err != nil {
		return Frame{}, d.fail(err)
	}
	d.off += n
	return f, nil
}

// stash moves all of d.in into the empty straddle buffer, with room for n bytes.
func (d *FrameDecoder) stash(n int) {
	if len(d.in) == 0 {
		return
	}
	d.reserve(n)
	d.partial = append(d.partial, d.in...)
	d.in = nil
}

// reserve makes the capacity of d.partial at least n, keeping its contents.
func (d *FrameDecoder) reserve(n int) {
	if cap(d.partial) < n {
		grown := make([]byte, len(d.partial), n)
		copy(grown, d.partial)
		d.partial = grown
	}
}

// take moves up to n bytes from the front of d.in to the end of d.partial.
func (d *FrameDecoder) take(n int) {
	n = min(n, len(d.in))
	d.partial = append(d.partial, d.in[:n]...)
	d.in = d.in[n:]
}

// compact drops the already returned bytes from the front of d.partial.
func (d *FrameDecoder) compact() {
	if d.off > 0 {
		n := copy(d.partial, d.partial[d.off:])
		d.partial, d.off = d.partial[:n], 0
	}
}

// clearPartial empties the straddle buffer, dropping it if a big frame made it grow.
func (d *FrameDecoder) clearPartial() {
	d.off = 0
	if cap(d.partial) > keepPartialCap {
		d.partial = nil
		return
	}
	d.partial = d.partial[:0]
}

// fail makes err sticky and drops everything buffered.
func (d *FrameDecoder) fail(err error) error {
	d.err, d.in, d.partial, d.off = err, nil, nil, 0
	return err
}

// Reset discards all buffered input and any sticky error, keeping the size limit.
func (d *FrameDecoder) Reset() {
	d.in, d.err = nil, nil
	d.clearPartial()
}
