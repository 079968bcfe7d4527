package driver

import (
	"math"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shaddock-io/shaddock/codec/pomelopb"
)

const (
	readBufferSize  = 64 << 10
	maxEvents       = 256
	publishInterval = int64(100 * time.Millisecond)
	sendBurst       = 512 // open-loop sends per loop iteration at most, so reads are not starved
	pickTries       = 64  // connections tried by an open-loop send before it counts as unsent
)

// loop is one epoll instance and the connections it owns. Everything in it belongs to its
// goroutine (run), except rampDone and drained, which the controller reads.
type loop struct {
	_      noCopy
	d      *Driver
	cfg    *Config
	id     int
	poll   poller
	events []syscall.EpollEvent
	wakeR  int // read end of the wake-up pipe (SetPhase writes to wakeW)
	wakeW  int

	conns   []conn  // this loop's share, in global index order
	byFD    []*conn // by file descriptor
	ready   []*conn // connections past their setup, for open-loop round robin
	rr      int
	wheel   wheel
	fireFn  func(*conn)
	now     int64
	phase   Phase
	maxConn int // connections in progress at once

	nextConn      int   // next index in conns to open
	connectEvery  int64 // ns between connection attempts; 0: no pacing
	nextConnectAt int64

	sendEvery  int64 // open loop: ns between sends; 0: closed loop or no sends
	nextSendAt int64
	openLoop   bool

	rbuf     []byte
	out      []byte // bytes for the connection being served, flushed once per event
	inflated []byte // a compressed WebSocket message, inflated
	body     []byte // scratch for per-connection bodies (chat), JSON then encoded
	jsonBuf  []byte
	pb       pomelopb.Decoder
	rng      uint64

	st          Stats
	g           Gauges
	nextPublish int64
	rampDone    atomic.Bool
	drained     atomic.Bool
}

func newLoop(d *Driver, id, lo, hi int) (*loop, error) {
	p, err := newPoller()
	if err != nil {
		return nil, err
	}
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		p.close()
		return nil, err
	}
	l := &loop{d: d, cfg: &d.cfg, id: id, poll: p, events: make([]syscall.EpollEvent, maxEvents),
		wakeR: pipe[0], wakeW: pipe[1], rbuf: make([]byte, readBufferSize),
		rng: uint64(time.Now().UnixNano())*2654435761 + uint64(id)*0x9E3779B97F4A7C15 | 1}
	if err := p.add(l.wakeR, syscall.EPOLLIN); err != nil {
		l.closeFDs()
		return nil, err
	}
	l.fireFn = l.onTimer
	l.conns = make([]conn, hi-lo)
	for i := range l.conns {
		l.conns[i].init(d.cfg.FirstIndex + lo + i)
	}
	L := d.cfg.Loops
	l.maxConn = max(1, d.cfg.MaxConnecting/L)
	if r := d.cfg.ConnectRate / float64(L); r > 0 {
		l.connectEvery = int64(float64(time.Second) / r)
	}
	l.setupSendRate()
	l.rampDone.Store(len(l.conns) == 0)
	l.drained.Store(true)
	return l, nil
}

// setupSendRate derives this loop's open-loop pacing from the scenario.
func (l *loop) setupSendRate() {
	var rate float64
	switch l.cfg.Scenario {
	case Echo, Notify:
		rate = l.cfg.Rate / float64(l.cfg.Loops)
	case Chat:
		rate = l.cfg.ChatRate * float64(len(l.conns))
	}
	if rate > 0 {
		l.openLoop = true
		l.sendEvery = max(1, int64(float64(time.Second)/rate))
	}
}

func (l *loop) closeFDs() {
	l.poll.close()
	syscall.Close(l.wakeR)
	syscall.Close(l.wakeW)
}

func (l *loop) clock() int64 {
	l.now = l.d.now()
	return l.now
}

func (l *loop) run() {
	defer l.d.wg.Done()
	defer l.closeFDs()
	l.clock()
	l.nextConnectAt = l.now
	l.nextPublish = l.now + publishInterval
	for {
		if p := l.d.Phase(); p != l.phase {
			l.enter(p)
			if p == PhaseStop {
				return
			}
		}
		l.rampStep()
		if l.phase == PhaseHold && l.openLoop {
			l.sendDue()
		}
		l.wheel.advance(l.clock(), l.fireFn)
		if l.now >= l.nextPublish {
			l.updateRampDone()
			l.updateDrained()
			l.publish()
		}
		n, err := l.poll.wait(l.events, l.timeout())
		if err != nil && err != syscall.EINTR {
			l.st.addError("epoll: " + err.Error())
			time.Sleep(time.Millisecond)
			continue
		}
		for i := 0; i < n; i++ {
			ev := &l.events[i]
			fd := int(ev.Fd)
			if fd == l.wakeR {
				var b [64]byte
				syscall.Read(l.wakeR, b[:])
				continue
			}
			if fd < len(l.byFD) && l.byFD[fd] != nil {
				l.clock()
				l.onEvent(l.byFD[fd], ev.Events)
			}
		}
	}
}

// timeout returns how long the next wait may block, in ns.
func (l *loop) timeout() int64 {
	next := l.nextPublish
	if l.nextConn < len(l.conns) && l.g.Connecting < int64(l.maxConn) && l.nextConnectAt < next {
		next = l.nextConnectAt
	}
	if l.phase == PhaseHold && l.openLoop && l.nextSendAt < next {
		next = l.nextSendAt
	}
	if t := l.wheel.nextTick(); t >= 0 && t < next {
		next = t
	}
	return max(0, next-l.d.now())
}

// enter switches the loop to phase p.
func (l *loop) enter(p Phase) {
	l.clock()
	prev := l.phase
	l.phase = p
	if p >= PhaseHold && prev < PhaseHold {
		// Stagger the loops' open-loop schedules so that their sends interleave.
		l.nextSendAt = l.now + l.sendEvery*int64(l.id)/int64(l.cfg.Loops)
		if !l.openLoop && l.cfg.Scenario == Echo && p == PhaseHold {
			for _, c := range l.ready {
				l.fill(c)
				l.flush(c)
			}
		}
	}
	if p == PhaseStop {
		for i := range l.conns {
			if c := &l.conns[i]; c.state != stIdle && c.state != stClosed {
				l.close(c, closeLocal, "")
			}
		}
		l.publish()
	}
	l.updateDrained()
}

// rampStep opens the connections that are due.
func (l *loop) rampStep() {
	if l.nextConn >= len(l.conns) || l.phase >= PhaseDrain {
		return
	}
	now := l.clock()
	for l.nextConn < len(l.conns) && l.g.Connecting < int64(l.maxConn) && now >= l.nextConnectAt {
		c := &l.conns[l.nextConn]
		l.nextConn++
		l.open(c)
		if l.connectEvery > 0 {
			l.nextConnectAt += l.connectEvery
			// Do not save up attempts while MaxConnecting held the ramp back.
			l.nextConnectAt = max(l.nextConnectAt, now-int64(time.Second))
		}
	}
	l.updateRampDone()
}

// updateRampDone and updateDrained keep the flags the controller polls. When a flag turns true
// the loop publishes first, so that a snapshot that sees the flag also holds every event before it.
func (l *loop) updateRampDone() {
	done := l.nextConn >= len(l.conns) && l.g.Connecting == 0
	if done && !l.rampDone.Load() {
		l.publish()
	}
	l.rampDone.Store(done)
}

func (l *loop) updateDrained() {
	done := l.g.Inflight == 0
	if done && l.phase >= PhaseDrain && !l.drained.Load() {
		l.publish()
	}
	l.drained.Store(done)
}

// sendDue sends the open-loop messages whose intended time has come. Each keeps its intended
// time: when the loop is late, the delay counts in the latency.
func (l *loop) sendDue() {
	now := l.clock()
	for i := 0; i < sendBurst && l.nextSendAt <= now; i++ {
		intended := l.nextSendAt
		l.nextSendAt += l.sendEvery
		c := l.pick()
		if c == nil {
			l.st.C[Unsent]++
			continue
		}
		switch l.cfg.Scenario {
		case Notify:
			l.sendNotify(c)
		case Chat:
			l.sendChat(c, intended)
		default:
			l.sendRequest(c, kindMain, intended, c.sess.p[kindMain].body)
		}
		l.flush(c)
	}
}

// pick returns the next ready connection, round robin, that can take one more message.
func (l *loop) pick() *conn {
	n := len(l.ready)
	for i := 0; i < min(n, pickTries); i++ {
		c := l.ready[l.rr%n]
		l.rr++
		if c.ring.room(l.cfg.MaxInflight) && len(c.out) < l.cfg.MaxOutBuffer {
			return c
		}
	}
	return nil
}

// publish hands this loop's numbers to the collector.
func (l *loop) publish() {
	l.d.coll.publish(l.id, &l.st, l.g)
	l.st.reset()
	l.nextPublish = l.clock() + publishInterval
}

// rand returns 64 pseudo-random bits (xorshift64*), for WebSocket masking keys.
func (l *loop) rand() uint64 {
	l.rng ^= l.rng >> 12
	l.rng ^= l.rng << 25
	l.rng ^= l.rng >> 27
	return l.rng * 2685821657736338717
}

// wallNow is the Unix time in ns, comparable across processes (push latency).
func wallNow() int64 { return time.Now().UnixNano() }

// rateInterval converts a rate per second to ns between events (0 for no rate).
func rateInterval(r float64) int64 {
	if r <= 0 || math.IsInf(r, 0) {
		return 0
	}
	return int64(float64(time.Second) / r)
}

// appendChatJSON appends {"rid":R,"content":C,"from":U,"target":T} for connection c.
func (l *loop) appendChatJSON(dst []byte, c *conn, content int64) []byte {
	dst = append(dst, `{"rid":"r`...)
	dst = appendInt(dst, int64(c.gidx/l.cfg.RoomSize))
	dst = append(dst, `","content":"`...)
	dst = appendInt(dst, content)
	dst = append(dst, `","from":"u`...)
	dst = appendInt(dst, int64(c.gidx))
	dst = append(dst, `","target":`...)
	dst = appendTarget(dst, l.cfg.ChatTarget)
	return append(dst, '}')
}

// appendEntryJSON appends {"username":U,"rid":R} for connection c.
func (l *loop) appendEntryJSON(dst []byte, c *conn) []byte {
	dst = append(dst, `{"username":"u`...)
	dst = appendInt(dst, int64(c.gidx))
	dst = append(dst, `","rid":"r`...)
	dst = appendInt(dst, int64(c.gidx/l.cfg.RoomSize))
	return append(dst, `"}`...)
}

func appendTarget(dst []byte, t string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(t); i++ {
		if t[i] == '"' || t[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, t[i])
	}
	return append(dst, '"')
}

func appendInt(dst []byte, v int64) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// noCopy makes go vet report copies of the structs that embed it.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
