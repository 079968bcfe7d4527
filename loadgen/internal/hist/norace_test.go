//go:build !race

package hist

import "testing"

func TestAllocRecord(t *testing.T) {
	var h Histogram
	v := int64(12345)
	if n := testing.AllocsPerRun(1000, func() { h.Record(v); v = v*7 + 13 }); n != 0 {
		t.Fatalf("Record allocates %v times", n)
	}
	var s Sparse
	h.AppendSparse(&s)
	if n := testing.AllocsPerRun(100, func() { h.AppendSparse(&s); _ = h.ValueAt(0.99) }); n != 0 {
		t.Fatalf("AppendSparse into a reused Sparse allocates %v times", n)
	}
}
