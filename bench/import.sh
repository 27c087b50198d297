#!/usr/bin/env bash
# Times `chibo import` of a province-scale bundle into an empty database, and checks the round trip.
# The bundle is the province demo (chibo demo --scale province: ≈3,500 cells, ≈70,000 members, 2020 to now,
# per-member attendance), exported with `chibo export`.
#
# Usage: ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres bench/import.sh
#   Makes the databases chibo_bench_source and chibo_bench_import (dropped first). Never run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
admin="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
server="${admin%/*}"
bundle="${BENCH_BUNDLE:-/tmp/chibo-province-bundle}"
cargo build --release --quiet
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); $(psql "$admin" -Atc 'select version()' | cut -d, -f1)"
if [ -z "${BENCH_SKIP_SOURCE:-}" ]; then
  psql "$admin" -qc "drop database if exists chibo_bench_source" -c "create database chibo_bench_source"
  DATABASE_URL="$server/chibo_bench_source" target/release/chibo migrate
  DATABASE_URL="$server/chibo_bench_source" target/release/chibo demo --scale province | head -3
  rm -rf "$bundle"
  DATABASE_URL="$server/chibo_bench_source" target/release/chibo export "$bundle"
fi
echo "== bundle: $(du -sh "$bundle" | cut -f1); rows: $(cat "$bundle"/*.csv | wc -l) lines in $(ls "$bundle" | wc -l) files"
psql "$admin" -qc "drop database if exists chibo_bench_import" -c "create database chibo_bench_import"
DATABASE_URL="$server/chibo_bench_import" target/release/chibo migrate
echo "== command: /usr/bin/time -v target/release/chibo import $bundle"
DATABASE_URL="$server/chibo_bench_import" /usr/bin/time -f "== wall %e s, peak RSS %M kB" target/release/chibo import "$bundle" --lang en
echo "== the same bundle again (changes nothing):"
DATABASE_URL="$server/chibo_bench_import" /usr/bin/time -f "== wall %e s, peak RSS %M kB" target/release/chibo import "$bundle" --lang en | tail -1
rm -rf "$bundle.again"
DATABASE_URL="$server/chibo_bench_import" target/release/chibo export "$bundle.again" >/dev/null
diff -r "$bundle" "$bundle.again" && echo "== round trip: export → import → export gives identical files"
