#!/usr/bin/env bash
# The MCP conformance suite (@modelcontextprotocol/conformance, pinned in package.json) against the
# built server: two simulated Piston nodes and `pistom serve --http` on free loopback ports, then
#   conformance server --requirements 2026-07-28           (stateless era)
#   conformance server --suite active --spec-version 2025-11-25   (initialize era)
# each with its expected-failures file (fixtures a code-execution server does not have).
# Needs `npm run build` first. Exits non-zero on any unexpected failure or stale entry.
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # file pattern
  for _ in $(seq 1 100); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

node dist/cli.js sim --count 2 --json >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
wait_for "$work/sim.out" '"nodes"' || exit 1
backends=$(node -e 'const n=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).nodes; console.log(n.map(x=>"--backend "+x.url).join(" "))' "$work/sim.out")

# shellcheck disable=SC2086
node dist/cli.js serve --http 127.0.0.1:0 $backends --log-level warn 2>"$work/pistom.err" &
pids+=($!)
wait_for "$work/pistom.err" 'pistom listening on' || exit 1
url=$(grep -o 'http://[^ ]*/mcp' "$work/pistom.err" | head -1)
echo "pistom under test: $url"

status=0
run() { # label, args...
  local label=$1
  shift
  echo
  echo "== conformance: $label"
  (cd "$work" && conformance server --url "$url" "$@") >"$work/$label.log" 2>&1
  local code=$?
  sed -n '/=== SUMMARY ===/,$p' "$work/$label.log"
  grep -E '^(Expected|Unexpected|Stale|All )|baseline' "$work/$label.log" | tail -20
  if [ "$code" -ne 0 ]; then
    echo "conformance ($label) exited $code; full log:"
    cat "$work/$label.log"
    status=1
  fi
}

run 2026-07-28 --requirements 2026-07-28 --expected-failures "$PWD/test/conformance/expected-failures-2026-07-28.yml"
run 2025-11-25 --suite active --spec-version 2025-11-25 --expected-failures "$PWD/test/conformance/expected-failures-2025-11-25.yml"
exit $status
