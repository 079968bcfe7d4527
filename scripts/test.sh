#!/usr/bin/env bash
# Runs every test of the project: formatting, vet, the Go tests under the race detector, the interop
# tests with the official pomelo JS client (installed here from npm, pinned), and a short run of
# every fuzz target. Usage: bash scripts/test.sh   (FUZZTIME=30s to fuzz longer)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-8s}

step() { printf '\n== %s\n' "$*"; }

step gofmt
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './*/node_modules/*'))
if [ -n "$bad" ]; then echo "gofmt would change:"; echo "$bad"; exit 1; fi

step go vet
go vet ./...

if [ -f interop/package.json ]; then
  step "npm install (interop: official pomelo client, pinned versions, no lockfile)"
  (cd interop && npm install --no-package-lock --no-audit --no-fund --loglevel=error)
  export SHADDOCK_INTEROP=1
fi

step "chromium for the dashboard browser test (Debian package)"
if [ ! -x /usr/bin/chromium ] && [ -z "${SHADDOCK_CHROMIUM:-}" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
export SHADDOCK_BROWSER=1

step "go test -race -shuffle=on ./..."
go test -race -shuffle=on -timeout 30m -count=1 ./...

step "fuzz targets, $fuzztime each"
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "-- $pkg $target"
    # Go 1.26's fuzz coordinator can report its own -fuzztime deadline as a failure
    # (go.dev/issue/75804, fixed in 1.27): "context deadline exceeded" and no failing input, which
    # a real failure always writes. Such a run is tried again, up to three times in all.
    for attempt in 1 2 3; do
      if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/fuzz.$$ 2>&1; then
        tail -n 1 /tmp/fuzz.$$
        break
      fi
      if grep -q 'Failing input written' /tmp/fuzz.$$ || ! grep -q '^    context deadline exceeded$' /tmp/fuzz.$$; then
        cat /tmp/fuzz.$$
        rm -f /tmp/fuzz.$$
        exit 1
      fi
      echo "(attempt $attempt ended on go.dev/issue/75804, the fuzztime deadline race: no failing input)"
    done
  done
done
rm -f /tmp/fuzz.$$

step "benchmark smoke (-benchtime=1x)"
go test -run '^$' -bench . -benchtime=1x ./... >/dev/null

echo
echo "all tests passed"
