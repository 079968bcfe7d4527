package chatapp

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"github.com/shaddock-io/shaddock/engine"
	"github.com/shaddock-io/shaddock/hybrid"
)

// Push routes of the demo (config/dictionary.json).
const (
	RouteOnChat  = "onChat"
	RouteOnAdd   = "onAdd"
	RouteOnLeave = "onLeave"
)

// maxUsers is how many names the entry response lists.
const maxUsers = 50

// EntryRequest is the body of connector.entryHandler.entry and .enter.
type EntryRequest struct {
	Username string `json:"username"`
	Rid      string `json:"rid"`
}

// EntryResponse is their response.
type EntryResponse struct {
	Code  int      `json:"code"`
	Users []string `json:"users"`
}

// SendRequest is the body of chat.chatHandler.send.
type SendRequest struct {
	Rid     string `json:"rid"`
	Content string `json:"content"`
	From    string `json:"from"`
	Target  string `json:"target"`
}

// ChatPush is the onChat push.
type ChatPush struct {
	Msg    string `json:"msg"`
	From   string `json:"from"`
	Target string `json:"target"`
}

// UserPush is the onAdd and onLeave push.
type UserPush struct {
	Route string `json:"route"`
	User  string `json:"user"`
}

// errNotInRoom answers chat.chatHandler.send from a session that never entered a room.
var errNotInRoom = errors.New("chatapp: session has not entered a room")

// Register registers on app what the demo's app.js and app/servers directories hold: the
// handlers of every server type, the chat servers' chatRemote, the chat route function (by the
// session's room, as the demo's routeUtil.chat) and the connector options (heartbeat 3 s,
// dictionary and pomelo-protobuf on).
func Register(app *engine.App) (*Remotes, error) {
	r, err := registerRemotes(app)
	if err != nil {
		return nil, err
	}
	return r, errors.Join(
		engine.HandleAsync(app, "connector.entryHandler.entry", entryHandler(r)),
		engine.HandleAsync(app, "connector.entryHandler.enter", entryHandler(r)),
		engine.Handle(app, "connector.entryHandler.echo", echo),
		engine.Handle(app, "chat.chatHandler.send", send),
		engine.Handle(app, "chat.chatHandler.echo", echo),
		app.Route(ChatType, routeByRoom),
		app.SetServerConfig(FrontendType, engine.ServerConfig{UseDict: true, UseProtobuf: true,
			Transport: hybrid.Config{Heartbeat: Heartbeat}}),
	)
}

// Room is a route parameter naming a room: it routes a chatRemote call to the chat server of
// that room (the session of a member routes the same way).
type Room string

// UID returns "" (a room is no user).
func (Room) UID() string { return "" }

// Get returns the room for "rid".
func (r Room) Get(key string) any {
	if key == "rid" {
		return string(r)
	}
	return nil
}

// routeByRoom picks the chat server of the session's room: crc32(rid) over the chat servers, so
// that every member of a room, and every message to it, reaches the server holding its channel.
func routeByRoom(p engine.RouteParam, servers []engine.ServerInfo) (string, error) {
	var rid string
	if p != nil {
		rid, _ = p.Get("rid").(string)
	}
	return engine.RouteByKey(rid, servers)
}

// echo answers the request body itself, without decoding it.
func echo(_ *engine.Context, req *json.RawMessage) (*json.RawMessage, error) { return req, nil }

// entryHandler is connector.entryHandler.entry (and .enter): it binds uid username*rid, sets and
// pushes the session setting rid, calls chat.chatRemote.add(uid, frontendId, rid, true) routed
// by the session, and answers the room's users; when the session closes it calls
// chat.chatRemote.kick(uid, frontendId, rid). A uid already online here gets
// {code: 500, users: []}. The RPC does not hold the connection's read goroutine.
func entryHandler(r *Remotes) func(*engine.Context, *EntryRequest, func(*EntryResponse, error)) {
	return func(ctx *engine.Context, req *EntryRequest, reply func(*EntryResponse, error)) {
		srv := ctx.Server()
		uid := req.Username + "*" + req.Rid
		if len(srv.Sessions().GetByUID(uid)) > 0 {
			reply(&EntryResponse{Code: 500, Users: []string{}}, nil)
			return
		}
		s := ctx.Session()
		if err := s.Bind(uid); err != nil {
			reply(&EntryResponse{Code: 500, Users: []string{}}, nil)
			return
		}
		s.Set("rid", req.Rid)
		if err := s.Push("rid"); err != nil {
			reply(nil, err)
			return
		}
		sid, rid := s.FrontendID(), req.Rid
		err := r.Add.Go(context.Background(), srv, s, &AddArgs{UID: uid, SID: sid, Name: rid, Flag: true},
			func(u *Users, err error) {
				if err != nil {
					reply(nil, err)
					return
				}
				users := u.Names
				if len(users) > maxUsers {
					users = users[:maxUsers]
				}
				reply(&EntryResponse{Code: 200, Users: users}, nil)
			})
		if err != nil {
			reply(nil, err)
			return
		}
		// After add was sent, so that kick follows it on the same RPC connection. A session
		// that closed before the listener was in place is kicked here.
		var once sync.Once
		leave := func(sess *engine.Session, _ string) {
			once.Do(func() {
				kick := &KickArgs{UID: uid, SID: sid, Name: rid}
				if err := r.Kick.Go(context.Background(), srv, sess, kick, nil); err != nil {
					srv.Logger().Debug("chatapp: chatRemote.kick not sent", "uid", uid, "err", err)
				}
			})
		}
		ss := s.Session()
		ss.OnClosed(leave)
		if ss.Closed() {
			leave(ss, "")
		}
	}
}

// send pushes onChat to the whole room (target "*") or to one user. It runs on chat servers,
// for requests forwarded by the connectors; the pushes are not waited for.
func send(ctx *engine.Context, req *SendRequest) (*struct{}, error) {
	rid, _ := setting(ctx, "rid").(string)
	if rid == "" {
		return nil, errNotInRoom
	}
	ch := ctx.Server().Channels().Get(rid, false)
	if ch == nil {
		return nil, errNotInRoom
	}
	push := &ChatPush{Msg: req.Content, From: username(ctx.UID()), Target: req.Target}
	if req.Target == "*" {
		if err := ch.PushMessageAsync(RouteOnChat, push, nil); err != nil {
			return nil, err
		}
		return &struct{}{}, nil
	}
	if m, ok := ch.Member(req.Target + "*" + rid); ok {
		if err := ctx.Server().Channels().PushMessageByUIDsAsync(RouteOnChat, push, []engine.Member{m}, nil); err != nil {
			return nil, err
		}
	}
	return &struct{}{}, nil
}

// setting reads a session setting of the request: from the snapshot a forwarded request
// carries, or from the frontend session.
func setting(ctx *engine.Context, key string) any {
	if bs := ctx.BackendSession(); bs != nil {
		return bs.Get(key)
	}
	if fs := ctx.Session(); fs != nil {
		return fs.Get(key)
	}
	return nil
}

// username is the part of a uid before '*'.
func username(uid string) string {
	name, _, _ := strings.Cut(uid, "*")
	return name
}
