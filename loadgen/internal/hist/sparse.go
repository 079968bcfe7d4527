package hist

// Sparse is a Histogram with only its non-empty buckets, as sent between processes (it marshals to
// compact JSON). B holds pairs: bucket index, count, bucket index, count, ...
type Sparse struct {
	N   uint64  `json:"n"`
	Sum uint64  `json:"sum"`
	Min int64   `json:"min"`
	Max int64   `json:"max"`
	B   []int64 `json:"b"`
}

// AppendSparse appends h's non-empty buckets to s.B (reusing its storage) and fills in the summary.
func (h *Histogram) AppendSparse(s *Sparse) {
	s.N, s.Sum, s.Min, s.Max, s.B = h.total, h.sum, h.min, h.max, s.B[:0]
	if h.total == 0 {
		return
	}
	for i, c := range h.counts {
		if c != 0 {
			s.B = append(s.B, int64(i), int64(c))
		}
	}
}

// AddSparse merges s into h. A bucket index out of range or a count that does not add up to s.N is
// ErrBadSparse, and h is left unchanged.
func (h *Histogram) AddSparse(s *Sparse) error {
	if len(s.B)%2 != 0 {
		return ErrBadSparse
	}
	var n uint64
	for i := 0; i < len(s.B); i += 2 {
		if s.B[i] < 0 || s.B[i] >= NumBuckets || s.B[i+1] < 0 {
			return ErrBadSparse
		}
		n += uint64(s.B[i+1])
	}
	if n != s.N {
		return ErrBadSparse
	}
	if n == 0 {
		return nil
	}
	for i := 0; i < len(s.B); i += 2 {
		h.counts[s.B[i]] += uint64(s.B[i+1])
	}
	h.mergeSummary(s.N, s.Sum, s.Min, s.Max)
	return nil
}
