package engine

import (
	"fmt"
	"maps"

	"github.com/shaddock-io/shaddock/rpc"
)

// RouteParam is pomelo's route parameter: what a route function chooses a server with. The
// sessions (*Session, *FrontendSession, *BackendSession) implement it, and so does UID for calls
// made on behalf of a bare uid.
type RouteParam interface {
	// UID returns the bound uid, or "".
	UID() string
	// Get returns a session setting, or nil.
	Get(key string) any
}

// UID is a RouteParam that is only a uid (no settings).
type UID string

// UID returns u.
func (u UID) UID() string { return string(u) }

// Get returns nil: a bare uid has no settings.
func (UID) Get(string) any { return nil }

// RouteFunc chooses the server of a type for a call: p is the route parameter (the session of a
// forwarded request, or what the caller of a user remote passed), servers are that type's
// servers in servers.json order. It returns the chosen server's id. It runs on the calling
// goroutine, must not block and must be safe for concurrent use. pomelo:
// app.route(serverType, fn(session, msg, app, cb)).
type RouteFunc func(p RouteParam, servers []ServerInfo) (serverID string, err error)

// DefaultRouter is pomelo's default router: crc32(uid) (the npm crc@0.2.0 checksum) modulo the
// number of servers, over servers in servers.json order; a nil p or an unbound session routes
// with "" and so always reaches the first server.
func DefaultRouter(p RouteParam, servers []ServerInfo) (string, error) {
	return RouteByKey(uidOf(p), servers)
}

// RouteByKey routes key (a room name, for example) the way the default router routes a uid.
func RouteByKey(key string, servers []ServerInfo) (string, error) {
	i := rpc.DefaultRoute(key, len(servers))
	if i < 0 {
		return "", ErrNoServer
	}
	return servers[i].ID, nil
}

func uidOf(p RouteParam) string {
	if p == nil {
		return ""
	}
	return p.UID()
}

// Route sets the route function of serverType ("" for every type without its own), used to pick
// the server of forwarded requests and of user remote calls. Without one the default router
// applies.
func (a *App) Route(serverType string, fn RouteFunc) error {
	if fn == nil {
		return fmt.Errorf("%w: nil route function", ErrInvalidConfig)
	}
	return a.register(func() { a.routers[serverType] = fn })
}

func (a *App) routersCopy() map[string]RouteFunc {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.routers)
}

// SetServerConfig sets the configuration template of the servers of serverType ("" for every
// type without its own) that NewClusterServer creates: pomelo's per-type app.set calls in
// app.configure (connectorConfig and the like). ID, Type, the client address and MaxConns are
// filled in from each server's servers.json entry.
func (a *App) SetServerConfig(serverType string, cfg ServerConfig) error {
	return a.register(func() { a.templates[serverType] = cfg })
}

// serverTemplate returns the template for serverType.
func (a *App) serverTemplate(serverType string) ServerConfig {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cfg, ok := a.templates[serverType]; ok {
		return cfg
	}
	return a.templates[""]
}
