package wheel

import (
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// ErrConfig is returned by New for a tick that is not positive.
var ErrConfig = errors.New("wheel: tick must be positive")

// maxSlots bounds the slot array (64k sentinels of 3 words: 1.5 MiB).
const maxSlots = 1 << 16

// Timer is one timer, embedded by value in its owner. The zero value is an idle timer. A Timer must
// not be copied while scheduled.
type Timer[T any] struct {
	prev, next *Timer[T] // guarded by Wheel.mu; nil when not scheduled
	at         int64     // due tick; guarded by Wheel.mu

	// Owner is handed to the fire function. Set it before the first Schedule.
	Owner T
}

// Wheel is a hashed timing wheel. Create it with New, start it with Start, stop it with Stop.
type Wheel[T any] struct {
	tick  time.Duration
	start time.Time
	fire  func(owner T, now int64)

	mu      sync.Mutex
	slots   []Timer[T] // sentinels of circular lists; guarded by mu
	mask    int64
	cur     int64         // last tick processed; guarded by mu
	count   int           // scheduled timers; guarded by mu
	now     atomic.Int64  // mirrors cur for lock-free readers
	due     []*Timer[T]   // scratch for one advance; owned by the advancing goroutine (advMu)
	advMu   sync.Mutex    // serialises advance (wheel goroutine, or tests driving Advance)
	done    chan struct{} // closed by Stop (its only closer)
	quit    chan struct{} // closed by the wheel goroutine when it exits (its only closer)
	once    sync.Once
	started atomic.Bool
}

// New returns a wheel with the given tick and at least span/tick slots (rounded up to a power of
// two, at most 65536): timers due within span are found without scanning later rounds. fire is
// called on the wheel goroutine for every timer that comes due, with the current tick.
func New[T any](tick, span time.Duration, fire func(owner T, now int64)) (*Wheel[T], error) {
	if tick <= 0 {
		return nil, ErrConfig
	}
	n := int64(span/tick) + 1
	if n > maxSlots {
		n = maxSlots
	}
	size := int64(1) << bits.Len64(uint64(n-1))
	if size < 2 {
		size = 2
	}
	w := &Wheel[T]{
		tick:  tick,
		start: time.Now(),
		fire:  fire,
		slots: make([]Timer[T], size),
		mask:  size - 1,
		done:  make(chan struct{}),
		quit:  make(chan struct{}),
	}
	for i := range w.slots {
		s := &w.slots[i]
		s.prev, s.next = s, s
	}
	return w, nil
}

// Tick returns the tick duration.
func (w *Wheel[T]) Tick() time.Duration { return w.tick }

// Now returns the last tick processed. It is safe for concurrent use and does not lock. It lags
// real time when the wheel goroutine runs late: compute due ticks from Clock, not from Now.
func (w *Wheel[T]) Now() int64 { return w.now.Load() }

// Clock returns the tick real time has reached (ticks since the wheel was created, by the
// monotonic clock). A timer scheduled at Clock() + Ticks(d) + 1 never fires before d has passed,
// however late the wheel goroutine runs.
func (w *Wheel[T]) Clock() int64 { return int64(time.Since(w.start) / w.tick) }

// Ticks converts d to a number of ticks, rounded up, at least 1.
func (w *Wheel[T]) Ticks(d time.Duration) int64 {
	n := int64((d + w.tick - 1) / w.tick)
	if n < 1 {
		n = 1
	}
	return n
}

// Len returns the number of scheduled timers.
func (w *Wheel[T]) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count
}

// Schedule (re)arms t to fire at tick at. A tick that has already been processed means the next
// tick. Safe for concurrent use.
func (w *Wheel[T]) Schedule(t *Timer[T], at int64) {
	w.mu.Lock()
	w.scheduleLocked(t, at)
	w.mu.Unlock()
}

// scheduleLocked links t into its slot.
// Lock should be held.
func (w *Wheel[T]) scheduleLocked(t *Timer[T], at int64) {
	if t.prev != nil {
		w.unlinkLocked(t)
	}
	if at <= w.cur {
		at = w.cur + 1
	}
	t.at = at
	head := &w.slots[at&w.mask]
	t.prev, t.next = head.prev, head
	head.prev.next = t
	head.prev = t
	w.count++
}

// unlinkLocked removes t from its slot.
// Lock should be held.
func (w *Wheel[T]) unlinkLocked(t *Timer[T]) {
	t.prev.next = t.next
	t.next.prev = t.prev
	t.prev, t.next = nil, nil
	w.count--
}

// Cancel disarms t and reports whether it was scheduled. A fire call already collected by the wheel
// goroutine may still happen. Safe for concurrent use.
func (w *Wheel[T]) Cancel(t *Timer[T]) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t.prev == nil {
		return false
	}
	w.unlinkLocked(t)
	return true
}

// Start runs the wheel goroutine until Stop. Call it at most once.
func (w *Wheel[T]) Start() {
	w.started.Store(true)
	go w.run()
}

// Stop stops the wheel goroutine and waits for it to exit. Timers stay scheduled and never fire.
// It is safe to call more than once, and on a wheel that was never started.
func (w *Wheel[T]) Stop() {
	w.once.Do(func() { close(w.done) })
	if w.started.Load() {
		<-w.quit
	}
}

func (w *Wheel[T]) run() {
	defer close(w.quit)
	tk := time.NewTicker(w.tick)
	defer tk.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-tk.C:
			w.Advance(w.Clock())
		}
	}
}

// Advance processes every tick up to and including to, firing the timers that come due, in tick
// order. The wheel goroutine calls it; tests may call it on a wheel that was never started, to
// drive time by hand.
func (w *Wheel[T]) Advance(to int64) {
	w.advMu.Lock()
	defer w.advMu.Unlock()
	for {
		w.mu.Lock()
		if w.cur >= to {
			w.mu.Unlock()
			return
		}
		w.cur++
		now := w.cur
		w.now.Store(now)
		w.collectLocked(now)
		w.mu.Unlock()
		for i, t := range w.due {
			w.due[i] = nil
			w.fire(t.Owner, now)
		}
		w.due = w.due[:0]
	}
}

// collectLocked moves the timers of tick now's slot that are due into w.due.
// Lock should be held.
func (w *Wheel[T]) collectLocked(now int64) {
	head := &w.slots[now&w.mask]
	for t := head.next; t != head; {
		next := t.next
		if t.at <= now {
			w.unlinkLocked(t)
			w.due = append(w.due, t)
		}
		t = next
	}
}
