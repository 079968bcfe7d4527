package engine

import (
	"errors"
	"slices"
	"sync"
)

// ErrChannelDestroyed is returned by Channel.Add on a destroyed channel.
var ErrChannelDestroyed = errors.New("engine: channel destroyed")

// ErrNoChannelRemote is returned by pushes whose members are all on other frontends when no
// ChannelRemote is set.
var ErrNoChannelRemote = errors.New("engine: members on other frontends and no ChannelRemote")

// ChannelRemote delivers channel pushes to members held by other frontends, in place of the
// cluster's channelRemote.pushMessage RPC (tests, custom transports).
type ChannelRemote interface {
	// PushMessage pushes msg on route to the uids held by frontend frontendID and returns the
	// uids that had no session there.
	PushMessage(frontendID, route string, msg any, uids []string) (failed []string, err error)
}

// Member is a channel member: a uid and the id of the frontend server holding its sessions
// (pomelo calls that id "sid").
type Member struct {
	UID string `json:"uid"`
	SID string `json:"sid"`
}

// ChannelService holds the channels of one server (pomelo's channelService, local variant). All
// methods are safe for concurrent use. Lock order: ChannelService.mu, then Channel.mu.
type ChannelService struct {
	srv  *Server
	jobs sync.Pool // of *pushJob

	mu       sync.Mutex // guards channels
	channels map[string]*Channel
}

func newChannelService(s *Server) *ChannelService {
	cs := &ChannelService{srv: s, channels: make(map[string]*Channel)}
	cs.jobs.New = func() any { return new(pushJob) }
	return cs
}

// Create returns the channel name, creating it if needed (pomelo's createChannel).
func (cs *ChannelService) Create(name string) *Channel { return cs.Get(name, true) }

// Get returns the channel name, or nil; with create it is created if absent.
func (cs *ChannelService) Get(name string, create bool) *Channel {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	ch := cs.channels[name]
	if ch == nil && create {
		ch = &Channel{name: name, svc: cs, members: make(map[string]string), groups: make(map[string][]string)}
		cs.channels[name] = ch
	}
	return ch
}

// Destroy removes the channel name.
func (cs *ChannelService) Destroy(name string) {
	cs.mu.Lock()
	ch := cs.channels[name]
	delete(cs.channels, name)
	cs.mu.Unlock()
	if ch != nil {
		ch.mu.Lock()
		ch.destroyed = true
		ch.mu.Unlock()
	}
}

// Len returns the number of channels.
func (cs *ChannelService) Len() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.channels)
}

// PushMessageByUIDs pushes msg on route to the given members and waits until every group
// answered: members on this server get it through one local push (encoded once), members
// elsewhere through one channelRemote.pushMessage per frontend (or the ChannelRemote). It
// returns the uids that could not be reached; err is set only when no group could be delivered.
func (cs *ChannelService) PushMessageByUIDs(route string, msg any, members []Member) (failed []string, err error) {
	return waitPush(func(done func([]string, error)) error {
		return cs.PushMessageByUIDsAsync(route, msg, members, done)
	})
}

// PushMessageByUIDsAsync is PushMessageByUIDs without waiting: it returns once the message is
// encoded and every group's push is sent or queued, and calls done (if not nil) once every
// group answered, from any goroutine. An error returned here (the message does not encode)
// means done is not called.
func (cs *ChannelService) PushMessageByUIDsAsync(route string, msg any, members []Member, done func(failed []string, err error)) error {
	job := cs.getJob()
	defer cs.putJob(job)
	job.addMembers(members)
	return cs.push(job, route, msg, done)
}

// Channel is a named group of members (pomelo's Channel). All methods are safe for concurrent
// use.
type Channel struct {
	name string
	svc  *ChannelService

	mu        sync.RWMutex        // guards the fields below
	members   map[string]string   // uid → frontend id
	groups    map[string][]string // frontend id → uids, in join order
	destroyed bool
}

// Name returns the channel name.
func (ch *Channel) Name() string { return ch.name }

// Add adds uid held by frontend sid; a uid already present moves to sid.
func (ch *Channel) Add(uid, sid string) error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.destroyed {
		return ErrChannelDestroyed
	}
	if old, ok := ch.members[uid]; ok {
		ch.removeLocked(uid, old)
	}
	ch.members[uid] = sid
	ch.groups[sid] = append(ch.groups[sid], uid)
	return nil
}

// Leave removes uid held by frontend sid and reports whether it was a member there.
func (ch *Channel) Leave(uid, sid string) bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if cur, ok := ch.members[uid]; !ok || cur != sid {
		return false
	}
	ch.removeLocked(uid, sid)
	return true
}

// removeLocked drops uid from the indexes. Lock should be held.
func (ch *Channel) removeLocked(uid, sid string) {
	delete(ch.members, uid)
	g := ch.groups[sid]
	if i := slices.Index(g, uid); i >= 0 {
		g = slices.Delete(g, i, i+1)
	}
	if len(g) == 0 {
		delete(ch.groups, sid)
	} else {
		ch.groups[sid] = g
	}
}

// Members returns the uids of the channel (pomelo's getMembers).
func (ch *Channel) Members() []string {
	ch.mu.RLock()
	defer ch.mu.RUnlock()
	out := make([]string, 0, len(ch.members))
	for _, g := range ch.sortedGroupsLocked() {
		out = append(out, ch.groups[g]...)
	}
	return out
}

// sortedGroupsLocked returns the frontend ids in a stable order. Lock should be held.
func (ch *Channel) sortedGroupsLocked() []string {
	ids := make([]string, 0, len(ch.groups))
	for id := range ch.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Member returns the member with uid.
func (ch *Channel) Member(uid string) (Member, bool) {
	ch.mu.RLock()
	defer ch.mu.RUnlock()
	sid, ok := ch.members[uid]
	return Member{UID: uid, SID: sid}, ok
}

// UserAmount returns the number of members.
func (ch *Channel) UserAmount() int {
	ch.mu.RLock()
	defer ch.mu.RUnlock()
	return len(ch.members)
}

// Destroy removes the channel from its service.
func (ch *Channel) Destroy() { ch.svc.Destroy(ch.name) }

// PushMessage pushes msg on route to every member and waits until every group answered: one
// local push (the message encoded once) for the members held by this server, one
// channelRemote.pushMessage per other frontend (or one ChannelRemote call), however many members
// each holds. It returns the uids that could not be reached; err is set only when no group could
// be delivered.
func (ch *Channel) PushMessage(route string, msg any) (failed []string, err error) {
	return waitPush(func(done func([]string, error)) error { return ch.PushMessageAsync(route, msg, done) })
}

// PushMessageAsync is PushMessage without waiting (pomelo's channel.pushMessage with a
// callback): it returns once the message is encoded and every group's push is sent or queued,
// and calls done (if not nil) once every group answered, from any goroutine. With a nil done and
// warm pools, the remote part of a push allocates nothing. An error returned here (the message
// does not encode) means done is not called.
func (ch *Channel) PushMessageAsync(route string, msg any, done func(failed []string, err error)) error {
	job := ch.svc.getJob()
	defer ch.svc.putJob(job)
	ch.mu.RLock()
	for sid, uids := range ch.groups {
		job.addGroup(sid, uids)
	}
	ch.mu.RUnlock()
	return ch.svc.push(job, route, msg, done)
}
