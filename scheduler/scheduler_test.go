package scheduler

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func requireNoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func requireEqual[T comparable](t testing.TB, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// fakeTarget records what it is given; writes holds one entry per Flush with the bytes queued
// since the previous one.
type fakeTarget struct {
	mu       sync.Mutex
	queue    []byte
	writes   [][]byte
	failEnq  error
	failFlsh error
}

func (f *fakeTarget) Enqueue(pkg []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failEnq != nil {
		return f.failEnq
	}
	f.queue = append(f.queue, pkg...)
	return nil
}

func (f *fakeTarget) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failFlsh != nil {
		return f.failFlsh
	}
	if len(f.queue) > 0 {
		f.writes = append(f.writes, f.queue)
		f.queue = nil
	}
	return nil
}

func (f *fakeTarget) snapshot() (writes [][]byte, queued int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.writes...), len(f.queue)
}

func TestConfigValidate(t *testing.T) {
	var zero Config
	requireNoError(t, zero.Validate())
	requireEqual(t, zero.flushInterval(), DefaultFlushInterval)
	for _, bad := range []Config{{Kind: 7}, {Kind: Buffered, FlushInterval: -1}} {
		if err := bad.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("Validate(%+v) = %v, want ErrInvalidConfig", bad, err)
		}
		if _, err := New(bad); !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("New(%+v) = %v, want ErrInvalidConfig", bad, err)
		}
	}
}

func TestDirectFlushesEachSchedule(t *testing.T) {
	s, err := New(Config{})
	requireNoError(t, err)
	defer s.Close()
	a, b := &fakeTarget{}, &fakeTarget{}
	pkg := []byte{4, 0, 0, 1, 'x'}
	s.Schedule(pkg, []Target{a, b})
	pkg[4] = 'y' // the scheduler must not keep pkg
	s.ScheduleOne(pkg, a)
	wa, _ := a.snapshot()
	wb, _ := b.snapshot()
	requireEqual(t, len(wa), 2)
	requireEqual(t, len(wb), 1)
	requireEqual(t, string(wa[0]), "\x04\x00\x00\x01x")
	requireEqual(t, string(wa[1]), "\x04\x00\x00\x01y")
	requireEqual(t, string(wb[0]), "\x04\x00\x00\x01x")
	st := s.Stats()
	requireEqual(t, st.Enqueued, uint64(3))
	requireEqual(t, st.Flushes, uint64(3))
}

func TestDirectPendingFlushes(t *testing.T) {
	s, _ := New(Config{})
	a := &fakeTarget{}
	requireNoError(t, a.Enqueue([]byte("r1")))
	requireNoError(t, a.Enqueue([]byte("r2")))
	s.Pending(a)
	w, q := a.snapshot()
	requireEqual(t, len(w), 1)
	requireEqual(t, string(w[0]), "r1r2")
	requireEqual(t, q, 0)
}

func TestBufferedBatchesIntoOneWrite(t *testing.T) {
	s, err := New(Config{Kind: Buffered, FlushInterval: time.Hour}) // only Close flushes
	requireNoError(t, err)
	a, b := &fakeTarget{}, &fakeTarget{}
	for i := 0; i < 100; i++ {
		s.Schedule([]byte{byte(i)}, []Target{a, b})
	}
	s.Pending(a)
	requireEqual(t, s.(*buffered).dirtyLen(), 2) // bounded by targets, not packages
	w, q := a.snapshot()
	requireEqual(t, len(w), 0)
	requireEqual(t, q, 100)
	requireNoError(t, s.Close())
	for _, tg := range []*fakeTarget{a, b} {
		w, _ := tg.snapshot()
		requireEqual(t, len(w), 1)
		requireEqual(t, len(w[0]), 100)
		for i, c := range w[0] {
			requireEqual(t, c, byte(i))
		}
	}
	requireEqual(t, s.Stats().Flushes, uint64(2))
	// After Close, scheduling flushes at once.
	s.ScheduleOne([]byte("late"), a)
	w, _ = a.snapshot()
	requireEqual(t, string(w[len(w)-1]), "late")
	requireNoError(t, s.Close()) // idempotent
}

func TestBufferedTicks(t *testing.T) {
	s, err := New(Config{Kind: Buffered, FlushInterval: 5 * time.Millisecond})
	requireNoError(t, err)
	defer s.Close()
	a := &fakeTarget{}
	s.ScheduleOne([]byte("one"), a)
	s.ScheduleOne([]byte("two"), a)
	deadline := time.Now().Add(5 * time.Second)
	for {
		w, _ := a.snapshot()
		if len(w) > 0 {
			requireEqual(t, string(w[0]), "onetwo")
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("buffered scheduler never flushed")
		}
		time.Sleep(time.Millisecond)
	}
	// A quiet tick does not flush again.
	time.Sleep(20 * time.Millisecond)
	w, _ := a.snapshot()
	requireEqual(t, len(w), 1)
}

func TestErrorsAreCountedAndReported(t *testing.T) {
	for _, kind := range []Kind{Direct, Buffered} {
		t.Run(kind.String(), func(t *testing.T) {
			var reported atomic.Int32
			s, err := New(Config{Kind: kind, FlushInterval: time.Hour},
				OnError(func(Target, error) { reported.Add(1) }))
			requireNoError(t, err)
			bad := &fakeTarget{failEnq: errors.New("closed")}
			badFlush := &fakeTarget{failFlsh: errors.New("broken pipe")}
			good := &fakeTarget{}
			s.Schedule([]byte("p"), []Target{bad, badFlush, good})
			requireNoError(t, s.Close())
			st := s.Stats()
			requireEqual(t, st.EnqueueErrors, uint64(1))
			requireEqual(t, st.FlushErrors, uint64(1))
			requireEqual(t, st.Enqueued, uint64(2))
			requireEqual(t, reported.Load(), int32(2))
			w, _ := good.snapshot()
			requireEqual(t, len(w), 1)
			if !bytes.Equal(w[0], []byte("p")) {
				t.Fatalf("good target got %q", w[0])
			}
		})
	}
}

func TestBufferedConcurrent(t *testing.T) {
	s, err := New(Config{Kind: Buffered, FlushInterval: time.Millisecond})
	requireNoError(t, err)
	targets := make([]*fakeTarget, 8)
	list := make([]Target, len(targets))
	for i := range targets {
		targets[i] = &fakeTarget{}
		list[i] = targets[i]
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				s.Schedule([]byte{1}, list)
			}
		}()
	}
	wg.Wait()
	requireNoError(t, s.Close())
	for _, tg := range targets {
		w, q := tg.snapshot()
		requireEqual(t, q, 0)
		n := 0
		for _, x := range w {
			n += len(x)
		}
		requireEqual(t, n, 2000)
	}
}
