-- What storing each meeting's rubric version costs a bulk write (migration 0017), per 500,000 rows, against its
-- floor (the same insert into a table with no trigger) in the same run.
-- Run: psql -h 127.0.0.1 -U postgres -d <a migrated database> -f bench/rubric_version_trigger.sql
-- The table is temporary and rubric_versions is only read: nothing of the database is changed.
\timing on
\echo 'floor: 500,000 rows, no trigger'
create temp table bench_meetings (held_on date, rubric_version_id bigint);
insert into bench_meetings (held_on)
select d from generate_series('2020-01-01'::date, '2026-11-30', '1 day') g(d), generate_series(1, 200) k;
truncate bench_meetings;
create trigger bench_rubric before insert on bench_meetings
    for each row when (new.rubric_version_id is null) execute function meetings_rubric_version();
\echo 'the web and CLI path: the trigger looks the version up for every row'
insert into bench_meetings (held_on)
select d from generate_series('2020-01-01'::date, '2026-11-30', '1 day') g(d), generate_series(1, 200) k;
truncate bench_meetings;
\echo 'the bulk path (import merge, demo COPY): the version given, set-based; the WHEN condition skips the call'
insert into bench_meetings (held_on, rubric_version_id)
select d, coalesce(v.id, (select id from rubric_versions order by valid_from limit 1))
from generate_series('2020-01-01'::date, '2026-11-30', '1 day') g(d), generate_series(1, 200) k
left join lateral (select id from rubric_versions r where r.valid_from <= d::date
                   order by r.valid_from desc limit 1) v on true;
drop table bench_meetings;
