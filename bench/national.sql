-- National-scale data for the dashboard benchmark (bench/national.sh): one year (2025) of a country of
-- 34 provinces, 3,321 commune committees, 280,000 cells and 5.6 million members. Meetings are stored as the four
-- counts (the dashboards read the same sums either way), with ratings, thematic meetings, secretaries and their
-- trainings, cell and member classifications, Regulation 18 assignments and guests.
--
-- DOMAIN.md has no unit kind above a province: the country's root is a unit of kind 'province' named so.
-- Loaded with triggers off (session_replication_role = replica, superuser only); the metric stores are then
-- built whole by rebuild_metric_stores(), as a bulk import would.
\set ON_ERROR_STOP on
\timing on
set session_replication_role = replica;
set synchronous_commit = off;

begin;
insert into units (id, code, kind, name, parent_id, valid_from)
values (1, 'VN', 'province', 'Toàn quốc (dữ liệu đo)', null, '1930-02-03');

-- 34 provinces, ids 2..35
insert into units (id, code, kind, name, parent_id, valid_from)
select 1 + p, 'P' || lpad(p::text, 2, '0'), 'province', 'Đảng bộ tỉnh ' || p, 1, '2025-01-01'
from generate_series(1, 34) p;

-- 3,321 commune committees, ids 1001.., spread over the provinces
insert into units (id, code, kind, name, parent_id, valid_from)
select 1000 + c, 'P' || lpad((1 + (c - 1) % 34)::text, 2, '0') || '-X' || lpad(c::text, 4, '0'), 'committee',
       'Đảng bộ xã ' || c, 2 + (c - 1) % 34, '2025-01-01'
from generate_series(1, 3321) c;

-- 280,000 cells, ids 100001.., about 84 per commune
insert into units (id, code, kind, name, parent_id, valid_from, cell_type)
select 100000 + n, 'C' || lpad(n::text, 6, '0'), 'cell', 'Chi bộ ' || n, 1001 + (n - 1) % 3321, '2025-01-01',
       (array['village', 'village', 'village', 'residential', 'agency', 'school', 'enterprise'])[1 + n % 7]
from generate_series(1, 280000) n;
commit;

-- 5.6 million members, 20 per cell, ids 1..; member k of cell n has id (n - 1) * 20 + k
begin;
insert into members (id, code, full_name, search_name, gender, birth_date, ethnicity, joined_on, official_on, cell_id)
select i, 'M' || i, 'Đảng viên ' || i, 'dang vien ' || i, case when i % 2 = 0 then 'male' else 'female' end,
       date '1960-01-01' + (i % 12000), 'Kinh', date '1995-01-01' + (i % 9000), date '1996-01-01' + (i % 9000),
       100001 + (i - 1) / 20
from generate_series(1, 5600000) i;
commit;

-- the first member of each cell is its secretary; nine in ten are trained
begin;
insert into positions (cell_id, member_id, position, valid_from)
select 100000 + n, (n - 1) * 20 + 1, 'secretary', '2025-01-01' from generate_series(1, 280000) n;
insert into trainings (member_id, trained_on, course)
select (n - 1) * 20 + 1, '2024-05-01', 'Bồi dưỡng nghiệp vụ' from generate_series(1, 280000) n where n % 10 <> 0;
commit;

-- one regular meeting a month per cell (20 expected, a few away), a thematic one a quarter
begin;
insert into meetings (cell_id, held_on, kind, topic, rating, present, excused, unexcused, exempt)
select 100000 + n, make_date(2025, m, 5 + n % 20), 'regular', 'Sinh hoạt thường kỳ',
       (array['good', 'good', 'good', 'good', 'fair', 'fair', 'average', 'weak'])[1 + (n + m) % 8],
       18 + (n + m) % 3, 1 - ((n + m) % 3) / 2, 1 - ((n + m) % 2), ((n + m) % 3) / 2
from generate_series(1, 280000) n, generate_series(1, 12) m;
insert into meetings (cell_id, held_on, kind, topic, present, excused, unexcused, exempt)
select 100000 + n, make_date(2025, 3 * q, 20), 'thematic', 'Sinh hoạt chuyên đề', 19, 1, 0, 0
from generate_series(1, 280000) n, generate_series(1, 4) q
where (n + q) % 5 <> 0;
commit;

-- classifications for 2025
begin;
insert into cell_classifications (cell_id, year, level)
select 100000 + n, 2025, (array['excellent', 'good', 'good', 'good', 'complete', 'fail'])[1 + n % 6]
from generate_series(1, 280000) n;
insert into member_classifications (member_id, year, level)
select i, 2025, (array['excellent', 'good', 'good', 'good', 'good', 'complete', 'complete', 'fail'])[1 + i % 8]
from generate_series(1, 5600000) i;
commit;

-- Regulation 18: a grassroots committee member of each commune assigned to each of its cells (4 a year), seen at
-- three of them
begin;
insert into officials (id, code, full_name, "group", unit_id)
select c, 'O' || c, 'Cán bộ ' || c, 'grassroots_committee', 1000 + c from generate_series(1, 3321) c;
insert into reg18_assignments (official_id, cell_id, year, required)
select 1 + (n - 1) % 3321, 100000 + n, 2025, 4 from generate_series(1, 280000) n;
insert into meeting_guests (meeting_id, official_id)
select m.id, 1 + (m.cell_id - 100001) % 3321
from meetings m
where m.kind = 'regular' and extract(month from m.held_on) in (2, 6, 10);
commit;

-- identities continue after the ids given here
select setval(pg_get_serial_sequence('units', 'id'), (select max(id) from units));
select setval(pg_get_serial_sequence('members', 'id'), (select max(id) from members));
select setval(pg_get_serial_sequence('officials', 'id'), (select max(id) from officials));

set session_replication_role = origin;
begin;
select rebuild_metric_stores();
commit;
vacuum analyze;
