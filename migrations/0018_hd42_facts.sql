-- The HD 42 facts of a meeting (DOMAIN.md §11) and the metrics that read them, in the one engine.
-- A meeting records when the notice reached the members (`notice_on`), the cell committee's preparatory meeting
-- (`prepared_on`), when the materials were posted (`materials_on`) and whether the regular meeting also held the
-- quarter's thematic part (`combined_thematic`); each present member whether they attended in person or online.
-- Warnings about them are the application's (domain::rubric::warnings): nothing here refuses a meeting for them.
--
-- The metrics: `duration_compliance` (regular meetings with both times lasting at least their version's minimum,
-- of the regular meetings with both times) and `online_share` (present members attending online, of the present
-- members of regular meetings with per-member rows) are four more sums per cell-month, summed by the same delta
-- triggers into unit_month_rollup; `thematic_coverage` counts a regular meeting with `combined_thematic` as a
-- thematic one. The three functions below are 0013's with these sums added, nothing else changed.

alter table meetings
    add column notice_on         date,
    add column prepared_on       date,
    add column materials_on      date,
    add column combined_thematic boolean not null default false;
alter table meetings add constraint meetings_combined_is_regular check (not combined_thematic or kind = 'regular');

-- `mode` is read only for present members (an absence has no mode); in person unless said otherwise.
alter table attendance add column mode text not null default 'in_person' check (mode in ('in_person', 'online'));

alter table programme_targets drop constraint programme_targets_metric_check;
alter table programme_targets add constraint programme_targets_metric_check check (metric in (
    'attendance_rate', 'good_meeting_share', 'meeting_regularity', 'thematic_coverage', 'cells_good_or_better',
    'members_good_or_better', 'secretaries_trained', 'reg18_participation', 'reporting_completeness',
    'reporting_timeliness', 'reports_approved', 'duration_compliance', 'online_share'));

alter table cell_month_stats
    add column timed_meetings integer not null default 0,
    add column long_meetings  integer not null default 0,
    add column online         bigint not null default 0,
    add column present_listed bigint not null default 0;

alter table unit_month_rollup
    add column timed_meetings integer not null default 0,
    add column long_meetings  integer not null default 0,
    add column online         bigint not null default 0,
    add column present_listed bigint not null default 0;

create or replace function refresh_cell_month_stats(pairs_cell bigint[], pairs_month date[]) returns void
language plpgsql as $$
declare ids bigint[];
begin
    execute $q$
        delete from cell_month_stats s using unnest($1, $2) as p(cell_id, month)
        where s.cell_id = p.cell_id and s.month = p.month
    $q$ using pairs_cell, pairs_month;
    execute $q$
        select array_agg(m.id)
        from (select distinct cell_id, month from unnest($1, $2) as p(cell_id, month)) p
        join meetings m on m.cell_id = p.cell_id and m.held_on >= p.month and m.held_on < (p.month + interval '1 month')
    $q$ into ids using pairs_cell, pairs_month;
    execute $q$
        insert into cell_month_stats (cell_id, month, regular_meetings, present, excused, unexcused, rated, good, fair,
                                      average, weak, thematic_meetings, submitted, on_time, approved, timed_meetings,
                                      long_meetings, online, present_listed)
        select coalesce(s.cell_id, r.cell_id), coalesce(s.month, r.month), coalesce(s.regular_meetings, 0),
               coalesce(s.present, 0), coalesce(s.excused, 0), coalesce(s.unexcused, 0), coalesce(s.rated, 0),
               coalesce(s.good, 0), coalesce(s.fair, 0), coalesce(s.average, 0), coalesce(s.weak, 0),
               coalesce(s.thematic_meetings, 0), coalesce(r.submitted, 0), coalesce(r.on_time, 0),
               coalesce(r.approved, 0), coalesce(s.timed_meetings, 0), coalesce(s.long_meetings, 0),
               coalesce(s.online, 0), coalesce(s.present_listed, 0)
        from (
            select m.cell_id, date_trunc('month', m.held_on)::date as month,
                   count(*) filter (where m.kind = 'regular')::int as regular_meetings,
                   coalesce(sum(case when m.kind = 'regular' then coalesce(m.present, a.present, 0) end), 0) as present,
                   coalesce(sum(case when m.kind = 'regular' then coalesce(m.excused, a.excused, 0) end), 0) as excused,
                   coalesce(sum(case when m.kind = 'regular' then coalesce(m.unexcused, a.unexcused, 0) end), 0)
                       as unexcused,
                   count(*) filter (where m.kind = 'regular' and m.rating is not null)::int as rated,
                   count(*) filter (where m.kind = 'regular' and m.rating = 'good')::int as good,
                   count(*) filter (where m.kind = 'regular' and m.rating = 'fair')::int as fair,
                   count(*) filter (where m.kind = 'regular' and m.rating = 'average')::int as average,
                   count(*) filter (where m.kind = 'regular' and m.rating = 'weak')::int as weak,
                   -- a regular meeting that also held the thematic part covers its quarter as a thematic one (§11)
                   count(*) filter (where m.kind = 'thematic' or (m.kind = 'regular' and m.combined_thematic))::int
                       as thematic_meetings,
                   count(*) filter (where m.kind = 'regular' and m.started_at is not null
                                    and m.ended_at is not null)::int as timed_meetings,
                   count(*) filter (where m.kind = 'regular' and m.started_at is not null and m.ended_at is not null
                                    and extract(epoch from m.ended_at - m.started_at) / 60
                                        >= case when m.combined_thematic then v.min_minutes_combined
                                                else v.min_minutes end)::int as long_meetings,
                   coalesce(sum(case when m.kind = 'regular' and m.present is null then a.online end), 0) as online,
                   coalesce(sum(case when m.kind = 'regular' and m.present is null then a.present end), 0)
                       as present_listed
            from meetings m
            join rubric_versions v on v.id = m.rubric_version_id
            left join (
                select meeting_id,
                       count(*) filter (where status = 'present') as present,
                       count(*) filter (where status = 'excused') as excused,
                       count(*) filter (where status = 'unexcused') as unexcused,
                       count(*) filter (where status = 'present' and mode = 'online') as online
                from attendance where meeting_id = any($1) group by meeting_id) a on a.meeting_id = m.id
            where m.id = any($1)
            group by m.cell_id, date_trunc('month', m.held_on)) s
        full join (
            select r.cell_id, r.month, (r.state in ('submitted', 'approved'))::int as submitted,
                   coalesce(r.first_submitted_on <= report_deadline(r.month, $4), false)::int as on_time,
                   (r.state = 'approved')::int as approved
            from cell_reports r
            join (select distinct cell_id, month from unnest($2, $3) as p(cell_id, month)) p
              on p.cell_id = r.cell_id and p.month = r.month) r on r.cell_id = s.cell_id and r.month = s.month
    $q$ using ids, pairs_cell, pairs_month, report_deadline_day();
end $$;

create or replace function apply_cell_month_change(olds cell_month_stats[], news cell_month_stats[]) returns void
language plpgsql as $$
begin
    with d as (
        select 1 as sign, * from unnest(news)
        union all
        select -1, * from unnest(olds))
    insert into unit_month_rollup as r (unit_id, child_id, month, regular_cells, present, expected, rated, good,
                                        fair, average, weak, submitted, on_time, approved, timed_meetings,
                                        long_meetings, online, present_listed)
    select l.unit_id, l.child_id, d.month, sum(d.sign * (d.regular_meetings > 0)::int),
           sum(d.sign * d.present), sum(d.sign * (d.present + d.excused + d.unexcused)), sum(d.sign * d.rated),
           sum(d.sign * d.good), sum(d.sign * d.fair), sum(d.sign * d.average), sum(d.sign * d.weak),
           sum(d.sign * d.submitted), sum(d.sign * d.on_time), sum(d.sign * d.approved),
           sum(d.sign * d.timed_meetings), sum(d.sign * d.long_meetings), sum(d.sign * d.online),
           sum(d.sign * d.present_listed)
    from d join cell_places p on p.cell_id = d.cell_id and p.period = 'month' and p.starts_on = d.month
    cross join lateral chain_links(p.ancestors) l
    group by l.unit_id, d.month, l.child_id
    order by l.unit_id, d.month, l.child_id
    on conflict (unit_id, month, child_id) do update set
        regular_cells = r.regular_cells + excluded.regular_cells, present = r.present + excluded.present,
        expected = r.expected + excluded.expected, rated = r.rated + excluded.rated, good = r.good + excluded.good,
        fair = r.fair + excluded.fair, average = r.average + excluded.average, weak = r.weak + excluded.weak,
        submitted = r.submitted + excluded.submitted, on_time = r.on_time + excluded.on_time,
        approved = r.approved + excluded.approved, timed_meetings = r.timed_meetings + excluded.timed_meetings,
        long_meetings = r.long_meetings + excluded.long_meetings, online = r.online + excluded.online,
        present_listed = r.present_listed + excluded.present_listed;

    -- a quarter is covered when it has one thematic meeting or more: the flag changes only around zero
    with d as (
        select 1 as sign, * from unnest(news)
        union all
        select -1, * from unnest(olds)),
    q as (
        select cell_id, date_trunc('quarter', month)::date as quarter, sum(sign * thematic_meetings) as change
        from d group by 1, 2),
    flags as (
        select q.cell_id, q.quarter, (now_.n > 0)::int - ((now_.n - q.change) > 0)::int as delta
        from q cross join lateral (
            select coalesce(sum(s.thematic_meetings), 0) as n from cell_month_stats s
            where s.cell_id = q.cell_id and s.month >= q.quarter and s.month < q.quarter + interval '3 months') now_),
    placed as (
        select distinct on (f.cell_id, f.quarter) f.quarter, f.delta, p.ancestors
        from flags f join cell_places p on p.cell_id = f.cell_id and p.period = 'month'
             and p.starts_on >= f.quarter and p.starts_on < f.quarter + interval '3 months'
        where f.delta <> 0
        order by f.cell_id, f.quarter, p.starts_on)
    insert into unit_quarter_rollup as r (unit_id, child_id, quarter, thematic_cells)
    select l.unit_id, l.child_id, placed.quarter, sum(placed.delta)
    from placed cross join lateral chain_links(placed.ancestors) l
    group by l.unit_id, placed.quarter, l.child_id
    order by l.unit_id, placed.quarter, l.child_id
    on conflict (unit_id, quarter, child_id) do update set thematic_cells = r.thematic_cells + excluded.thematic_cells;
end $$;

create or replace function refresh_rollups() returns void language plpgsql as $$
begin
    truncate unit_month_rollup, unit_quarter_rollup, unit_year_rollup;
    insert into unit_month_rollup (unit_id, child_id, month, open_cells, regular_cells, present, expected, rated,
                                   good, fair, average, weak, secretaries, trained, submitted, on_time, approved,
                                   timed_meetings, long_meetings, online, present_listed)
    select l.unit_id, l.child_id, p.starts_on, count(*), count(*) filter (where s.regular_meetings > 0),
           coalesce(sum(s.present), 0), coalesce(sum(s.present + s.excused + s.unexcused), 0),
           coalesce(sum(s.rated), 0), coalesce(sum(s.good), 0), coalesce(sum(s.fair), 0),
           coalesce(sum(s.average), 0), coalesce(sum(s.weak), 0), count(st.cell_id), coalesce(sum(st.trained), 0),
           coalesce(sum(s.submitted), 0), coalesce(sum(s.on_time), 0), coalesce(sum(s.approved), 0),
           coalesce(sum(s.timed_meetings), 0), coalesce(sum(s.long_meetings), 0), coalesce(sum(s.online), 0),
           coalesce(sum(s.present_listed), 0)
    from cell_places p left join cell_month_stats s on s.cell_id = p.cell_id and s.month = p.starts_on
    left join cell_secretary_status st on st.cell_id = p.cell_id and st.month = p.starts_on
    cross join lateral chain_links(p.ancestors) l
    where p.period = 'month'
    group by 1, 3, 2;

    insert into unit_quarter_rollup (unit_id, child_id, quarter, open_cells, thematic_cells)
    select l.unit_id, l.child_id, q.quarter, count(*), count(*) filter (where t.n > 0)
    from (select distinct on (p.cell_id, date_trunc('quarter', p.starts_on))
                 p.cell_id, date_trunc('quarter', p.starts_on)::date as quarter, p.ancestors
          from cell_places p where p.period = 'month'
          order by p.cell_id, date_trunc('quarter', p.starts_on), p.starts_on) q
    left join (select cell_id, date_trunc('quarter', month)::date as quarter, sum(thematic_meetings) as n
               from cell_month_stats group by 1, 2) t on t.cell_id = q.cell_id and t.quarter = q.quarter
    cross join lateral chain_links(q.ancestors) l
    group by 1, 3, 2;

    insert into unit_year_rollup (unit_id, child_id, year, metric, num, den)
    select l.unit_id, l.child_id, s.year, s.metric, sum(s.num), sum(s.den)
    from cell_year_stats s
    join cell_places p on p.cell_id = s.cell_id and p.period = 'year' and p.starts_on = make_date(s.year, 1, 1)
    cross join lateral chain_links(p.ancestors) l
    group by 1, 3, 4, 2;
    analyze unit_month_rollup;
    analyze unit_quarter_rollup;
    analyze unit_year_rollup;
end $$;


-- the stores as these rules count them: every cell-month with a meeting again (the rollups follow by their deltas)
select refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
from (select distinct cell_id, date_trunc('month', held_on)::date as month from meetings) x
having count(*) > 0;
