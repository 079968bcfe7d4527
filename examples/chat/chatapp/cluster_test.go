package chatapp

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sort"
	"testing"
	"testing/fstest"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/internal/pomeloclient"
	"github.com/shaddock-io/shaddock/rpc"
)

// clusterFiles is the demo's configuration with two connectors and three chat servers (the
// ports are replaced by free ones at run time).
func clusterFiles(t testing.TB) fs.FS {
	t.Helper()
	files := fstest.MapFS{}
	for _, name := range []string{"master.json", "dictionary.json", "clientProtos.json", "serverProtos.json"} {
		data, err := os.ReadFile("../config/" + name)
		requireNoError(t, err)
		files[name] = &fstest.MapFile{Data: data}
	}
	files["servers.json"] = &fstest.MapFile{Data: []byte(`{"development": {
		"connector": [
			{"id": "connector-server-1", "host": "127.0.0.1", "port": 1, "clientHost": "127.0.0.1", "clientPort": 1, "frontend": true},
			{"id": "connector-server-2", "host": "127.0.0.1", "port": 2, "clientHost": "127.0.0.1", "clientPort": 2, "frontend": true}],
		"chat": [
			{"id": "chat-server-1", "host": "127.0.0.1", "port": 3},
			{"id": "chat-server-2", "host": "127.0.0.1", "port": 4},
			{"id": "chat-server-3", "host": "127.0.0.1", "port": 5}]}}`)}
	return files
}

// chatClient is one user connected to a connector and entered in a room. Pushes that arrive
// while it waits for a response are kept for push.
type chatClient struct {
	c      *pomeloclient.Client
	id     uint32
	pushes []codec.Message
}

// request sends a request and returns its response, keeping the pushes read meanwhile.
func (cc *chatClient) request(t testing.TB, route string, body []byte) codec.Message {
	t.Helper()
	cc.id++
	requireNoError(t, cc.c.Request(cc.id, route, body))
	for {
		m, err := cc.c.ReadMessage(true)
		requireNoError(t, err)
		if m.Type == codec.Response {
			requireEqual(t, m.ID, cc.id)
			return m
		}
		m.Body = append([]byte(nil), m.Body...)
		cc.pushes = append(cc.pushes, m)
	}
}

func enter(t testing.TB, d *Demo, frontend, name, rid string) (*chatClient, EntryResponse) {
	t.Helper()
	c, err := pomeloclient.Dial(d.Server(frontend).Addr().String(), pomeloclient.Options{Transport: pomeloclient.TCP})
	requireNoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = c.Handshake(nil)
	requireNoError(t, err)
	requireNoError(t, c.Ack())
	cc := &chatClient{c: c}
	m := cc.request(t, "connector.entryHandler.entry", entryBody(t, d, name, rid))
	r := entryResponse(t, d, m.Body)
	sort.Strings(r.Users)
	return cc, r
}

// say sends chat.chatHandler.send and checks its response.
func (cc *chatClient) say(t testing.TB, d *Demo, rid, content, target string) {
	t.Helper()
	body, err := d.App.Config().ClientProtos.Lookup("chat.chatHandler.send").AppendWire(nil,
		[]byte(`{"rid":"`+rid+`","content":"`+content+`","from":"x","target":"`+target+`"}`))
	requireNoError(t, err)
	m := cc.request(t, "chat.chatHandler.send", body)
	requireEqual(t, string(m.Body), `{}`)
}

// push returns the next push (kept or read) as its dictionary code and its body as JSON text
// (onChat decoded with its server proto).
func (cc *chatClient) push(t testing.TB, d *Demo) (uint16, string) {
	t.Helper()
	var m codec.Message
	if len(cc.pushes) > 0 {
		m, cc.pushes = cc.pushes[0], cc.pushes[1:]
	} else {
		var err error
		m, err = cc.c.ReadMessage(true)
		requireNoError(t, err)
	}
	requireEqual(t, m.Type, codec.Push)
	requireEqual(t, m.Compressed, true)
	if m.Code != 6 {
		return m.Code, string(m.Body)
	}
	js, err := d.App.Config().ServerProtos.Lookup("onChat").AppendJSON(nil, m.Body)
	requireNoError(t, err)
	return m.Code, string(js)
}

// The demo across two connectors and three chat servers: a room lives on the chat server its
// name routes to; onAdd, onChat (to all and to one user) and onLeave reach each member once,
// whichever connector holds it.
func TestChatCluster(t *testing.T) {
	d := startDemoConfig(t, Config{Files: clusterFiles(t)})
	const rid = "lobby"
	alice, r := enter(t, d, "connector-server-1", "alice", rid)
	requireDeepEqual(t, r, EntryResponse{Code: 200, Users: []string{"alice"}})
	bob, r := enter(t, d, "connector-server-2", "bob", rid)
	requireDeepEqual(t, r, EntryResponse{Code: 200, Users: []string{"alice", "bob"}})
	carol, r := enter(t, d, "connector-server-1", "carol", rid)
	requireDeepEqual(t, r, EntryResponse{Code: 200, Users: []string{"alice", "bob", "carol"}})
	code, body := alice.push(t, d)
	requireEqual(t, code, uint16(7))
	requireEqual(t, body, `{"route":"onAdd","user":"bob"}`)
	code, body = alice.push(t, d)
	requireEqual(t, body, `{"route":"onAdd","user":"carol"}`)
	code, body = bob.push(t, d)
	requireEqual(t, body, `{"route":"onAdd","user":"carol"}`)

	// The room is on the chat server crc32(rid) picks, and only there.
	chats := d.Server("connector-server-1").ServersByType(ChatType)
	home := chats[rpc.DefaultRoute(rid, len(chats))].ID
	for _, si := range chats {
		ch := d.Server(si.ID).Channels().Get(rid, false)
		requireEqual(t, ch != nil, si.ID == home)
	}
	requireEqual(t, d.Server(home).Channels().Get(rid, false).UserAmount(), 3)

	bob.say(t, d, rid, "hi all", "*")
	for _, cc := range []*chatClient{alice, bob, carol} {
		code, body = cc.push(t, d)
		requireEqual(t, code, uint16(6))
		requireEqual(t, body, `{"msg":"hi all","from":"bob","target":"*"}`)
	}
	carol.say(t, d, rid, "psst", "alice")
	code, body = alice.push(t, d)
	requireEqual(t, body, `{"msg":"psst","from":"carol","target":"alice"}`)
	// Nobody else got the private message: their next push is the next broadcast.
	alice.say(t, d, rid, "second", "*")
	for _, cc := range []*chatClient{alice, bob, carol} {
		_, body = cc.push(t, d)
		requireEqual(t, body, `{"msg":"second","from":"alice","target":"*"}`)
	}

	// chatRemote.get from a connector.
	users, err := d.Remotes.Get.Call(context.Background(), d.Connector, Room(rid), &GetArgs{Name: rid})
	requireNoError(t, err)
	sort.Strings(users.Names)
	requireDeepEqual(t, users.Names, []string{"alice", "bob", "carol"})

	// Bob leaves: chatRemote.kick from his connector's close hook; the others get onLeave.
	bob.c.Close()
	for _, cc := range []*chatClient{alice, carol} {
		code, body = cc.push(t, d)
		requireEqual(t, code, uint16(8))
		requireEqual(t, body, `{"route":"onLeave","user":"bob"}`)
	}
	requireEqual(t, d.Server(home).Channels().Get(rid, false).UserAmount(), 2)

	// The chat server kicks alice through her connector (sessionRemote.kickByUid): she gets a
	// KICK package with the reason, and carol gets onLeave from the close hook.
	requireNoError(t, d.Server(home).BackendSessions().KickByUID(context.Background(), "connector-server-1",
		"alice*"+rid, "bye"))
	_, err = alice.c.ReadMessage(true)
	var kick *pomeloclient.KickError
	if !errors.As(err, &kick) {
		t.Fatalf("got %v, want a kick", err)
	}
	requireEqual(t, string(kick.Body), `{"reason":"bye"}`)
	code, body = carol.push(t, d)
	requireEqual(t, code, uint16(8))
	requireEqual(t, body, `{"route":"onLeave","user":"alice"}`)
}
