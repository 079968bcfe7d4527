package hist

import (
	"encoding/json"
	"testing"
)

// FuzzAddSparse feeds arbitrary JSON as a child process's histogram: it must merge or fail with an
// error, never panic, and a successful merge must round-trip through AppendSparse.
func FuzzAddSparse(f *testing.F) {
	var h Histogram
	for _, v := range []int64{0, 1, 255, 256, 1e6, 1e9, MaxValue + 1} {
		h.Record(v)
	}
	var s Sparse
	h.AppendSparse(&s)
	seed, _ := json.Marshal(&s)
	f.Add(seed)
	f.Add([]byte(`{"n":1,"b":[4479,1]}`))
	f.Add([]byte(`{"n":2,"b":[1,1,2]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var in Sparse
		if json.Unmarshal(data, &in) != nil {
			return
		}
		var g Histogram
		if g.AddSparse(&in) != nil {
			if g != (Histogram{}) {
				t.Fatal("failed AddSparse modified the histogram")
			}
			return
		}
		var out Sparse
		g.AppendSparse(&out)
		var g2 Histogram
		if err := g2.AddSparse(&out); err != nil || g2 != g {
			t.Fatalf("round trip: %v", err)
		}
	})
}
