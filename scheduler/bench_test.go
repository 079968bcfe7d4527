package scheduler

import (
	"strconv"
	"testing"
	"time"
)

// nopTarget accepts everything and writes nothing.
type nopTarget struct{ n int }

func (t *nopTarget) Enqueue(pkg []byte) error { t.n += len(pkg); return nil }
func (t *nopTarget) Flush() error             { return nil }

func benchSchedule(b *testing.B, cfg Config, fanout int) {
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	targets := make([]Target, fanout)
	for i := range targets {
		targets[i] = &nopTarget{}
	}
	pkg := make([]byte, 64)
	b.SetBytes(int64(len(pkg) * fanout))
	b.ReportAllocs()
	for b.Loop() {
		s.Schedule(pkg, targets)
	}
}

func BenchmarkSchedule(b *testing.B) {
	for _, fanout := range []int{1, 10, 100, 1000} {
		b.Run("direct/"+strconv.Itoa(fanout), func(b *testing.B) { benchSchedule(b, Config{}, fanout) })
		b.Run("buffered/"+strconv.Itoa(fanout), func(b *testing.B) {
			benchSchedule(b, Config{Kind: Buffered, FlushInterval: time.Hour}, fanout)
		})
	}
}
