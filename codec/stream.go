package codec

import "errors"

// ErrNeedMore is returned by Decoder.Next when the input fed so far holds no further whole package.
// It is not a protocol error: feed more bytes and call Next again.
var ErrNeedMore = errors.New("codec: need more input")

// keepPartialCap is the largest straddle buffer the decoder keeps between packages; a larger one
// (left behind by a big package) is dropped once that package has been returned.
const keepPartialCap = 4<<10 + HeaderSize // a 4 KiB body and its header still fit

// Decoder reassembles packages from a byte stream that arrives in pieces of any size: several
// packages per read, or one package over many reads. Whole packages inside one fed slice are
// returned without copying; only a package that straddles two feeds is copied, into a buffer the
// decoder owns. The body limit is checked on each header before any byte of its body is copied.
//
// The zero value is ready to use with the MaxBodySize limit. A Decoder is not safe for concurrent
// use; it belongs to the connection that reads.
//
// After a protocol error (ErrUnknownType, ErrBodyTooLarge) the stream cannot be resynchronised:
// the decoder drops what it holds, Feed discards its input, and every later call to Next returns
// the same error until Reset.
type Decoder struct {
	maxBody int    // 0 means MaxBodySize
	in      []byte // the unread rest of the last fed slice (borrowed)
	partial []byte // bytes copied out of earlier feeds (owned); partial[:off] was already returned
	off     int    // start of the unread bytes in partial
	err     error  // sticky protocol error
}

// SetMaxBody sets the largest body the decoder accepts; n <= 0 means MaxBodySize. Use a small limit
// before the handshake completes and raise it afterwards. It applies to headers parsed from now on.
func (d *Decoder) SetMaxBody(n int) { d.maxBody = n }

// MaxBody reports the current body limit.
func (d *Decoder) MaxBody() int { return limitOf(d.maxBody) }

// Buffered reports how many bytes are held but not yet returned as packages.
func (d *Decoder) Buffered() int { return len(d.in) + len(d.partial) - d.off }

// Feed hands the decoder the next piece of the stream. p is borrowed: it must stay unmodified until
// Next has returned ErrNeedMore (everything in it consumed). Feeding before that is allowed but
// costs a copy of the unconsumed rest. After a protocol error Feed discards p.
func (d *Decoder) Feed(p []byte) {
	if d.err != nil {
		return
	}
	if len(d.in) > 0 {
		d.compact()
		d.partial = append(d.partial, d.in...)
	}
	d.in = p
}

// Next returns the next whole package. The returned body is valid until the next call to Next or
// Feed (a package that lay whole inside one fed slice aliases that slice and stays valid as long as
// it does). ErrNeedMore means the input is exhausted; any other error is a protocol error.
func (d *Decoder) Next() (Packet, error) {
	if d.err != nil {
		return Packet{}, d.err
	}
	if d.off == len(d.partial) {
		d.clearPartial()
		return d.fromInput()
	}
	return d.fromPartial()
}

// fromInput returns a package lying whole in d.in without copying it, or stashes the incomplete
// rest of d.in in the (empty) straddle buffer.
func (d *Decoder) fromInput() (Packet, error) {
	t, size, err := d.header(d.in)
	if err == ErrShortHeader {
		d.stash(HeaderSize)
		return Packet{}, ErrNeedMore
	}
	if err != nil {
		return Packet{}, d.fail(err)
	}
	end := HeaderSize + size
	if len(d.in) < end {
		d.stash(end)
		return Packet{}, ErrNeedMore
	}
	p := Packet{Type: t, Body: d.in[HeaderSize:end:end]}
	d.in = d.in[end:]
	return p, nil
}

// fromPartial returns the package starting at d.partial[d.off:], completing it with bytes from
// d.in when it is not all there yet.
func (d *Decoder) fromPartial() (Packet, error) {
	if len(d.partial)-d.off < HeaderSize {
		d.compact()
		d.take(HeaderSize - len(d.partial))
		if len(d.partial) < HeaderSize {
			return Packet{}, ErrNeedMore
		}
	}
	t, size, err := d.header(d.partial[d.off:])
	if err != nil {
		return Packet{}, d.fail(err)
	}
	n := HeaderSize + size
	if len(d.partial)-d.off < n {
		d.compact()
		d.reserve(n)
		d.take(n - len(d.partial))
		if len(d.partial) < n {
			return Packet{}, ErrNeedMore
		}
	}
	start := d.off
	d.off += n
	return Packet{Type: t, Body: d.partial[start+HeaderSize : d.off : d.off]}, nil
}

// header parses the header at the start of b and checks the announced size against the limit.
func (d *Decoder) header(b []byte) (Type, int, error) {
	t, size, err := ParseHeader(b)
	if err == nil && size > limitOf(d.maxBody) {
		err = ErrBodyTooLarge
	}
	return t, size, err
}

// stash moves all of d.in into the empty straddle buffer, with room for a package of n bytes.
func (d *Decoder) stash(n int) {
	if len(d.in) == 0 {
		return
	}
	d.reserve(n)
	d.partial = append(d.partial, d.in...)
	d.in = nil
}

// reserve makes the capacity of d.partial at least n, keeping its contents.
func (d *Decoder) reserve(n int) {
	if cap(d.partial) < n {
		grown := make([]byte, len(d.partial), n)
		copy(grown, d.partial)
		d.partial = grown
	}
}

// take moves up to n bytes from the front of d.in to the end of d.partial.
func (d *Decoder) take(n int) {
	if n > len(d.in) {
		n = len(d.in)
	}
	d.partial = append(d.partial, d.in[:n]...)
	d.in = d.in[n:]
}

// compact drops the already returned bytes from the front of d.partial.
func (d *Decoder) compact() {
	if d.off > 0 {
		n := copy(d.partial, d.partial[d.off:])
		d.partial, d.off = d.partial[:n], 0
	}
}

// clearPartial empties the straddle buffer, dropping it if a big package made it grow.
func (d *Decoder) clearPartial() {
	d.off = 0
	if cap(d.partial) > keepPartialCap {
		d.partial = nil
		return
	}
	d.partial = d.partial[:0]
}

// fail makes err sticky and drops everything buffered.
func (d *Decoder) fail(err error) error {
	d.err, d.in, d.partial, d.off = err, nil, nil, 0
	return err
}

// Reset discards all buffered input and any sticky error, keeping the body limit.
func (d *Decoder) Reset() {
	d.in, d.err = nil, nil
	d.clearPartial()
}
