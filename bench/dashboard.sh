#!/usr/bin/env bash
# Measures the province dashboard under concurrent load against /healthz in the same run, on loopback only,
# bounded in time: p50/p95/p99 latency, requests/s, their ratio, and the server's peak resident memory.
#
# Usage: DATABASE_URL=... bench/dashboard.sh [UNIT] [FROM] [TO]
#   BENCH_UNCACHED=1: also the uncached path (every request another period and sort: bench/uncached.lua).
#   BENCH_BINARY=path: measure that build of chibo (e.g. an older commit's) instead of building this one.
#   BENCH_WRITES=20: measure while writes arrive: an administrator saves a meeting BENCH_WRITES times a second
#     (bench/monthend.rs's writer: this month's regular meeting of one cell after another, cells spread over the
#     root's children) through the whole run, /healthz included, so that every page kept in memory keeps being
#     emptied as at a month's end. The run changes the database (this month's meetings of those cells).
#   The database must hold the province demo (chibo demo --scale province). Needs wrk (apt-get install wrk).
#   Never run in CI: it is a measurement, not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
unit="${1:-TQ}"; from="${2:-2020-01}"; to="${3:-2025-12}"
port="${BENCH_PORT:-3190}"; duration="${BENCH_SECONDS:-20}"; conns="${BENCH_CONNECTIONS:-8}"
: "${DATABASE_URL:?set DATABASE_URL to a database with the province demo}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

bin="${BENCH_BINARY:-target/release/chibo}"
[ -n "${BENCH_BINARY:-}" ] || cargo build --release --quiet
# migrate first (a migration over a large database can take minutes), then serve
"$bin" migrate
"$bin" serve --port "$port" >/tmp/chibo-bench.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

user="${BENCH_USER:-bantochuc}"; password="${BENCH_PASSWORD:-chibo-2026}"
cookie=$(curl -s -D - -o /dev/null -d "username=$user&password=$password" "http://127.0.0.1:$port/login" \
  | awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}')
[ -n "$cookie" ] || { echo "could not sign in as $user" >&2; exit 1; }
url="http://127.0.0.1:$port/dashboard/$unit?from=$from&to=$to"
curl -sf -H "Cookie: $cookie" "$url" -o /dev/null || { echo "the dashboard did not answer 200" >&2; exit 1; }

if [ -n "${BENCH_WRITES:-}" ]; then
  [ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release --quiet --bin chibo --example monthend
  runs=$(( ${BENCH_UNCACHED:+1} + 3 ))
  target/release/examples/monthend writer "http://127.0.0.1:$port" "$DATABASE_URL" "$BENCH_WRITES" \
    $(( runs * duration + 10 )) >/tmp/chibo-bench-writer.txt 2>&1 &
  writer=$!
  trap 'kill $writer 2>/dev/null || true; kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
  # the writer's setup (choosing cells, signing in) before the measured runs
  for _ in $(seq 1 600); do grep -q writing /tmp/chibo-bench-writer.txt 2>/dev/null && break; sleep 0.1; done
  echo "== while writing: $BENCH_WRITES saves/s by bench/monthend.rs's writer through every run below"
fi
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
echo "== command: wrk -t2 -c$conns -d${duration}s --timeout 30s -s bench/percentiles.lua"
echo "== /healthz"
wrk -t2 -c"$conns" -d"${duration}s" --timeout 30s -s bench/percentiles.lua "http://127.0.0.1:$port/healthz" | tee /tmp/chibo-bench-health.txt
echo "== $url"
wrk -t2 -c"$conns" -d"${duration}s" --timeout 30s -s bench/percentiles.lua -H "Cookie: $cookie" "$url" | tee /tmp/chibo-bench-dash.txt
echo "== the same, compressed as a browser asks for it (Accept-Encoding: gzip)"
wrk -t2 -c"$conns" -d"${duration}s" --timeout 30s -s bench/percentiles.lua -H "Cookie: $cookie" -H "Accept-Encoding: gzip" "$url" | tee /tmp/chibo-bench-dash-gzip.txt
if [ -n "${BENCH_UNCACHED:-}" ]; then
  echo "== uncached: $url with another period and sort each request (bench/uncached.lua)"
  cat bench/uncached.lua bench/percentiles.lua > /tmp/chibo-bench-uncached.lua
  BENCH_PATH="/dashboard/$unit" wrk -t2 -c"$conns" -d"${duration}s" --timeout 30s -s /tmp/chibo-bench-uncached.lua \
    -H "Cookie: $cookie" "http://127.0.0.1:$port" | tee /tmp/chibo-bench-uncached.txt
fi
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
echo "== dashboard/healthz requests/s ratio: $(echo "$(rps /tmp/chibo-bench-dash.txt) / $(rps /tmp/chibo-bench-health.txt)" | bc -l | cut -c1-6)"
echo "== compressed dashboard/healthz requests/s ratio: $(echo "$(rps /tmp/chibo-bench-dash-gzip.txt) / $(rps /tmp/chibo-bench-health.txt)" | bc -l | cut -c1-6)"
[ -z "${BENCH_UNCACHED:-}" ] || echo "== uncached dashboard/healthz requests/s ratio: $(echo "$(rps /tmp/chibo-bench-uncached.txt) / $(rps /tmp/chibo-bench-health.txt)" | bc -l | cut -c1-6)"
echo "== server peak resident memory: $(awk '/VmHWM/ {print $2, $3}' /proc/$server/status)"
if [ -n "${BENCH_WRITES:-}" ]; then
  wait $writer || true
  echo "== the writer, over the same time:"
  cat /tmp/chibo-bench-writer.txt
fi
