#!/usr/bin/env bash
# check.sh regenerates the pomelo test vectors from the pinned npm packages
# and compares them with the copies the Go tests use.
#
#   scripts/vectors/check.sh            # compare
#   KEEP=/some/dir scripts/vectors/check.sh   # also keep the generated files there
#
# It installs the packages in a temporary copy of this directory (nothing is
# written to the repository), runs gen.js into a temporary directory, and
# compares each generated file semantically with every copy that exists:
#   - the package testdata files of the repository, and
#   - the shared reference vectors in $SHARED_VECTORS
#     (default /work/shared/vectors), when that directory exists.
# A missing copy is reported and skipped. Exit status 1 if any copy differs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${SHARED_VECTORS:-/work/shared/vectors}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp "$here/package.json" "$here/gen.js" "$here/compare.js" "$work/"
echo "installing pinned packages in $work"
(cd "$work" && npm install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null)
(cd "$work" && npm ls --depth=0 2>/dev/null | sed -n '2,$p')

out="$work/out"
# The npm packages use the deprecated Buffer() constructor; silence that.
NODE_OPTIONS=--no-deprecation node "$work/gen.js" "$out"

if [[ -n "${KEEP:-}" ]]; then
	mkdir -p "$KEEP"
	cp "$out"/*.json "$KEEP"/
	echo "generated files kept in $KEEP"
fi

# generated file -> repository copy
declare -A repo_copy=(
	[packages.json]=codec/testdata/packages.json
	[message.json]=codec/testdata/message.json
	[protobuf.json]=codec/pomelopb/testdata/protobuf.json
	[dict.json]=dict/testdata/dict.json
	[router.json]=rpc/testdata/router.json
	[dict_edge.json]=dict/testdata/dict_edge.json
	[router_edge.json]=rpc/testdata/router_edge.json
)

status=0
compared=0
compare() { # generated reference label
	compared=$((compared + 1))
	node "$work/compare.js" "$1" "$2" "$3" || status=1
}

for f in packages.json message.json protobuf.json dict.json router.json dict_edge.json router_edge.json; do
	gen="$out/$f"
	if [[ ! -f "$gen" ]]; then
		echo "FAIL  gen.js did not write $f"
		status=1
		continue
	fi
	dst="${repo_copy[$f]}"
	if [[ -f "$repo/$dst" ]]; then
		compare "$gen" "$repo/$dst" "$dst"
	else
		echo "skip  $dst (not in the repository)"
	fi
	# The *_edge files are ours; the shared set has only the five others.
	if [[ -d "$shared" && "$f" != *_edge.json ]]; then
		if [[ -f "$shared/$f" ]]; then
			compare "$gen" "$shared/$f" "$shared/$f"
		else
			echo "skip  $shared/$f (absent)"
		fi
	fi
done

if [[ $compared -eq 0 ]]; then
	echo "FAIL  nothing to compare"
	exit 1
fi
if [[ $status -ne 0 ]]; then
	echo "check: generated vectors differ from the copies above"
else
	echo "check: $compared comparisons, all equal"
fi
exit $status
