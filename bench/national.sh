#!/usr/bin/env bash
# Loads national-scale data (bench/national.sql: 280,000 cells, 5.6 million members, the year 2025) into a new
# database and drives the country-level and a province-level dashboard with bench/dashboard.sh.
#
# Usage: ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres bench/national.sh [DBNAME]
#   Needs a superuser (the load turns triggers off), wrk, about 6 GB of disk and 20-40 minutes on 2 cores.
#   Set BENCH_SKIP_LOAD=1 to benchmark a database loaded before. Never run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
admin="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
db="${1:-chibo_national}"
url="${admin%/*}/$db"
cargo build --release --quiet
if [ -z "${BENCH_SKIP_LOAD:-}" ]; then
  psql "$admin" -qc "drop database if exists $db" -c "create database $db"
  DATABASE_URL="$url" target/release/chibo migrate
  echo "== load: psql -f bench/national.sql"
  start=$(date +%s)
  psql "$url" -f bench/national.sql
  echo "== loaded in $(( $(date +%s) - start )) s; database size $(psql "$url" -Atc "select pg_size_pretty(pg_database_size(current_database()))")"
  CHIBO_PASSWORD=chibo-2026 DATABASE_URL="$url" target/release/chibo user add quocgia --name "Ban Tổ chức Trung ương" \
    --role province_viewer --unit VN
fi
export DATABASE_URL="$url" BENCH_USER=quocgia BENCH_PASSWORD=chibo-2026
bench/dashboard.sh VN 2025-01 2025-12
bench/dashboard.sh P01 2025-01 2025-12
