package codec

import "errors"

// ErrNeedMore is returned by Decoder.Next when the input fed so far holds no further whole package.
// It is not a protocol error: feed more bytes and call Next again.
var ErrNeedMore = errors.New("codec: need more input")

// keepPartialCap is the largest straddle buffer the decoder keeps between packages; a larger one
// (left behind by a big package) is dropped once that package has been returned.
const keepPartialCap = 4 << 10

// Decoder reassembles packages from a byte stream that arrives in pieces of any size: several
// packages per read, or one package over many reads. Whole packages inside one fed slice are
// returned without copying; only a package that straddles two feeds is copied, into a buffer the
// decoder owns.
//
// The zero value is ready to use with the MaxBodySize limit. A Decoder is not safe for concurrent
// use; it belongs to the connection that reads.
//
// After a protocol error (ErrUnknownType, ErrBodyTooLarge) the stream cannot be resynchronised:
// every later call to Next returns the same error.
type Decoder struct {
	maxBody int    // 0 means MaxBodySize
	in      []byte // the unread rest of the last fed slice (borrowed)
	partial []byte // bytes of a package that straddles feeds (owned)
	done    bool   // partial holds a package already returned: reset it on the next call
	err     error  // sticky protocol error
}

// SetMaxBody sets the largest body the decoder accepts; n <= 0 means MaxBodySize. Use a small limit
// before the handshake completes and raise it afterwards. It applies to headers parsed from now on.
func (d *Decoder) SetMaxBody(n int) { d.maxBody = n }

// MaxBody reports the current body limit.
func (d *Decoder) MaxBody() int { return limitOf(d.maxBody) }

// Buffered reports how many bytes are held but not yet returned as packages.
func (d *Decoder) Buffered() int {
	n := len(d.in)
	if !d.done {
		n += len(d.partial)
	}
	return n
}

// Feed hands the decoder the next piece of the stream. p is borrowed: it must stay unmodified until
// Next has returned ErrNeedMore (everything in it consumed). Feeding before that is allowed but
// costs a copy of the unconsumed rest.
func (d *Decoder) Feed(p []byte) {
	if len(d.in) > 0 {
		d.release()
		d.partial = append(d.partial, d.in...)
	}
	d.in = p
}

// Next returns the next whole package. The returned body is valid until the next call to Next or
// Feed. ErrNeedMore means the input is exhausted; any other error is a protocol error.
func (d *Decoder) Next() (Packet, error) {
	if d.err != nil {
		return Packet{}, d.err
	}
	d.release()
	if len(d.partial) > 0 {
		return d.fromPartial()
	}
	p, n, err := ParsePacket(d.in, d.maxBody)
	switch err {
	case nil:
		d.in = d.in[n:]
		return p, nil
	case ErrShortHeader, ErrShortBody:
		d.partial = append(d.partial, d.in...)
		d.in = nil
		return Packet{}, ErrNeedMore
	default:
		d.err = err
		return Packet{}, err
	}
}

// fromPartial completes the package held in d.partial with bytes from d.in.
func (d *Decoder) fromPartial() (Packet, error) {
	if len(d.partial) < HeaderSize {
		d.take(HeaderSize - len(d.partial))
		if len(d.partial) < HeaderSize {
			return Packet{}, ErrNeedMore
		}
	}
	t, size, err := ParseHeader(d.partial)
	if err == nil && size > limitOf(d.maxBody) {
		err = ErrBodyTooLarge
	}
	if err != nil {
		d.err = err
		return Packet{}, err
	}
	end := HeaderSize + size
	if cap(d.partial) < end {
		grown := make([]byte, len(d.partial), end)
		copy(grown, d.partial)
		d.partial = grown
	}
	d.take(end - len(d.partial))
	if len(d.partial) < end {
		return Packet{}, ErrNeedMore
	}
	d.done = true
	return Packet{Type: t, Body: d.partial[HeaderSize:end:end]}, nil
}

// take moves up to n bytes from the front of d.in to the end of d.partial, growing partial to at
// most what the package needs.
func (d *Decoder) take(n int) {
	if n > len(d.in) {
		n = len(d.in)
	}
	d.partial = append(d.partial, d.in[:n]...)
	d.in = d.in[n:]
}

// release forgets a package returned from the straddle buffer, dropping the buffer if it grew large.
func (d *Decoder) release() {
	if !d.done {
		return
	}
	d.done = false
	if cap(d.partial) > keepPartialCap {
		d.partial = nil
		return
	}
	d.partial = d.partial[:0]
}

// Reset discards all buffered input and any sticky error, keeping the body limit.
func (d *Decoder) Reset() {
	*d = Decoder{maxBody: d.maxBody, partial: d.partial[:0]}
}
