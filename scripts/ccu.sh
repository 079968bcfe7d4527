#!/usr/bin/env bash
# Idle CCU run of the chat demo: starts examples/chat/config-ccu as a multi-process cluster (a
# master, six connector processes on client ports 3010-3015 and a chat server), then holds CONNS
# idle TCP connections with loadgen spread over PROCS processes (each on its own source address
# 127.0.0.<1+i>), with the demo's 3 s heartbeats, and reports drops, server CPU and RSS.
#
# A process may open 20,000 files here, so 100,000 connections need at least five connector
# processes and five loadgen processes; six of each leave room.
#
# Usage: bash scripts/ccu.sh
#   CONNS=100000   connections in all
#   PROCS=6        loadgen processes
#   RATE=2000      connection attempts per second during the ramp
#   HOLD=5m        how long every connection is held after the ramp
#   ALIGN=50ms     loadgen -hb-align (0: each heartbeat one interval after the server's)
#   TRANSPORT=tcp  tcp or ws
#   OUT=dir        keep the loadgen JSON and HTML reports and the cluster's log there
# The ports of config-ccu (3005, 3010-3015, 3150-3155, 6050) must be free.
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${CONNS:-100000}
procs=${PROCS:-6}
rate=${RATE:-2000}
hold=${HOLD:-5m}
align=${ALIGN:-50ms}
transport=${TRANSPORT:-tcp}
work=$(mktemp -d)          # binaries, removed at exit
out=${OUT:-$(mktemp -d)}   # reports, kept
mkdir -p "$out"
cluster_pid=

cleanup() {
  if [ -n "$cluster_pid" ] && kill -0 "$cluster_pid" 2>/dev/null; then
    kill -TERM "$cluster_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$cluster_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$cluster_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/chat" ./examples/chat
go build -o "$work/loadgen" ./loadgen

"$work/chat" -config examples/chat/config-ccu -mode master -quiet >"$out/cluster.log" 2>&1 &
cluster_pid=$!

# Wait until the master reports all seven servers running, and collect their PIDs.
pids=
for _ in $(seq 300); do
  if st=$(curl -sf http://127.0.0.1:3005/status 2>/dev/null); then
    pids=$(python3 -c '
import json, sys
st = json.loads(sys.argv[1])
s = st.get("servers") or []
if len(s) == 7 and all(x.get("state") == "running" and x.get("pid", 0) > 0 for x in s):
    print(",".join(str(x["pid"]) for x in s))
' "$st")
    [ -n "$pids" ] && break
  fi
  kill -0 "$cluster_pid" 2>/dev/null || { cat "$out/cluster.log"; exit 1; }
  sleep 0.2
done
[ -n "$pids" ] || { echo "ccu: the cluster did not start" >&2; tail -50 "$out/cluster.log" >&2; exit 1; }
echo "ccu: cluster up, server pids $pids; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

addrs=127.0.0.1:3010,127.0.0.1:3011,127.0.0.1:3012,127.0.0.1:3013,127.0.0.1:3014,127.0.0.1:3015
"$work/loadgen" -scenario idle -transport "$transport" -addr "$addrs" -conns "$conns" -procs "$procs" \
  -rate "$rate" -hold "$hold" -hb-align "$align" -pids "$pids" \
  -json "$out/ccu.json" -html "$out/ccu.html"
echo "ccu: reports in $out (ccu.json, ccu.html, cluster.log); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
