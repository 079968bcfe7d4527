package hist

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBucketsTileTheRange(t *testing.T) {
	prevHi := int64(-1)
	for i := 0; i < NumBuckets; i++ {
		lo, hi := Bounds(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if Index(lo) != i || Index(hi) != i {
			t.Fatalf("bucket %d [%d,%d]: Index(lo)=%d Index(hi)=%d", i, lo, hi, Index(lo), Index(hi))
		}
		if i >= 2*SubBuckets && (hi-lo+1)*SubBuckets > lo {
			t.Fatalf("bucket %d [%d,%d] wider than lo/%d", i, lo, hi, SubBuckets)
		}
		prevHi = hi
	}
	if prevHi != MaxValue {
		t.Fatalf("last bucket ends at %d, want MaxValue %d", prevHi, MaxValue)
	}
	if Index(MaxValue+12345) != NumBuckets-1 || Index(-5) != 0 {
		t.Fatal("out-of-range values not clamped")
	}
}

// reference returns the value of rank ceil(q*n) of sorted.
func reference(sorted []int64, q float64) int64 {
	rank := int(float64(len(sorted))*q + 0.9999999999)
	rank = max(rank, 1)
	rank = min(rank, len(sorted))
	return sorted[rank-1]
}

func checkQuantiles(t *testing.T, h *Histogram, vals []int64) {
	t.Helper()
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	for _, q := range []float64{0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1} {
		ref := reference(sorted, q)
		got := h.ValueAt(q)
		if got < ref || got > ref+ref/SubBuckets+1 {
			t.Errorf("q=%v: got %d, reference %d (n=%d)", q, got, ref, len(vals))
		}
	}
	if h.Min() != sorted[0] || h.Max() != sorted[len(sorted)-1] {
		t.Errorf("min/max %d/%d, want %d/%d", h.Min(), h.Max(), sorted[0], sorted[len(sorted)-1])
	}
	if h.Count() != uint64(len(vals)) {
		t.Errorf("count %d, want %d", h.Count(), len(vals))
	}
}

func TestQuantilesAgainstSortedSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func() int64{
		"uniform-small": func() int64 { return r.Int64N(300) },
		"uniform-ms":    func() int64 { return 1e6 + r.Int64N(9e6) },
		"lognormal": func() int64 {
			return int64(200e3 * (1 + r.ExpFloat64()*r.ExpFloat64()*10))
		},
		"bimodal": func() int64 {
			if r.IntN(100) < 2 {
				return 500e6 + r.Int64N(1e6)
			}
			return 80e3 + r.Int64N(20e3)
		},
	}
	for name, gen := range gens {
		t.Run(name, func(t *testing.T) {
			for _, n := range []int{1, 2, 7, 1000, 100000} {
				var h Histogram
				vals := make([]int64, n)
				for i := range vals {
					vals[i] = gen()
					h.Record(vals[i])
				}
				checkQuantiles(t, &h, vals)
			}
		})
	}
}

func TestMeanAndEmpty(t *testing.T) {
	var h Histogram
	if h.ValueAt(0.5) != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatal("empty histogram not zero")
	}
	for _, v := range []int64{10, 20, 30, 1000} {
		h.Record(v)
	}
	if h.Mean() != 265 {
		t.Fatalf("mean %v, want 265", h.Mean())
	}
	h.Record(-7)
	if h.Min() != 0 {
		t.Fatalf("negative value recorded as %d, want 0", h.Min())
	}
	h.Record(MaxValue * 3)
	if h.Max() != MaxValue*3 || h.ValueAt(1) != MaxValue*3 {
		t.Fatalf("max %d, want true max %d", h.Max(), int64(MaxValue*3))
	}
}

func TestMergeIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var parts [5]Histogram
	var all Histogram
	var vals []int64
	for i := 0; i < 50000; i++ {
		v := r.Int64N(1 << uint(1+r.IntN(36)))
		vals = append(vals, v)
		parts[r.IntN(len(parts))].Record(v)
		all.Record(v)
	}
	var merged Histogram
	for i := range parts {
		merged.Merge(&parts[i])
	}
	if merged != all {
		t.Fatal("merge of parts differs from the histogram of all values")
	}
	checkQuantiles(t, &merged, vals)

	// The same through the sparse form and JSON, as between processes.
	var viaJSON Histogram
	for i := range parts {
		var s Sparse
		parts[i].AppendSparse(&s)
		b, err := json.Marshal(&s)
		if err != nil {
			t.Fatal(err)
		}
		var back Sparse
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if err := viaJSON.AddSparse(&back); err != nil {
			t.Fatal(err)
		}
	}
	if viaJSON != all {
		t.Fatal("sparse/JSON merge differs from the histogram of all values")
	}
}

func TestAddSparseRejectsBadInput(t *testing.T) {
	var h Histogram
	h.Record(5)
	before := h
	bad := []Sparse{
		{N: 1, B: []int64{NumBuckets, 1}},
		{N: 1, B: []int64{-1, 1}},
		{N: 1, B: []int64{3}},
		{N: 2, B: []int64{3, 1}},
		{N: 1, B: []int64{3, -1, 4, 2}},
	}
	for i, s := range bad {
		if err := h.AddSparse(&s); err != ErrBadSparse {
			t.Errorf("case %d: err %v, want ErrBadSparse", i, err)
		}
		if h != before {
			t.Fatalf("case %d modified the histogram", i)
		}
	}
}
