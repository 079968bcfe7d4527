package chatapp

import (
	"context"
	"errors"

	"github.com/shaddock-io/shaddock/engine"
	"github.com/shaddock-io/shaddock/rpc/pack"
)

// ChatType is the server type of the chat backends.
const ChatType = "chat"

// Remotes are the handles of the chat servers' user remotes (the demo's
// app/servers/chat/remote/chatRemote.js), set by Register.
type Remotes struct {
	Add  *engine.RemoteMethod[AddArgs, Users]
	Kick *engine.RemoteMethod[KickArgs, Users]
	Get  *engine.RemoteMethod[GetArgs, Users]
}

// AddArgs are chatRemote.add's arguments: uid, sid (the frontend's server id), name (the room)
// and flag (create the room if absent).
type AddArgs struct {
	UID, SID, Name string
	Flag           bool
}

// KickArgs are chatRemote.kick's arguments: uid, sid, name.
type KickArgs struct {
	UID, SID, Name string
}

// GetArgs are chatRemote.get's arguments: name, flag.
type GetArgs struct {
	Name string
	Flag bool
}

// Users is the result of chatRemote.add and .get: the usernames in the room (kick answers none).
type Users struct {
	Names []string
}

var errFields = errors.New("chatapp: remote arguments have the wrong number of fields")

// AppendRPC encodes [uid, sid, name, flag] (rpc fast path, package pack).
func (a *AddArgs) AppendRPC(dst []byte) ([]byte, error) {
	dst = pack.AppendArrayHeader(dst, 4)
	dst = pack.AppendString(pack.AppendString(pack.AppendString(dst, a.UID), a.SID), a.Name)
	return pack.AppendBool(dst, a.Flag), nil
}

// DecodeRPC decodes what AppendRPC encodes.
func (a *AddArgs) DecodeRPC(b []byte) error {
	d := pack.NewDecoder(b)
	if n := d.ArrayLen(); n != 4 && d.Err() == nil {
		return errFields
	}
	a.UID, a.SID, a.Name, a.Flag = d.String(), d.String(), d.String(), d.Bool()
	return d.Done()
}

// AppendRPC encodes [uid, sid, name].
func (a *KickArgs) AppendRPC(dst []byte) ([]byte, error) {
	dst = pack.AppendArrayHeader(dst, 3)
	return pack.AppendString(pack.AppendString(pack.AppendString(dst, a.UID), a.SID), a.Name), nil
}

// DecodeRPC decodes what AppendRPC encodes.
func (a *KickArgs) DecodeRPC(b []byte) error {
	d := pack.NewDecoder(b)
	if n := d.ArrayLen(); n != 3 && d.Err() == nil {
		return errFields
	}
	a.UID, a.SID, a.Name = d.String(), d.String(), d.String()
	return d.Done()
}

// AppendRPC encodes [name, flag].
func (a *GetArgs) AppendRPC(dst []byte) ([]byte, error) {
	return pack.AppendBool(pack.AppendString(pack.AppendArrayHeader(dst, 2), a.Name), a.Flag), nil
}

// DecodeRPC decodes what AppendRPC encodes.
func (a *GetArgs) DecodeRPC(b []byte) error {
	d := pack.NewDecoder(b)
	if n := d.ArrayLen(); n != 2 && d.Err() == nil {
		return errFields
	}
	a.Name, a.Flag = d.String(), d.Bool()
	return d.Done()
}

// AppendRPC encodes the names as an array of strings.
func (u *Users) AppendRPC(dst []byte) ([]byte, error) {
	dst = pack.AppendArrayHeader(dst, len(u.Names))
	for _, n := range u.Names {
		dst = pack.AppendString(dst, n)
	}
	return dst, nil
}

// DecodeRPC decodes what AppendRPC encodes.
func (u *Users) DecodeRPC(b []byte) error {
	d := pack.NewDecoder(b)
	n := d.ArrayLen()
	u.Names = make([]string, 0, n)
	for ; n > 0 && d.Err() == nil; n-- {
		u.Names = append(u.Names, d.String())
	}
	return d.Done()
}

// registerRemotes registers chatRemote on the chat servers.
func registerRemotes(app *engine.App) (*Remotes, error) {
	var r Remotes
	var err1, err2, err3 error
	r.Add, err1 = engine.Remote(app, ChatType, "chatRemote.add", remoteAdd)
	r.Kick, err2 = engine.Remote(app, ChatType, "chatRemote.kick", remoteKick)
	r.Get, err3 = engine.Remote(app, ChatType, "chatRemote.get", remoteGet)
	return &r, errors.Join(err1, err2, err3)
}

// remoteAdd is chatRemote.add: push onAdd to the room (without waiting), join it, and answer
// the usernames in the room.
func remoteAdd(_ context.Context, s *engine.Server, a *AddArgs) (*Users, error) {
	ch := s.Channels().Get(a.Name, a.Flag)
	if ch == nil {
		return &Users{Names: []string{}}, nil
	}
	if ch.UserAmount() > 0 {
		if err := ch.PushMessageAsync(RouteOnAdd, &UserPush{Route: RouteOnAdd, User: username(a.UID)}, nil); err != nil {
			return nil, err
		}
	}
	if err := ch.Add(a.UID, a.SID); err != nil {
		return nil, err
	}
	return &Users{Names: roomUsers(ch)}, nil
}

// remoteKick is chatRemote.kick: leave the room and push onLeave to the rest.
func remoteKick(_ context.Context, s *engine.Server, a *KickArgs) (*Users, error) {
	ch := s.Channels().Get(a.Name, false)
	if ch == nil || !ch.Leave(a.UID, a.SID) {
		return &Users{}, nil
	}
	if ch.UserAmount() == 0 {
		ch.Destroy()
		return &Users{}, nil
	}
	return &Users{}, ch.PushMessageAsync(RouteOnLeave, &UserPush{Route: RouteOnLeave, User: username(a.UID)}, nil)
}

// remoteGet is chatRemote.get: the usernames in the room.
func remoteGet(_ context.Context, s *engine.Server, a *GetArgs) (*Users, error) {
	ch := s.Channels().Get(a.Name, a.Flag)
	if ch == nil {
		return &Users{Names: []string{}}, nil
	}
	return &Users{Names: roomUsers(ch)}, nil
}

func roomUsers(ch *engine.Channel) []string {
	members := ch.Members()
	users := make([]string, len(members))
	for i, m := range members {
		users[i] = username(m)
	}
	return users
}
