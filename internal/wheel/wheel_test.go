package wheel

import (
	"sync"
	"testing"
	"time"
)

func require[T comparable](t *testing.T, got, want T, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

type rec struct {
	id  int
	hit []int64 // ticks at which it fired
}

func newManual(t *testing.T, span time.Duration) (*Wheel[*rec], *[]int) {
	t.Helper()
	var order []int
	w, err := New(time.Millisecond, span, func(r *rec, now int64) {
		r.hit = append(r.hit, now)
		order = append(order, r.id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return w, &order
}

func TestNewRejectsBadTick(t *testing.T) {
	if _, err := New(0, time.Second, func(int, int64) {}); err != ErrConfig {
		t.Fatalf("got %v, want ErrConfig", err)
	}
}

func TestSlotsArePowerOfTwo(t *testing.T) {
	for _, c := range []struct {
		span time.Duration
		want int
	}{{0, 2}, {time.Millisecond, 2}, {5 * time.Millisecond, 8}, {1024 * time.Millisecond, 2048}, {time.Hour, maxSlots}} {
		w, _ := New(time.Millisecond, c.span, func(int, int64) {})
		require(t, len(w.slots), c.want, c.span.String())
	}
}

func TestFiresAtDueTickNeverEarly(t *testing.T) {
	w, order := newManual(t, 8*time.Millisecond) // 16 slots: dues 20 and 37 wrap around
	rs := []*rec{{id: 0}, {id: 1}, {id: 2}, {id: 3}}
	dues := []int64{5, 3, 20, 37}
	for i, r := range rs {
		tm := &Timer[*rec]{Owner: r}
		w.Schedule(tm, dues[i])
	}
	require(t, w.Len(), 4, "len")
	for tick := int64(1); tick <= 40; tick++ {
		w.Advance(tick)
		for i, r := range rs {
			fired := len(r.hit) > 0
			if fired != (tick >= dues[i]) {
				t.Fatalf("tick %d: timer %d (due %d) fired=%v", tick, i, dues[i], fired)
			}
		}
	}
	for i, r := range rs {
		require(t, len(r.hit), 1, "fire count")
		require(t, r.hit[0], dues[i], "fired at")
	}
	require(t, len(*order), 4, "order len")
	want := []int{1, 0, 2, 3}
	for i := range want {
		require(t, (*order)[i], want[i], "order")
	}
	require(t, w.Len(), 0, "len after")
}

func TestCatchUpFiresInOrder(t *testing.T) {
	w, order := newManual(t, 4*time.Millisecond)
	for i, due := range []int64{9, 2, 30, 7} {
		w.Schedule(&Timer[*rec]{Owner: &rec{id: i}}, due)
	}
	w.Advance(100) // one long pause
	want := []int{1, 3, 0, 2}
	require(t, len(*order), len(want), "fired")
	for i := range want {
		require(t, (*order)[i], want[i], "order")
	}
	require(t, w.Now(), int64(100), "now")
}

func TestCancelAndReschedule(t *testing.T) {
	w, _ := newManual(t, 16*time.Millisecond)
	r := &rec{}
	tm := &Timer[*rec]{Owner: r}
	require(t, w.Cancel(tm), false, "cancel idle")
	w.Schedule(tm, 5)
	require(t, w.Cancel(tm), true, "cancel scheduled")
	require(t, w.Cancel(tm), false, "cancel twice")
	w.Advance(10)
	require(t, len(r.hit), 0, "cancelled timer fired")

	w.Schedule(tm, 12)
	w.Schedule(tm, 15) // moves it
	require(t, w.Len(), 1, "len after move")
	w.Advance(14)
	require(t, len(r.hit), 0, "fired at old due")
	w.Advance(15)
	require(t, len(r.hit), 1, "fired at new due")
	require(t, r.hit[0], int64(15), "due")

	w.Schedule(tm, 3) // in the past: next tick
	w.Advance(16)
	require(t, len(r.hit), 2, "past due fires on next tick")
	require(t, r.hit[1], int64(16), "past due tick")
}

type lazyOwner struct {
	tm    Timer[*lazyOwner]
	fired []int64
}

func TestRescheduleFromFire(t *testing.T) {
	var w *Wheel[*lazyOwner]
	w, _ = New(time.Millisecond, 8*time.Millisecond, func(o *lazyOwner, now int64) {
		o.fired = append(o.fired, now)
		if len(o.fired) < 3 {
			w.Schedule(&o.tm, now+10) // lazy re-arm from the fire function, as hybrid does
		}
	})
	o := &lazyOwner{}
	o.tm.Owner = o
	w.Schedule(&o.tm, 4)
	w.Advance(100)
	want := []int64{4, 14, 24}
	require(t, len(o.fired), len(want), "fires")
	for i := range want {
		require(t, o.fired[i], want[i], "fire tick")
	}
	require(t, w.Len(), 0, "len")
}

func TestStartStopRealTime(t *testing.T) {
	done := make(chan int64, 1)
	w, err := New(time.Millisecond, 64*time.Millisecond, func(_ int, now int64) { done <- now })
	if err != nil {
		t.Fatal(err)
	}
	w.Start()
	defer w.Stop()
	start := time.Now()
	w.Schedule(&Timer[int]{}, w.Now()+w.Ticks(20*time.Millisecond))
	select {
	case <-done:
		if el := time.Since(start); el < 19*time.Millisecond {
			t.Fatalf("fired early after %v", el)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("timer never fired")
	}
	w.Stop()
	w.Stop() // idempotent
}

func TestStopNeverStarted(t *testing.T) {
	w, _ := New(time.Millisecond, time.Millisecond, func(int, int64) {})
	w.Stop()
}

// TestConcurrentScheduleCancel exercises the lock under -race: many goroutines move their timers
// while the wheel advances; every timer that is left scheduled must fire exactly once.
func TestConcurrentScheduleCancel(t *testing.T) {
	const G, N = 4, 200
	var mu sync.Mutex
	fired := map[int]int{}
	w, _ := New(time.Millisecond, 32*time.Millisecond, func(id int, now int64) {
		mu.Lock()
		fired[id]++
		mu.Unlock()
	})
	timers := make([]Timer[int], G*N)
	var wg sync.WaitGroup
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < N; i++ {
				tm := &timers[g*N+i]
				tm.Owner = g*N + i
				w.Schedule(tm, w.Now()+int64(i%50)+1000)
				if i%3 == 0 {
					w.Cancel(tm)
				}
			}
		}(g)
	}
	stop := make(chan struct{})
	adv := make(chan struct{})
	go func() {
		defer close(adv)
		for tick := int64(1); ; tick++ {
			select {
			case <-stop:
				return
			default:
				w.Advance(tick % 500) // stays below the due ticks
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-adv
	w.Advance(w.Now() + 2000)
	for id := 0; id < G*N; id++ {
		want := 1
		if (id%N)%3 == 0 {
			want = 0
		}
		if fired[id] != want {
			t.Fatalf("timer %d fired %d times, want %d", id, fired[id], want)
		}
	}
}

// TestClockNeverEarly: a due tick computed from Clock is not processed before the duration has
// passed, even when the wheel goroutine is late (here: never started, advanced by hand).
func TestClockNeverEarly(t *testing.T) {
	fired := make(chan time.Time, 1)
	w, _ := New(5*time.Millisecond, time.Second, func(_ int, _ int64) { fired <- time.Now() })
	time.Sleep(30 * time.Millisecond) // the wheel is now 6 ticks "late": Now() is 0
	start := time.Now()
	w.Schedule(&Timer[int]{}, w.Clock()+w.Ticks(20*time.Millisecond)+1)
	for {
		w.Advance(w.Clock())
		select {
		case at := <-fired:
			if el := at.Sub(start); el < 20*time.Millisecond {
				t.Fatalf("fired after %v, before 20ms", el)
			}
			return
		default:
			time.Sleep(time.Millisecond)
		}
	}
}
