package driver

import (
	"fmt"
	"sync"
	"time"

	"github.com/shaddock-io/shaddock/codec/pomelopb"
	"github.com/shaddock-io/shaddock/loadgen/internal/wire"
)

// kind says what a request was sent for; it travels in the in-flight ring so that a response can
// be decoded (server proto of the request route) and counted.
type kind uint8

const (
	kindMain    kind = iota // Echo requests
	kindEntry               // chat entry (setup)
	kindSend                // chat send
	kindTrigger             // push trigger (setup)
	numKinds
)

// prepared is a route as this server's handshake lets us send it.
type prepared struct {
	route      string
	code       uint16
	compressed bool
	req        *pomelopb.Message // client proto of the route; nil means a JSON body
	resp       *pomelopb.Message // server proto of the route (its response); nil means JSON
	body       []byte            // encoded static body; nil for per-connection bodies
}

// session is everything a connection derives from a handshake response. Connections that receive
// byte-identical responses share one session; it is immutable after creation.
type session struct {
	srv      *wire.Server
	p        [numKinds]prepared
	interval int64 // heartbeat interval, ns; 0: no heartbeats
	timeout  int64 // heartbeat timeout, ns (2 × interval, as the JS client)
}

// sessionCacheMax bounds the number of distinct handshake responses remembered. A server that
// puts per-connection data in its response (nano's servertime) gets a fresh parse per handshake
// once the cache is full.
const sessionCacheMax = 64

// sessionCache maps handshake response bytes to sessions. It is shared by the loops.
type sessionCache struct {
	mu sync.Mutex
	m  map[string]*session // guarded by mu
}

func (sc *sessionCache) get(body []byte) (*session, bool) {
	sc.mu.Lock()
	s, ok := sc.m[string(body)]
	sc.mu.Unlock()
	return s, ok
}

func (sc *sessionCache) put(body []byte, s *session) {
	sc.mu.Lock()
	if sc.m == nil {
		sc.m = make(map[string]*session)
	}
	if len(sc.m) < sessionCacheMax {
		sc.m[string(body)] = s
	}
	sc.mu.Unlock()
}

// newSession prepares the routes of cfg for the server described by a handshake response.
func newSession(cfg *Config, body []byte) (*session, error) {
	srv, err := wire.ParseServer(body)
	if err != nil {
		if srv != nil {
			return nil, fmt.Errorf("handshake refused: code %d", srv.Code)
		}
		return nil, err
	}
	s := &session{srv: srv, interval: int64(srv.Heartbeat)}
	s.timeout = 2 * s.interval
	if cfg.NoHeartbeat {
		s.interval = 0
	}
	routes := [numKinds]struct {
		route string
		body  []byte // nil: encoded per connection
	}{
		kindMain:    {cfg.Route, cfg.Body},
		kindEntry:   {cfg.EntryRoute, nil},
		kindSend:    {cfg.SendRoute, nil},
		kindTrigger: {cfg.TriggerRoute, cfg.TriggerBody},
	}
	for k, r := range routes {
		if r.route == "" {
			continue
		}
		p := &s.p[k]
		p.route = r.route
		if c, ok := srv.RouteCode(r.route); ok && !cfg.NoCompress {
			p.code, p.compressed = c, true
		}
		if !cfg.NoProtobuf {
			p.req = srv.ClientProtos.Lookup(r.route)
		}
		p.resp = srv.ServerProtos.Lookup(r.route)
		if r.body == nil {
			if kind(k) == kindMain || kind(k) == kindTrigger {
				p.body = []byte("{}")
			}
			continue
		}
		if p.body, err = encodeBody(nil, p, r.body); err != nil {
			return nil, fmt.Errorf("body for %s: %w", r.route, err)
		}
	}
	return s, nil
}

// encodeBody appends the JSON text body as p's route needs it: pomelo-protobuf when the server's
// client protos cover the route, else the JSON itself.
func encodeBody(dst []byte, p *prepared, jsonText []byte) ([]byte, error) {
	if p.req == nil {
		return append(dst, jsonText...), nil
	}
	return p.req.AppendWire(dst, jsonText)
}

// heartbeatGap is the JS client's gapThreshold: its timeout fires when the deadline is less than
// this far away.
const heartbeatGap = int64(100 * time.Millisecond)
