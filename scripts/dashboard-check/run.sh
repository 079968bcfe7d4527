#!/usr/bin/env bash
# Browser check of the admin dashboard (internal/admin TestDashboardInBrowser).
#
# Installs Debian's chromium when /usr/bin/chromium is missing (apt-get; root or sudo), then runs
# the test with SHADDOCK_BROWSER=1: a real engine server with real TCP and WebSocket clients, an
# RPC server and station, and the admin endpoint on loopback; headless Chromium, driven over
# --remote-debugging-pipe, loads the dashboard for ~16 s. The test FAILS (never skips) when a
# chart stays empty, the numbers do not move or disagree with the server, or the page logs an
# error or loads anything external.
#
#   bash scripts/dashboard-check/run.sh                      # check; screenshot in a temp dir
#   bash scripts/dashboard-check/run.sh --update-screenshot  # also rewrite docs/dashboard.png
#
# SHADDOCK_CHROMIUM=/path/to/chrome uses another browser binary (no install then).
set -euo pipefail
cd "$(dirname "$0")/../.."

case "${1:-}" in
  "") ;;
  --update-screenshot) mkdir -p docs; export SHADDOCK_SCREENSHOT="$PWD/docs/dashboard.png" ;;
  *) echo "usage: $0 [--update-screenshot]" >&2; exit 2 ;;
esac

if [ -z "${SHADDOCK_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "== installing chromium (Debian package)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

echo "== go test -run TestDashboardInBrowser ./internal/admin (SHADDOCK_BROWSER=1)"
SHADDOCK_BROWSER=1 go test -count=1 -run '^TestDashboardInBrowser$' -v ./internal/admin/
