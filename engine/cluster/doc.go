// Package cluster runs the servers of a pomelo application described by config/servers.json and
// config/master.json: all of them in one process, each in its own process under a master, or
// one of them as such a process.
//
// # Modes
//
//	Embedded (default)                 Master                              Single ("server")
//	┌ this process ─────────────┐      ┌ master ──────────┐               ┌ this process ─────┐
//	│ connector-server-1 :3010  │      │ control :3005    │──fork/exec──► │ chat-server-1     │
//	│   rpc :3150               │      │ one supervisor   │  per server   │   rpc :6050       │
//	│ chat-server-1  rpc :6050  │      │ per server       │◄─"ready\n"──  │                   │
//	│ control :3005 (loopback)  │      └──────────────────┘   fd 3        └───────────────────┘
//	└───────────────────────────┘
//
// Every server is created with the whole server list of the env, in servers.json order (types
// in file order, entries in order: engine.LoadServers), whatever subset is started, so that every
// process indexes each type alike for pomelo's default router. In one process each server still
// listens on its own ports (the RPC port; the client port of a frontend); Run refuses a
// configuration in which two started servers share a port.
//
// Types and IDs (pomelo's `pomelo start -t type` / `-i id`) restrict what Embedded and Master
// modes start; servers left out are still in every server's list, and calls routed to them fail
// until something runs them.
//
// # A server process
//
// A master starts each server as the same program (os.Executable(), or Options.Command) with
// Options.Args followed by pomelo's key=value arguments:
//
//	<exe> -config DIR env=production serverType=chat id=chat-server-1 auto-restart=true host=127.0.0.1 port=6050
//
// env, serverType and id first, then every field of the servers.json entry in key order, strings
// unquoted (pomelo's child processes likewise see every field as a string). ParseArgs reads them
// back; the program then runs Mode Single with ServerID id. The master also sets, in the
// environment:
//
//   - EnvReadyFD=3: the write end of a pipe; the server writes "ready\n" on it once it listens,
//     and the master marks it running. Options.Ready is called when every server has been ready
//     once.
//   - EnvMasterPID: the master's pid. A server whose parent changes (the master died and it was
//     re-parented) stops by itself; on Linux the kernel kills it first anyway (below).
//
// With a cpu field and taskset(1) installed, the command is wrapped in `taskset -c <cpu>` as
// pomelo does.
//
// # Supervision
//
// One goroutine per server starts its process and waits for it. A process that exits by itself
// (crash, signal, even status 0) is restarted when the entry has auto-restart or restart-force:
// after RestartPolicy.Delay, doubling per restart up to MaxDelay; more than Limit restarts within
// Window and the server is given up (state "failed"); a run longer than Window starts the count
// again. Without either field the server stays down ("exited"). When no server process is left
// and none will be restarted, Run returns ErrAllExited (nil if all were stopped on request).
//
// Stopping (ctx done, or POST /stop): every process gets SIGTERM, then SIGKILL after StopTimeout,
// and Run returns once all have been reaped. Server processes are in their own process group, so
// a terminal's Ctrl-C reaches only the master, which stops them in that order. On Linux each is
// started with Pdeathsig SIGKILL: if the master is killed outright, the kernel kills its servers.
// Pdeathsig fires when the forking THREAD exits, so all forks happen on one goroutine locked to
// its thread for the master's lifetime.
//
// In-process servers (Embedded, Single) start frontends first, then the rest, each group in
// servers.json order; they stop with Shutdown and a
// StopTimeout deadline, frontends first too.
//
// # Control endpoint
//
// Embedded and Master modes serve HTTP on master.json's port, on its host if that is a loopback
// name or address and on 127.0.0.1 otherwise (never on another interface; Port 0 turns it off):
//
//	GET  /status          Status as JSON: env, mode, master {id, pid}, and per server
//	                      {id, type, state, pid, restarts, since, lastExit}
//	POST /stop            stop every server; Run returns
//	POST /stop?id=<id>    stop one server (not restarted); 204 once it is down, 404 if unknown
//
// States: starting, running, restarting, stopping, stopped, exited, failed.
//
// # Differences from pomelo
//
//   - The master does not speak pomelo-admin's MQTT protocol (no monitors, pomelo-cli, modules);
//     the control endpoint is plain HTTP on loopback.
//   - Servers learn the cluster from servers.json, not from the master: the list is static, in
//     file order. A server that is down stays in the list (its calls fail fast).
//   - Every server runs on this machine: hosts are not reached over ssh.
//   - args (Node options) are passed on as args=... but mean nothing to a Go program.
//   - restart-force restarts like auto-restart. pomelo's extra step, killing whatever holds the
//     port, is not needed: a server process cannot outlive its master, and one that died has
//     released its ports.
//   - clusterCount entries are expanded as pomelo does (engine.ParseServerList):
//     cluster-server-<type>-<n> with "<port>++" fields counting up.
//   - A restart happens after the backoff, not pomelo's fixed 15 s wait.
package cluster
