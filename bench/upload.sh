#!/usr/bin/env bash
# The web upload of a province-scale bundle: a zip of the export of the database itself, sent to /import as an
# administrator and followed on its progress page until done (every check runs; nothing changes). Prints the time
# to the answer, the time to the end, the steps as the page shows them, and the server's peak resident memory.
#
# Usage: DATABASE_URL=... bench/upload.sh
#   The database must hold the province demo (chibo demo --scale province). Never run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a database with the province demo}"
port="${BENCH_PORT:-3192}"; work="${BENCH_DIR:-/tmp/chibo-upload}"
cargo build --release --quiet
target/release/chibo migrate
rm -rf "$work"; mkdir -p "$work"
target/release/chibo export "$work/bundle" >/dev/null
(cd "$work/bundle" && zip -q -r "$work/bundle.zip" .)
target/release/chibo serve --port "$port" >/tmp/chibo-upload.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"
cookie=$(curl -s -D - -o /dev/null -d "username=${BENCH_USER:-admin}&password=${BENCH_PASSWORD:-chibo-2026}" "$base/login" \
  | awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}')
csrf=$(curl -s -H "Cookie: $cookie" "$base/import" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"//')
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
echo "== bundle: $(du -sh "$work/bundle" | cut -f1) in $(ls "$work/bundle" | wc -l) files, zipped $(du -h "$work/bundle.zip" | cut -f1)"
start=$(date +%s.%N)
job=$(curl -s -o /dev/null -w '%{redirect_url}' -H "Cookie: $cookie" -F "csrf=$csrf" -F "files=@$work/bundle.zip" "$base/import")
echo "== answered in $(echo "$(date +%s.%N) - $start" | bc | cut -c1-5) s: $job"
while curl -s -H "Cookie: $cookie" "$job" | grep -q 'Đang nhập'; do sleep 1; done
echo "== done in $(echo "$(date +%s.%N) - $start" | bc | cut -c1-6) s"
curl -s -H "Cookie: $cookie" "$job" | sed -n '/<h2>/p; /<ol class="steps">/,/<\/ol>/p; /<table class="results" id="changed">/,/<\/table>/p' \
  | sed 's/<[^>]*>/ /g; s/  */ /g' | grep -v '^ *$'
echo "== server peak resident memory: $(awk '/VmHWM/ {print $2, $3}' /proc/$server/status)"
