// Command bench runs the fixed benchmark matrix of the chat demo with loadgen and rewrites the
// generated section of BENCHMARKS.md (the text between <!-- bench:begin --> and
// <!-- bench:end -->; everything outside the markers is kept, and the file or the markers are
// created when absent).
//
//	go run ./bench                          # full matrix, rewrites BENCHMARKS.md (about 4 minutes)
//	go run ./bench -quick                   # smoke matrix (under a minute), into a temp file, printed
//	go run ./bench -only be-echo,multi -out /tmp/b.md
//
// Flags: -quick (small N, 2–3 s holds; the default output becomes a temp file), -out FILE,
// -only name,... (names or name prefixes), -hold D (override every hold), -v (loadgen's text
// reports on stderr).
//
// # Processes
//
// The harness builds examples/chat and loadgen once (go build into a temp dir), writes a config
// directory (one connector, one chat server, the master's control endpoint) on free loopback
// ports, starts the demo with -mode embedded or -mode master, waits until GET /status shows
// every server running, and runs each scenario as a loadgen process with -pids set to the
// server processes and -json into the temp dir. Every process is started with Pdeathsig
// SIGKILL in its own process group; groups are sent SIGTERM, then SIGKILL, when a layout is
// done, on error and at exit. Each loadgen run is bounded by its hold plus 90 s.
//
// # Matrix
//
//	idle-tcp, idle-ws           idle CCU (5,000; quick 200), 3 s heartbeats, 15 s hold; each on a new cluster
//	fe-echo-100x1, -100x10      connector.entryHandler.echo, closed loop
//	be-echo-1x1, -100x1, -100x10  chat.chatHandler.echo (connector → RPC → chat server), closed loop
//	chat-fanout-250, -1000      one room (quick: 100), 0.05 sends/s per member (quick 0.5)
//	open-loop                   chat.chatHandler.echo at 5,000/s (quick 500/s) over 100 conns
//	multi-*                     be-echo-1x1, be-echo-100x10 and the fan-outs with a master and one
//	                            process per server
//
// A scenario fails outright (non-zero exit) when connections fail their handshake, idle
// connections are lost, an echo run has no or error responses, or a fan-out delivers nothing
// or under half of what was expected. The report is written before that check.
package main
