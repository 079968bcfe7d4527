package rpc

import (
	"context"
	"sync"
	"sync/atomic"
)

// Station is pomelo's mailstation: one Client (mailbox) per remote server id, all sharing one
// configuration, one set of filters and one method table, so that a Method handle works with
// every server. Servers are added and removed as the cluster changes (pomelo's master/monitor
// notifications); a call to an unknown id fails with CodeNoMailbox.
//
// All methods are safe for concurrent use; lookups take no lock.
type Station struct {
	noCopy  noCopy
	cfg     ClientConfig // template; ServerID set per client; read-only
	opts    []Option     // read-only
	mu      sync.Mutex
	closed  bool                               // mu
	clients atomic.Pointer[map[string]*Client] // copy on write under mu
}

// NewStation returns an empty Station whose clients use cfg (with ServerID set to each server's
// id) and opts.
func NewStation(cfg ClientConfig, opts ...Option) (*Station, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Methods == nil {
		cfg.Methods = NewMethods()
	}
	s := &Station{cfg: cfg, opts: opts}
	s.clients.Store(&map[string]*Client{})
	return s, nil
}

// Methods returns the method table shared by the station's clients.
func (s *Station) Methods() *Methods { return s.cfg.Methods }

// Method returns the handle of namespace.service.method.
func (s *Station) Method(namespace, service, method string) (Method, error) {
	return s.cfg.Methods.Method(MethodName{namespace, service, method})
}

// Add starts a client for serverID at addr. Adding an id that is already there with the same
// address does nothing; with another address, the old client is closed and replaced.
func (s *Station) Add(serverID, addr string) error {
	s.mu.Lock()
	prev, err := s.addLocked(serverID, addr)
	s.mu.Unlock()
	if prev != nil {
		prev.Close() // its pending calls fail with ErrNotStarted
	}
	return err
}

// addLocked installs a client for serverID and returns the one it replaced, to be closed.
// Lock should be held.
func (s *Station) addLocked(serverID, addr string) (*Client, error) {
	if s.closed {
		return nil, ErrNotStarted
	}
	prev := (*s.clients.Load())[serverID]
	if prev != nil && prev.addr == addr {
		return nil, nil
	}
	cfg := s.cfg
	cfg.ServerID = serverID
	c, err := NewClient(addr, cfg, s.opts...)
	if err != nil {
		return nil, err
	}
	s.store(serverID, c)
	return prev, nil
}

// Remove closes and forgets the client of serverID; its pending calls fail with ErrNotStarted.
func (s *Station) Remove(serverID string) {
	s.mu.Lock()
	c := (*s.clients.Load())[serverID]
	if c != nil {
		s.store(serverID, nil)
	}
	s.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// store replaces (or with c == nil, deletes) one entry of the copy-on-write map. Lock should be
// held.
func (s *Station) store(serverID string, c *Client) {
	old := *s.clients.Load()
	m := make(map[string]*Client, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	if c == nil {
		delete(m, serverID)
	} else {
		m[serverID] = c
	}
	s.clients.Store(&m)
}

// Client returns the client of serverID, or an *Error with CodeNoMailbox.
func (s *Station) Client(serverID string) (*Client, error) {
	if c := (*s.clients.Load())[serverID]; c != nil {
		return c, nil
	}
	return nil, &Error{Code: CodeNoMailbox, Message: "rpc: fail to find mailbox for server " + serverID}
}

// Servers returns the ids of the servers the station has a client for, in no particular order.
func (s *Station) Servers() []string {
	m := *s.clients.Load()
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	return ids
}

// Call is Client.Call on the client of serverID.
func (s *Station) Call(ctx context.Context, serverID string, m Method, args Appender, result Decoder) error {
	c, err := s.Client(serverID)
	if err != nil {
		return err
	}
	return c.Call(ctx, m, args, result)
}

// Go is Client.Go on the client of serverID.
func (s *Station) Go(ctx context.Context, serverID string, m Method, args Appender, result Decoder, done func(error)) error {
	c, err := s.Client(serverID)
	if err != nil {
		return err
	}
	return c.Go(ctx, m, args, result, done)
}

// Notify is Client.Notify on the client of serverID.
func (s *Station) Notify(ctx context.Context, serverID string, m Method, args Appender) error {
	c, err := s.Client(serverID)
	if err != nil {
		return err
	}
	return c.Notify(ctx, m, args)
}

// Close closes every client; later calls fail (CodeNoMailbox) and Add fails with ErrNotStarted.
func (s *Station) Close() error {
	s.mu.Lock()
	s.closed = true
	old := *s.clients.Load()
	s.clients.Store(&map[string]*Client{})
	s.mu.Unlock()
	for _, c := range old {
		c.Close()
	}
	return nil
}
