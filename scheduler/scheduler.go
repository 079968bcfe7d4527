package scheduler

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Target is the outbound side of one client connection. *hybrid.Conn implements it.
type Target interface {
	// Enqueue appends one whole package to the connection's outbound queue without writing it.
	// It copies pkg; the caller may reuse pkg when Enqueue returns. Safe for concurrent use.
	Enqueue(pkg []byte) error
	// Flush writes everything queued so far with one write. Safe for concurrent use.
	Flush() error
}

// Scheduler hands packages to targets and decides when they are flushed. All methods are safe for
// concurrent use.
type Scheduler interface {
	// Schedule enqueues pkg on every target and arranges one flush per target. pkg is only read
	// during the call.
	Schedule(pkg []byte, targets []Target)
	// ScheduleOne is Schedule for a single target, without building a slice.
	ScheduleOne(pkg []byte, t Target)
	// Pending tells the scheduler that the caller enqueued packages on t itself and that t needs
	// a flush under this scheduler's policy.
	Pending(t Target)
	// Stats returns a snapshot of the counters.
	Stats() Stats
	// Close stops the scheduler. Buffered flushes what is dirty first. Later calls to Schedule and
	// Pending flush at once, as Direct does. Close is idempotent.
	Close() error
}

// Kind selects a scheduler implementation.
type Kind uint8

// Scheduler kinds.
const (
	Direct   Kind = iota // flush at once (pomelo's default "direct")
	Buffered             // flush every FlushInterval (pomelo's "buffer")
)

func (k Kind) String() string {
	switch k {
	case Direct:
		return "direct"
	case Buffered:
		return "buffered"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// DefaultFlushInterval is the Buffered flush period when Config.FlushInterval is zero (pomelo's
// flushInterval default).
const DefaultFlushInterval = 20 * time.Millisecond

// ErrInvalidConfig is returned by Config.Validate and New.
var ErrInvalidConfig = errors.New("scheduler: invalid config")

// Config configures a scheduler. The zero value is valid: a Direct scheduler.
type Config struct {
	// Kind is Direct or Buffered.
	Kind Kind
	// FlushInterval is the Buffered flush period; zero means DefaultFlushInterval. Ignored by
	// Direct.
	FlushInterval time.Duration
}

// Validate reports whether c is usable.
func (c *Config) Validate() error {
	switch {
	case c.Kind != Direct && c.Kind != Buffered:
		return fmt.Errorf("%w: unknown Kind %d", ErrInvalidConfig, c.Kind)
	case c.FlushInterval < 0:
		return fmt.Errorf("%w: negative FlushInterval", ErrInvalidConfig)
	}
	return nil
}

func (c *Config) flushInterval() time.Duration {
	if c.FlushInterval <= 0 {
		return DefaultFlushInterval
	}
	return c.FlushInterval
}

// Option sets a hook.
type Option struct{ f func(*options) }

type options struct {
	onError func(t Target, err error)
}

// OnError installs a hook called (from the goroutine that saw it) for every Enqueue or Flush error.
// It must not block.
func OnError(f func(t Target, err error)) Option {
	return Option{func(o *options) { o.onError = f }}
}

// Stats are cumulative counters.
type Stats struct {
	Enqueued      uint64 // packages handed to Target.Enqueue successfully
	EnqueueErrors uint64 // Target.Enqueue failures
	Flushes       uint64 // calls to Target.Flush
	FlushErrors   uint64 // Target.Flush failures
}

// New returns the scheduler cfg describes.
func New(cfg Config, opts ...Option) (Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		if opt.f != nil {
			opt.f(&o)
		}
	}
	if cfg.Kind == Buffered {
		return newBuffered(cfg.flushInterval(), o), nil
	}
	return &direct{counters: counters{opts: o}}, nil
}

// counters is embedded by both implementations.
type counters struct {
	opts                                      options
	enqueued, enqueueErrs, flushes, flushErrs atomic.Uint64
}

func (c *counters) enqueue(pkg []byte, t Target) bool {
	if err := t.Enqueue(pkg); err != nil {
		c.enqueueErrs.Add(1)
		if c.opts.onError != nil {
			c.opts.onError(t, err)
		}
		return false
	}
	c.enqueued.Add(1)
	return true
}

func (c *counters) flush(t Target) {
	c.flushes.Add(1)
	if err := t.Flush(); err != nil {
		c.flushErrs.Add(1)
		if c.opts.onError != nil {
			c.opts.onError(t, err)
		}
	}
}

// Stats implements Scheduler.
func (c *counters) Stats() Stats {
	return Stats{Enqueued: c.enqueued.Load(), EnqueueErrors: c.enqueueErrs.Load(),
		Flushes: c.flushes.Load(), FlushErrors: c.flushErrs.Load()}
}

// direct flushes every target as soon as its package is enqueued.
type direct struct {
	counters
}

func (d *direct) Schedule(pkg []byte, targets []Target) {
	for _, t := range targets {
		if d.enqueue(pkg, t) {
			d.flush(t)
		}
	}
}

func (d *direct) ScheduleOne(pkg []byte, t Target) {
	if d.enqueue(pkg, t) {
		d.flush(t)
	}
}

func (d *direct) Pending(t Target) { d.flush(t) }

func (d *direct) Close() error { return nil }

// buffered flushes each dirty target once per interval.
type buffered struct {
	counters
	interval time.Duration

	mu     sync.Mutex          // guards dirty, spare, closed
	dirty  map[Target]struct{} // targets with unflushed packages; at most one entry per connection
	spare  map[Target]struct{} // the set being flushed by the loop, reused (cleared) every tick
	closed bool

	done chan struct{} // closed by Close (its only sender) to stop the loop
	wg   sync.WaitGroup
	once sync.Once
}

func newBuffered(interval time.Duration, o options) *buffered {
	b := &buffered{
		counters: counters{opts: o},
		interval: interval,
		dirty:    make(map[Target]struct{}),
		spare:    make(map[Target]struct{}),
		done:     make(chan struct{}),
	}
	b.wg.Add(1)
	go b.loop()
	return b
}

// Schedule enqueues on every target first, then marks them dirty under one lock acquisition.
func (b *buffered) Schedule(pkg []byte, targets []Target) {
	ok := 0
	for _, t := range targets {
		if b.enqueue(pkg, t) {
			ok++
		}
	}
	if ok == 0 {
		return
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		for _, t := range targets {
			b.flush(t)
		}
		return
	}
	for _, t := range targets {
		b.dirty[t] = struct{}{}
	}
	b.mu.Unlock()
}

func (b *buffered) ScheduleOne(pkg []byte, t Target) {
	if b.enqueue(pkg, t) {
		b.Pending(t)
	}
}

// Pending adds t to the dirty set (or flushes it at once after Close).
func (b *buffered) Pending(t Target) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.flush(t)
		return
	}
	b.dirty[t] = struct{}{}
	b.mu.Unlock()
}

// dirtyLen reports the size of the dirty set (for tests).
func (b *buffered) dirtyLen() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.dirty)
}

func (b *buffered) loop() {
	defer b.wg.Done()
	tick := time.NewTicker(b.interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			b.flushDirty()
		case <-b.done:
			b.flushDirty()
			return
		}
	}
}

// flushDirty swaps the dirty set out under the lock and flushes its members outside it, so
// Schedule never waits for a write. Only the loop goroutine calls it.
func (b *buffered) flushDirty() {
	b.mu.Lock()
	set := b.dirty
	b.dirty, b.spare = b.spare, nil
	b.mu.Unlock()
	for t := range set {
		b.flush(t)
	}
	clear(set)
	b.mu.Lock()
	b.spare = set
	b.mu.Unlock()
}

func (b *buffered) Close() error {
	b.once.Do(func() {
		close(b.done)
		b.wg.Wait()
		b.mu.Lock()
		b.closed = true
		rest := b.dirty
		b.dirty = nil
		b.mu.Unlock()
		for t := range rest {
			b.flush(t)
		}
	})
	return nil
}
