#!/usr/bin/env bash
# Benchmarks the chat demo as a cluster with loadgen, server and loadgen as separate processes,
# over TCP on loopback:
#   - backend echo (chat.chatHandler.echo: client -> connector -> RPC -> chat server -> back) at
#     1 conn x depth 1, 100 x 1 and 100 x 10: throughput and latency percentiles;
#   - fan-out: loadgen's chat scenario with one room of 1,000 members: onChat deliveries per second;
# each in two layouts of one connector and one chat server: embedded (both in one process) and
# multi-process (a master, a connector process and a chat server process); and the fan-out once
# more with two connectors and two chat servers (the room spread over both connectors).
#
# Usage: bash scripts/bench-cluster.sh
#   HOLD=10s        hold phase of each run
#   CHAT_RATE=0.05  sends per second per member in the fan-out runs (x 1,000 members x 1,000
#                   deliveries each: 0.05 is 50 sends/s, 50,000 deliveries/s offered)
#   PORT_BASE=24000 ports used: PORT_BASE .. PORT_BASE+99 on 127.0.0.1
#   OUT=dir         keep the loadgen JSON reports and server logs there (default: a temp dir)
# The machine is shared: the load average is printed before every run; compare runs made under
# a similar load.
set -euo pipefail
cd "$(dirname "$0")/.."
hold=${HOLD:-10s}
chat_rate=${CHAT_RATE:-0.05}
base=${PORT_BASE:-24000}
work=$(mktemp -d)
out=${OUT:-$work}
mkdir -p "$out"
server_pid=

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build"
go build -o "$work/chat" ./examples/chat
go build -o "$work/loadgen" ./loadgen

# write_config DIR CONNECTORS CHATS: a config on PORT_BASE: connector i on client port base+i
# and rpc port base+20+i, chat server j on rpc port base+50+j, the master's control endpoint on
# base+99.
write_config() {
  local dir=$1 nc=$2 nh=$3 i sep=""
  mkdir -p "$dir"
  cp examples/chat/config/dictionary.json examples/chat/config/clientProtos.json examples/chat/config/serverProtos.json "$dir/"
  {
    printf '{"development":{"connector":['
    for ((i = 0; i < nc; i++)); do
      printf '%s{"id":"connector-server-%d","host":"127.0.0.1","port":%d,"clientHost":"127.0.0.1","clientPort":%d,"frontend":true}' \
        "$sep" $((i + 1)) $((base + 20 + i)) $((base + i))
      sep=,
    done
    printf '],"chat":['
    sep=""
    for ((i = 0; i < nh; i++)); do
      printf '%s{"id":"chat-server-%d","host":"127.0.0.1","port":%d}' "$sep" $((i + 1)) $((base + 50 + i))
      sep=,
    done
    printf ']}}\n'
  } >"$dir/servers.json"
  printf '{"development":{"id":"master-server-1","host":"127.0.0.1","port":%d}}\n' $((base + 99)) >"$dir/master.json"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_cluster NAME CONFIG MODE: starts the demo, waits until every server runs, and sets
# server_pid (the process started) and pids (the processes that run servers, for -pids).
start_cluster() {
  local name=$1 dir=$2 mode=$3 i status
  for ((i = 0; i < 100; i++)); do
    if port_busy $((base + i)); then
      echo "port $((base + i)) is in use: set PORT_BASE" >&2
      exit 1
    fi
  done
  "$work/chat" -config "$dir" -mode "$mode" -quiet >"$out/$name.log" 2>&1 &
  server_pid=$!
  for ((i = 0; i < 300; i++)); do
    status=$(curl -fsS "http://127.0.0.1:$((base + 99))/status" 2>/dev/null || true)
    if [ -n "$status" ] && ! grep -q '"state":"\(starting\|restarting\)"' <<<"$status"; then
      break
    fi
    sleep 0.1
  done
  if [ -z "$status" ] || grep -q '"state":"\(starting\|restarting\|exited\|failed\)"' <<<"$status"; then
    echo "cluster $name did not start: $status" >&2
    cat "$out/$name.log" >&2
    exit 1
  fi
  pids=$(grep -o '"pid":[0-9]*' <<<"${status#*\"servers\"}" | cut -d: -f2 | sort -u | paste -sd, -)
  echo "cluster $name ($mode): server pids $pids"
}

stop_cluster() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=
}

# run NAME ARGS...: one loadgen run; prints its report's main lines.
run() {
  local name=$1
  shift
  echo
  echo "-- $name   (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "   loadgen $*"
  "$work/loadgen" -quiet -json "$out/$name.json" "$@" >"$out/$name.txt" 2>&1 || {
    cat "$out/$name.txt"
    return 1
  }
  grep -E '^(machine|conns|drops|requests|rate|latency|setup|pushes|push lat|chat|server|loadgen +[0-9]|errors)' "$out/$name.txt" | sed 's/^/   /'
}

echo_runs() {
  local layout=$1 addr=$2
  run "$layout-echo-1x1" -scenario echo -route chat.chatHandler.echo -conns 1 -depth 1 -hold "$hold" -addr "$addr" -pids "$pids"
  run "$layout-echo-100x1" -scenario echo -route chat.chatHandler.echo -conns 100 -depth 1 -hold "$hold" -addr "$addr" -pids "$pids"
  run "$layout-echo-100x10" -scenario echo -route chat.chatHandler.echo -conns 100 -depth 10 -hold "$hold" -addr "$addr" -pids "$pids"
}

fanout_run() {
  local layout=$1 addr=$2
  run "$layout-chat-room1000" -scenario chat -conns 1000 -room 1000 -chat-rate "$chat_rate" -hold "$hold" -addr "$addr" -pids "$pids"
}

echo "== machine: $(nproc) CPUs, $(uname -sr), $(go version | cut -d' ' -f3-), load average $(cut -d' ' -f1-3 /proc/loadavg)"

write_config "$work/one" 1 1
write_config "$work/two" 2 2

start_cluster embedded "$work/one" embedded
echo_runs embedded "127.0.0.1:$base"
fanout_run embedded "127.0.0.1:$base"
stop_cluster

start_cluster multi "$work/one" master
echo_runs multi "127.0.0.1:$base"
fanout_run multi "127.0.0.1:$base"
stop_cluster

start_cluster multi2x2 "$work/two" master
fanout_run multi2x2 "127.0.0.1:$base,127.0.0.1:$((base + 1))"
stop_cluster

echo
echo "reports: $out (kept only when OUT is set)"
