package hist

import "testing"

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	b.SetBytes(8)
	v := int64(1)
	for i := 0; i < b.N; i++ {
		h.Record(v)
		v = (v*6364136223846793005 + 1442695040888963407) & (1<<32 - 1)
	}
}

func BenchmarkValueAt(b *testing.B) {
	var h Histogram
	for i := int64(0); i < 100000; i++ {
		h.Record(i * 1000)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = h.ValueAt(0.999)
	}
}

func BenchmarkMerge(b *testing.B) {
	var h, o Histogram
	for i := int64(0); i < 100000; i++ {
		o.Record(i * 1000)
	}
	b.ReportAllocs()
	b.SetBytes(NumBuckets * 8)
	for i := 0; i < b.N; i++ {
		h.Merge(&o)
	}
}
