// Command loadgen saturates any pomelo-protocol server (pomelo, pinus, nano, this engine) with
// simulated clients, and reports connections, handshake rate, throughput, latency percentiles,
// pushes, drops and the servers' CPU and memory, as text, JSON (-json) and a self-contained HTML
// page (-html). It is built on the wire protocol alone (codec, codec/pomelopb, hybrid/ws), never
// on the engine's internals.
//
// # Examples
//
//	go run ./loadgen -scenario idle -conns 10000 -rate 2000 -hold 60s -transport ws -addr 127.0.0.1:3010
//	go run ./loadgen -scenario echo -conns 100 -depth 10 -hold 30s -pids $(pgrep -n chat)
//	go run ./loadgen -scenario echo -conns 1000 -qps 20000 -hold 30s -html report.html
//	go run ./loadgen -scenario notify -conns 100 -qps 50000 -route chat.chatHandler.send -body '{"rid":"r0","content":"x","from":"u","target":"*"}'
//	go run ./loadgen -scenario chat -conns 2000 -room 10 -chat-rate 1 -hold 60s -json chat.json
//	go run ./loadgen -scenario push -conns 5000 -trigger-route area.h.subscribe -push-route onTick -push-ts-field ts
//	go run ./loadgen -scenario idle -conns 36000 -procs 2 -addr 127.0.0.1:3010,127.0.0.1:3011 -pids 101,102
//
// # Run
//
// A run has four phases. Ramp: connections are opened at -rate per second (at most
// -max-connecting in progress), each doing the client's part of the handshake and its scenario
// setup. Hold (-hold): scenario traffic. Drain: no new requests; outstanding ones may still be
// answered (at most -drain). Stop: connections are closed. Throughput is counted over the hold;
// the timeline has one row per second, and a progress line per second goes to stderr.
//
// # Clients
//
// Each simulated client behaves like the official JS client (pomelo-jsclient-websocket):
//
//   - handshake {"sys":{"type":-sys-type,"version":-sys-version,<-sys-extra>},"user":-user}, then
//     the ACK; the dictionary is read from sys.dict (or routeToCode), protos from sys.protos in
//     pomelo's parsed form;
//   - heartbeats only in reaction to the server's: one is sent sys.heartbeat seconds after each
//     server heartbeat; after sending, the connection is dropped if nothing at all arrives for
//     2 × heartbeat (less the client's 100 ms gapThreshold); -no-heartbeat never sends any;
//   - routes in the dictionary are sent as 2-byte codes (-no-compress sends strings); bodies are
//     pomelo-protobuf where the handshake's client protos cover the route (-no-protobuf sends
//     JSON), and responses and pushes are decoded with the server protos;
//   - over -transport ws, one pomelo package per masked binary frame, as the server requires;
//     -ws-deflate offers permessage-deflate as browsers do and inflates what the server
//     compresses (the clients' own frames stay plain, as the Node ws client sends frames under
//     1 KiB; the report counts compressed_in).
//
// A response counts as an error when its top-level "code" is not 200. Request ids are the JS
// client's (1, 2, 3 ... per connection); a response to an id that timed out counts as late.
//
// # Scenarios
//
//	idle    hold the connections: handshakes, heartbeats, drops (server close, kick, heartbeat timeout)
//	echo    requests on -route with -body: closed loop with -depth outstanding per connection, or
//	        open loop at -qps in total (latency from the intended send time: no coordinated omission)
//	notify  notifies on -route at -qps in total
//	chat    the chat demo (docs/chat-demo.md): connector.entryHandler.entry {username, rid} with
//	        rooms of -room connections, then chat.chatHandler.send at -chat-rate per connection;
//	        each client counts its onChat deliveries; expected = the room size the client knows
//	        (entry users + onAdd - onLeave) for each accepted send; push latency from the send
//	        time carried in the content
//	push    count pushes on -push-route (all when empty) after an optional -trigger-route request;
//	        -push-ts-field names a top-level field with the server's send time (-push-ts-unit) for
//	        push latency
//
// # Cost per connection
//
// Connections are not goroutines. Each process runs GOMAXPROCS-1 poll loops (-loops, at least
// one; see driver.Config.Loops for why one P stays free), each an epoll instance driving its
// share of the connections with non-blocking sockets, a hashed timing wheel for heartbeats and
// timeouts, and buffers shared by the loop: per connection only a ~400-byte state, the in-flight
// ring and, briefly, a partial package. The steady-state response path
// (read, parse, match, record latency, encode and write the next request) does not allocate.
// The report gives loadgen's own RSS per connection and CPU per response (or per
// connection-second when idle), from /proc.
//
// Idle connections cost about two loopback TCP writes per heartbeat, one on each side, and most
// of that is the kernel's. -hb-align 50ms delays each heartbeat to the next 50 ms boundary so
// that a loop sends them in bursts and wakes once per burst; a CCU run uses it (see
// BENCHMARKS.md for the effect on both sides).
//
// The loops are loadgen's own (syscall epoll, epoll_pwait2 for sub-millisecond open-loop pacing)
// rather than netpoll's client: that lets a connection bind its source address before connect()
// (IP_BIND_ADDRESS_NO_PORT, so the port is picked per destination) and keeps every byte of
// per-connection state under its control. Linux only.
//
// # Beyond one process
//
// A process may hold 20,000 open files here. -procs K re-executes loadgen as K children (the same
// binary; the LOADGEN_CHILD environment variable marks child mode), each with its share of the
// connections and rates and its own source address 127.0.0.<1+i> (or one of -src) when the
// targets are IPv4 loopback, so each child also has its own ephemeral port range. Children write
// a JSON snapshot line to stdout every 250 ms (counters, gauges and their histograms in sparse
// form) and read phase commands on stdin. The parent merges histograms bucket by bucket, so the
// percentiles are those of all requests, not averages.
//
// # Latency histogram
//
// loadgen/internal/hist is log-linear (HdrHistogram-like): 128 sub-buckets per power of two
// (≤0.8% relative error), 35 KiB fixed, allocation-free recording, exact merging. Summaries
// over the per-second series use github.com/montanaflynn/stats.
//
// # Servers
//
// -pids samples each process's utime+stime (/proc/PID/stat) and VmRSS (/proc/PID/status) every
// second; the report gives CPU seconds during the hold, % of a core, RSS at the start, at the end
// of the ramp and at peak, and RSS per connection.
//
// # Attention
//
// Loopback TCP costs are charged to whoever sends: the kernel runs the receiver's TCP input in
// the sender's system call, so loadgen's and the server's CPU both include part of the other
// side's kernel work. Publish numbers with the machine line of the report, the connection count,
// body sizes and the hold length, and with the machine otherwise idle.
package main
