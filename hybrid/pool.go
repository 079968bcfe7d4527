package hybrid

import "sync"

// Size classes of outbound buffers. A connection starts with the smallest that fits and moves up
// by a factor of 8; buffers larger than the last class are not pooled.
const (
	outClass0 = 512
	outClass1 = 4 << 10
	outClass2 = 32 << 10
	outClass3 = 256 << 10
	outClass4 = 2 << 20
)

// bufPools holds a Server's outbound buffers, by size class. Each pool holds pointers to arrays of
// exactly its class size; put drops any buffer whose capacity is not a class size.
type bufPools struct {
	p0, p1, p2, p3, p4 sync.Pool
}

// get returns an empty buffer with capacity at least n. The caller owns it until it hands it back
// with put; for outbound queues that owner is the Conn (its queue, then its flusher).
func (p *bufPools) get(n int) []byte {
	switch {
	case n <= outClass0:
		if b, ok := p.p0.Get().(*[outClass0]byte); ok {
			return b[:0]
		}
		return new([outClass0]byte)[:0]
	case n <= outClass1:
		if b, ok := p.p1.Get().(*[outClass1]byte); ok {
			return b[:0]
		}
		return new([outClass1]byte)[:0]
	case n <= outClass2:
		if b, ok := p.p2.Get().(*[outClass2]byte); ok {
			return b[:0]
		}
		return new([outClass2]byte)[:0]
	case n <= outClass3:
		if b, ok := p.p3.Get().(*[outClass3]byte); ok {
			return b[:0]
		}
		return new([outClass3]byte)[:0]
	case n <= outClass4:
		if b, ok := p.p4.Get().(*[outClass4]byte); ok {
			return b[:0]
		}
		return new([outClass4]byte)[:0]
	}
	return make([]byte, 0, n)
}

// put returns b to its class. A buffer of another capacity (an oversize one from get, or a foreign
// slice) is dropped for the garbage collector.
func (p *bufPools) put(b []byte) {
	switch cap(b) {
	case outClass0:
		p.p0.Put((*[outClass0]byte)(b[:outClass0]))
	case outClass1:
		p.p1.Put((*[outClass1]byte)(b[:outClass1]))
	case outClass2:
		p.p2.Put((*[outClass2]byte)(b[:outClass2]))
	case outClass3:
		p.p3.Put((*[outClass3]byte)(b[:outClass3]))
	case outClass4:
		p.p4.Put((*[outClass4]byte)(b[:outClass4]))
	}
}
