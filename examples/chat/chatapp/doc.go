// Package chatapp is the chat demo (docs/chat-demo.md) as a library: what pomelo's app.js and
// app/servers directories hold (Register: the handlers of every server type, the chat servers'
// chatRemote, the chat route function, the connector options) and an in-process runner of the
// whole cluster (New, Demo.Start) for tests and tools. The command in the parent directory runs
// the demo through package engine/cluster (embedded or one process per server).
//
// connector.entryHandler.entry and .enter bind the session, then call
// chat.chatRemote.add(uid, frontendId, rid, true) routed by the session (with HandleAsync and
// RemoteMethod.Go: the RPC does not hold the connection's read goroutine); the chat server holds
// the room as a channel, pushes onAdd and answers the users; the session's close calls
// chat.chatRemote.kick. chat.chatHandler.send and .echo run on chat servers, forwarded by the
// connector. Rooms are routed by their name (crc32(rid) over the chat servers, as the demo's
// routeUtil does), so that every member of a room and every message to it reaches the chat
// server holding its channel.
package chatapp
