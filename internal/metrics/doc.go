// Package metrics exports a Shaddock server's counters to Prometheus without touching its hot
// paths.
//
// # Model
//
// The transport (hybrid), the application layer (engine) and the RPC layer (rpc) keep their own
// atomic counters and know nothing of Prometheus. This package reads those counters when a
// scrape happens, through collectors registered on a private registry (never the global one):
//
//	 client sockets           engine pipeline            RPC
//	┌───────────────┐      ┌──────────────────┐      ┌──────────────┐
//	│ hybrid.Stats  │      │ engine.Stats     │      │ rpc.Station  │
//	│ (atomics)     │      │ scheduler.Stats  │      │ rpc.Server   │
//	└──────┬────────┘      │ sessions (walk)  │      └──────┬───────┘
//	       │ read at       └────────┬─────────┘             │ read at
//	       │ scrape time            │ read at scrape time   │ scrape time
//	       ▼                        ▼                       ▼
//	┌─────────────────────────────────────────────────────────────────┐
//	│ Set: prometheus.Registry  (+ Go runtime and process collectors) │
//	└─────────────────────────────────────────────────────────────────┘
//	       ▲ recorded per message / per call, pre-resolved children:
//	       │   Requests  ← engine global AfterFilter (RequestFilter) or RouteObserver
//	       │   RPC       ← rpc.AfterFilter (ClientFilter, ServerFilter), CallObserver
//
// Only what has no counter of its own is recorded as it happens: request latency per route and
// RPC latency and results per remote. Those go into histogram and counter vectors whose children
// are resolved once per label value and kept in a copy-on-write map, so recording is one map
// read and a few atomic adds, with no label hashing, no lock and no allocation (alloc_test.go).
// Label values are capped (Config.MaxRoutes, MaxRemotes); the rest share the value "other". The
// engine filter labels only routes the App registered or its dictionary lists, so a client
// cannot mint label values by sending made-up routes.
//
// Sessions are walked at most once per Config.SampleInterval, whatever the scrape rate, to count
// them by transport and to sum outbound queue depth over the connections that implement
// QueueReporter, as *hybrid.Conn does (gauges absent when none does).
//
// # Metric families
//
// Transport (hybrid.Stats):
//
//	shaddock_connections                         gauge    open client connections
//	shaddock_connections_classified              gauge    open and classified (MaxConns)
//	shaddock_connections_accepted_total          counter
//	shaddock_connections_rejected_total          counter  reason: blacklist|max_conns|protocol|shutdown
//	shaddock_accept_errors_total                 counter  out of descriptors or memory, retried
//	shaddock_connections_classified_total        counter  transport: tcp|ws|tls|wss
//	shaddock_handshakes_total                    counter  code: 200|500|501
//	shaddock_handshake_failures_total            counter  reason: invalid|tls|ws_upgrade
//	shaddock_protocol_errors_total               counter  kind: bad_type|body_too_large|client_kick|ws_frame|ws_too_large|ws_package_count
//	shaddock_out_of_state_packages_total         counter
//	shaddock_timeouts_total                      counter  kind: handshake|heartbeat|idle
//	shaddock_packages_total                      counter  direction: in|out
//	shaddock_transport_bytes_total               counter  direction: in|out
//	shaddock_outbound_refused_packages_total     counter  connection not WORKING
//	shaddock_outbound_dropped_packages_total     counter  overflow policy drop
//	shaddock_outbound_overflow_kicks_total       counter  overflow policy kick
//	shaddock_write_failures_total                counter  kind: error|timeout
//	shaddock_kicks_total                         counter
//	shaddock_websocket_pings_total               counter
//	shaddock_websocket_close_frames_total        counter
//	shaddock_websocket_deflate_connections_total counter  permessage-deflate negotiated
//	shaddock_websocket_compressed_messages_total counter  direction: in|out
//	shaddock_websocket_deflate_saved_bytes_total counter
//
// Engine (engine.Stats, scheduler.Stats, sessions):
//
//	shaddock_sessions                            gauge    transport: other|tcp|ws|tls|wss (sampled)
//	shaddock_outbound_queue_bytes[_max]          gauge    sum over sessions / fullest (sampled; QueueReporter)
//	shaddock_outbound_queue_packages[_max]       gauge    idem, in packages
//	shaddock_engine_dropped_messages_total       counter  reason: malformed|no_dict|unknown_code|no_dot
//	shaddock_engine_refused_messages_total       counter  reason: bad_route|attack|bad_signature
//	shaddock_engine_handler_errors_total         counter
//	shaddock_engine_error_responses_total        counter
//	shaddock_engine_encode_errors_total          counter
//	shaddock_engine_forwarded_messages_total     counter
//	shaddock_engine_handshakes_refused_total     counter
//	shaddock_pushes_total                        counter  push messages encoded
//	shaddock_push_deliveries_total               counter  fan-out: connections handed a push
//	shaddock_scheduler_enqueued_packages_total   counter
//	shaddock_scheduler_enqueue_errors_total      counter
//	shaddock_scheduler_flushes_total             counter
//	shaddock_scheduler_flush_errors_total        counter
//
// Requests (RequestFilter or RouteObserver):
//
//	shaddock_request_duration_seconds            histogram route
//	shaddock_requests_total                      counter   route, result: ok|error
//
// RPC (filters: ClientFilter counts and times each call from rpc.CallInfo.Elapsed, ServerFilter
// counts served calls; CallObserver for callers that time calls themselves; Station and Server
// stats):
//
//	shaddock_rpc_calls_total                     counter   remote, result: ok|<code name>|app
//	shaddock_rpc_call_duration_seconds           histogram remote
//	shaddock_rpc_served_calls_total              counter   peer, result
//	shaddock_rpc_pending_calls                   gauge     remote
//	shaddock_rpc_dials_total                     counter   remote
//	shaddock_rpc_writes_total                    counter   remote
//	shaddock_rpc_server_connections              gauge
//	shaddock_rpc_server_writes_total             counter
//
// Runtime: the client library's Go collector (go_goroutines, go_gc_duration_seconds for GC
// pauses, go_memstats_*, plus go_sched_latencies_seconds) and process collector (process_*).
//
// # Wiring
//
//	set, _ := metrics.New(metrics.Config{})
//	app.GlobalAfter(set.Requests().Filter())      // before app.NewServer
//	es, _ := app.NewServer(cfg)
//	set.AddEngine(es)                              // engine, sessions, scheduler, transport
//	st, _ := rpc.NewStation(ccfg, rpc.WithAfter(set.RPC().ClientFilter()))
//	set.AddRPCStation(st)
//	// in a cluster: engine.WithRPCClientOptions(rpc.WithAfter(set.RPC().ClientFilter())) and
//	// engine.WithRPCServerOptions(rpc.WithAfter(set.RPC().ServerFilter())) per server
//	// then admin.New(acfg, set.Registry()) serves /metrics
package metrics
