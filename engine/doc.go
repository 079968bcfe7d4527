// Package engine is the application half of a pomelo frontend: the route → handler table of every
// server type, the request pipeline (filters, handlers, error handlers), sessions, pushes and
// local channels. The transport (package hybrid) owns sockets, the handshake state machine,
// heartbeats and kicks; it hands the engine handshakes and DATA package bodies through
// hybrid.Handler, and the engine answers through each connection's outbound queue.
//
// # Model
//
// An App holds what pomelo loads from app/servers/<type>/handler for EVERY server type: handlers
// are registered with Handle and HandleAsync under "serverType.handler.method", filters with
// GlobalBefore/GlobalAfter (frontends, all messages) and Before/After/Filter (per server type),
// error handlers with SetErrorHandler and SetGlobalErrorHandler. App.NewServer freezes the
// registration and builds the route dictionary from all handler routes, sorted as pomelo sorts
// them (JavaScript string order), followed by AppConfig.Dictionary (config/dictionary.json).
// A Server runs one server of the App: today a frontend (connector). Routes of its own type run
// here; routes of other types go to the Forwarder (the RPC layer, later); without one they are
// answered {"code":500}.
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
package engine
