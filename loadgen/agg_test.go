package main

import (
	"testing"

	"github.com/shaddock-io/shaddock/loadgen/internal/driver"
	"github.com/shaddock-io/shaddock/loadgen/internal/hist"
)

// TestAggregatorBooksSnapshotsBySecond feeds two workers' 250 ms snapshots out of step and checks
// that each second becomes a row only once both have reported past it, with exact sums.
func TestAggregatorBooksSnapshotsBySecond(t *testing.T) {
	a := newAggregator(2, nil)
	snap := func(el float64, responses uint64, lat int64) driver.Snapshot {
		var h hist.Histogram
		for i := uint64(0); i < responses; i++ {
			h.Record(lat)
		}
		s := driver.Snapshot{Elapsed: el}
		s.C[driver.Responses] = responses
		h.AppendSparse(&s.Lat)
		return s
	}
	var rows []row
	for step := 1; step <= 8; step++ {
		el := float64(step) * 0.25
		s0 := snap(el, 10, 1e6)
		if err := a.add(0, &s0); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, a.complete(false)...)
		if step <= 6 { // worker 1 lags behind by two snapshots
			s1 := snap(el, 100, 3e6)
			a.add(1, &s1)
			rows = append(rows, a.complete(false)...)
		}
		if step == 4 && len(rows) != 1 {
			t.Fatalf("after 1 s of both workers: %d rows", len(rows))
		}
	}
	if len(rows) != 1 {
		t.Fatalf("worker 1 has not passed 2 s: %d rows, want 1", len(rows))
	}
	s1 := snap(2.0, 200, 3e6) // covers the two snapshots it skipped
	s1.Final = true
	a.add(1, &s1)
	rows = append(rows, a.complete(true)...)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	for i, r := range rows {
		if r.Responses != 4*10+4*100 || r.Seconds != 1 || r.T != float64(i+1) {
			t.Errorf("row %d: %+v", i, r)
		}
		if r.P50 < 2.9 || r.P50 > 3.1 || r.Max < 2.9 {
			t.Errorf("row %d latency p50 %v max %v", i, r.P50, r.Max)
		}
	}
	if a.total[driver.Responses] != 880 || a.lat.Count() != 880 {
		t.Fatalf("totals %d / %d", a.total[driver.Responses], a.lat.Count())
	}
}
