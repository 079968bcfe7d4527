package engine

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the built-in filters (pomelo's).
const (
	DefaultSerialTimeout  = 3 * time.Second // taskManager's task timeout
	DefaultTimeout        = 3 * time.Second // filters.timeout
	DefaultTimeoutMaxSize = 500             // filters.timeout maxSize
	DefaultMaxLag         = 70 * time.Millisecond
	DefaultLagInterval    = 100 * time.Millisecond
)

// Errors of the built-in filters.
var (
	ErrSerialTimeout = errors.New("engine: serial task timed out")
	ErrTooBusy       = errors.New("engine: server too busy")
)

// FilterOption sets a hook on a built-in filter.
type FilterOption struct{ f func(*filterHooks) }

type filterHooks struct {
	onTimeout func(route string, sessionID uint64, elapsed time.Duration)
	onTime    func(route string, elapsed time.Duration, err error)
	lag       func() time.Duration
}

func applyFilterOptions(opts []FilterOption) filterHooks {
	var h filterHooks
	for _, o := range opts {
		if o.f != nil {
			o.f(&h)
		}
	}
	return h
}

// OnFilterTimeout is called by Serial and Timeout when a request exceeds its time (instead of the
// default warning log). It runs on a timer goroutine and must not block.
func OnFilterTimeout(f func(route string, sessionID uint64, elapsed time.Duration)) FilterOption {
	return FilterOption{func(h *filterHooks) { h.onTimeout = f }}
}

// OnRequestTime is called by the Time filter after every request (instead of the default debug
// log).
func OnRequestTime(f func(route string, elapsed time.Duration, err error)) FilterOption {
	return FilterOption{func(h *filterHooks) { h.onTime = f }}
}

// WithLagSource replaces TooBusy's own lag measurement (for tests, or to share one monitor).
func WithLagSource(f func() time.Duration) FilterOption {
	return FilterOption{func(h *filterHooks) { h.lag = f }}
}

// ---------------------------------------------------------------------------------------------
// serial

// SerialConfig configures the Serial filter. The zero value is valid.
type SerialConfig struct {
	// Timeout is how long a request may hold its session's queue; zero means
	// DefaultSerialTimeout. The next request then starts, and the late one is answered with an
	// error when it finishes.
	Timeout time.Duration
}

// Serial runs the requests of one session one at a time, in arrival order (pomelo's
// filters.serial): a request waits, without blocking the read goroutine, until the previous one
// of its session has been answered or has timed out. Use it as a Filter (before and after).
// Safe for concurrent use.
type Serial struct {
	timeout time.Duration
	hooks   filterHooks

	mu     sync.Mutex // guards queues and every serialQueue and serialTask
	queues map[serialSession]*serialQueue
}

// serialSession names a session: on a frontend the session itself, on a backend the frontend id
// and session id of the forwarded request's snapshot.
type serialSession struct {
	sess     *Session
	frontend string
	sid      uint64
}

func serialSessionOf(ctx *Context) serialSession {
	if ctx.sess != nil {
		return serialSession{sess: ctx.sess}
	}
	return serialSession{frontend: ctx.rfid, sid: ctx.rsid}
}

type serialQueue struct {
	key     serialSession
	srv     *Server
	cur     *Context
	curTask *serialTask
	timer   *time.Timer
	waiting []*Context
}

type serialTask struct {
	q        *serialQueue
	timedOut bool
}

type serialKey struct{}

// Validate reports whether c is usable.
func (c *SerialConfig) Validate() error {
	if c.Timeout < 0 {
		return fmt.Errorf("%w: negative serial Timeout", ErrInvalidConfig)
	}
	return nil
}

// NewSerial returns a Serial filter.
func NewSerial(cfg SerialConfig, opts ...FilterOption) (*Serial, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSerialTimeout
	}
	return &Serial{timeout: cfg.Timeout, hooks: applyFilterOptions(opts), queues: make(map[serialSession]*serialQueue)}, nil
}

// Before implements BeforeFilter.
func (f *Serial) Before(ctx *Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := serialSessionOf(ctx)
	q := f.queues[key]
	if q == nil {
		q = &serialQueue{key: key, srv: ctx.srv}
		f.queues[key] = q
	}
	task := &serialTask{q: q}
	ctx.SetValue(serialKey{}, task)
	if q.cur == nil {
		f.startLocked(q, ctx, task)
		return nil
	}
	err := ctx.Suspend()
	q.waiting = append(q.waiting, ctx)
	return err
}

// startLocked makes ctx the running task of q. Lock should be held.
func (f *Serial) startLocked(q *serialQueue, ctx *Context, task *serialTask) {
	q.cur, q.curTask = ctx, task
	route, sid, start := ctx.route.name, ctx.SessionID(), time.Now()
	q.timer = time.AfterFunc(f.timeout, func() { f.expire(q, task, route, sid, start) })
}

// nextLocked moves q to its next waiting task and returns it (nil when q is drained, which
// forgets q). Lock should be held.
func (f *Serial) nextLocked(q *serialQueue) *Context {
	q.cur, q.curTask, q.timer = nil, nil, nil
	if len(q.waiting) == 0 {
		delete(f.queues, q.key)
		return nil
	}
	next := q.waiting[0]
	q.waiting[0] = nil
	q.waiting = q.waiting[1:]
	f.startLocked(q, next, next.Value(serialKey{}).(*serialTask))
	return next
}

func (f *Serial) expire(q *serialQueue, task *serialTask, route string, sid uint64, start time.Time) {
	f.mu.Lock()
	if q.curTask != task {
		f.mu.Unlock()
		return
	}
	task.timedOut = true
	next := f.nextLocked(q)
	f.mu.Unlock()
	if f.hooks.onTimeout != nil {
		f.hooks.onTimeout(route, sid, time.Since(start))
	} else {
		q.srv.logTimeout("serial", route, sid, time.Since(start))
	}
	if next != nil {
		next.Resume(nil)
	}
}

// After implements AfterFilter.
func (f *Serial) After(ctx *Context, err error) error {
	task, _ := ctx.Value(serialKey{}).(*serialTask)
	if task == nil {
		return err
	}
	f.mu.Lock()
	var next *Context
	switch {
	case task.q.curTask == task:
		task.q.timer.Stop()
		next = f.nextLocked(task.q)
	case task.timedOut && err == nil:
		err = ErrSerialTimeout
	}
	f.mu.Unlock()
	if next != nil {
		// The next request starts once this one's response is queued, so that the session's
		// responses leave in request order (as pomelo's single thread has them), on a new
		// goroutine so that a long queue of quick requests does not nest on one stack.
		ctx.whenResponded(func() { go next.Resume(nil) })
	}
	return err
}

// ---------------------------------------------------------------------------------------------
// timeout

// TimeoutConfig configures the Timeout filter. The zero value is valid.
type TimeoutConfig struct {
	// Timeout is when a request is reported as slow; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxSize bounds how many requests are tracked at once; zero means DefaultTimeoutMaxSize.
	// Requests above it are not tracked.
	MaxSize int
}

// Timeout reports (logs, or calls the OnFilterTimeout hook) requests that take longer than
// Timeout, as pomelo's filters.timeout does; it changes nothing for the client. Use it as a Filter.
// Safe for concurrent use.
type Timeout struct {
	timeout time.Duration
	maxSize int64
	hooks   filterHooks
	live    atomic.Int64
}

type timeoutKey struct{}

// Validate reports whether c is usable.
func (c *TimeoutConfig) Validate() error {
	if c.Timeout < 0 || c.MaxSize < 0 {
		return fmt.Errorf("%w: negative timeout filter setting", ErrInvalidConfig)
	}
	return nil
}

// NewTimeout returns a Timeout filter.
func NewTimeout(cfg TimeoutConfig, opts ...FilterOption) (*Timeout, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = DefaultTimeoutMaxSize
	}
	return &Timeout{timeout: cfg.Timeout, maxSize: int64(cfg.MaxSize), hooks: applyFilterOptions(opts)}, nil
}

// UsesStart implements StartStamper.
func (f *Timeout) UsesStart() bool { return true }

// Tracked returns how many requests are being timed.
func (f *Timeout) Tracked() int { return int(f.live.Load()) }

// Before implements BeforeFilter.
func (f *Timeout) Before(ctx *Context) error {
	if f.live.Add(1) > f.maxSize {
		f.live.Add(-1)
		return nil
	}
	route, sid, start, srv := ctx.route.name, ctx.SessionID(), ctx.start, ctx.srv
	t := time.AfterFunc(f.timeout, func() {
		f.live.Add(-1)
		if f.hooks.onTimeout != nil {
			f.hooks.onTimeout(route, sid, time.Since(start))
		} else {
			srv.logTimeout("timeout", route, sid, time.Since(start))
		}
	})
	ctx.SetValue(timeoutKey{}, t)
	return nil
}

// After implements AfterFilter.
func (f *Timeout) After(ctx *Context, err error) error {
	if t, ok := ctx.Value(timeoutKey{}).(*time.Timer); ok && t.Stop() {
		f.live.Add(-1)
	}
	return err
}

// ---------------------------------------------------------------------------------------------
// time

// Time measures every request from its arrival to its after filters (pomelo's filters.time) and
// keeps per-route totals; each measure goes to the OnRequestTime hook, or to a debug log. Use it
// as an AfterFilter (or Filter). Safe for concurrent use.
type Time struct {
	hooks  filterHooks
	routes sync.Map // route → *RouteTiming
}

// RouteTiming are the totals of one route.
type RouteTiming struct {
	Count, Errors atomic.Uint64
	Total, Max    atomic.Int64 // nanoseconds
}

// NewTime returns a Time filter.
func NewTime(opts ...FilterOption) *Time { return &Time{hooks: applyFilterOptions(opts)} }

// UsesStart implements StartStamper: the engine stamps requests on arrival.
func (f *Time) UsesStart() bool { return true }

// Before implements BeforeFilter (nothing to do: the engine stamps every request on arrival).
func (f *Time) Before(*Context) error { return nil }

// After implements AfterFilter.
func (f *Time) After(ctx *Context, err error) error {
	d := time.Since(ctx.start)
	v, ok := f.routes.Load(ctx.route.name)
	if !ok {
		v, _ = f.routes.LoadOrStore(ctx.route.name, new(RouteTiming))
	}
	rt := v.(*RouteTiming)
	rt.Count.Add(1)
	if err != nil {
		rt.Errors.Add(1)
	}
	rt.Total.Add(int64(d))
	for m := rt.Max.Load(); int64(d) > m && !rt.Max.CompareAndSwap(m, int64(d)); m = rt.Max.Load() {
	}
	if f.hooks.onTime != nil {
		f.hooks.onTime(ctx.route.name, d, err)
	} else {
		ctx.srv.log.Debug("engine: request time", "route", ctx.route.name, "elapsed", d, "err", err)
	}
	return err
}

// Route returns the totals of route, or nil.
func (f *Time) Route(route string) *RouteTiming {
	v, ok := f.routes.Load(route)
	if !ok {
		return nil
	}
	return v.(*RouteTiming)
}

// ---------------------------------------------------------------------------------------------
// toobusy

// TooBusyConfig configures the TooBusy filter. The zero value is valid.
type TooBusyConfig struct {
	// MaxLag sheds requests while the measured scheduling lag exceeds it; zero means
	// DefaultMaxLag (pomelo's toobusy maxLag, 70 ms).
	MaxLag time.Duration
	// Interval is how often the lag is sampled; zero means DefaultLagInterval.
	Interval time.Duration
	// MaxInFlight sheds requests while this many are between the filter's before and after;
	// zero means no limit.
	MaxInFlight int
}

// TooBusy sheds requests with {"code":500} while the server is overloaded (pomelo's
// filters.toobusy): when the scheduling lag — how late a ticker goroutine wakes up, smoothed —
// exceeds MaxLag, or when MaxInFlight requests are already in progress. Use it as a Filter; Close
// stops its monitor goroutine. Safe for concurrent use.
type TooBusy struct {
	maxLag      time.Duration
	maxInFlight int64
	hooks       filterHooks

	lag      atomic.Int64 // smoothed lag, ns (written by the monitor goroutine)
	inFlight atomic.Int64
	shed     atomic.Uint64

	done chan struct{} // closed by Close (its only sender)
	wg   sync.WaitGroup
	once sync.Once
}

type tooBusyKey struct{}

// Validate reports whether c is usable.
func (c *TooBusyConfig) Validate() error {
	if c.MaxLag < 0 || c.Interval < 0 || c.MaxInFlight < 0 {
		return fmt.Errorf("%w: negative toobusy setting", ErrInvalidConfig)
	}
	return nil
}

// NewTooBusy returns a TooBusy filter and starts its lag monitor (unless WithLagSource is given).
func NewTooBusy(cfg TooBusyConfig, opts ...FilterOption) (*TooBusy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxLag == 0 {
		cfg.MaxLag = DefaultMaxLag
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultLagInterval
	}
	t := &TooBusy{maxLag: cfg.MaxLag, maxInFlight: int64(cfg.MaxInFlight), hooks: applyFilterOptions(opts),
		done: make(chan struct{})}
	if t.hooks.lag == nil {
		t.wg.Add(1)
		go t.monitor(cfg.Interval)
	}
	return t, nil
}

// monitor samples how late a timer fires; the lag is smoothed as node-toobusy does (each sample
// weighs one third).
func (t *TooBusy) monitor(interval time.Duration) {
	defer t.wg.Done()
	timer := time.NewTimer(interval)
	defer timer.Stop()
	expected := time.Now().Add(interval)
	for {
		select {
		case <-t.done:
			return
		case <-timer.C:
			// The channel's value is when the timer was run; what matters is when this
			// goroutine got to run, so read the clock again.
			t.observe(time.Since(expected))
			expected = time.Now().Add(interval)
			timer.Reset(interval)
		}
	}
}

// observe folds one lag sample into the smoothed lag.
func (t *TooBusy) observe(sample time.Duration) {
	if sample < 0 {
		sample = 0
	}
	old := t.lag.Load()
	t.lag.Store((2*old + int64(sample)) / 3)
}

// Lag returns the current smoothed scheduling lag.
func (t *TooBusy) Lag() time.Duration {
	if t.hooks.lag != nil {
		return t.hooks.lag()
	}
	return time.Duration(t.lag.Load())
}

// InFlight returns the number of requests between before and after.
func (t *TooBusy) InFlight() int { return int(t.inFlight.Load()) }

// Shed returns how many requests were refused.
func (t *TooBusy) Shed() uint64 { return t.shed.Load() }

// Before implements BeforeFilter.
func (t *TooBusy) Before(ctx *Context) error {
	if t.Lag() > t.maxLag || (t.maxInFlight > 0 && t.inFlight.Load() >= t.maxInFlight) {
		t.shed.Add(1)
		return &CodeError{Code: DefaultErrorCode, Err: ErrTooBusy}
	}
	t.inFlight.Add(1)
	ctx.SetValue(tooBusyKey{}, t)
	return nil
}

// After implements AfterFilter.
func (t *TooBusy) After(ctx *Context, err error) error {
	if ctx.Value(tooBusyKey{}) == t {
		t.inFlight.Add(-1)
		ctx.SetValue(tooBusyKey{}, nil)
	}
	return err
}

// Close stops the lag monitor. It is idempotent.
func (t *TooBusy) Close() error {
	t.once.Do(func() {
		close(t.done)
		t.wg.Wait()
	})
	return nil
}
