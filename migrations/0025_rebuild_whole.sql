-- Issue 19 item 2: a full rebuild of the stores costs what a bulk load must, not more.
--
-- * cell_month_stats is written whole by one statement over every meeting and report
--   (write_cell_month_stats(true, …)) instead of through refresh_cell_month_stats() with the ids of every meeting and
--   every (cell, month) pair in arrays: the province bundle's 378,000 meetings took 1.1 s to gather into the array
--   and their sums 3.4 s to filter by it. The statement is the same one, written once: the refresh of some pairs runs
--   it filtered by their meetings and reports.
-- * rebuild_metric_stores() takes the planner's statistics of the tables it reads unless the transaction says it has
--   just taken them (chibo.analyzed = on: an import analyses the tables it merged before its checks).
-- * refresh_cell_places() carries each day's chain up as it goes and keeps the last row of each day, instead of a
--   row per unit of the chain sorted and gathered again at the end (on the province bundle, 372,000 days: 2.6 s ->
--   1.1 s), and takes the statistics of its scratch tables so that each step hashes the parent periods.

create function write_cell_month_stats(whole boolean, ids bigint[], pairs_cell bigint[], pairs_month date[])
returns void language plpgsql as $$
begin
    -- whole: every meeting and report; otherwise the meetings `ids` and the reports of the pairs
    execute format($q$
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
                from attendance where %1$s group by meeting_id) a on a.meeting_id = m.id
            where %2$s
            group by m.cell_id, date_trunc('month', m.held_on)) s
        full join (
            select r.cell_id, r.month, (r.state in ('submitted', 'approved'))::int as submitted,
                   coalesce(r.first_submitted_on <= report_deadline(r.month, $4), false)::int as on_time,
                   (r.state = 'approved')::int as approved
            from cell_reports r
            %3$s) r on r.cell_id = s.cell_id and r.month = s.month
    $q$, case when whole then 'true' else 'meeting_id = any($1)' end,
                 case when whole then 'true' else 'm.id = any($1)' end,
                 case when whole then '' else
                     'join (select distinct cell_id, month from unnest($2, $3) as p(cell_id, month)) p
                        on p.cell_id = r.cell_id and p.month = r.month' end)
    using ids, pairs_cell, pairs_month, report_deadline_day();
end $$;

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
    perform write_cell_month_stats(false, ids, pairs_cell, pairs_month);
end $$;

-- The places of every cell, by the rule of 0003.
create or replace function refresh_cell_places() returns void language plpgsql as $$
declare
    first_month date := least(date '2020-01-01',
                              coalesce((select date_trunc('month', min(held_on))::date from meetings), date '2020-01-01'));
    last_month date := (date_trunc('year', current_date) + interval '1 year 11 months')::date;
begin
    delete from cell_places;
    -- a transaction may change the structure several times: the scratch tables of the last call may still be here
    drop table if exists pg_temp.parent_periods;
    drop table if exists pg_temp.place_days;
    -- the parent periods of every unit, so that a day's chain is a join instead of a search per row
    create temporary table parent_periods on commit drop as
        select unit_id, parent_id, start_on, coalesce(end_on, date '9999-12-31') as end_on
        from unit_parent_periods;
    create index on parent_periods (unit_id, start_on);
    create temporary table place_days on commit drop as
        select c.id as cell_id, 'month'::text as period, m::date as starts_on, greatest(m::date, c.valid_from) as day
        from units c,
             generate_series(greatest(date_trunc('month', c.valid_from), first_month),
                             least(date_trunc('month', coalesce(c.valid_to, last_month)), last_month),
                             interval '1 month') m
        where c.kind = 'cell'
        union all
        select c.id, 'year', make_date(y, 1, 1), least(make_date(y, 12, 31), coalesce(c.valid_to, make_date(y, 12, 31)))
        from units c,
             generate_series(greatest(extract(year from c.valid_from)::int, extract(year from first_month)::int),
                             least(extract(year from coalesce(c.valid_to, last_month))::int,
                                   extract(year from last_month)::int)) y
        where c.kind = 'cell';
    -- their statistics: the steps up then hash the few thousand parent periods instead of looking each up by index
    analyze parent_periods, place_days;
    -- each step goes one parent up and carries the chain so far; a day whose unit has no parent that day ends there
    -- (done), so that each day's last row holds its whole chain, top first
    with recursive chain(cell_id, period, starts_on, day, unit_id, ancestors, depth, done) as (
        select cell_id, period, starts_on, day, cell_id, array[cell_id], 0, false from place_days
        union all
        select c.cell_id, c.period, c.starts_on, c.day, coalesce(p.parent_id, c.unit_id),
               case when p.parent_id is null then c.ancestors else p.parent_id || c.ancestors end, c.depth + 1,
               p.parent_id is null
        from chain c left join parent_periods p on p.unit_id = c.unit_id and c.day between p.start_on and p.end_on
                                               and p.parent_id is not null and c.depth < 32
        where not c.done
    )
    insert into cell_places (cell_id, period, starts_on, ancestors)
    select cell_id, period, starts_on, ancestors from chain where done;
    analyze cell_places;
end $$;

-- The full rebuild, as in 0019 but for the month sums written whole and the statistics taken once.
create or replace function rebuild_metric_stores() returns void language plpgsql as $$
begin
    perform set_config('chibo.bulk', 'on', true);
    -- whatever this transaction's statements noted is rebuilt here too
    delete from structure_queue;
    -- after a bulk load in this transaction the planner knows nothing of the new rows yet, unless it has just said
    -- it took their statistics itself
    if current_setting('chibo.analyzed', true) is distinct from 'on' then
        analyze units, unit_moves, members, member_transfers, meetings, attendance, meeting_guests, reg18_assignments,
            officials, cell_classifications, member_classifications, positions, trainings, cell_reports, settings;
    end if;
    perform refresh_cell_places();
    truncate cell_month_stats, cell_year_stats, cell_secretary_status;
    perform write_cell_month_stats(true, null, null, null);
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
