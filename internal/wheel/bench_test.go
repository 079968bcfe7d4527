package wheel

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

const benchTimers = 100_000

// BenchmarkRearm compares the per-event cost of pushing a connection's timeout out, with 100k
// armed timers: the wheel's Schedule (relink under its lock), the runtime's Timer.Reset (the
// baseline twin), and the lazy deadline hybrid uses on every heartbeat (one atomic store; the
// wheel re-links only when the stale due tick comes).
func BenchmarkRearm(b *testing.B) {
	b.Run("wheel", func(b *testing.B) {
		w, _ := New(100*time.Millisecond, 100*time.Second, func(int, int64) {})
		ts := make([]Timer[int], benchTimers)
		for i := range ts {
			w.Schedule(&ts[i], int64(i%900)+1)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			w.Schedule(&ts[i%benchTimers], int64(i%900)+60)
		}
	})
	b.Run("runtime-timer", func(b *testing.B) {
		ts := make([]*time.Timer, benchTimers)
		for i := range ts {
			ts[i] = time.AfterFunc(time.Hour+time.Duration(i), func() {})
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ts[i%benchTimers].Reset(time.Hour + time.Duration(i%900)*time.Millisecond)
		}
		b.StopTimer()
		for _, t := range ts {
			t.Stop()
		}
	})
	b.Run("lazy-deadline", func(b *testing.B) {
		w, _ := New(100*time.Millisecond, 100*time.Second, func(int, int64) {})
		ds := make([]atomic.Int64, benchTimers)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ds[i%benchTimers].Store(w.Clock() + w.Ticks(6*time.Second) + 1) // hybrid's touchHeartbeat
		}
	})
}

// BenchmarkMemoryPerTimer reports the heap bytes one armed timer costs: the wheel's embedded Timer
// (its size is all there is) against time.AfterFunc with a method-value callback, as a
// connection would use it.
func BenchmarkMemoryPerTimer(b *testing.B) {
	b.Run("wheel", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
		}
		b.ReportMetric(float64(unsafe.Sizeof(Timer[*int]{})), "B/timer")
	})
	b.Run("runtime-timer", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
		}
		type owner struct{ n int }
		var before, after runtime.MemStats
		ts := make([]*time.Timer, benchTimers)
		owners := make([]owner, benchTimers)
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range ts {
			o := &owners[i]
			ts[i] = time.AfterFunc(time.Hour, func() { o.n++ })
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchTimers, "B/timer")
		for _, t := range ts {
			t.Stop()
		}
		runtime.KeepAlive(ts)
	})
}

// BenchmarkAdvance measures one tick of a wheel holding 100k timers spread over 1000 ticks:
// about 100 fire per tick, and each re-arms itself from the fire function, as hybrid's lazy
// deadlines do. ns/op is the cost of one tick.
func BenchmarkAdvance(b *testing.B) {
	var w *Wheel[*lazyOwner]
	w, _ = New(time.Millisecond, time.Second, func(o *lazyOwner, now int64) {
		w.Schedule(&o.tm, now+1000)
	})
	owners := make([]lazyOwner, benchTimers)
	for i := range owners {
		owners[i].tm.Owner = &owners[i]
		w.Schedule(&owners[i].tm, int64(i%1000)+1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Advance(w.Now() + 1)
	}
}
