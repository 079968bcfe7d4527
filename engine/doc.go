// Package engine is the application half of a pomelo server: the route → handler table of every
// server type, the request pipeline (filters, handlers, error handlers), sessions, pushes,
// channels, and the cluster (servers of several types talking over package rpc). The transport
// (package hybrid) owns client sockets, the handshake state machine, heartbeats and kicks; it
// hands the engine handshakes and DATA package bodies through hybrid.Handler, and the engine
// answers through each connection's outbound queue.
//
// # Model
//
// An App holds what pomelo loads from app/servers/<type>/handler for EVERY server type: handlers
// are registered with Handle and HandleAsync under "serverType.handler.method", filters with
// GlobalBefore/GlobalAfter (frontends, all messages) and Before/After/Filter (per server type),
// error handlers with SetErrorHandler and SetGlobalErrorHandler. App.NewServer freezes the
// registration and builds the route dictionary from all handler routes, sorted as pomelo sorts
// them (JavaScript string order), followed by AppConfig.Dictionary (config/dictionary.json).
// A Server runs one server of the App. App.NewServer makes a lone frontend; App.NewClusterServer
// makes a member of a cluster (a frontend or a backend, see "Cluster" below). Routes of its own
// type run here; routes of other types are forwarded to a server of that type (or to the
// Forwarder set with WithForwarder); a lone server without a Forwarder answers them
// {"code":500}.
//
// # One message
//
//	DATA body ──► codec.ParseMessage (in place) ──► route: code → table slot, or string → map
//	         │ R=1 without useDict, unknown code, no '.' in the route: dropped and counted
//	         ▼
//	  useCrypto: check __crypto__ ──► bad: counted; a request gets {"code":500}
//	         ▼
//	  not three parts: {"code":500}     method "constructor": session kicked, reason "attack"
//	         ▼
//	  global before filters ──error──► global error handler ──────────────────────┐
//	         ▼                                                                      │
//	  other server type? ──► Forwarder (or {"code":500}) ───────────────────────────┤
//	         ▼                                                                      │
//	  local before filters ──error──┐                                               │
//	         ▼                      ▼                                               │
//	  handler (decode body)  ──► error handler ──► local after filters (reverse) ──┤
//	                                                                                ▼
//	                                          respond (requests only) ──► global after filters
//
// Notifies are never answered, not even with errors. An error answers {"code":500} (or the code
// of a *CodeError) unless an error handler returns a response; a handler's own response is
// discarded when an error remains at the end (pomelo would add code 500 to it).
//
// Bodies are decoded by a codec chosen once, at registration: pomelo-protobuf when the route is in
// clientProtos (requests) or serverProtos (responses, keyed by the request route; pushes by the
// push route) and the server has UseProtobuf; standard protobuf when the Go type is a generated
// protobuf message; encoding/json otherwise. With json.RawMessage as the request type the handler
// receives the JSON text itself (checked for validity, {} when it is not JSON, as pomelo's
// JSON.parse fallback), and a json.RawMessage response is copied as it is: the echo path does not
// allocate (TestAllocEcho). Dispatch never uses reflection: Handle builds a typed closure.
//
// # Goroutines and lifetimes
//
// The transport calls Data on the connection's read goroutine. Synchronous handlers (Handle) run
// there; their responses are enqueued and flushed once per read batch (ReadBatchDone), so
// pipelined requests are answered with one write. A filter can suspend a request (ctx.Suspend,
// later ctx.Resume from any goroutine) and HandleAsync handlers answer through a callback from any
// goroutine; such requests leave the read goroutine, their body is copied first, and their
// response goes through the push scheduler (direct: written at once; buffered: at the next tick).
// A Context, the request body and a json.RawMessage request are valid until the handler returns
// (synchronous) or until reply is called (asynchronous); Contexts are recycled.
//
// Pushes (Server.PushToSessions, PushToUIDs, Broadcast, Channel.PushMessage) encode the message
// once into one DATA package, compressing the route to its dictionary code when useDict is on and
// the route is in the dictionary, and hand the same bytes to every target through the scheduler.
//
// Lock order and ownership are in LOCKING.md.
//
// # Cluster
//
// NewClusterServer(self, all) creates the server self of a cluster listed in all (servers.json
// order). Start listens: clients on a frontend's clientHost:clientPort, RPC on host:port. Peers
// are static: one rpc.Client (mailbox) per remote server id, created on first use, pipelined,
// reconnected with backoff. Servers share nothing but the App, so a whole cluster can run in one
// process; calls between them still go over loopback RPC, except calls a server makes to itself
// (its own channel members, its own sessions), which are direct.
//
// A request for another server type (msgRemote.forwardMessage):
//
//	frontend                                         backend (a server of the route's type)
//	 global before filters
//	 route: the type's RouteFunc(session), or
//	        servers[crc32(uid) % n] ─── CALL [msg, session snapshot] ──► local before filters
//	 (the Context waits, off the read goroutine)                          handler (BackendSession)
//	                                                                       error handler
//	 respond: the body as given, with the route's     ◄── REPLY [code, message, body] ── after filters
//	 serverProtos description; {"code":500} on any
//	 RPC failure (no server, refused, timeout, lost)
//	 global after filters (they see the error: code and message survive the hop)
//
// Global filters run on the frontend only; the backend runs the filters registered for its type
// and for every type (Before/After/Filter with "" or its type) and its error handler. Notifies are
// sent as RPC notifications and never answered. The arguments are encoded by the RPC client
// straight into its outbound buffer from a forwardArgs the Context reuses, and the answer is
// decoded into the Context's reused forwardRes: with pooled Contexts on both sides the steady
// state allocates nothing (TestAllocForward).
//
// The other sys remotes: sessionRemote.{bind, unbind, push, pushAll, getBackendSessionBySid,
// getBackendSessionsByUid, kickBySid, kickByUid} and channelRemote.{pushMessage, broadcast} are
// served by frontends; BackendSession and BackendSessionService call the first ones, Channel and
// ChannelService the others. A channel push groups its members by frontend id: the members of
// this server get one local push, each other frontend gets ONE pushMessage carrying all its uids
// and the message as JSON text, encoded once for every frontend; the frontend encodes the push
// package once (dictionary code, serverProtos) and hands it to all the sessions of those uids.
// PushMessageAsync with a nil callback waits for nothing and, warm, allocates nothing beyond the
// message's own JSON encoding.
//
// User remotes: Remote[A, R](app, serverType, "service.method", fn) registers a typed handler
// on the servers of a type and returns the RemoteMethod callers use (Call routed by a RouteParam,
// CallServer, CallAll, Go). A and R travel in their own encoding when *A and *R implement
// rpc.Appender and rpc.Decoder (package pack), as JSON text otherwise; the choice is made once.
//
// Handlers on a frontend may run on the transport's poller goroutine (package hybrid runs read
// batches inline): they must not wait for an RPC. Use HandleAsync with RemoteMethod.Go,
// PushMessageAsync, and the callbacks, as pomelo code does; the synchronous helpers (Call,
// PushMessage, BackendSession.Bind, ...) are for backends, remotes and other goroutines.
//
// # Sys remotes on the wire
//
// Arguments and results are package pack values (rpc/pack/doc.go). forwardMessage:
//
//	args   [ id uint, type uint (0 request, 1 notify), route string, body bytes (JSON text),
//	         sid uint, frontendId string, uid string | nil, settings map ]
//	result [ code int (0: success, else the client's error code), message string,
//	         body bytes (what the client gets: the response, {"code":N}, or an error handler's) ]
//
//	89 08  83 d8 04  00  87 0b "chat.h.echo"  88 02 "{}"  07  87 03 "c-1"  87 02 "u1"  8a 01 03 "rid" 87 01 "r"
//	arr 8  id 300    req route                body         sid frontend     uid         settings {rid: r}
//
// sessionRemote: [sid uint, uid string, key string, value any, reason string], each method using
// its fields; getBackendSession* answer [[sid, frontendId, uid|nil, settings], ...]; errors are
// *rpc.Error with code 100+i for the session sentinels (ErrSessionNotFound, ErrAlreadyBound,
// ErrSingleSession, ErrNotBound, ErrEmptyUID, ErrSessionClosed), matched again by errors.Is on the
// caller. channelRemote.pushMessage: [route string, msg bytes (JSON), uids [string...]] answering
// the uids with no session (an empty answer: none); broadcast: [route, msg bytes, binded bool,
// filterParam any].
//
// Session settings travel as pack values: integers arrive as int64, floats as float64, strings,
// bools, []any, map[string]any, []byte as themselves; other Go values as their JSON form (as
// pomelo's settings do).
//
// # Differences from pomelo
//
//   - useCrypto: a message without a valid signature is counted in Stats.BadSignature and, if it
//     is a request, answered {"code":500}. pomelo drops it silently and the client's request
//     hangs. Notifies are dropped as in pomelo. Non-ASCII JSON is hashed as its UTF-8 bytes.
//   - A handshake with useCrypto on and no usable sys.rsa is refused with 500 (pomelo throws).
//   - A pomelo-protobuf or standard protobuf request body that does not decode answers 500
//     (pomelo's decoder throws and the message is lost).
//   - A response that does not encode (a required pomelo-protobuf field missing) is sent with an
//     empty body, as pomelo does, and counted in Stats.EncodeErrors.
//   - Broadcast to bound sessions sends one copy per session (pomelo sends k copies to each of a
//     uid's k sessions).
//   - Responses to a read batch leave at the end of the batch whatever the scheduler; the
//     buffered scheduler delays pushes and asynchronous responses only.
//   - Duplicate routes are an error at registration, not a silent overwrite.
//   - Servers talk over package rpc's binary transport, not pomelo-rpc's MQTT/JSON: a Go cluster
//     does not mix with Node servers. Error codes and messages cross the hop (pomelo keeps only a
//     stack string); a backend handler's *CodeError reaches the client as {"code": N}.
//   - The global error handler and global filters run on frontends only, as in pomelo; a
//     forwarded request's failure to reach a backend is not seen by any error handler.
//   - Channel pushes and broadcasts carry the message as JSON text (standard protobuf bytes for a
//     generated protobuf message) and the frontend applies serverProtos; pomelo's opts
//     (userOptions, isPush) are not carried.
package engine
