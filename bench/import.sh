#!/usr/bin/env bash
# Times `chibo import` of a province-scale bundle into an empty database, and checks the round trip.
# The bundle is the province demo (chibo demo --scale province: ≈3,500 cells, ≈70,000 members, 2020 to now,
# per-member attendance), exported with `chibo export`.
#
# The floor, in the same run on the same server: a plain COPY of every CSV of the bundle into a table of text
# columns with an index on its first two columns (created before the COPY, as the import's tables have theirs),
# one transaction, through psql; the import's time is printed as a multiple of it.
#
# Usage: ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres bench/import.sh
#   Makes the databases ${BENCH_DB_PREFIX}_source, _import and _floor (dropped first; BENCH_DB_PREFIX defaults
#   to chibo_bench). BENCH_SOURCE_URL=…: export the bundle from that database (holding the province demo) instead
#   of loading a new demo; BENCH_SKIP_SOURCE=1: use the bundle already at BENCH_BUNDLE. BENCH_BINARY=path: import
#   with that build. BENCH_RUNS=n: floor and import n times (default 3), each run's ratio and their median.
#   Never run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
admin="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
server="${admin%/*}"
bundle="${BENCH_BUNDLE:-/tmp/chibo-province-bundle}"
prefix="${BENCH_DB_PREFIX:-chibo_bench}"
bin="${BENCH_BINARY:-target/release/chibo}"
[ -n "${BENCH_BINARY:-}" ] || cargo build --release --quiet
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); $(psql "$admin" -Atc 'select version()' | cut -d, -f1)"
if [ -n "${BENCH_SOURCE_URL:-}" ]; then
  rm -rf "$bundle"
  DATABASE_URL="$BENCH_SOURCE_URL" "$bin" export "$bundle"
elif [ -z "${BENCH_SKIP_SOURCE:-}" ]; then
  psql "$admin" -qc "drop database if exists ${prefix}_source" -c "create database ${prefix}_source"
  DATABASE_URL="$server/${prefix}_source" "$bin" migrate
  DATABASE_URL="$server/${prefix}_source" "$bin" demo --scale province | head -3
  rm -rf "$bundle"
  DATABASE_URL="$server/${prefix}_source" "$bin" export "$bundle"
fi
echo "== bundle: $(du -sh "$bundle" | cut -f1); rows: $(cat "$bundle"/*.csv | wc -l) lines in $(ls "$bundle" | wc -l) files"

# the floor: every file COPYed into text columns, an index on the first two
floor_sql=/tmp/chibo-import-floor.sql
{
  echo "begin;"
  for f in "$bundle"/*.csv; do
    t="f_$(basename "$f" .csv)"
    cols=$(head -1 "$f" | tr -d '\r"' | sed 's/[^,]*/"&"/g')
    echo "create table $t ($(echo "$cols" | sed 's/,/ text, /g') text);"
    echo "create index on $t ($(echo "$cols" | cut -d, -f1-2));"
    echo "\\copy $t from '$f' with (format csv, header true)"
  done
  echo "commit;"
} >"$floor_sql"
echo "== floor: psql -f $floor_sql (COPY of every file into text tables indexed on their first two columns)"
echo "== command: /usr/bin/time $bin import $bundle --lang en"
# Each run times the floor and the import one after the other, each from a fresh checkpoint: the server's
# max_wal_size (1 GB here) makes it checkpoint every ~500 MB of WAL, and a checkpoint that happens to start during
# one of them and not the other moved the import by up to 4 s between runs.
runs="${BENCH_RUNS:-3}"
ratios=()
for run in $(seq "$runs"); do
  psql "$admin" -qc "drop database if exists ${prefix}_floor" -c "create database ${prefix}_floor"
  psql "$admin" -qc "checkpoint"
  start=$(date +%s.%N)
  psql "$server/${prefix}_floor" -q -v ON_ERROR_STOP=1 -f "$floor_sql"
  floor=$(echo "$(date +%s.%N) - $start" | bc -l)
  psql "$admin" -qc "drop database if exists ${prefix}_import" -c "create database ${prefix}_import"
  DATABASE_URL="$server/${prefix}_import" "$bin" migrate >/dev/null
  psql "$admin" -qc "checkpoint"
  start=$(date +%s.%N)
  DATABASE_URL="$server/${prefix}_import" /usr/bin/time -f "== wall %e s, peak RSS %M kB" "$bin" import "$bundle" --lang en \
    2>&1 | grep -v "rows read"
  took=$(echo "$(date +%s.%N) - $start" | bc -l)
  ratio=$(echo "$took / $floor" | bc -l)
  ratios+=("$ratio")
  printf "== run %d: import %.1f s = %.2f × the floor (%.1f s), same run\n" "$run" "$took" "$ratio" "$floor"
done
median=$(printf "%s\n" "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf "== median of %d runs: %.2f × the floor\n" "$runs" "$median"
echo "== the same bundle again (changes nothing):"
DATABASE_URL="$server/${prefix}_import" /usr/bin/time -f "== wall %e s, peak RSS %M kB" "$bin" import "$bundle" --lang en | tail -1
rm -rf "$bundle.again"
DATABASE_URL="$server/${prefix}_import" "$bin" export "$bundle.again" >/dev/null
diff -r "$bundle" "$bundle.again" && echo "== round trip: export → import → export gives identical files"
