package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"
)

// Session errors.
var (
	ErrSessionNotFound = errors.New("engine: session does not exist")
	ErrAlreadyBound    = errors.New("engine: session is already bound to another uid")
	ErrSingleSession   = errors.New("engine: singleSession is enabled and the uid already has a session")
	ErrNotBound        = errors.New("engine: session is not bound to that uid")
	ErrEmptyUID        = errors.New("engine: empty uid")
	ErrSessionClosed   = errors.New("engine: session is closed")
)

// DefaultKickReason is the reason sent when Kick is called with an empty one, as pomelo does.
const DefaultKickReason = "kick"

// Session is the server-side state of one client connection on a frontend: id (the connection id),
// frontend id (this server's id), uid (empty until bound) and settings. It is created when the
// handshake completes and removed when the connection closes or is kicked.
//
// All exported methods are safe for concurrent use. Lock order: SessionService.mu, then Session.mu
// (see LOCKING.md); listeners run with no lock held.
type Session struct {
	noCopy noCopy

	id         uint64
	frontendID string
	conn       Conn
	svc        *SessionService

	mu       sync.Mutex // guards the fields below
	uid      string
	settings map[string]any
	closed   bool
	onBind   []func(s *Session, uid string)
	onUnbind []func(s *Session, uid string)
	onClosed []func(s *Session, reason string)

	// Owned by the goroutine that reads the connection (the transport's Data/ReadBatchDone calls).
	needFlush bool     // a response was enqueued during the current read batch
	spare     *Context // the last request's Context, for the next request of the batch
}

// ID returns the session id (the connection id).
func (s *Session) ID() uint64 { return s.id }

// FrontendID returns the id of the frontend server that holds the connection.
func (s *Session) FrontendID() string { return s.frontendID }

// Conn returns the connection.
func (s *Session) Conn() Conn { return s.conn }

// UID returns the bound uid, or "".
func (s *Session) UID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uid
}

// Closed reports whether the session has been closed.
func (s *Session) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Get returns a setting.
func (s *Session) Get(key string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings[key]
}

// Set sets a setting.
func (s *Session) Set(key string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setLocked(key, v)
}

// setLocked sets a setting. Lock should be held.
func (s *Session) setLocked(key string, v any) {
	if s.settings == nil {
		s.settings = make(map[string]any)
	}
	s.settings[key] = v
}

// Remove deletes a setting.
func (s *Session) Remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.settings, key)
}

// Settings returns a shallow copy of the settings.
func (s *Session) Settings() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.settings)
}

// OnBind subscribes f to bind events of this session.
func (s *Session) OnBind(f func(s *Session, uid string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onBind = append(s.onBind, f)
}

// OnUnbind subscribes f to unbind events of this session.
func (s *Session) OnUnbind(f func(s *Session, uid string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onUnbind = append(s.onUnbind, f)
}

// OnClosed subscribes f to the close of this session. reason is the kick reason, or the transport's
// close reason ("peer", "heartbeat-timeout", ...). If the session is already closed f is not called.
func (s *Session) OnClosed(f func(s *Session, reason string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onClosed = append(s.onClosed, f)
}

// Export returns the snapshot pomelo sends along with forwarded requests.
func (s *Session) Export() SessionExport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SessionExport{ID: s.id, FrontendID: s.frontendID, UID: s.uid, Settings: maps.Clone(s.settings)}
}

// appendSnapshot appends the settings as a pack map (the form forwardMessage carries) and
// returns the uid, both read under one lock.
func (s *Session) appendSnapshot(dst []byte) ([]byte, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return appendSettingsMap(dst, s.settings), s.uid
}

// Kick closes the session and its connection, sending a KICK package with reason (default "kick").
func (s *Session) Kick(reason string) error { return s.svc.KickBySessionID(s.id, reason) }

// SessionExport is pomelo's session.export(): {id, frontendId, uid, settings}.
type SessionExport struct {
	ID         uint64         `json:"id"`
	FrontendID string         `json:"frontendId"`
	UID        string         `json:"uid"` // "" is exported as null, as pomelo does
	Settings   map[string]any `json:"settings"`
}

// MarshalJSON writes uid null when unbound and settings {} when empty, as pomelo's export does.
func (e SessionExport) MarshalJSON() ([]byte, error) {
	var uid any
	if e.UID != "" {
		uid = e.UID
	}
	settings := e.Settings
	if settings == nil {
		settings = map[string]any{}
	}
	return json.Marshal(struct {
		ID         uint64         `json:"id"`
		FrontendID string         `json:"frontendId"`
		UID        any            `json:"uid"`
		Settings   map[string]any `json:"settings"`
	}{e.ID, e.FrontendID, uid, settings})
}

// SessionService holds the sessions of one frontend server: one per connection, indexed by id and
// by uid (a uid may own several sessions unless SingleSession is set). All methods are safe for
// concurrent use; hooks and session listeners run with no lock held, on the calling goroutine.
type SessionService struct {
	frontendID string
	single     bool
	hooks      sessionHooks
	log        *slog.Logger

	mu    sync.RWMutex // guards byID and byUID; taken before any Session.mu
	byID  map[uint64]*Session
	byUID map[string][]*Session
}

type sessionHooks struct {
	bind, unbind []func(s *Session, uid string)
	closed       []func(s *Session, reason string)
}

// newSessionService returns an empty service for the frontend frontendID.
func newSessionService(frontendID string, single bool, hooks sessionHooks, log *slog.Logger) *SessionService {
	return &SessionService{frontendID: frontendID, single: single, hooks: hooks, log: log,
		byID: make(map[uint64]*Session), byUID: make(map[string][]*Session)}
}

// create registers a session for c.
func (svc *SessionService) create(c Conn) *Session {
	s := &Session{id: c.ID(), frontendID: svc.frontendID, conn: c, svc: svc}
	svc.mu.Lock()
	svc.byID[s.id] = s
	svc.mu.Unlock()
	return s
}

// Get returns the session with id sid, or nil.
func (svc *SessionService) Get(sid uint64) *Session {
	svc.mu.RLock()
	defer svc.mu.RUnlock()
	return svc.byID[sid]
}

// GetByUID returns the sessions bound to uid (a new slice), or nil.
func (svc *SessionService) GetByUID(uid string) []*Session {
	svc.mu.RLock()
	defer svc.mu.RUnlock()
	return append([]*Session(nil), svc.byUID[uid]...)
}

// appendByUID appends the sessions of uid to dst.
func (svc *SessionService) appendByUID(dst []*Session, uid string) []*Session {
	svc.mu.RLock()
	defer svc.mu.RUnlock()
	return append(dst, svc.byUID[uid]...)
}

// appendByUIDBytes is appendByUID for a uid given as bytes (no allocation).
func (svc *SessionService) appendByUIDBytes(dst []*Session, uid []byte) []*Session {
	svc.mu.RLock()
	defer svc.mu.RUnlock()
	return append(dst, svc.byUID[string(uid)]...)
}

// Len returns the number of sessions.
func (svc *SessionService) Len() int {
	svc.mu.RLock()
	defer svc.mu.RUnlock()
	return len(svc.byID)
}

// ForEach calls f for every session (a snapshot taken under the lock; f runs without it).
func (svc *SessionService) ForEach(f func(s *Session)) {
	for _, s := range svc.snapshot(false) {
		f(s)
	}
}

// ForEachBound calls f for every session bound to a uid.
func (svc *SessionService) ForEachBound(f func(s *Session)) {
	for _, s := range svc.snapshot(true) {
		f(s)
	}
}

func (svc *SessionService) snapshot(boundOnly bool) []*Session {
	svc.mu.RLock()
	defer svc.mu.RUnlock()
	if boundOnly {
		var n int
		for _, l := range svc.byUID {
			n += len(l)
		}
		out := make([]*Session, 0, n)
		for _, l := range svc.byUID {
			out = append(out, l...)
		}
		return out
	}
	out := make([]*Session, 0, len(svc.byID))
	for _, s := range svc.byID {
		out = append(out, s)
	}
	return out
}

// Bind binds session sid to uid with pomelo's rules: no-op when already bound to uid,
// ErrAlreadyBound when bound to another uid, and with SingleSession ErrSingleSession when uid
// already has a session (which is NOT kicked).
func (svc *SessionService) Bind(sid uint64, uid string) error {
	if uid == "" {
		return ErrEmptyUID
	}
	svc.mu.Lock()
	s := svc.byID[sid]
	if s == nil {
		svc.mu.Unlock()
		return fmt.Errorf("%w: sid %d", ErrSessionNotFound, sid)
	}
	s.mu.Lock()
	switch {
	case s.uid == uid:
		s.mu.Unlock()
		svc.mu.Unlock()
		return nil
	case s.uid != "":
		cur := s.uid
		s.mu.Unlock()
		svc.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrAlreadyBound, cur)
	case svc.single && len(svc.byUID[uid]) > 0:
		s.mu.Unlock()
		svc.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrSingleSession, uid)
	}
	s.uid = uid
	listeners := s.onBind
	s.mu.Unlock()
	svc.byUID[uid] = append(svc.byUID[uid], s)
	svc.mu.Unlock()
	for _, f := range listeners {
		f(s, uid)
	}
	for _, f := range svc.hooks.bind {
		f(s, uid)
	}
	return nil
}

// Unbind unbinds session sid from uid; it fails unless the session is bound to exactly uid.
func (svc *SessionService) Unbind(sid uint64, uid string) error {
	svc.mu.Lock()
	s := svc.byID[sid]
	if s == nil {
		svc.mu.Unlock()
		return fmt.Errorf("%w: sid %d", ErrSessionNotFound, sid)
	}
	s.mu.Lock()
	if s.uid != uid || uid == "" {
		s.mu.Unlock()
		svc.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrNotBound, uid)
	}
	s.uid = ""
	listeners := s.onUnbind
	s.mu.Unlock()
	svc.removeUIDLocked(s, uid)
	svc.mu.Unlock()
	for _, f := range listeners {
		f(s, uid)
	}
	for _, f := range svc.hooks.unbind {
		f(s, uid)
	}
	return nil
}

// removeUIDLocked drops s from the uid index. Lock should be held (svc.mu, for writing).
func (svc *SessionService) removeUIDLocked(s *Session, uid string) {
	list := svc.byUID[uid]
	for i, x := range list {
		if x == s {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(svc.byUID, uid)
	} else {
		svc.byUID[uid] = list
	}
}

// Import sets one setting on session sid (pomelo's sessionService.import).
func (svc *SessionService) Import(sid uint64, key string, v any) error {
	s := svc.Get(sid)
	if s == nil {
		return fmt.Errorf("%w: sid %d", ErrSessionNotFound, sid)
	}
	s.Set(key, v)
	return nil
}

// ImportAll sets every key of settings on session sid; keys absent from settings are kept.
func (svc *SessionService) ImportAll(sid uint64, settings map[string]any) error {
	s := svc.Get(sid)
	if s == nil {
		return fmt.Errorf("%w: sid %d", ErrSessionNotFound, sid)
	}
	s.mu.Lock()
	for k, v := range settings {
		s.setLocked(k, v)
	}
	s.mu.Unlock()
	return nil
}

// Kick closes every session of uid with reason (default "kick"): the sessions are removed at once
// and the client receives a KICK package {"reason": reason} before its connection closes.
func (svc *SessionService) Kick(uid, reason string) error {
	for _, s := range svc.GetByUID(uid) {
		svc.kick(s, reason)
	}
	return nil
}

// KickBySessionID closes session sid with reason (default "kick").
func (svc *SessionService) KickBySessionID(sid uint64, reason string) error {
	s := svc.Get(sid)
	if s == nil {
		return fmt.Errorf("%w: sid %d", ErrSessionNotFound, sid)
	}
	svc.kick(s, reason)
	return nil
}

func (svc *SessionService) kick(s *Session, reason string) {
	if reason == "" {
		reason = DefaultKickReason
	}
	if svc.remove(s, reason) {
		s.conn.Kick(reason)
	}
}

// remove closes s: drops it from both indexes and runs the closed listeners, once. It reports
// whether this call closed it.
func (svc *SessionService) remove(s *Session, reason string) bool {
	svc.mu.Lock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		svc.mu.Unlock()
		return false
	}
	s.closed = true
	uid := s.uid
	listeners := s.onClosed
	s.onBind, s.onUnbind, s.onClosed = nil, nil, nil
	s.mu.Unlock()
	if svc.byID[s.id] == s {
		delete(svc.byID, s.id)
	}
	if uid != "" {
		svc.removeUIDLocked(s, uid)
	}
	svc.mu.Unlock()
	for _, f := range listeners {
		f(s, reason)
	}
	for _, f := range svc.hooks.closed {
		f(s, reason)
	}
	return true
}

// logTimeout logs a request that exceeded a filter's time limit.
func (s *Server) logTimeout(filter, route string, sid uint64, elapsed time.Duration) {
	s.log.Warn("engine: request timeout", "filter", filter, "route", route, "session", sid, "elapsed", elapsed)
}
