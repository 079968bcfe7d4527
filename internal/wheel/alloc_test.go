//go:build !race

package wheel

import (
	"testing"
	"time"
)

func TestAllocScheduleCancelAdvance(t *testing.T) {
	w, _ := New(time.Millisecond, time.Second, func(int, int64) {})
	timers := make([]Timer[int], 64)
	// warm the due slice
	for i := range timers {
		w.Schedule(&timers[i], w.Now()+1)
	}
	w.Advance(w.Now() + 1)
	allocs := testing.AllocsPerRun(100, func() {
		for i := range timers {
			w.Schedule(&timers[i], w.Now()+int64(i%3)+1)
		}
		w.Cancel(&timers[0])
		w.Advance(w.Now() + 3)
	})
	if allocs != 0 {
		t.Fatalf("allocs = %v, want 0", allocs)
	}
}
