package engine

import (
	"fmt"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/scheduler"
)

// pushBuf is the scratch space of one push: the package, encoded once, and its targets.
type pushBuf struct {
	pkg      []byte
	targets  []scheduler.Target
	sessions []*Session
	failed   uidList // uids with no session (channelRemote.pushMessage's answer)
}

func (s *Server) getPushBuf() *pushBuf { return s.pushPool.Get().(*pushBuf) }

func (s *Server) putPushBuf(b *pushBuf) {
	clear(b.targets)
	clear(b.sessions)
	clear(b.failed)
	b.pkg, b.targets, b.sessions, b.failed = trimBuf(b.pkg), b.targets[:0], b.sessions[:0], b.failed[:0]
	if cap(b.targets) > 4096 {
		b.targets, b.sessions = nil, nil
	}
	s.pushPool.Put(b)
}

// AppendPushPackage appends one DATA package carrying a PUSH of msg on route: the route
// compressed to its dictionary code when useDict is on and the route is in the dictionary, the
// body encoded with serverProtos[route] when useProtobuf is on and the route has a description,
// otherwise as JSON (json.RawMessage and []byte are taken as JSON text; a generated protobuf
// message is standard protobuf).
func (s *Server) AppendPushPackage(dst []byte, route string, msg any) ([]byte, error) {
	buf, at := codec.BeginPacket(dst, codec.TypeData)
	var err error
	if code, ok := s.table.CodeString(route); ok && s.cfg.UseDict {
		buf = codec.AppendPushCode(buf, code, nil)
	} else if buf, err = codec.AppendPush(buf, route, nil); err != nil {
		return dst, err
	}
	pb := s.app.cfg.ServerProtos.Lookup(route)
	if !s.cfg.UseProtobuf {
		pb = nil
	}
	if buf, err = appendBody(buf, pb, msg); err != nil {
		return dst, err
	}
	if err := codec.EndPacket(buf, at); err != nil {
		return dst, err
	}
	return buf, nil
}

// encodePush encodes msg into b.pkg, once.
func (s *Server) encodePush(b *pushBuf, route string, msg any) error {
	pkg, err := s.AppendPushPackage(b.pkg[:0], route, msg)
	if err != nil {
		s.stats.encodeErrors.Add(1)
		return fmt.Errorf("engine: push %q: %w", route, err)
	}
	b.pkg = pkg
	s.stats.pushEncodes.Add(1)
	return nil
}

// schedule hands b.pkg to the connections of b.sessions.
func (s *Server) schedule(b *pushBuf) {
	for _, sess := range b.sessions {
		b.targets = append(b.targets, sess.conn)
	}
	if len(b.targets) == 0 {
		return
	}
	s.stats.pushTargets.Add(uint64(len(b.targets)))
	s.sched.Schedule(b.pkg, b.targets)
}

// PushToSessions pushes msg on route to the given sessions; ids with no session are skipped. The
// message is encoded once.
func (s *Server) PushToSessions(route string, msg any, sids ...uint64) error {
	b := s.getPushBuf()
	defer s.putPushBuf(b)
	if err := s.encodePush(b, route, msg); err != nil {
		return err
	}
	for _, id := range sids {
		if sess := s.sessions.Get(id); sess != nil {
			b.sessions = append(b.sessions, sess)
		}
	}
	s.schedule(b)
	return nil
}

// PushToUIDs pushes msg on route to every session of every uid (pomelo's
// channelRemote.pushMessage). It returns the uids that have no session here. The message is
// encoded once.
func (s *Server) PushToUIDs(route string, msg any, uids ...string) (failed []string, err error) {
	b := s.getPushBuf()
	defer s.putPushBuf(b)
	if err := s.encodePush(b, route, msg); err != nil {
		return nil, err
	}
	for _, uid := range uids {
		n := len(b.sessions)
		b.sessions = s.sessions.appendByUID(b.sessions, uid)
		if len(b.sessions) == n {
			failed = append(failed, uid)
		}
	}
	s.schedule(b)
	return failed, nil
}

// Broadcast pushes msg on route to every session, or with boundOnly to every session bound to a
// uid (once per session; pomelo's direct scheduler sends a uid with k sessions k copies per
// session, which we do not reproduce). The message is encoded once.
func (s *Server) Broadcast(route string, msg any, boundOnly bool) error {
	b := s.getPushBuf()
	defer s.putPushBuf(b)
	if err := s.encodePush(b, route, msg); err != nil {
		return err
	}
	b.sessions = append(b.sessions, s.sessions.snapshot(boundOnly)...)
	s.schedule(b)
	return nil
}
