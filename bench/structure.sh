#!/usr/bin/env bash
# Times structure edits (issue 19 item 1): each made as the record pages make it, a one-file bundle through
# `chibo import` (checks, merge, the stores kept, commit), and the same change as one SQL statement in psql (the
# statement plus its triggers and commit). The floor of the import path is measured in the same run: the rename's
# bundle imported a second time, which reads and checks it, finds nothing to change and writes nothing.
#
# Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/chibo_x_copy [CHIBO=target/release/chibo] bench/structure.sh
#   It EDITS the database it is given (renames a commune, adds and closes a cell, moves a commune and moves it
#   back): give it a copy. The commune is the one whose number of cells today is closest to 80.
set -euo pipefail
cd "$(dirname "$0")/.."
db="${DATABASE_URL:?DATABASE_URL: a copy of the database to edit}"
chibo="${CHIBO:-target/release/chibo}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
q() { psql "$db" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

echo "== machine: $(nproc) cores, $(uptime | sed 's/.*load average/load average/'); shared with other builds: noisy"
est() { q "select to_char(reltuples, 'FM999,999,999,999') from pg_class where relname = '$1'"; }
echo "== data: $(q "select count(*) from units where kind = 'cell'") cells; about $(est meetings) meetings, $(est cell_places) places, $(est unit_month_rollup) monthly rollup rows (planner estimates)"
month="$(q "select to_char(date_trunc('month', current_date), 'YYYY-MM-DD')")"
year_start="$(q "select to_char(date_trunc('year', current_date), 'YYYY-MM-DD')")"
# the commune (parent of cells) with about 80 cells on the move's date, its parent that day, and another open unit
# of that parent's kind to move it under: from the first of this year if there is one, else from 1 January 2024
# (the province demo has a single province since the 2025 restructure, but districts before it)
for on in "$year_start" 2024-01-01; do
  read -r commune cells parent target < <(q "
      select u.code, x.n, p.code, (select t.code from units t where t.kind = p.kind and t.id <> p.id
                                     and is_open(t.valid_from, t.valid_to, date '$on') order by t.code limit 1)
      from (select ancestors[array_length(ancestors, 1) - 1] as commune,
                   ancestors[array_length(ancestors, 1) - 2] as parent, count(*) as n
            from cell_places where period = 'month' and starts_on = date_trunc('month', date '$on')
              and array_length(ancestors, 1) >= 3
            group by 1, 2) x
      join units u on u.id = x.commune join units p on p.id = x.parent
      where exists (select 1 from units t where t.kind = p.kind and t.id <> p.id and is_open(t.valid_from, t.valid_to, date '$on'))
      order by abs(x.n - 80), u.code limit 1" | tr '|' ' ') || true
  [ -n "${target:-}" ] && break
done
move_on="$on"
echo "== commune $commune: $cells cells on $move_on, under $parent; moved under $target from $move_on"

# one edit through the import: a directory holding the one file
import() {
  local what="$1" file="$2" text="$3"
  rm -rf "$work/b" && mkdir "$work/b" && printf '%s' "$text" >"$work/b/$file"
  local t0 t1
  t0=$(date +%s.%N)
  DATABASE_URL="$db" "$chibo" import "$work/b" --lang en >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }
  t1=$(date +%s.%N)
  last=$(echo "$t1 - $t0" | bc)
  local ratio=""
  [ -n "${floor:-}" ] && ratio="$(printf '%.1f× the floor' "$(echo "$last / $floor" | bc -l)")"
  printf '%-44s %9.3f s  %-16s (%s)\n' "$what" "$last" "$ratio" "$(tail -1 "$work/out")"
}
# one statement in psql, its commit included
sql() {
  local what="$1" statement="$2"
  local ms
  ms=$(psql "$db" -Xq -v ON_ERROR_STOP=1 -c '\timing on' -c "$statement" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
  printf '%-44s %9.3f s   (%s)\n' "$what" "$(echo "$ms / 1000" | bc -l)" "$statement"
}
unit_csv() { # code, name, valid_to → units.csv text of the unit as it stands, with that name and closing date
  q "select 'code,kind,name,parent_code,valid_from,valid_to,cell_type' || chr(10) || concat_ws(',', u.code, u.kind,
            '$2', coalesce(p.code, ''), u.valid_from, coalesce(nullif('$3', ''), u.valid_to::text, ''),
            coalesce(u.cell_type, '')) || chr(10)
     from units u left join units p on p.id = u.parent_id where u.code = '$1'"
}

echo "== commands: DATABASE_URL=… $chibo import <dir with one file> --lang en;  psql -c '\\timing on' -c <statement>"
name="$(q "select name from units where code = '$commune'")"
rename="$(unit_csv "$commune" "$name (đổi tên)" "")"
import "rename a commune (import)" units.csv "$rename"
import "the same bundle again: floor (import)" units.csv "$rename"
floor="$last"
new="BENCH-$(date +%s)"
import "new cell (import)" units.csv "code,kind,name,parent_code,valid_from,valid_to,cell_type
$new,cell,Chi bộ đo thử,$commune,$year_start,,village
"
import "move a commune, $cells cells (import)" moves.csv "code,parent_code,effective_on
$commune,$target,$move_on
"
import "close the new cell (import)" units.csv "$(unit_csv "$new" "Chi bộ đo thử" "$(q "select (date_trunc('month', current_date) + interval '1 month - 1 day')::date")")"
sql "rename a commune (SQL)" "update units set name = name || '.' where code = '$commune'"
sql "move the commune back (SQL)" "delete from unit_moves where unit_id = (select id from units where code = '$commune') and effective_on = date '$move_on'"
sql "move a commune again (SQL)" "insert into unit_moves (unit_id, parent_id, effective_on) select u.id, t.id, date '$move_on' from units u, units t where u.code = '$commune' and t.code = '$target'"
sql "new cell (SQL)" "insert into units (code, kind, name, parent_id, valid_from, cell_type) select '$new-SQL', 'cell', 'Chi bộ đo thử', id, date '$year_start', 'village' from units where code = '$commune'"
sql "close it (SQL)" "update units set valid_to = (date_trunc('month', current_date) + interval '1 month - 1 day')::date where code = '$new-SQL'"
echo "== floor: the import of a bundle that changes nothing, ${floor} s wall (process start, migrate check, read, checks)"
# the monthly rollup rows of the commune's old and new parents, recomputed from the places and cell sums as
# refresh_rollups() does, against the rows the edits left (a full rebuild to compare with takes 26 min nationally)
echo "== check: monthly rollup rows of $parent and $target differing from a recomputation (want 0): $(q "
    with units_ as (select id from units where code in ('$parent', '$target')),
    expected as (
        select l.unit_id, l.child_id, p.starts_on as month, count(*)::int as open_cells,
               count(*) filter (where s.regular_meetings > 0)::int as regular_cells,
               coalesce(sum(s.present), 0)::bigint as present, count(st.cell_id)::int as secretaries,
               coalesce(sum(st.trained), 0)::int as trained
        from cell_places p left join cell_month_stats s on s.cell_id = p.cell_id and s.month = p.starts_on
        left join cell_secretary_status st on st.cell_id = p.cell_id and st.month = p.starts_on
        cross join lateral chain_links(p.ancestors) l
        where p.period = 'month' and p.ancestors && (select array_agg(id) from units_)
          and l.unit_id in (select id from units_)
        group by 1, 2, 3),
    kept as (select unit_id, child_id, month, open_cells, regular_cells, present, secretaries, trained
             from unit_month_rollup where unit_id in (select id from units_))
    select count(*) || ' of ' || (select count(*) from kept)
    from ((select * from expected except all select * from kept) union all (select * from kept except all select * from expected)) d")"
