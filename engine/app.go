package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/dict"
)

// Registration errors.
var (
	ErrBadRoute       = errors.New("engine: handler route must be serverType.handler.method")
	ErrDuplicateRoute = errors.New("engine: route registered twice")
	ErrAppStarted     = errors.New("engine: registration after the first server was created")
	ErrCodecConflict  = errors.New("engine: route has a pomelo-protobuf description but its type is a Google protobuf message")
)

// App is a pomelo application: the handlers of EVERY server type (pomelo's
// app/servers/<type>/handler directories), the filters and error handlers, and what the servers
// share (dictionary, protobuf descriptions). Register everything first, then create servers with
// NewServer; the first NewServer freezes the registration and builds the route dictionary from
// all handler routes, sorted as pomelo sorts them, followed by AppConfig.Dictionary.
//
// Registration methods are safe for concurrent use but fail with ErrAppStarted once frozen. An
// App holds no package-level state; several apps may live in one process.
type App struct {
	noCopy noCopy

	cfg AppConfig

	mu           sync.Mutex // guards everything below until frozen; read-only afterwards
	frozen       bool
	routes       map[string]*route
	globalBefore []BeforeFilter
	globalAfter  []AfterFilter
	before       []typedFilter[BeforeFilter]
	after        []typedFilter[AfterFilter]
	errHandlers  map[string]ErrorHandler
	globalErr    ErrorHandler
	routers      map[string]RouteFunc    // by server type; "" is the default
	templates    map[string]ServerConfig // by server type; "" is the default
	remotes      []*remoteEntry          // user remotes, in registration order
	castFilter   BroadcastFilter
	table        *dict.Table
	tableErr     error
}

// typedFilter is a filter registered for one server type ("" for all).
type typedFilter[F any] struct {
	serverType string
	f          F
}

// NewApp returns an App with no handlers.
func NewApp(cfg AppConfig) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Dictionary = slices.Clone(cfg.Dictionary)
	return &App{cfg: cfg, routes: make(map[string]*route), errHandlers: make(map[string]ErrorHandler),
		routers: make(map[string]RouteFunc), templates: make(map[string]ServerConfig)}, nil
}

// Config returns the application configuration.
func (a *App) Config() AppConfig { return a.cfg }

// splitRoute splits "serverType.handler.method". ok is false unless there are exactly three
// parts.
func splitRoute(route string) (serverType, handler, method string, ok bool) {
	serverType, rest, ok1 := strings.Cut(route, ".")
	handler, method, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(method, ".") {
		return "", "", "", false
	}
	return serverType, handler, method, true
}

// add registers r.
func (a *App) add(r *route) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.frozen {
		return fmt.Errorf("%w: %s", ErrAppStarted, r.name)
	}
	if _, dup := a.routes[r.name]; dup {
		return fmt.Errorf("%w: %s", ErrDuplicateRoute, r.name)
	}
	a.routes[r.name] = r
	return nil
}

// checkRoute validates a route given to Handle and returns its parts.
func checkRoute(name string) (serverType, handler, method string, err error) {
	serverType, handler, method, ok := splitRoute(name)
	switch {
	case !ok || serverType == "" || handler == "" || method == "":
		return "", "", "", fmt.Errorf("%w: %q", ErrBadRoute, name)
	case method == attackMethod:
		return "", "", "", fmt.Errorf("%w: %q: method %q is reserved", ErrBadRoute, name, attackMethod)
	case len(name) > codec.MaxRouteLen || !utf8.ValidString(name):
		return "", "", "", fmt.Errorf("%w: %q: longer than 255 bytes or not UTF-8", ErrBadRoute, name)
	}
	return serverType, handler, method, nil
}

// Routes returns every registered handler route, sorted.
func (a *App) Routes() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.routes))
	for r := range a.routes {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// Dictionary freezes the registration (if not yet frozen) and returns the route dictionary: the
// handler routes of every server type in pomelo's order, then AppConfig.Dictionary.
func (a *App) Dictionary() (*dict.Table, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.freezeLocked()
	return a.table, a.tableErr
}

// freezeLocked closes the registration and builds the dictionary. Lock should be held.
func (a *App) freezeLocked() {
	if a.frozen {
		return
	}
	a.frozen = true
	names := make([]string, 0, len(a.routes))
	for r := range a.routes {
		names = append(names, r)
	}
	a.table, a.tableErr = dict.Build(names, a.cfg.Dictionary)
	if a.tableErr != nil {
		return
	}
	for code, name := range a.table.All() {
		if r := a.routes[name]; r != nil {
			r.code = code
		}
	}
}

// GlobalBefore adds a global before filter: it runs on frontends for every message, with the whole
// message, before routing (also for routes forwarded to other server types).
func (a *App) GlobalBefore(f BeforeFilter) error {
	return a.register(func() { a.globalBefore = append(a.globalBefore, f) })
}

// GlobalAfter adds a global after filter: it runs on frontends after the response was handed to
// the scheduler and cannot change it. After filters run in reverse registration order.
func (a *App) GlobalAfter(f AfterFilter) error {
	return a.register(func() { a.globalAfter = append(a.globalAfter, f) })
}

// Before adds a before filter for the handlers of serverType ("" for every type). Before filters
// run in registration order; the first error stops the chain.
func (a *App) Before(serverType string, f BeforeFilter) error {
	return a.register(func() { a.before = append(a.before, typedFilter[BeforeFilter]{serverType, f}) })
}

// After adds an after filter for the handlers of serverType ("" for every type). After filters
// run in reverse registration order, always (even after an error), and may replace the error.
func (a *App) After(serverType string, f AfterFilter) error {
	return a.register(func() { a.after = append(a.after, typedFilter[AfterFilter]{serverType, f}) })
}

// Filter adds f as both a before and an after filter for serverType, like pomelo's app.filter.
func (a *App) Filter(serverType string, f Filter) error {
	return a.register(func() {
		a.before = append(a.before, typedFilter[BeforeFilter]{serverType, f})
		a.after = append(a.after, typedFilter[AfterFilter]{serverType, f})
	})
}

// GlobalFilter adds f as both a global before and a global after filter.
func (a *App) GlobalFilter(f Filter) error {
	return a.register(func() {
		a.globalBefore = append(a.globalBefore, f)
		a.globalAfter = append(a.globalAfter, f)
	})
}

// SetErrorHandler sets the error handler of serverType ("" for every type without its own): it
// sees errors of local before filters and handlers.
func (a *App) SetErrorHandler(serverType string, h ErrorHandler) error {
	return a.register(func() { a.errHandlers[serverType] = h })
}

// SetGlobalErrorHandler sets the global error handler. As in pomelo it only sees errors of
// global before filters.
func (a *App) SetGlobalErrorHandler(h ErrorHandler) error {
	return a.register(func() { a.globalErr = h })
}

func (a *App) register(f func()) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.frozen {
		return ErrAppStarted
	}
	f()
	return nil
}

// chainFor returns the filters and the error handler that apply to serverType. The App must be
// frozen.
func (a *App) chainFor(serverType string) (before []BeforeFilter, after []AfterFilter, eh ErrorHandler) {
	for _, tf := range a.before {
		if tf.serverType == "" || tf.serverType == serverType {
			before = append(before, tf.f)
		}
	}
	for _, tf := range a.after {
		if tf.serverType == "" || tf.serverType == serverType {
			after = append(after, tf.f)
		}
	}
	eh = a.errHandlers[serverType]
	if eh == nil {
		eh = a.errHandlers[""]
	}
	return before, after, eh
}
