package hist

import (
	"errors"
	"math"
	"math/bits"
)

const (
	subBits = 7

	// SubBuckets is the number of buckets per power of two.
	SubBuckets = 1 << subBits

	maxShift = 33

	// NumBuckets is the number of buckets of every Histogram.
	NumBuckets = (maxShift + 2) << subBits

	// MaxValue is the largest value with a bucket of its own range; larger values are counted in
	// the last bucket.
	MaxValue = 1<<(maxShift+subBits+1) - 1
)

// ErrBadSparse is returned by Histogram.AddSparse for a bucket index out of range.
var ErrBadSparse = errors.New("hist: sparse bucket index out of range")

// Histogram counts values in log-linear buckets. The zero value is empty and ready to use. It is not
// safe for concurrent use: it belongs to one goroutine (a poll loop), and is handed to another
// through Merge under whatever lock the caller uses.
type Histogram struct {
	counts [NumBuckets]uint64
	total  uint64
	sum    uint64 // of clamped values; wraps only after 584 years of nanoseconds
	min    int64
	max    int64
}

// Index returns the bucket of value v (negative values count as 0).
func Index(v int64) int {
	if v < 2*SubBuckets {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	if v > MaxValue {
		v = MaxValue
	}
	shift := bits.Len64(uint64(v)) - 1 - subBits
	return shift<<subBits + int(v>>uint(shift))
}

// Bounds returns the smallest and the largest value counted in bucket i.
func Bounds(i int) (lo, hi int64) {
	if i < 2*SubBuckets {
		return int64(i), int64(i)
	}
	shift := uint(i>>subBits - 1)
	mant := int64(i - int(shift)<<subBits)
	lo = mant << shift
	return lo, lo + 1<<shift - 1
}

// Record counts one value. It does not allocate.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.total++
	c := v
	if c > MaxValue {
		c = MaxValue
	}
	h.sum += uint64(c)
	h.counts[Index(c)]++
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Min returns the smallest value recorded, 0 when empty.
func (h *Histogram) Min() int64 { return h.min }

// Max returns the largest value recorded, 0 when empty.
func (h *Histogram) Max() int64 { return h.max }

// Mean returns the mean of the recorded values (clamped to MaxValue), 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return float64(h.sum) / float64(h.total)
}

// Bucket returns the count of bucket i.
func (h *Histogram) Bucket(i int) uint64 { return h.counts[i] }

// ValueAt returns the value at quantile q in [0, 1]: the upper edge of the bucket holding the value
// of rank ceil(q·n) (at least 1), clamped to [Min, Max]. It returns 0 when empty.
func (h *Histogram) ValueAt(q float64) int64 {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	if rank < 1 {
		rank = 1
	}
	if rank >= h.total {
		return h.max
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i]
		if seen >= rank {
			_, hi := Bounds(i)
			return min(max(hi, h.min), h.max)
		}
	}
	return h.max
}

// Merge adds every value counted in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.mergeSummary(o.total, o.sum, o.min, o.max)
}

func (h *Histogram) mergeSummary(total, sum uint64, lo, hi int64) {
	if h.total == 0 || lo < h.min {
		h.min = lo
	}
	if hi > h.max {
		h.max = hi
	}
	h.total += total
	h.sum += sum
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{} }
