package chatapp

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/shaddock-io/shaddock/engine"
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

// Register registers the handlers of every server type of the demo on app.
func Register(app *engine.App) error {
	return errors.Join(
		engine.Handle(app, "connector.entryHandler.entry", entry),
		engine.Handle(app, "connector.entryHandler.enter", entry),
		engine.Handle(app, "connector.entryHandler.echo", echo),
		engine.Handle(app, "chat.chatHandler.send", send),
		engine.Handle(app, "chat.chatHandler.echo", echo),
	)
}

// echo answers the request body itself, without decoding it.
func echo(_ *engine.Context, req *json.RawMessage) (*json.RawMessage, error) { return req, nil }

// entry logs a user into a room: binds uid username*rid, sets and pushes the session setting rid,
// joins the room (pushing onAdd to the members already there) and answers the room's users. A uid
// already online gets {code: 500, users: []}.
func entry(ctx *engine.Context, req *EntryRequest) (*EntryResponse, error) {
	srv := ctx.Server()
	uid := req.Username + "*" + req.Rid
	if len(srv.Sessions().GetByUID(uid)) > 0 {
		return &EntryResponse{Code: 500, Users: []string{}}, nil
	}
	s := ctx.Session()
	if err := s.Bind(uid); err != nil {
		return &EntryResponse{Code: 500, Users: []string{}}, nil
	}
	s.Set("rid", req.Rid)
	if err := s.Push("rid"); err != nil {
		return nil, err
	}
	s.OnClosed(func(sess *engine.Session, _ string) { leave(srv, uid, req.Rid) })
	users, err := add(srv, uid, s.FrontendID(), req.Rid)
	if err != nil {
		return nil, err
	}
	if len(users) > maxUsers {
		users = users[:maxUsers]
	}
	return &EntryResponse{Code: 200, Users: users}, nil
}

// add is chatRemote.add: push onAdd to the room, then join it; returns the usernames in the room.
func add(srv *engine.Server, uid, sid, rid string) ([]string, error) {
	ch := srv.Channels().Create(rid)
	if ch.UserAmount() > 0 {
		if _, err := ch.PushMessage(RouteOnAdd, &UserPush{Route: RouteOnAdd, User: username(uid)}); err != nil {
			return nil, err
		}
	}
	if err := ch.Add(uid, sid); err != nil {
		return nil, err
	}
	members := ch.Members()
	users := make([]string, len(members))
	for i, m := range members {
		users[i] = username(m)
	}
	return users, nil
}

// leave is chatRemote.kick: leave the room and push onLeave to the rest.
func leave(srv *engine.Server, uid, rid string) {
	ch := srv.Channels().Get(rid, false)
	if ch == nil || !ch.Leave(uid, srv.Config().ID) {
		return
	}
	if ch.UserAmount() == 0 {
		ch.Destroy()
		return
	}
	_, _ = ch.PushMessage(RouteOnLeave, &UserPush{Route: RouteOnLeave, User: username(uid)})
}

// send pushes onChat to the whole room (target "*") or to one user. It runs on chat servers.
func send(ctx *engine.Context, req *SendRequest) (*struct{}, error) {
	s := ctx.Session()
	rid, _ := s.Get("rid").(string)
	if rid == "" {
		return nil, errNotInRoom
	}
	push := &ChatPush{Msg: req.Content, From: username(s.UID()), Target: req.Target}
	ch := ctx.Server().Channels().Get(rid, false)
	if ch == nil {
		return nil, errNotInRoom
	}
	if req.Target == "*" {
		if _, err := ch.PushMessage(RouteOnChat, push); err != nil {
			return nil, err
		}
		return &struct{}{}, nil
	}
	target := req.Target + "*" + rid
	if m, ok := ch.Member(target); ok {
		if _, err := ctx.Server().Channels().PushMessageByUIDs(RouteOnChat, push, []engine.Member{m}); err != nil {
			return nil, err
		}
	}
	return &struct{}{}, nil
}

// username is the part of a uid before '*'.
func username(uid string) string {
	name, _, _ := strings.Cut(uid, "*")
	return name
}
