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
#   HOLD=10s          hold phase of each echo run
#   CHAT_HOLD=30s     hold phase of each fan-out run
#   CHAT_RATES="0.02 0.1"  sends per second per member in the fan-out runs, one run each (x 1,000
#                     members x 1,000 deliveries per send: 0.02 offers 20,000 deliveries/s, 0.1
#                     offers 100,000); joining the room makes the demo push ~500,000 onAdd during
#                     the ramp (1,000 joins at -rate 200/s), so the fan-out line also reports the
#                     onChat deliveries per second of the hold once its first 10 s are over
#                     (needs python3)
#   LAYOUTS="embedded multi multi2x2"  layouts to run (multi2x2 runs only the fan-out)
#   RUNS="echo fanout"                 kinds of run
#   PORT_BASE=24000   ports used: PORT_BASE .. PORT_BASE+99 on 127.0.0.1
#   OUT=dir           keep the loadgen JSON reports and server logs there (default: a temp dir)
# The machine is shared: the load average is printed before every run; compare runs made under
# a similar load.
set -euo pipefail
cd "$(dirname "$0")/.."
hold=${HOLD:-10s}
chat_hold=${CHAT_HOLD:-30s}
chat_rates=${CHAT_RATES:-0.02 0.1}
layouts=${LAYOUTS:-embedded multi multi2x2}
runs=${RUNS:-echo fanout}
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

# steady NAME: onChat deliveries per second and push latency over the hold rows after its first
# 10 s, from loadgen's per-second timeline.
steady() {
  command -v python3 >/dev/null || return 0
  python3 - "$out/$1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rows = [x for x in r["timeline"] if x["phase"] == "hold"]
rows = rows[10:-1]  # skip the first 10 s (onAdd backlog of the ramp) and the partial last row
if rows:
    secs = sum(x["seconds"] for x in rows)
    print("   steady    %.0f onChat deliveries/s over %d s of the hold after its first 10 s; "
          "push p50 %.0f..%.0f ms, p99 %.0f..%.0f ms per second" % (
              sum(x["pushes"] for x in rows) / secs, secs,
              min(x["push_p50_ms"] for x in rows), max(x["push_p50_ms"] for x in rows),
              min(x["push_p99_ms"] for x in rows), max(x["push_p99_ms"] for x in rows)))
PY
}

fanout_run() {
  local layout=$1 addr=$2 rate
  for rate in $chat_rates; do
    run "$layout-chat-room1000-rate$rate" -scenario chat -conns 1000 -room 1000 -rate 200 -chat-rate "$rate" \
      -hold "$chat_hold" -addr "$addr" -pids "$pids"
    steady "$layout-chat-room1000-rate$rate"
  done
}

echo "== machine: $(nproc) CPUs, $(uname -sr), $(go version | cut -d' ' -f3-), load average $(cut -d' ' -f1-3 /proc/loadavg)"

write_config "$work/one" 1 1
write_config "$work/two" 2 2

has() { [[ " $1 " == *" $2 "* ]]; }

for layout in $layouts; do
  case $layout in
  embedded) start_cluster embedded "$work/one" embedded ;;
  multi) start_cluster multi "$work/one" master ;;
  multi2x2) start_cluster multi2x2 "$work/two" master ;;
  *) echo "unknown layout $layout" >&2; exit 1 ;;
  esac
  if has "$runs" echo && [ "$layout" != multi2x2 ]; then
    echo_runs "$layout" "127.0.0.1:$base"
  fi
  if has "$runs" fanout; then
    if [ "$layout" = multi2x2 ]; then
      fanout_run "$layout" "127.0.0.1:$base,127.0.0.1:$((base + 1))"
    else
      fanout_run "$layout" "127.0.0.1:$base"
    fi
  fi
  stop_cluster
done
echo
echo "reports: $out (kept only when OUT is set)"
