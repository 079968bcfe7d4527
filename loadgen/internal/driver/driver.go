package driver

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shaddock-io/shaddock/hybrid/ws"
	"github.com/shaddock-io/shaddock/loadgen/internal/procstat"
)

// Phase is the stage of a run. The controller moves a Driver forward through the phases with
// SetPhase; the loops notice at once (each has a wake-up pipe).
type Phase int32

// Phases.
const (
	PhaseRamp  Phase = iota // open connections at ConnectRate, run setup (entry, trigger)
	PhaseHold               // scenario traffic
	PhaseDrain              // no new requests; wait for the outstanding ones
	PhaseStop               // close every connection, publish the last numbers, exit
)

var phaseNames = [...]string{"ramp", "hold", "drain", "stop"}

func (p Phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", p)
}

// ErrStarted is returned by Start on a second call.
var ErrStarted = errors.New("driver: already started")

// maxWSMessage bounds a WebSocket message from the server (a handshake response with a large
// dictionary and protos, a big push).
const maxWSMessage = 16 << 20

// Driver runs one process's share of the connections on a few epoll loops.
type Driver struct {
	cfg      Config
	base     time.Time
	loops    []*loop
	phase    atomic.Int32
	started  atomic.Bool
	sessions sessionCache
	coll     collector
	wg       sync.WaitGroup
	wsCfg    ws.Config
	seq      int // Snapshot sequence; used by the one goroutine that calls Snapshot
	baseline procstat.Sample
}

// New checks cfg and builds a Driver; nothing is opened before Start.
func New(cfg Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.Loops == 0 {
		cfg.Loops = runtime.GOMAXPROCS(0) - 1
	}
	cfg.Loops = max(1, min(cfg.Loops, max(cfg.Conns, 1)))
	d := &Driver{cfg: cfg, wsCfg: ws.Config{Role: ws.RoleClient, MaxMessageSize: maxWSMessage, Deflate: cfg.WSDeflate}}
	d.coll.gauges = make([]Gauges, cfg.Loops)
	return d, nil
}

// Config returns the configuration in force, defaults filled in.
func (d *Driver) Config() Config { return d.cfg }

// Start raises the open-file limit, opens the loops and starts the ramp.
func (d *Driver) Start() error {
	if d.started.Swap(true) {
		return ErrStarted
	}
	if limit := raiseFileLimit(); limit != 0 && uint64(d.cfg.Conns)+64 > limit {
		return fmt.Errorf("%w: %d connections need more than the open-file limit %d: use more processes", ErrConfig, d.cfg.Conns, limit)
	}
	d.baseline, _ = procstat.Read(0)
	d.base = time.Now()
	L := d.cfg.Loops
	for i := 0; i < L; i++ {
		lo, hi := i*d.cfg.Conns/L, (i+1)*d.cfg.Conns/L
		l, err := newLoop(d, i, lo, hi)
		if err != nil {
			for _, l := range d.loops {
				l.closeFDs()
			}
			return err
		}
		d.loops = append(d.loops, l)
	}
	d.wg.Add(L)
	for _, l := range d.loops {
		go l.run()
	}
	return nil
}

// now is the driver clock: monotonic nanoseconds since Start.
func (d *Driver) now() int64 { return int64(time.Since(d.base)) }

// SetPhase moves the run to phase p (phases only move forward) and wakes the loops.
func (d *Driver) SetPhase(p Phase) {
	for {
		cur := d.phase.Load()
		if Phase(cur) >= p || d.phase.CompareAndSwap(cur, int32(p)) {
			break
		}
	}
	for _, l := range d.loops {
		syscall.Write(l.wakeW, []byte{1})
	}
}

// Phase returns the current phase.
func (d *Driver) Phase() Phase { return Phase(d.phase.Load()) }

// RampDone reports whether every connection has been attempted and has finished its setup (or
// failed).
func (d *Driver) RampDone() bool {
	for _, l := range d.loops {
		if !l.rampDone.Load() {
			return false
		}
	}
	return true
}

// Drained reports whether the run is draining (or stopped) and no request is outstanding any
// more.
func (d *Driver) Drained() bool {
	if d.Phase() < PhaseDrain {
		return false
	}
	for _, l := range d.loops {
		if !l.drained.Load() {
			return false
		}
	}
	return true
}

// Wait returns once every loop has exited (after PhaseStop).
func (d *Driver) Wait() { d.wg.Wait() }

// Snapshot returns the events published since the previous call, the current gauges, and this
// process's CPU time and RSS. Call it from one goroutine.
func (d *Driver) Snapshot() Snapshot {
	d.seq++
	s := Snapshot{Seq: d.seq, Elapsed: time.Since(d.base).Seconds(), Phase: d.Phase().String(),
		RampDone: d.RampDone(), Drained: d.Drained()}
	d.coll.take(&s)
	if ps, err := procstat.Read(0); err == nil {
		s.SelfCPU, s.SelfRSS = ps.CPU, ps.RSS
	}
	s.BaseCPU, s.BaseRSS = d.baseline.CPU, d.baseline.RSS
	return s
}
