package driver

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Scenario selects what each connection does once it is up.
type Scenario uint8

// Scenarios.
const (
	Idle   Scenario = iota // handshake and heartbeats only
	Echo                   // requests on Config.Route, closed loop (Depth) or open loop (Rate)
	Notify                 // notifies on Config.Route at Config.Rate
	Chat                   // the chat demo: entry, then chat.chatHandler.send, counting onChat
	Push                   // count (and time) server pushes, optionally after one trigger request
)

var scenarioNames = [...]string{"idle", "echo", "notify", "chat", "push"}

func (s Scenario) String() string {
	if int(s) < len(scenarioNames) {
		return scenarioNames[s]
	}
	return fmt.Sprintf("scenario(%d)", s)
}

// ParseScenario returns the scenario named s.
func ParseScenario(s string) (Scenario, error) {
	for i, n := range scenarioNames {
		if n == s {
			return Scenario(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown scenario %q", ErrConfig, s)
}

// Transport is the byte stream the pomelo packages travel on.
type Transport uint8

// Transports.
const (
	TCP Transport = iota // packages back to back on the stream
	WS                   // one pomelo package per masked binary WebSocket message
)

// ErrConfig is returned by Config.Validate.
var ErrConfig = errors.New("driver: invalid config")

// Config is one process's share of a run. Zero values mean the defaults noted on each field.
type Config struct {
	Scenario  Scenario
	Transport Transport
	// Targets are the servers; connection i goes to Targets[i % len]. Host is what the
	// WebSocket Host header carries ("host:port" as the user wrote it).
	Targets []Target
	WSPath  string // WebSocket request path; "" means "/"
	// WSDeflate offers permessage-deflate in the upgrade, as browsers do, and inflates the
	// compressed messages the server then sends. The simulated clients send plain frames (as the
	// Node ws client does below its 1 KiB threshold, which every request here is under).
	WSDeflate bool
	// Sources are local addresses to bind before connecting, used round robin; none means the
	// kernel chooses.
	Sources []netip.Addr

	Conns          int           // connections this process opens
	FirstIndex     int           // global index of this process's first connection
	ConnectRate    float64       // connection attempts per second; 0 means as fast as MaxConnecting allows
	MaxConnecting  int           // connections in progress (connect to handshake done) at once; 0 means 1000
	ConnectTimeout time.Duration // from connect() to handshake response; 0 means 10s
	Handshake      []byte        // JSON body of the handshake request (wire.HandshakeRequest)

	Route       string  // request or notify route (Echo, Notify)
	Body        []byte  // JSON body for Route
	Depth       int     // Echo closed loop: requests outstanding per connection; 0 means 1
	Rate        float64 // Echo open loop / Notify: messages per second from this process; 0 = closed loop
	NoCompress  bool    // send routes as strings even when the dictionary has them
	NoProtobuf  bool    // send JSON bodies even when the handshake's client protos cover the route
	NoHeartbeat bool    // never send heartbeats (to check that a server drops silent clients)
	// HeartbeatAlign, when > 0, delays each heartbeat to the next multiple of it on the monotonic
	// clock, so that a loop sends its heartbeats in bursts and wakes once per burst rather than
	// once per connection. A CCU run uses it to keep the load generator cheap; the delay is at
	// most HeartbeatAlign, far inside the server's heartbeat timeout.
	HeartbeatAlign time.Duration
	Timeout        time.Duration
	MaxInflight    int // per connection, requests sent and not yet answered or timed out; 0 means 1024
	MaxOutBuffer   int // bytes queued for a connection that the kernel would not take; 0 means 1 MiB

	// Chat scenario.
	RoomSize   int     // connections per room; 0 means 10
	ChatRate   float64 // sends per second per connection; 0 means 1
	EntryRoute string  // "" means connector.entryHandler.entry
	SendRoute  string  // "" means chat.chatHandler.send
	ChatPush   string  // "" means onChat
	ChatTarget string  // "" means "*" (the whole room)

	// Push scenario (and the trigger, usable by any scenario).
	PushRoute    string        // count pushes on this route ("" means every push)
	PushTSField  string        // top-level field holding the server's send time, for push latency
	PushTSUnit   time.Duration // unit of PushTSField since the Unix epoch; 0 means time.Millisecond
	TriggerRoute string        // request sent once per connection after the handshake
	TriggerBody  []byte

	// Loops is the number of poll loops (goroutines each running epoll); 0 means GOMAXPROCS-1,
	// at least 1. One P stays free: when every P is held by a loop blocked in epoll_wait, the
	// runtime's sysmon takes the P back after 20 µs and starts a spinning thread to look for
	// work, on every wait; that cost 70% more CPU per idle connection on 2 cores.
	Loops int
}

// Target is one server address.
type Target struct {
	Addr netip.AddrPort
	Host string
}

const (
	defaultMaxConnecting  = 1000
	defaultConnectTimeout = 10 * time.Second
	defaultTimeout        = 10 * time.Second
	defaultMaxInflight    = 1024
	defaultMaxOutBuffer   = 1 << 20
	defaultRoomSize       = 10
	defaultChatRate       = 1
	defaultEntryRoute     = "connector.entryHandler.entry"
	defaultSendRoute      = "chat.chatHandler.send"
	defaultChatPush       = "onChat"
	defaultChatTarget     = "*"
)

// withDefaults returns c with every zero field that has a default filled in.
func (c Config) withDefaults() Config {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	defS := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.MaxConnecting, defaultMaxConnecting)
	def(&c.MaxInflight, defaultMaxInflight)
	def(&c.MaxOutBuffer, defaultMaxOutBuffer)
	def(&c.RoomSize, defaultRoomSize)
	def(&c.Depth, 1)
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = defaultConnectTimeout
	}
	if c.Timeout == 0 {
		c.Timeout = defaultTimeout
	}
	if c.ChatRate == 0 {
		c.ChatRate = defaultChatRate
	}
	if c.PushTSUnit == 0 {
		c.PushTSUnit = time.Millisecond
	}
	defS(&c.EntryRoute, defaultEntryRoute)
	defS(&c.SendRoute, defaultSendRoute)
	defS(&c.ChatPush, defaultChatPush)
	defS(&c.ChatTarget, defaultChatTarget)
	defS(&c.WSPath, "/")
	return c
}

// Validate reports whether c can run.
func (c *Config) Validate() error {
	bad := func(why string) error { return fmt.Errorf("%w: %s", ErrConfig, why) }
	switch {
	case c.Scenario > Push:
		return bad("unknown scenario")
	case c.Transport > WS:
		return bad("unknown transport")
	case len(c.Targets) == 0:
		return bad("no target address")
	case c.Conns < 0 || c.FirstIndex < 0 || c.Depth < 0 || c.MaxInflight < 0 || c.Loops < 0:
		return bad("negative count")
	case c.ConnectRate < 0 || c.Rate < 0 || c.ChatRate < 0:
		return bad("negative rate")
	case (c.Scenario == Echo || c.Scenario == Notify) && c.Route == "":
		return bad("no route")
	case c.Scenario == Notify && c.Rate == 0:
		return bad("notify needs an open-loop rate")
	case c.Depth > c.MaxInflight && c.MaxInflight > 0:
		return bad("depth above max in-flight")
	case len(c.Handshake) == 0:
		return bad("no handshake body")
	}
	for _, s := range c.Sources {
		for _, t := range c.Targets {
			if s.Is4() != t.Addr.Addr().Is4() {
				return bad("source and target address families differ")
			}
		}
	}
	return nil
}
