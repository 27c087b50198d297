#!/usr/bin/env bash
# The month-end load test: SECRETARIES secretaries log this month's meeting (sign in, cell page, form, save, list),
# 16 at a time, while VIEWERS committee viewers open the province's and the districts' dashboards, against a release
# server on loopback. Bounded by SECONDS and by the number of secretaries; stops by itself.
#
# Usage: DATABASE_URL=... bench/monthend.sh [SECRETARIES] [VIEWERS] [SECONDS]
#   The database must hold the province demo (chibo demo --scale province); the run changes it (bench accounts,
#   this month's meetings of the chosen cells). Never run in CI.
#   BENCH_BINARY=path: serve with that build of chibo (e.g. an older commit's, to compare in one session); the
#   driver is always this tree's. BENCH_NO_BUILD=1: use the builds already in target/release.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a database with the province demo}"
port="${BENCH_PORT:-3191}"
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release --quiet --bin chibo --example monthend
bin="${BENCH_BINARY:-target/release/chibo}"
"$bin" migrate
"$bin" serve --port "$port" >/tmp/chibo-monthend.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
target/release/examples/monthend "http://127.0.0.1:$port" "$DATABASE_URL" "${1:-300}" "${2:-4}" "${3:-180}"
echo "== server peak resident memory: $(awk '/VmHWM/ {print $2, $3}' /proc/$server/status)"
echo "== server errors logged: $(grep -c ' ERROR ' /tmp/chibo-monthend.log || true)"
