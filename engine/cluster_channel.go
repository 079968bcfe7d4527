package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/rpc"
	"github.com/shaddock-io/shaddock/rpc/pack"
)

// pushJob is the scratch space of one channel push, pooled by its ChannelService: the target
// uids grouped by frontend id, the message as JSON text (encoded once for every remote group)
// and the arguments of the group being sent. Owned by the goroutine running the push; package
// rpc encodes the arguments before Go returns, so the job is recycled as soon as every group is
// sent.
type pushJob struct {
	uids    []string
	groups  []pushGroup
	members []Member // scratch for PushMessageByUIDs
	msg     []byte
	msgOK   bool
	args    rawArgs
}

// pushGroup is one frontend's share of a push: job.uids[start:end].
type pushGroup struct {
	sid        string
	start, end int
}

// maxPooledJob bounds the uids a recycled job keeps room for.
const maxPooledJob = 4096

func (cs *ChannelService) getJob() *pushJob { return cs.jobs.Get().(*pushJob) }

func (cs *ChannelService) putJob(j *pushJob) {
	clear(j.uids)
	clear(j.members)
	clear(j.groups)
	j.uids, j.groups, j.members = j.uids[:0], j.groups[:0], j.members[:0]
	if cap(j.uids) > maxPooledJob {
		j.uids, j.members = nil, nil
	}
	j.msg, j.msgOK, j.args.b = trimBuf(j.msg), false, trimBuf(j.args.b)
	cs.jobs.Put(j)
}

// addGroup adds the uids of frontend sid.
func (j *pushJob) addGroup(sid string, uids []string) {
	start := len(j.uids)
	j.uids = append(j.uids, uids...)
	j.groups = append(j.groups, pushGroup{sid: sid, start: start, end: len(j.uids)})
}

// addMembers groups members by frontend id, keeping their order within a group.
func (j *pushJob) addMembers(members []Member) {
	j.members = append(j.members[:0], members...)
	slices.SortStableFunc(j.members, func(a, b Member) int { return cmp.Compare(a.SID, b.SID) })
	for i := 0; i < len(j.members); {
		sid, start := j.members[i].SID, len(j.uids)
		for ; i < len(j.members) && j.members[i].SID == sid; i++ {
			j.uids = append(j.uids, j.members[i].UID)
		}
		j.groups = append(j.groups, pushGroup{sid: sid, start: start, end: len(j.uids)})
	}
}

// pushTracker collects the answers of every group of a push whose caller wants them.
type pushTracker struct {
	done func(failed []string, err error)

	mu       sync.Mutex
	pending  int
	ok       int
	failed   []string
	firstErr error
}

// report records one group's outcome and calls done after the last one.
func (t *pushTracker) report(uids, failed []string, err error) {
	t.mu.Lock()
	if err != nil {
		t.failed = append(t.failed, uids...)
		if t.firstErr == nil {
			t.firstErr = err
		}
	} else {
		t.ok++
		t.failed = append(t.failed, failed...)
	}
	t.finishLocked()
}

// release drops the count that kept done from running while groups were still being sent.
func (t *pushTracker) release() {
	t.mu.Lock()
	t.finishLocked()
}

// finishLocked counts one answer, unlocks, and calls done after the last. Lock should be held.
func (t *pushTracker) finishLocked() {
	t.pending--
	last := t.pending == 0
	t.mu.Unlock()
	if !last {
		return
	}
	if t.ok == 0 && t.firstErr != nil {
		t.done(t.failed, t.firstErr)
		return
	}
	t.done(t.failed, nil)
}

// waitPush runs an asynchronous push and waits for its outcome.
func waitPush(start func(done func([]string, error)) error) ([]string, error) {
	type result struct {
		failed []string
		err    error
	}
	ch := make(chan result, 1)
	if err := start(func(f []string, err error) { ch <- result{f, err} }); err != nil {
		return nil, err
	}
	r := <-ch
	return r.failed, r.err
}

// push delivers job's groups in frontend-id order: the local group with one local push, each
// other frontend with one ChannelRemote call or one channelRemote.pushMessage RPC carrying all
// its uids and the message encoded once for all of them. A group that cannot be reached does not
// stop the others; without done its failure is only logged (at Debug). The error returned is the
// message's encoding error.
func (cs *ChannelService) push(job *pushJob, route string, msg any, done func([]string, error)) error {
	s := cs.srv
	slices.SortFunc(job.groups, func(a, b pushGroup) int { return cmp.Compare(a.sid, b.sid) })
	var t *pushTracker
	if done != nil {
		t = &pushTracker{done: done, pending: len(job.groups) + 1}
	}
	for _, g := range job.groups {
		uids := job.uids[g.start:g.end]
		switch {
		case g.sid == s.cfg.ID:
			f, err := s.PushToUIDs(route, msg, uids...)
			if err != nil && t == nil {
				return err
			}
			t.reportSync(uids, f, err)
		case s.opts.channelRemote != nil:
			f, err := s.opts.channelRemote.PushMessage(g.sid, route, msg, slices.Clone(uids))
			t.reportSync(uids, f, err)
		case s.cluster != nil:
			err := cs.pushRemote(job, g.sid, route, msg, uids, t)
			switch {
			case err == nil:
			case t != nil:
				t.report(slices.Clone(uids), nil, err)
			case errors.Is(err, ErrEncode):
				return err // the message does not encode: no group can get it
			}
		default:
			t.reportSync(uids, nil, ErrNoChannelRemote)
		}
	}
	if t != nil {
		t.release()
	}
	return nil
}

// reportSync reports a group that was served synchronously; t may be nil (nobody waits).
func (t *pushTracker) reportSync(uids, failed []string, err error) {
	if t != nil {
		t.report(slices.Clone(uids), failed, err)
	}
}

// pushRemote sends one group with channelRemote.pushMessage. With t nil nothing waits for the
// answer (and nothing is allocated); otherwise the answer is reported to t.
func (cs *ChannelService) pushRemote(job *pushJob, sid, route string, msg any, uids []string, t *pushTracker) error {
	cl := cs.srv.cluster
	if !job.msgOK {
		b, err := appendBody(job.msg[:0], nil, msg)
		if err != nil {
			return fmt.Errorf("engine: push %q: %w", route, err)
		}
		job.msg, job.msgOK = b, true
	}
	a := appendPushArgsHeader(job.args.b[:0], route, job.msg, len(uids))
	for _, u := range uids {
		a = pack.AppendString(a, u)
	}
	job.args.b = a
	if t == nil {
		if err := cl.goCall(context.Background(), sid, cl.mChannelPush, &job.args, nil, nil); err != nil {
			cs.srv.log.Debug("engine: channel push not sent", "frontend", sid, "route", route, "err", err)
			return err
		}
		return nil
	}
	kept := slices.Clone(uids)
	res := new(uidList)
	return cl.goCall(context.Background(), sid, cl.mChannelPush, &job.args, res, func(err error) {
		t.report(kept, *res, err)
	})
}

// servePush is channelRemote.pushMessage on a frontend: one push package, encoded once, handed
// to every session of every uid; the answer lists the uids with no session here (an empty answer
// when there are none). It allocates nothing when every uid has a session and the route is in
// the dictionary.
func (s *Server) servePush(_ context.Context, args []byte, r rpc.Reply) {
	var in pushIn
	if err := in.decode(args); err != nil {
		r.Error(rpc.NewError(rpc.CodeCodec, err.Error()))
		return
	}
	s.stats.remotePushes.Add(1)
	b := s.getPushBuf()
	defer s.putPushBuf(b)
	pkg, err := s.appendPushRaw(b.pkg[:0], in.route, in.msg)
	if err != nil {
		s.stats.encodeErrors.Add(1)
		r.Error(rpc.NewError(rpc.CodeCodec, err.Error()))
		return
	}
	b.pkg = pkg
	s.stats.pushEncodes.Add(1)
	for i := 0; i < in.count; i++ {
		u := in.uids.StringBytesUnsafe()
		n := len(b.sessions)
		if b.sessions = s.sessions.appendByUIDBytes(b.sessions, u); len(b.sessions) == n && in.uids.Err() == nil {
			b.failed = append(b.failed, string(u))
		}
	}
	if err := in.uids.Done(); err != nil {
		r.Error(rpc.NewError(rpc.CodeCodec, fmt.Errorf("%w: pushMessage uids: %w", ErrWire, err).Error()))
		return
	}
	s.schedule(b)
	if len(b.failed) == 0 {
		r.Return(nil)
		return
	}
	r.Return(&b.failed)
}

// appendPushRaw appends one DATA package carrying a PUSH of the JSON text msg on route (see
// AppendPushPackage).
func (s *Server) appendPushRaw(dst []byte, route, msg []byte) ([]byte, error) {
	buf, at := codec.BeginPacket(dst, codec.TypeData)
	var err error
	if code, ok := s.table.Code(route); ok && s.cfg.UseDict {
		buf = codec.AppendPushCode(buf, code, nil)
	} else if buf, err = codec.AppendPush(buf, string(route), nil); err != nil {
		return dst, err
	}
	pb := s.app.cfg.ServerProtos.LookupBytes(route)
	if !s.cfg.UseProtobuf {
		pb = nil
	}
	if buf, err = appendJSONBody(buf, pb, msg); err != nil {
		return dst, err
	}
	if err := codec.EndPacket(buf, at); err != nil {
		return dst, err
	}
	return buf, nil
}

// BroadcastFilter decides whether a broadcast reaches a session (pomelo's
// channelConfig.broadcastFilter(session, msg, filterParam)): msg is the message as JSON text
// (valid during the call), param the broadcast's FilterParam. It runs on the goroutine serving
// the broadcast, must not block, and must be safe for concurrent use.
type BroadcastFilter func(s *Session, route string, msg []byte, param any) bool

// SetBroadcastFilter sets the filter every broadcast goes through on frontends.
func (a *App) SetBroadcastFilter(f BroadcastFilter) error {
	return a.register(func() { a.castFilter = f })
}

// BroadcastOptions are channelService.broadcast's options.
type BroadcastOptions struct {
	// Binded sends to sessions bound to a uid only.
	Binded bool
	// FilterParam is handed to the App's BroadcastFilter. It travels in package pack's encoding
	// (integers arrive as int64, other values as their JSON form).
	FilterParam any
}

// Broadcast pushes msg on route to the sessions of every frontend of serverType (pomelo's
// channelService.broadcast): one channelRemote.broadcast per server (a direct call for this
// one), each encoding the push once. It waits for every server and returns their errors joined.
func (cs *ChannelService) Broadcast(serverType, route string, msg any, opts BroadcastOptions) error {
	s := cs.srv
	text, err := appendBody(nil, nil, msg)
	if err != nil {
		return fmt.Errorf("engine: broadcast %q: %w", route, err)
	}
	var ids []string
	if s.cluster != nil {
		for _, si := range s.cluster.servers(serverType) {
			ids = append(ids, si.ID)
		}
	} else if serverType == s.cfg.Type {
		ids = []string{s.cfg.ID}
	}
	if len(ids) == 0 {
		return fmt.Errorf("%w: %q", ErrNoServer, serverType)
	}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	args := castArgs{route: route, msg: text, binded: opts.Binded, param: opts.FilterParam}
	for i, id := range ids {
		if id == s.cfg.ID {
			errs[i] = s.broadcastJSON(route, text, opts.Binded, opts.FilterParam)
			continue
		}
		wg.Add(1)
		err := s.cluster.goCall(context.Background(), id, s.cluster.mChannelCast, &args, nil, func(err error) {
			errs[i] = err
			wg.Done()
		})
		if err != nil {
			errs[i] = err
			wg.Done()
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// broadcastJSON pushes the JSON text msg to every session (or every bound one) that passes the
// App's BroadcastFilter, encoded once.
func (s *Server) broadcastJSON(route string, msg []byte, boundOnly bool, param any) error {
	b := s.getPushBuf()
	defer s.putPushBuf(b)
	pkg, err := s.appendPushRaw(b.pkg[:0], []byte(route), msg)
	if err != nil {
		s.stats.encodeErrors.Add(1)
		return fmt.Errorf("engine: broadcast %q: %w", route, err)
	}
	b.pkg = pkg
	s.stats.pushEncodes.Add(1)
	f := s.app.castFilter
	for _, sess := range s.sessions.snapshot(boundOnly) {
		if f == nil || f(sess, route, msg, param) {
			b.sessions = append(b.sessions, sess)
		}
	}
	s.schedule(b)
	return nil
}

// serveBroadcast is channelRemote.broadcast on a frontend.
func (s *Server) serveBroadcast(_ context.Context, args []byte, r rpc.Reply) {
	var in castIn
	if err := in.decode(args); err != nil {
		r.Error(rpc.NewError(rpc.CodeCodec, err.Error()))
		return
	}
	s.stats.remotePushes.Add(1)
	if err := s.broadcastJSON(string(in.route), in.msg, in.binded, in.param); err != nil {
		r.Error(err)
		return
	}
	r.Return(nil)
}
