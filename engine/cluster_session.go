package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/shaddock-io/shaddock/rpc"
	"github.com/shaddock-io/shaddock/rpc/pack"
)

// BackendSession is what handlers on a backend see of the session of a forwarded request
// (pomelo's BackendSession): the snapshot the frontend sent with it (id, frontend id, uid,
// settings). Get, Set and Remove act on the snapshot only; Push and PushAll copy settings into
// the real session, and Bind, Unbind and Kick act on it, each with one sessionRemote call to the
// session's frontend (a direct call when that frontend is this server). Those calls wait for the
// frontend's answer (at most the RPC timeout); errors.Is matches the session sentinels
// (ErrSessionNotFound, ErrAlreadyBound, ...) after the hop.
//
// A BackendSession is not safe for concurrent use. It stays valid after its request (it holds
// copies).
type BackendSession struct {
	noCopy noCopy

	srv        *Server
	id         uint64
	frontendID string
	uid        string
	settings   map[string]any
}

// newBackendSession builds a BackendSession from a snapshot; raw is the pack-encoded settings.
func newBackendSession(srv *Server, sid uint64, frontendID, uid string, raw []byte) *BackendSession {
	b := &BackendSession{srv: srv, id: sid, frontendID: frontendID, uid: uid}
	if len(raw) > 0 {
		d := pack.NewDecoder(raw)
		b.settings = decodeSettings(&d)
	}
	return b
}

func backendSessionFromExport(srv *Server, e *SessionExport) *BackendSession {
	return &BackendSession{srv: srv, id: e.ID, frontendID: e.FrontendID, uid: e.UID, settings: e.Settings}
}

// ID returns the session id (the frontend's connection id).
func (b *BackendSession) ID() uint64 { return b.id }

// FrontendID returns the id of the frontend holding the session.
func (b *BackendSession) FrontendID() string { return b.frontendID }

// UID returns the uid ("" when unbound), updated by Bind and Unbind through this view.
func (b *BackendSession) UID() string { return b.uid }

// Get returns a setting of the snapshot. Integers arrive as int64 and JSON-like values as the
// types package pack decodes (see appendSettingsMap in doc.go).
func (b *BackendSession) Get(key string) any { return b.settings[key] }

// Set sets a setting on the snapshot only; Push makes it visible on the frontend.
func (b *BackendSession) Set(key string, v any) {
	if b.settings == nil {
		b.settings = make(map[string]any)
	}
	b.settings[key] = v
}

// Remove deletes a setting from the snapshot.
func (b *BackendSession) Remove(key string) { delete(b.settings, key) }

// Settings returns a shallow copy of the snapshot's settings.
func (b *BackendSession) Settings() map[string]any { return maps.Clone(b.settings) }

// Export returns {id, frontendId, uid, settings} of the snapshot.
func (b *BackendSession) Export() SessionExport {
	return SessionExport{ID: b.id, FrontendID: b.frontendID, UID: b.uid, Settings: maps.Clone(b.settings)}
}

// Bind binds the real session to uid (sessionRemote.bind; SessionService.Bind's rules).
func (b *BackendSession) Bind(uid string) error {
	if err := b.srv.sessionCall(context.Background(), b.frontendID, nameBind,
		&sessionOp{sid: b.id, uid: uid}, nil); err != nil {
		return err
	}
	b.uid = uid
	return nil
}

// Unbind unbinds the real session from uid (sessionRemote.unbind).
func (b *BackendSession) Unbind(uid string) error {
	if err := b.srv.sessionCall(context.Background(), b.frontendID, nameUnbind,
		&sessionOp{sid: b.id, uid: uid}, nil); err != nil {
		return err
	}
	b.uid = ""
	return nil
}

// Push copies the snapshot's value of key into the real session (sessionRemote.push).
func (b *BackendSession) Push(key string) error {
	return b.srv.sessionCall(context.Background(), b.frontendID, namePush,
		&sessionOp{sid: b.id, key: key, value: b.settings[key]}, nil)
}

// PushAll copies every setting of the snapshot into the real session (sessionRemote.pushAll);
// keys absent from the snapshot are kept there.
func (b *BackendSession) PushAll() error {
	return b.srv.sessionCall(context.Background(), b.frontendID, namePushAll,
		&sessionOp{sid: b.id, value: b.settings}, nil)
}

// Kick closes the real session with reason (default "kick"): the client gets a KICK package.
func (b *BackendSession) Kick(reason string) error {
	return b.srv.BackendSessions().KickBySID(context.Background(), b.frontendID, b.id, reason)
}

// BackendSessionService reaches sessions held by frontends from any server of the cluster
// (pomelo's backendSessionService). Each method is one sessionRemote call to the frontend (a
// direct call when it is this server) and waits for its answer, at most ctx's deadline or the
// RPC timeout. Safe for concurrent use.
type BackendSessionService struct{ srv *Server }

// BackendSessions returns the server's BackendSessionService.
func (s *Server) BackendSessions() *BackendSessionService { return &BackendSessionService{s} }

// Get returns a snapshot of session sid of frontendID, or nil when it does not exist.
func (bs *BackendSessionService) Get(ctx context.Context, frontendID string, sid uint64) (*BackendSession, error) {
	var l exportList
	if err := bs.srv.sessionCall(ctx, frontendID, nameBySID, &sessionOp{sid: sid}, &l); err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, nil
	}
	return backendSessionFromExport(bs.srv, &l[0]), nil
}

// GetByUID returns snapshots of the sessions of uid on frontendID (none: an empty slice).
func (bs *BackendSessionService) GetByUID(ctx context.Context, frontendID, uid string) ([]*BackendSession, error) {
	var l exportList
	if err := bs.srv.sessionCall(ctx, frontendID, nameByUID, &sessionOp{uid: uid}, &l); err != nil {
		return nil, err
	}
	out := make([]*BackendSession, len(l))
	for i := range l {
		out[i] = backendSessionFromExport(bs.srv, &l[i])
	}
	return out, nil
}

// KickBySID kicks session sid of frontendID with reason (default "kick"). A session that does
// not exist is not an error (pomelo answers nothing either).
func (bs *BackendSessionService) KickBySID(ctx context.Context, frontendID string, sid uint64, reason string) error {
	return bs.srv.sessionCall(ctx, frontendID, nameKickBySID,
		&sessionOp{sid: sid, reason: reason}, nil)
}

// KickByUID kicks every session of uid on frontendID with reason (default "kick").
func (bs *BackendSessionService) KickByUID(ctx context.Context, frontendID, uid, reason string) error {
	return bs.srv.sessionCall(ctx, frontendID, nameKickByUID,
		&sessionOp{uid: uid, reason: reason}, nil)
}

// sessionCall runs a sessionRemote method for the session's frontend: directly when it is this
// server, else over RPC.
func (s *Server) sessionCall(ctx context.Context, frontendID string, name rpc.MethodName, op *sessionOp, res *exportList) error {
	if frontendID == s.cfg.ID {
		l, err := s.sessionOpLocal(name, op)
		if res != nil {
			*res = l
		}
		return err
	}
	cl := s.cluster
	if cl == nil {
		return ErrNotCluster
	}
	m, err := cl.method(name)
	if err != nil {
		return err
	}
	var dec rpc.Decoder
	if res != nil {
		dec = res
	}
	return fromWireError(cl.call(ctx, frontendID, m, op, dec))
}

// sessionOpLocal runs sessionRemote.<method> on this server's sessions.
func (s *Server) sessionOpLocal(name rpc.MethodName, op *sessionOp) (exportList, error) {
	svc := s.sessions
	switch name {
	case nameBind:
		return nil, svc.Bind(op.sid, op.uid)
	case nameUnbind:
		return nil, svc.Unbind(op.sid, op.uid)
	case namePush:
		return nil, svc.Import(op.sid, op.key, op.value)
	case namePushAll:
		m, ok := op.value.(map[string]any)
		if !ok && op.value != nil {
			return nil, fmt.Errorf("%w: pushAll settings are a %T", ErrWire, op.value)
		}
		return nil, svc.ImportAll(op.sid, m)
	case nameBySID:
		if sess := svc.Get(op.sid); sess != nil {
			return exportList{sess.Export()}, nil
		}
		return nil, nil
	case nameByUID:
		var l exportList
		for _, sess := range svc.GetByUID(op.uid) {
			l = append(l, sess.Export())
		}
		return l, nil
	case nameKickBySID:
		if err := svc.KickBySessionID(op.sid, op.reason); err != nil && !errors.Is(err, ErrSessionNotFound) {
			return nil, err
		}
		return nil, nil
	case nameKickByUID:
		return nil, svc.Kick(op.uid, op.reason)
	}
	return nil, fmt.Errorf("%w: no sessionRemote method %s", ErrWire, name.Method)
}

// sessionHandler serves one sessionRemote method over RPC (frontends).
func (s *Server) sessionHandler(name rpc.MethodName) rpc.Handler {
	return func(_ context.Context, args []byte, r rpc.Reply) {
		var op sessionOp
		if err := op.DecodeRPC(args); err != nil {
			r.Error(rpc.NewError(rpc.CodeCodec, err.Error()))
			return
		}
		l, err := s.sessionOpLocal(name, &op)
		switch {
		case err != nil:
			r.Error(toWireError(err))
		case name == nameBySID || name == nameByUID:
			r.Return(&l)
		default:
			r.Return(nil)
		}
	}
}
