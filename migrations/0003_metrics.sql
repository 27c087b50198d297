-- The metric engine's two stores: where each cell stood in each month and year (the structure as it stood then,
-- DOMAIN.md §4), and per cell-month sums of its meetings, kept up to date in the same transaction as each write.

-- A cell's chain of units (root first, the cell last) for a month or a year.
create table cell_places (
    cell_id   bigint not null references units (id) on delete cascade,
    period    text not null check (period in ('month', 'year')),
    starts_on date not null,
    ancestors bigint[] not null,
    primary key (cell_id, period, starts_on)
);
create index cell_places_ancestors on cell_places using gin (ancestors);

-- The parent of a unit on a day: its latest move on or before that day, else the parent it opened with.
create function parent_on(unit bigint, day date) returns bigint language sql stable as $$
    select coalesce(
        (select m.parent_id from unit_moves m where m.unit_id = unit and m.effective_on <= day
         order by m.effective_on desc limit 1),
        (select u.parent_id from units u where u.id = unit))
$$;

-- The chain of units from the root down to `unit` on `day`.
create function ancestors_on(unit bigint, day date) returns bigint[] language sql stable as $$
    with recursive up(id, depth) as (
        select unit, 0
        union all
        select parent_on(up.id, day), up.depth + 1 from up
        where up.depth < 32 and parent_on(up.id, day) is not null
    )
    select array_agg(id order by depth desc) from up
$$;

-- Rebuilds cell_places: a cell's place for a month is its place on the month's first day, or on its first open
-- day if it opens later in the month; for a year, on 31 December or its last open day if it closes earlier.
-- Months run from the first month with a meeting (at the latest 2020-01) to the end of next year.
create function refresh_cell_places() returns void language plpgsql as $$
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
    with recursive chain(cell_id, period, starts_on, day, unit_id, depth) as (
        select cell_id, period, starts_on, day, cell_id, 0 from place_days
        union all
        select c.cell_id, c.period, c.starts_on, c.day, p.parent_id, c.depth + 1
        from chain c join parent_periods p on p.unit_id = c.unit_id and c.day between p.start_on and p.end_on
        where p.parent_id is not null and c.depth < 32
    )
    insert into cell_places (cell_id, period, starts_on, ancestors)
    select cell_id, period, starts_on, array_agg(unit_id order by depth desc)
    from chain group by cell_id, period, starts_on;
    analyze cell_places;
end $$;

-- Per cell and month: the sums the monthly metrics need. Per-member rows and paper-book counts feed the same sums.
create table cell_month_stats (
    cell_id           bigint not null references units (id) on delete cascade,
    month             date not null,
    regular_meetings  integer not null,
    present           bigint not null,
    excused           bigint not null,
    unexcused         bigint not null,
    rated             integer not null,
    good              integer not null,
    fair              integer not null,
    average           integer not null,
    weak              integer not null,
    thematic_meetings integer not null,
    primary key (cell_id, month)
);

-- Recomputes the rows of the given (cell, month) pairs from the raw meetings and attendance.
create function refresh_cell_month_stats(pairs_cell bigint[], pairs_month date[]) returns void language sql as $$
    delete from cell_month_stats s
    using unnest(pairs_cell, pairs_month) as p(cell_id, month)
    where s.cell_id = p.cell_id and s.month = p.month;
    insert into cell_month_stats
    select m.cell_id, date_trunc('month', m.held_on)::date,
           count(*) filter (where m.kind = 'regular'),
           coalesce(sum(case when m.kind = 'regular' then coalesce(m.present, a.present) end), 0),
           coalesce(sum(case when m.kind = 'regular' then coalesce(m.excused, a.excused) end), 0),
           coalesce(sum(case when m.kind = 'regular' then coalesce(m.unexcused, a.unexcused) end), 0),
           count(*) filter (where m.kind = 'regular' and m.rating is not null),
           count(*) filter (where m.kind = 'regular' and m.rating = 'good'),
           count(*) filter (where m.kind = 'regular' and m.rating = 'fair'),
           count(*) filter (where m.kind = 'regular' and m.rating = 'average'),
           count(*) filter (where m.kind = 'regular' and m.rating = 'weak'),
           count(*) filter (where m.kind = 'thematic')
    from (select distinct cell_id, month from unnest(pairs_cell, pairs_month) as p(cell_id, month)) p
    join meetings m on m.cell_id = p.cell_id
                   and m.held_on >= p.month and m.held_on < (p.month + interval '1 month')
    left join lateral (
        select count(*) filter (where status = 'present') as present,
               count(*) filter (where status = 'excused') as excused,
               count(*) filter (where status = 'unexcused') as unexcused
        from attendance where meeting_id = m.id) a on true
    group by m.cell_id, date_trunc('month', m.held_on);
$$;

-- Statement-level triggers: one refresh per statement with every touched (cell, month), so that a COPY of
-- millions of rows costs one pass, and a web save touches one row.
create function meetings_changed() returns trigger language plpgsql as $$
declare cells bigint[]; months date[];
begin
    if tg_op = 'INSERT' then
        select array_agg(cell_id), array_agg(month) into cells, months
        from (select distinct cell_id, date_trunc('month', held_on)::date as month from new_rows) x;
    elsif tg_op = 'UPDATE' then
        select array_agg(cell_id), array_agg(month) into cells, months
        from (select cell_id, date_trunc('month', held_on)::date as month from new_rows
              union select cell_id, date_trunc('month', held_on)::date from old_rows) x;
    else
        select array_agg(cell_id), array_agg(month) into cells, months
        from (select distinct cell_id, date_trunc('month', held_on)::date as month from old_rows) x;
    end if;
    if cells is not null then
        perform refresh_cell_month_stats(cells, months);
    end if;
    return null;
end $$;
create trigger meetings_stats_insert after insert on meetings referencing new table as new_rows
    for each statement execute function meetings_changed();
create trigger meetings_stats_update after update on meetings referencing new table as new_rows old table as old_rows
    for each statement execute function meetings_changed();
create trigger meetings_stats_delete after delete on meetings referencing old table as old_rows
    for each statement execute function meetings_changed();

create function attendance_changed() returns trigger language plpgsql as $$
declare cells bigint[]; months date[];
begin
    if tg_op = 'DELETE' then
        select array_agg(cell_id), array_agg(month) into cells, months
        from (select distinct m.cell_id, date_trunc('month', m.held_on)::date as month
              from old_rows r join meetings m on m.id = r.meeting_id) x;
    elsif tg_op = 'UPDATE' then
        select array_agg(cell_id), array_agg(month) into cells, months
        from (select distinct m.cell_id, date_trunc('month', m.held_on)::date as month
              from (select meeting_id from new_rows union select meeting_id from old_rows) r
              join meetings m on m.id = r.meeting_id) x;
    else
        select array_agg(cell_id), array_agg(month) into cells, months
        from (select distinct m.cell_id, date_trunc('month', m.held_on)::date as month
              from new_rows r join meetings m on m.id = r.meeting_id) x;
    end if;
    if cells is not null then
        perform refresh_cell_month_stats(cells, months);
    end if;
    return null;
end $$;
create trigger attendance_stats_insert after insert on attendance referencing new table as new_rows
    for each statement execute function attendance_changed();
create trigger attendance_stats_update after update on attendance referencing new table as new_rows old table as old_rows
    for each statement execute function attendance_changed();
create trigger attendance_stats_delete after delete on attendance referencing old table as old_rows
    for each statement execute function attendance_changed();

-- Places change with the structure: rebuild them whenever units or moves change (rare, and cheap enough).
create function structure_changed() returns trigger language plpgsql as $$
begin
    perform refresh_cell_places();
    return null;
end $$;
create trigger units_places after insert or update or delete on units
    for each statement execute function structure_changed();
create trigger unit_moves_places after insert or update or delete on unit_moves
    for each statement execute function structure_changed();

create index meetings_held_on on meetings (held_on);

-- fill both stores for the data already there
select refresh_cell_places();
select refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
from (select distinct cell_id, date_trunc('month', held_on)::date as month from meetings) x;
analyze cell_month_stats;
