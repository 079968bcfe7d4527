//go:build !race

package scheduler

import (
	"testing"
	"time"
)

func TestAllocSchedule(t *testing.T) {
	for _, cfg := range []Config{{}, {Kind: Buffered, FlushInterval: time.Hour}} {
		s, err := New(cfg)
		requireNoError(t, err)
		targets := []Target{&nopTarget{}, &nopTarget{}, &nopTarget{}}
		pkg := []byte{4, 0, 0, 0}
		s.Schedule(pkg, targets) // warm the dirty set
		if n := testing.AllocsPerRun(1000, func() {
			s.Schedule(pkg, targets)
			s.ScheduleOne(pkg, targets[0])
			s.Pending(targets[1])
		}); n != 0 {
			t.Errorf("%v: %v allocs per run, want 0", cfg.Kind, n)
		}
		requireNoError(t, s.Close())
	}
}
