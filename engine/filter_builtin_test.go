package engine

import (
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// asyncGate is an async handler whose replies are released by the test.
type asyncGate struct {
	mu      sync.Mutex
	started []string
	replies map[string]func(*json.RawMessage, error)
	startCh chan string
}

func newAsyncGate() *asyncGate {
	return &asyncGate{replies: make(map[string]func(*json.RawMessage, error)), startCh: make(chan string, 16)}
}

func (g *asyncGate) handler(_ *Context, req *json.RawMessage, reply func(*json.RawMessage, error)) {
	var v struct{ N string }
	_ = json.Unmarshal(*req, &v)
	g.mu.Lock()
	g.started = append(g.started, v.N)
	g.replies[v.N] = reply
	g.mu.Unlock()
	g.startCh <- v.N
}

func (g *asyncGate) release(n string) {
	g.mu.Lock()
	r := g.replies[n]
	g.mu.Unlock()
	r(&json.RawMessage{'"', n[0], '"'}, nil)
}

func (g *asyncGate) waitStart(t testing.TB) string {
	t.Helper()
	select {
	case n := <-g.startCh:
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not start")
		return ""
	}
}

func (g *asyncGate) noStart(t testing.TB) {
	t.Helper()
	select {
	case n := <-g.startCh:
		t.Fatalf("request %s started too early", n)
	case <-time.After(30 * time.Millisecond):
	}
}

func TestSerialFilter(t *testing.T) {
	gate := newAsyncGate()
	serial, err := NewSerial(SerialConfig{})
	requireNoError(t, err)
	e := newEnv(t, AppConfig{}, func(app *App) {
		requireNoError(t, app.Filter("", serial))
		mustHandle(t, HandleAsync(app, "connector.h.async", gate.handler))
	}, ServerConfig{})
	c, s := e.connect()
	_, other := e.connect()
	e.send(s, request(1, "connector.h.async", `{"N":"1"}`))
	e.send(s, request(2, "connector.h.async", `{"N":"2"}`))
	e.send(s, request(3, "connector.h.async", `{"N":"3"}`))
	requireEqual(t, gate.waitStart(t), "1")
	gate.noStart(t) // 2 waits for 1, without blocking the read goroutine
	// Another session is not serialised with this one.
	e.send(other, request(1, "connector.h.async", `{"N":"x"}`))
	requireEqual(t, gate.waitStart(t), "x")
	gate.release("1")
	requireEqual(t, gate.waitStart(t), "2")
	gate.noStart(t)
	gate.release("2")
	requireEqual(t, gate.waitStart(t), "3")
	gate.release("3")
	msgs := c.waitMessages(t, 3)
	for i, m := range msgs {
		requireEqual(t, m.ID, uint32(i+1))
	}
	gate.release("x")
	deadline := time.Now().Add(5 * time.Second)
	for {
		serial.mu.Lock()
		n := len(serial.queues)
		serial.mu.Unlock()
		if n == 0 {
			break // drained queues are forgotten: the map stays bounded
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d serial queues left", n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSerialFilterTimeout(t *testing.T) {
	gate := newAsyncGate()
	var timeouts atomic.Int32
	serial, err := NewSerial(SerialConfig{Timeout: 40 * time.Millisecond},
		OnFilterTimeout(func(route string, sid uint64, d time.Duration) { timeouts.Add(1) }))
	requireNoError(t, err)
	e := newEnv(t, AppConfig{}, func(app *App) {
		requireNoError(t, app.Filter("", serial))
		mustHandle(t, HandleAsync(app, "connector.h.async", gate.handler))
	}, ServerConfig{})
	c, s := e.connect()
	e.send(s, request(1, "connector.h.async", `{"N":"1"}`))
	e.send(s, request(2, "connector.h.async", `{"N":"2"}`))
	requireEqual(t, gate.waitStart(t), "1")
	// 1 never answers in time: 2 starts after the timeout.
	requireEqual(t, gate.waitStart(t), "2")
	requireEqual(t, timeouts.Load(), int32(1))
	gate.release("2")
	c.waitMessages(t, 1)
	gate.release("1") // late: answered with an error
	msgs := c.waitMessages(t, 2)
	requireEqual(t, msgs[0].ID, uint32(2))
	requireEqual(t, string(msgs[0].Body), `"2"`)
	requireEqual(t, msgs[1].ID, uint32(1))
	requireEqual(t, string(msgs[1].Body), `{"code":500}`)
}

func TestTimeoutFilter(t *testing.T) {
	gate := newAsyncGate()
	var mu sync.Mutex
	var slow []string
	tf, err := NewTimeout(TimeoutConfig{Timeout: 20 * time.Millisecond, MaxSize: 2},
		OnFilterTimeout(func(route string, sid uint64, d time.Duration) {
			mu.Lock()
			slow = append(slow, route)
			mu.Unlock()
		}))
	requireNoError(t, err)
	e := newEnv(t, AppConfig{}, func(app *App) {
		requireNoError(t, app.Filter("", tf))
		mustHandle(t, HandleAsync(app, "connector.h.async", gate.handler))
		mustHandle(t, Handle(app, "connector.h.fast", echoRaw))
	}, ServerConfig{})
	c, s := e.connect()
	e.call(c, s, 1, "connector.h.fast", `{}`)
	requireEqual(t, tf.Tracked(), 0)
	for i, n := range []string{"a", "b", "c"} {
		e.send(s, request(uint32(10+i), "connector.h.async", `{"N":"`+n+`"}`))
		gate.waitStart(t)
	}
	requireEqual(t, tf.Tracked(), 2) // bounded by MaxSize: the third is not tracked
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(slow)
		mu.Unlock()
		if n >= 2 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	requireDeepEqual(t, slow, []string{"connector.h.async", "connector.h.async"})
	mu.Unlock()
	requireEqual(t, tf.Tracked(), 0)
	for _, n := range []string{"a", "b", "c"} {
		gate.release(n)
	}
	msgs := c.waitMessages(t, 4)
	requireEqual(t, string(msgs[1].Body), `"a"`) // nothing changes for the client
}

func TestTimeFilter(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	tf := NewTime(OnRequestTime(func(route string, d time.Duration, err error) {
		mu.Lock()
		seen = append(seen, route)
		mu.Unlock()
		if d <= 0 {
			t.Errorf("elapsed %v", d)
		}
	}))
	e := newEnv(t, AppConfig{}, func(app *App) {
		requireNoError(t, app.After("", tf))
		mustHandle(t, Handle(app, "connector.h.ok", echoRaw))
		mustHandle(t, Handle(app, "connector.h.err", func(*Context, *json.RawMessage) (*json.RawMessage, error) {
			time.Sleep(2 * time.Millisecond)
			return nil, errors.New("x")
		}))
	}, ServerConfig{})
	c, s := e.connect()
	e.call(c, s, 1, "connector.h.ok", `{}`)
	e.call(c, s, 2, "connector.h.ok", `{}`)
	e.call(c, s, 3, "connector.h.err", `{}`)
	requireDeepEqual(t, seen, []string{"connector.h.ok", "connector.h.ok", "connector.h.err"})
	ok, bad := tf.Route("connector.h.ok"), tf.Route("connector.h.err")
	requireEqual(t, ok.Count.Load(), uint64(2))
	requireEqual(t, bad.Errors.Load(), uint64(1))
	if bad.Max.Load() < int64(2*time.Millisecond) || bad.Total.Load() < bad.Max.Load() {
		t.Fatalf("timing totals %d/%d", bad.Total.Load(), bad.Max.Load())
	}
	requireEqual(t, tf.Route("nope") == nil, true)
}

func TestTooBusyInFlight(t *testing.T) {
	gate := newAsyncGate()
	tb, err := NewTooBusy(TooBusyConfig{MaxInFlight: 2})
	requireNoError(t, err)
	defer tb.Close()
	e := newEnv(t, AppConfig{}, func(app *App) {
		requireNoError(t, app.Filter("", tb))
		mustHandle(t, HandleAsync(app, "connector.h.async", gate.handler))
	}, ServerConfig{})
	c, s := e.connect()
	e.send(s, request(1, "connector.h.async", `{"N":"1"}`))
	e.send(s, request(2, "connector.h.async", `{"N":"2"}`))
	gate.waitStart(t)
	gate.waitStart(t)
	requireEqual(t, tb.InFlight(), 2)
	m := e.call(c, s, 3, "connector.h.async", `{"N":"3"}`)
	requireEqual(t, string(m.Body), `{"code":500}`)
	requireEqual(t, tb.Shed(), uint64(1))
	gate.release("1")
	c.waitMessages(t, 2)
	requireEqual(t, tb.InFlight(), 1)
	e.send(s, request(4, "connector.h.async", `{"N":"4"}`))
	requireEqual(t, gate.waitStart(t), "4")
}

func TestTooBusyLag(t *testing.T) {
	var lag atomic.Int64
	tb, err := NewTooBusy(TooBusyConfig{MaxLag: 50 * time.Millisecond},
		WithLagSource(func() time.Duration { return time.Duration(lag.Load()) }))
	requireNoError(t, err)
	e := newEnv(t, AppConfig{}, func(app *App) {
		requireNoError(t, app.Filter("", tb))
		mustHandle(t, Handle(app, "connector.h.m", echoRaw))
	}, ServerConfig{})
	c, s := e.connect()
	requireEqual(t, string(e.call(c, s, 1, "connector.h.m", `{"a":1}`).Body), `{"a":1}`)
	lag.Store(int64(80 * time.Millisecond))
	requireEqual(t, string(e.call(c, s, 2, "connector.h.m", `{"a":1}`).Body), `{"code":500}`)
	lag.Store(int64(10 * time.Millisecond))
	requireEqual(t, string(e.call(c, s, 3, "connector.h.m", `{"a":1}`).Body), `{"a":1}`)
	requireEqual(t, tb.InFlight(), 0)
}

// The lag monitor: samples are smoothed, and a goroutine that hogs the only P makes the
// measured lag grow.
func TestTooBusyMonitor(t *testing.T) {
	tb, err := NewTooBusy(TooBusyConfig{Interval: time.Hour})
	requireNoError(t, err)
	defer tb.Close()
	tb.observe(90 * time.Millisecond)
	requireEqual(t, tb.Lag(), 30*time.Millisecond)
	tb.observe(90 * time.Millisecond)
	requireEqual(t, tb.Lag(), 50*time.Millisecond)
	tb.observe(-time.Second) // early wake-ups count as 0
	requireEqual(t, tb.Lag(), 33333333*time.Nanosecond)

	live, err := NewTooBusy(TooBusyConfig{Interval: 2 * time.Millisecond})
	requireNoError(t, err)
	defer live.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ { // more busy goroutines than Ps: the monitor waits its turn
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				busyFor(5 * time.Millisecond)
			}
		}()
	}
	deadline := time.Now().Add(3 * time.Second)
	for live.Lag() < time.Millisecond && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if live.Lag() < time.Millisecond {
		t.Fatalf("lag %v under load", live.Lag())
	}
}

// busyFor spins without yielding for about d.
func busyFor(d time.Duration) {
	end := time.Now().Add(d)
	x := 0
	for time.Now().Before(end) {
		for i := 0; i < 1000; i++ {
			x += i
		}
	}
	_ = x
}

func TestFilterConfigValidation(t *testing.T) {
	_, err := NewSerial(SerialConfig{Timeout: -1})
	requireErrorIs(t, err, ErrInvalidConfig)
	_, err = NewTimeout(TimeoutConfig{MaxSize: -1})
	requireErrorIs(t, err, ErrInvalidConfig)
	_, err = NewTooBusy(TooBusyConfig{MaxLag: -1})
	requireErrorIs(t, err, ErrInvalidConfig)
}
