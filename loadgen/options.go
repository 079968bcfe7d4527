package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/shaddock-io/shaddock/loadgen/internal/driver"
	"github.com/shaddock-io/shaddock/loadgen/internal/wire"
)

// errUsage is returned for bad command lines.
var errUsage = errors.New("loadgen: bad usage")

// options are the command-line flags.
type options struct {
	scenario      string
	addr          string
	transport     string
	wsPath        string
	wsDeflate     bool
	conns         int
	rate          float64
	maxConnecting int
	connTimeout   time.Duration
	hold          time.Duration
	drain         time.Duration
	rampTimeout   time.Duration
	depth         int
	qps           float64
	route         string
	body          string
	payload       int
	timeout       time.Duration
	maxInflight   int
	noCompress    bool
	noProtobuf    bool
	noHeartbeat   bool
	sysType       string
	sysVersion    string
	sysExtra      string
	user          string
	room          int
	chatRate      float64
	entryRoute    string
	sendRoute     string
	chatPush      string
	chatTarget    string
	pushRoute     string
	pushTSField   string
	pushTSUnit    string
	triggerRoute  string
	triggerBody   string
	procs         int
	src           string
	loops         int
	hbAlign       time.Duration
	pids          string
	jsonOut       string
	htmlOut       string
	quiet         bool
	cpuProfile    string

	childIndex int // hidden: this process is child childIndex of childCount
	childCount int
}

// parentOnly are flags that a child process does not get.
var parentOnly = map[string]bool{"procs": true, "pids": true, "json": true, "html": true, "quiet": true, "cpuprofile": true,
	"child.index": true, "child.count": true}

func newFlagSet(o *options, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.scenario, "scenario", "echo", "idle | echo | notify | chat | push")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:3010", "server host:port; several, comma-separated, are used round robin")
	fs.StringVar(&o.transport, "transport", "tcp", "tcp | ws")
	fs.StringVar(&o.wsPath, "ws-path", "/", "WebSocket request path")
	fs.BoolVar(&o.wsDeflate, "ws-deflate", false, "offer permessage-deflate as browsers do and inflate what the server compresses (-transport ws)")
	fs.IntVar(&o.conns, "conns", 100, "connections (all processes together)")
	fs.Float64Var(&o.rate, "rate", 1000, "connection attempts per second during the ramp (0: as fast as -max-connecting allows)")
	fs.IntVar(&o.maxConnecting, "max-connecting", 1000, "connections between connect() and ready at once (all processes)")
	fs.DurationVar(&o.connTimeout, "connect-timeout", 10*time.Second, "connect + ws upgrade + handshake time limit")
	fs.DurationVar(&o.hold, "hold", 10*time.Second, "length of the steady phase after the ramp")
	fs.DurationVar(&o.drain, "drain", 5*time.Second, "longest wait for outstanding responses after the hold")
	fs.DurationVar(&o.rampTimeout, "ramp-timeout", 0, "start the hold after this long even if the ramp is not done (0: conns/rate + connect-timeout + 10s)")
	fs.IntVar(&o.depth, "depth", 1, "echo closed loop: requests outstanding per connection")
	fs.Float64Var(&o.qps, "qps", 0, "open loop: total requests (echo) or notifies (notify) per second; latency counts from the intended send time")
	fs.StringVar(&o.route, "route", "connector.entryHandler.echo", "request / notify route")
	fs.StringVar(&o.body, "body", `{"msg":"hello"}`, "request / notify JSON body (pomelo-protobuf encoded when the handshake's client protos cover the route)")
	fs.IntVar(&o.payload, "payload", 0, `if > 0, the body is {"msg":"xxx…"} with this many x`)
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "request timeout")
	fs.IntVar(&o.maxInflight, "max-inflight", 1024, "requests outstanding per connection at most (open loop)")
	fs.BoolVar(&o.noCompress, "no-compress", false, "send routes as strings even when the handshake dictionary has them")
	fs.BoolVar(&o.noProtobuf, "no-protobuf", false, "send JSON bodies even where the handshake's client protos cover the route")
	fs.BoolVar(&o.noHeartbeat, "no-heartbeat", false, "never send heartbeats (the server should drop the clients)")
	fs.StringVar(&o.sysType, "sys-type", "js-websocket", "handshake sys.type")
	fs.StringVar(&o.sysVersion, "sys-version", "0.0.1", "handshake sys.version")
	fs.StringVar(&o.sysExtra, "sys-extra", `{"rsa":{}}`, "JSON object merged into handshake sys (e.g. protoVersion, dictVersion)")
	fs.StringVar(&o.user, "user", "{}", "handshake user JSON")
	fs.IntVar(&o.room, "room", 10, "chat: connections per room")
	fs.Float64Var(&o.chatRate, "chat-rate", 1, "chat: sends per second per connection")
	fs.StringVar(&o.entryRoute, "entry-route", "connector.entryHandler.entry", "chat: entry route ({username, rid})")
	fs.StringVar(&o.sendRoute, "send-route", "chat.chatHandler.send", "chat: send route ({rid, content, from, target})")
	fs.StringVar(&o.chatPush, "chat-push", "onChat", "chat: push route counted as deliveries")
	fs.StringVar(&o.chatTarget, "chat-target", "*", "chat: target of each send")
	fs.StringVar(&o.pushRoute, "push-route", "", "push: count pushes on this route (empty: all)")
	fs.StringVar(&o.pushTSField, "push-ts-field", "", "push: top-level field with the server's send time since the Unix epoch, for push latency")
	fs.StringVar(&o.pushTSUnit, "push-ts-unit", "ms", "push: unit of -push-ts-field: s | ms | us | ns")
	fs.StringVar(&o.triggerRoute, "trigger-route", "", "request sent once per connection after the handshake (e.g. a subscribe)")
	fs.StringVar(&o.triggerBody, "trigger-body", "{}", "JSON body of -trigger-route")
	fs.IntVar(&o.procs, "procs", 1, "processes; each takes a share of the connections and its own source address 127.0.0.x")
	fs.StringVar(&o.src, "src", "", "local addresses to bind, comma-separated (default: kernel's choice; with -procs > 1 on loopback, 127.0.0.<1+i>)")
	fs.IntVar(&o.loops, "loops", 0, "epoll loops per process (0: GOMAXPROCS-1, at least 1)")
	fs.DurationVar(&o.hbAlign, "hb-align", 0, "send each heartbeat at the next multiple of this (e.g. 20ms), so that heartbeats leave in bursts: cheaper for a CCU run (0: one interval after the server's, as the official client)")
	fs.StringVar(&o.pids, "pids", "", "server PIDs to sample (CPU seconds, RSS), comma-separated")
	fs.StringVar(&o.jsonOut, "json", "", "write the result as JSON to this file (- for stdout)")
	fs.StringVar(&o.htmlOut, "html", "", "write a self-contained HTML report to this file")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress line on stderr")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process to this file")
	fs.IntVar(&o.childIndex, "child.index", 0, "internal: child process index")
	fs.IntVar(&o.childCount, "child.count", 0, "internal: number of child processes")
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: loadgen [flags]   (see `go doc ./loadgen`)\n")
		fs.VisitAll(func(f *flag.Flag) {
			if strings.HasPrefix(f.Name, "child.") {
				return
			}
			fmt.Fprintf(out, "  -%s (default %q)\n    \t%s\n", f.Name, f.DefValue, f.Usage)
		})
	}
	return fs
}

// parseOptions parses args.
func parseOptions(args []string, out io.Writer) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := newFlagSet(o, out)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if o.procs < 1 || o.procs > 250 {
		return nil, nil, fmt.Errorf("%w: -procs must be 1..250", errUsage)
	}
	return o, fs, nil
}

// childArgs returns the command line of child i: every flag set on ours but the parent's own,
// plus the child's index.
func childArgs(fs *flag.FlagSet, i, n int) []string {
	var args []string
	fs.Visit(func(f *flag.Flag) {
		if !parentOnly[f.Name] {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	return append(args, "-child.index="+strconv.Itoa(i), "-child.count="+strconv.Itoa(n), "-quiet")
}

// share splits total into n parts and returns part i's size and start.
func share(total, i, n int) (size, start int) {
	q, r := total/n, total%n
	size = q
	if i < r {
		size++
	}
	return size, i*q + min(i, r)
}

// driverConfig builds this process's driver configuration.
func (o *options) driverConfig() (driver.Config, error) {
	var cfg driver.Config
	var err error
	if cfg.Scenario, err = driver.ParseScenario(o.scenario); err != nil {
		return cfg, err
	}
	switch o.transport {
	case "tcp":
		cfg.Transport = driver.TCP
	case "ws":
		cfg.Transport = driver.WS
	default:
		return cfg, fmt.Errorf("%w: -transport must be tcp or ws", errUsage)
	}
	if cfg.Targets, err = resolveTargets(o.addr); err != nil {
		return cfg, err
	}
	idx, count := o.childIndex, max(1, o.childCount)
	cfg.Conns, cfg.FirstIndex = share(o.conns, idx, count)
	if cfg.Sources, err = o.sources(cfg.Targets); err != nil {
		return cfg, err
	}
	perProc := func(v float64) float64 { return v / float64(count) }
	cfg.WSPath, cfg.WSDeflate = o.wsPath, o.wsDeflate
	cfg.ConnectRate = perProc(o.rate)
	cfg.MaxConnecting = max(1, o.maxConnecting/count)
	cfg.ConnectTimeout = o.connTimeout
	hs := wire.HandshakeRequest{Type: o.sysType, Version: o.sysVersion, SysExtra: []byte(o.sysExtra), User: []byte(o.user)}
	if cfg.Handshake, err = hs.AppendJSON(nil); err != nil {
		return cfg, fmt.Errorf("%w: handshake: %v", errUsage, err)
	}
	cfg.Route, cfg.Body = o.route, []byte(o.body)
	if o.payload > 0 {
		cfg.Body = []byte(`{"msg":"` + strings.Repeat("x", o.payload) + `"}`)
	}
	cfg.Depth = o.depth
	cfg.Rate = perProc(o.qps)
	cfg.NoCompress, cfg.NoProtobuf, cfg.NoHeartbeat = o.noCompress, o.noProtobuf, o.noHeartbeat
	cfg.Timeout, cfg.MaxInflight = o.timeout, o.maxInflight
	cfg.RoomSize, cfg.ChatRate = o.room, o.chatRate
	cfg.EntryRoute, cfg.SendRoute, cfg.ChatPush, cfg.ChatTarget = o.entryRoute, o.sendRoute, o.chatPush, o.chatTarget
	cfg.PushRoute, cfg.PushTSField = o.pushRoute, o.pushTSField
	if cfg.PushTSUnit, err = parseUnit(o.pushTSUnit); err != nil {
		return cfg, err
	}
	cfg.TriggerRoute, cfg.TriggerBody = o.triggerRoute, []byte(o.triggerBody)
	cfg.Loops = o.loops
	cfg.HeartbeatAlign = o.hbAlign
	if cfg.Scenario == driver.Echo && o.qps == 0 && o.depth < 1 {
		return cfg, fmt.Errorf("%w: -depth must be at least 1", errUsage)
	}
	return cfg, cfg.Validate()
}

func parseUnit(s string) (time.Duration, error) {
	switch s {
	case "s":
		return time.Second, nil
	case "ms":
		return time.Millisecond, nil
	case "us":
		return time.Microsecond, nil
	case "ns":
		return time.Nanosecond, nil
	}
	return 0, fmt.Errorf("%w: -push-ts-unit must be s, ms, us or ns", errUsage)
}

// resolveTargets parses the comma-separated -addr list.
func resolveTargets(list string) ([]driver.Target, error) {
	var out []driver.Target
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		ta, err := net.ResolveTCPAddr("tcp", a)
		if err != nil {
			return nil, fmt.Errorf("%w: -addr %q: %v", errUsage, a, err)
		}
		ap := ta.AddrPort()
		out = append(out, driver.Target{Addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), Host: a})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no -addr", errUsage)
	}
	return out, nil
}

// sources returns the local addresses this process binds: -src (one per child when there are
// children), or 127.0.0.<1+i> for child i when every target is IPv4 loopback.
func (o *options) sources(targets []driver.Target) ([]netip.Addr, error) {
	var list []netip.Addr
	for _, s := range strings.Split(o.src, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: -src %q: %v", errUsage, s, err)
		}
		list = append(list, a.Unmap())
	}
	if o.childCount <= 1 {
		return list, nil
	}
	if len(list) > 0 {
		return []netip.Addr{list[o.childIndex%len(list)]}, nil
	}
	for _, t := range targets {
		if !t.Addr.Addr().Is4() || !t.Addr.Addr().IsLoopback() {
			return nil, nil
		}
	}
	return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + o.childIndex)})}, nil
}
