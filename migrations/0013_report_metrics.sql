-- The reporting metrics of DOMAIN.md §10 (reporting_completeness, reporting_timeliness, reports_approved) in the one
-- metric engine: per cell and month in cell_month_stats (submitted, on_time, approved: 0 or 1), summed by the delta
-- triggers into unit_month_rollup like every other monthly sum. The denominator is the cell-months open
-- (`open_cells`, from the places), counted by db::metrics::report only from `reporting_since` and up to the last
-- month whose deadline has passed on the day asked: neither is stored, so changing `reporting_since` or the day
-- passing changes no store. `on_time` depends on `report_deadline_day`: a change of it refreshes the cell-months
-- whose flag no longer agrees.

-- The rules of the cycle in SQL (their Rust form is domain::reports::Settings; a test holds the two to one answer).

-- `report_deadline_day` (1–28), 5 when not set.
create function report_deadline_day() returns integer language sql stable as $$
    select coalesce((select value::int from settings where key = 'report_deadline_day'), 5)
$$;

-- The first month reports are required for; null when none is.
create function reporting_since() returns date language sql stable as $$
    select to_date(value, 'YYYY-MM') from settings where key = 'reporting_since'
$$;

-- The last day a report for `month` is on time: day `deadline_day` of the next month.
create function report_deadline(month date, deadline_day integer) returns date language sql immutable as $$
    select (date_trunc('month', month::timestamp) + interval '1 month')::date + (deadline_day - 1)
$$;

-- The last month whose deadline has passed on `today`: last month once this month's deadline day is over, else
-- the month before it.
create function last_due_month(today date, deadline_day integer) returns date language sql immutable as $$
    select (date_trunc('month', (today - deadline_day)::timestamp) - interval '1 month')::date
$$;

-- Targets may be set for the new metrics too.
alter table programme_targets drop constraint programme_targets_metric_check;
alter table programme_targets add constraint programme_targets_metric_check check (metric in (
    'attendance_rate', 'good_meeting_share', 'meeting_regularity', 'thematic_coverage', 'cells_good_or_better',
    'members_good_or_better', 'secretaries_trained', 'reg18_participation', 'reporting_completeness',
    'reporting_timeliness', 'reports_approved'));

-- The stores ----------------------------------------------------------------------------------------------------

-- A cell-month has a row when it has a meeting or a report. `submitted`: the report is submitted or approved;
-- `on_time`: it was first submitted by its deadline (whatever it is now, DOMAIN.md §10); `approved`: approved.
alter table cell_month_stats
    add column submitted integer not null default 0,
    add column on_time   integer not null default 0,
    add column approved  integer not null default 0;

alter table unit_month_rollup
    add column submitted integer not null default 0,
    add column on_time   integer not null default 0,
    add column approved  integer not null default 0;

-- Recomputes the rows of the given (cell, month) pairs from the raw meetings, attendance and reports.
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
                                      average, weak, thematic_meetings, submitted, on_time, approved)
        select coalesce(s.cell_id, r.cell_id), coalesce(s.month, r.month), coalesce(s.regular_meetings, 0),
               coalesce(s.present, 0), coalesce(s.excused, 0), coalesce(s.unexcused, 0), coalesce(s.rated, 0),
               coalesce(s.good, 0), coalesce(s.fair, 0), coalesce(s.average, 0), coalesce(s.weak, 0),
               coalesce(s.thematic_meetings, 0), coalesce(r.submitted, 0), coalesce(r.on_time, 0),
               coalesce(r.approved, 0)
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
                   count(*) filter (where m.kind = 'thematic')::int as thematic_meetings
            from meetings m
            left join (
                select meeting_id,
                       count(*) filter (where status = 'present') as present,
                       count(*) filter (where status = 'excused') as excused,
                       count(*) filter (where status = 'unexcused') as unexcused
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

-- The statement's change to the cell-month rows, added to the month and quarter rollups (0004, with the reports).
create or replace function apply_cell_month_change(olds cell_month_stats[], news cell_month_stats[]) returns void
language plpgsql as $$
begin
    with d as (
        select 1 as sign, * from unnest(news)
        union all
        select -1, * from unnest(olds))
    insert into unit_month_rollup as r (unit_id, child_id, month, regular_cells, present, expected, rated, good,
                                        fair, average, weak, submitted, on_time, approved)
    select l.unit_id, l.child_id, d.month, sum(d.sign * (d.regular_meetings > 0)::int),
           sum(d.sign * d.present), sum(d.sign * (d.present + d.excused + d.unexcused)), sum(d.sign * d.rated),
           sum(d.sign * d.good), sum(d.sign * d.fair), sum(d.sign * d.average), sum(d.sign * d.weak),
           sum(d.sign * d.submitted), sum(d.sign * d.on_time), sum(d.sign * d.approved)
    from d join cell_places p on p.cell_id = d.cell_id and p.period = 'month' and p.starts_on = d.month
    cross join lateral chain_links(p.ancestors) l
    group by l.unit_id, d.month, l.child_id
    order by l.unit_id, d.month, l.child_id
    on conflict (unit_id, month, child_id) do update set
        regular_cells = r.regular_cells + excluded.regular_cells, present = r.present + excluded.present,
        expected = r.expected + excluded.expected, rated = r.rated + excluded.rated, good = r.good + excluded.good,
        fair = r.fair + excluded.fair, average = r.average + excluded.average, weak = r.weak + excluded.weak,
        submitted = r.submitted + excluded.submitted, on_time = r.on_time + excluded.on_time,
        approved = r.approved + excluded.approved;

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

-- The rollups from the cell-level stores and the places, whole (0004, with the reports).
create or replace function refresh_rollups() returns void language plpgsql as $$
begin
    truncate unit_month_rollup, unit_quarter_rollup, unit_year_rollup;
    insert into unit_month_rollup (unit_id, child_id, month, open_cells, regular_cells, present, expected, rated,
                                   good, fair, average, weak, secretaries, trained, submitted, on_time, approved)
    select l.unit_id, l.child_id, p.starts_on, count(*), count(*) filter (where s.regular_meetings > 0),
           coalesce(sum(s.present), 0), coalesce(sum(s.present + s.excused + s.unexcused), 0),
           coalesce(sum(s.rated), 0), coalesce(sum(s.good), 0), coalesce(sum(s.fair), 0),
           coalesce(sum(s.average), 0), coalesce(sum(s.weak), 0), count(st.cell_id), coalesce(sum(st.trained), 0),
           coalesce(sum(s.submitted), 0), coalesce(sum(s.on_time), 0), coalesce(sum(s.approved), 0)
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

-- Every store from the raw rows (0004, with the reports' cell-months).
create or replace function rebuild_metric_stores() returns void language plpgsql as $$
begin
    perform set_config('chibo.bulk', 'on', true);
    -- after a bulk load in this transaction the planner knows nothing of the new rows yet
    analyze units, unit_moves, members, member_transfers, meetings, attendance, meeting_guests, reg18_assignments,
            officials, cell_classifications, member_classifications, positions, trainings, cell_reports, settings;
    perform refresh_cell_places();
    truncate cell_month_stats, cell_year_stats, cell_secretary_status;
    perform refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
    from (select distinct cell_id, date_trunc('month', held_on)::date as month from meetings
          union select cell_id, month from cell_reports) x;
    analyze cell_month_stats;
    perform refresh_cell_year_stats(array_agg(cell_id), array_agg(year))
    from (select cell_id, year from cell_classifications
          union select cell_id, year from reg18_assignments
          union select s.cell_id, mc.year from member_classifications mc join member_stints s on s.member_id = mc.member_id
          ) x;
    analyze cell_year_stats;
    perform refresh_cell_secretary_status(array_agg(id)) from units where kind = 'cell';
    analyze cell_secretary_status;
    perform refresh_rollups();
    perform set_config('chibo.bulk', 'off', true);
end $$;

-- The triggers --------------------------------------------------------------------------------------------------

-- A report written, changed or deleted: its cell-month's row (old and new month, for an update).
create trigger cell_reports_stats_insert after insert on cell_reports referencing new table as new_rows
    for each statement execute function rows_changed(
        $q$select refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
           from (select distinct cell_id, month from %s r) x having count(*) > 0$q$);
create trigger cell_reports_stats_update after update on cell_reports
    referencing new table as new_rows old table as old_rows
    for each statement execute function rows_changed(
        $q$select refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
           from (select distinct cell_id, month from %s r) x having count(*) > 0$q$);
create trigger cell_reports_stats_delete after delete on cell_reports referencing old table as old_rows
    for each statement execute function rows_changed(
        $q$select refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
           from (select distinct cell_id, month from %s r) x having count(*) > 0$q$);

-- The deadline day changed: refresh the cell-months whose stored `on_time` no longer agrees with it (a few rows
-- per report; none when the day is written again unchanged).
create function settings_changed() returns trigger language plpgsql as $$
declare deadline_day integer := report_deadline_day();
begin
    if stores_paused() then
        return null;
    end if;
    perform refresh_cell_month_stats(array_agg(r.cell_id), array_agg(r.month))
    from cell_reports r
    left join cell_month_stats s on s.cell_id = r.cell_id and s.month = r.month
    where coalesce(s.on_time, 0)
          <> coalesce(r.first_submitted_on <= report_deadline(r.month, deadline_day), false)::int
    having count(*) > 0;
    return null;
end $$;
create trigger settings_stats after insert or update or delete or truncate on settings
    for each statement execute function settings_changed();

-- the reports already there
select refresh_cell_month_stats(array_agg(cell_id), array_agg(month)) from cell_reports having count(*) > 0;
