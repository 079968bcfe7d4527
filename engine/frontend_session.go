package engine

import "maps"

// FrontendSession is what handlers and filters on a frontend see, with pomelo's semantics: a
// snapshot of the session's id, frontend id, uid and a shallow copy of its settings, taken when
// the request first asks for it. Get and Set act on the copy; Push and PushAll copy values into
// the real Session; Bind and Unbind go through the SessionService; OnClosed subscribes on the real
// session.
//
// A FrontendSession belongs to one request and is not safe for concurrent use; the methods that
// reach the real session (Push, PushAll, Bind, Unbind, OnClosed, Kick) are.
type FrontendSession struct {
	noCopy noCopy

	sess     *Session
	uid      string
	settings map[string]any
}

func newFrontendSession(s *Session) *FrontendSession {
	s.mu.Lock()
	f := &FrontendSession{sess: s, uid: s.uid, settings: maps.Clone(s.settings)}
	s.mu.Unlock()
	return f
}

// ID returns the session id.
func (f *FrontendSession) ID() uint64 { return f.sess.id }

// FrontendID returns the frontend server id.
func (f *FrontendSession) FrontendID() string { return f.sess.frontendID }

// UID returns the uid as of the snapshot (updated by Bind and Unbind through this view).
func (f *FrontendSession) UID() string { return f.uid }

// Session returns the real session.
func (f *FrontendSession) Session() *Session { return f.sess }

// Get returns a setting from the copy.
func (f *FrontendSession) Get(key string) any { return f.settings[key] }

// Set sets a setting on the copy only; Push makes it visible on the real session.
func (f *FrontendSession) Set(key string, v any) {
	if f.settings == nil {
		f.settings = make(map[string]any)
	}
	f.settings[key] = v
}

// Remove deletes a setting from the copy.
func (f *FrontendSession) Remove(key string) { delete(f.settings, key) }

// Push copies the value of key from the copy into the real session.
func (f *FrontendSession) Push(key string) error {
	return f.sess.svc.Import(f.sess.id, key, f.settings[key])
}

// PushAll copies every setting of the copy into the real session (keys absent from the copy are
// kept on the real session).
func (f *FrontendSession) PushAll() error {
	return f.sess.svc.ImportAll(f.sess.id, f.settings)
}

// Bind binds the session to uid through the SessionService (see SessionService.Bind).
func (f *FrontendSession) Bind(uid string) error {
	if err := f.sess.svc.Bind(f.sess.id, uid); err != nil {
		return err
	}
	f.uid = uid
	return nil
}

// Unbind unbinds the session from uid through the SessionService.
func (f *FrontendSession) Unbind(uid string) error {
	if err := f.sess.svc.Unbind(f.sess.id, uid); err != nil {
		return err
	}
	f.uid = ""
	return nil
}

// OnClosed subscribes f on the real session (see Session.OnClosed).
func (f *FrontendSession) OnClosed(fn func(s *Session, reason string)) { f.sess.OnClosed(fn) }

// Kick kicks the session with reason (default "kick").
func (f *FrontendSession) Kick(reason string) error { return f.sess.Kick(reason) }

// Export returns {id, frontendId, uid, settings} of this view.
func (f *FrontendSession) Export() SessionExport {
	return SessionExport{ID: f.sess.id, FrontendID: f.sess.frontendID, UID: f.uid,
		Settings: maps.Clone(f.settings)}
}
