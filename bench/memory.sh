#!/usr/bin/env bash
# What the server's memory does under many distinct dashboards and many sign-ins, and whether it comes back:
# resident memory (VmRSS) and its high-water mark (VmHWM) before, at the peak and after, on loopback only, bounded
# in count. A measurement, not a test: never run in CI.
#
# Usage: DATABASE_URL=... bench/memory.sh
#   The database must hold a demo (chibo demo --scale small|province); if it holds no unit at all, the demo of
#   BENCH_SCALE (small) is loaded first. Sign-ins add rows to its sessions table.
#   BENCH_UNITS (40) units × 12 periods × BENCH_SORTS (9) sorts dashboards; BENCH_SIGNINS (1000) sign-ins, each
#   followed by one page; BENCH_CONCURRENCY (4) requests at a time. BENCH_BIN: a chibo binary to measure instead of
#   this tree's release build.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a database with a demo (or an empty one)}"
port="${BENCH_PORT:-3192}"; conc="${BENCH_CONCURRENCY:-4}"
n_units="${BENCH_UNITS:-40}"; n_sorts="${BENCH_SORTS:-9}"; n_signins="${BENCH_SIGNINS:-1000}"
user="${BENCH_USER:-bantochuc}"; password="${BENCH_PASSWORD:-chibo-2026}"
command -v psql >/dev/null || { echo "psql is missing: apt-get install postgresql-client" >&2; exit 1; }

# BENCH_BIN: another build of chibo to measure (an older commit's, to compare)
if [ -n "${BENCH_BIN:-}" ]; then bin=$BENCH_BIN; else cargo build --release --quiet --bin chibo; bin=target/release/chibo; fi
"$bin" migrate >/dev/null
if [ "$(psql "$DATABASE_URL" -tAc 'select count(*) from units')" = 0 ]; then
  echo "== empty database: loading the ${BENCH_SCALE:-small} demo"
  "$bin" demo --scale "${BENCH_SCALE:-small}" | tail -1
fi
echo "== demo: $(psql "$DATABASE_URL" -tAc "select count(*) || ' units, ' || count(*) filter (where kind = 'cell') || ' cells' from units"), $(psql "$DATABASE_URL" -tAc 'select count(*) from meetings') meetings"

# plain http on loopback
CHIBO_INSECURE_COOKIES=1 "$bin" serve --port "$port" >/tmp/chibo-memory.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"
mem() { awk '/^VmRSS|^VmHWM/ {printf "%s %.1f MB  ", $1, $2 / 1024}' "/proc/$server/status"; echo; }
sign_in() {
  curl -s -D - -o /dev/null -d "username=$user&password=$password" "$base/login" \
    | awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}'
}
cookie=$(sign_in)
[ -n "$cookie" ] || { echo "could not sign in as $user" >&2; exit 1; }
export cookie base user password

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); ${BENCH_BIN:-commit $(git rev-parse --short HEAD)}"
echo "== command: DATABASE_URL=… BENCH_UNITS=$n_units BENCH_SORTS=$n_sorts BENCH_SIGNINS=$n_signins BENCH_CONCURRENCY=$conc bench/memory.sh"
curl -s -o /dev/null -H "Cookie: $cookie" "$base/dashboard/TQ"
echo "== started, one dashboard asked:  $(mem)"

# units above the cells, the widest first; periods from one month to the whole demo and a very long one; sorts
units=$(psql "$DATABASE_URL" -tAc "select u.code from units u where u.kind <> 'cell'
  order by (select count(*) from units c where c.parent_id = u.id) desc, u.code limit $n_units")
periods="2026-01:2026-01 2025-01:2025-12 2024-01:2024-12 2023-01:2023-12 2022-01:2022-12 2021-01:2021-12 2020-01:2020-12
2020-01:2025-12 2020-01:2026-06 2025-07:2026-06 2023-04:2023-06 1990-01:2049-12"
sorts=$(printf '%s\n' "" attendance_rate:1 attendance_rate good_meeting_share:1 good_meeting_share meeting_regularity:1 \
  meeting_regularity thematic_coverage:1 thematic_coverage | head -n "$n_sorts")
urls=/tmp/chibo-memory-urls.txt
: >"$urls"
for u in $units; do
  for p in $periods; do
    while IFS= read -r s; do
      q="from=${p%%:*}&to=${p##*:}"
      if [ -n "$s" ]; then q="$q&sort=${s%%:*}"; [ "${s#*:}" = 1 ] && q="$q&desc=1"; fi
      echo "/dashboard/$u?$q" >>"$urls"
    done <<<"$sorts"
  done
done
started=$(date +%s)
summary=$(xargs -P "$conc" -I{} curl -s -o /dev/null -w '%{http_code} %{size_download}\n' -H "Cookie: $cookie" "$base{}" \
  <"$urls" | awk '{n[$1]++; b += $2; if ($2 > m) m = $2} END {for (c in n) printf "%s×%d ", c, n[c]; printf "; %.1f MB in all, largest page %.1f kB", b / 1048576, m / 1024}')
echo "== $(wc -l <"$urls") distinct dashboards in $(($(date +%s) - started)) s: $summary"
echo "== after the dashboards:          $(mem)"

started=$(date +%s)
# each sign-in makes a new session, and a page read with it keeps that session in memory
codes=$(seq 1 "$n_signins" | xargs -P "$conc" -I{} sh -c '
  c=$(curl -s -D - -o /dev/null -d "username=$user&password=$password" "$base/login" | awk -F"[ ;]" "tolower(\$1)==\"set-cookie:\" {print \$2}")
  curl -s -o /dev/null -w "%{http_code}\n" -H "Cookie: $c" "$base/dashboard/TQ"' | sort | uniq -c | awk '{printf "%s×%s ", $2, $1}')
echo "== $n_signins sign-ins, each with a page, in $(($(date +%s) - started)) s: $codes"
echo "== after the sign-ins (HWM: peak): $(mem)"
sleep 10
echo "== 10 s later, idle:              $(mem)"
echo "== server errors logged: $(grep -c ' ERROR ' /tmp/chibo-memory.log || true)"
