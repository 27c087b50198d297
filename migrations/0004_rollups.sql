-- Rollups: the metric engine's sums per (unit, child, month | quarter | year), so that a dashboard reads rows in
-- proportion to the units it shows, not to the cells under it or to the history. Every unit on a cell's chain
-- (the cell itself included) gets the cell's sums under the child that leads to the cell; `child_id` 0 is the
-- cell's own row. Kept by delta triggers in the same transaction as each write; rebuilt whole when the
-- structure changes (rare), because then the places themselves change.

-- Bulk loads (the demo, an import) and rebuild_metric_stores() pause every store trigger for their transaction
-- with set_config('chibo.bulk', 'on', true), then rebuild the stores whole: one pass instead of one per statement.
create function stores_paused() returns boolean language sql stable as $$
    select coalesce(current_setting('chibo.bulk', true), '') = 'on'
$$;

-- (unit, child) for each unit on a chain: the next unit down, 0 for the cell itself.
create function chain_links(chain bigint[]) returns table (unit_id bigint, child_id bigint)
language sql immutable as $$
    select chain[i], coalesce(chain[i + 1], 0) from generate_subscripts(chain, 1) i
$$;

create table unit_month_rollup (
    unit_id       bigint not null,
    child_id      bigint not null,
    month         date not null,
    open_cells    integer not null default 0,
    regular_cells integer not null default 0,
    present       bigint not null default 0,
    expected      bigint not null default 0,
    rated         integer not null default 0,
    good          integer not null default 0,
    fair          integer not null default 0,
    average       integer not null default 0,
    weak          integer not null default 0,
    -- cells with a secretary on the month's first day, and of those with a trained one (see below)
    secretaries   integer not null default 0,
    trained       integer not null default 0,
    primary key (unit_id, month, child_id)
);

create table unit_quarter_rollup (
    unit_id        bigint not null,
    child_id       bigint not null,
    quarter        date not null,
    open_cells     integer not null default 0,
    thematic_cells integer not null default 0,
    primary key (unit_id, quarter, child_id)
);

-- Annual sums per cell: `metric` is cells_good_or_better, members_good_or_better or reg18:<official group>.
create table cell_year_stats (
    cell_id bigint not null references units (id) on delete cascade,
    year    smallint not null,
    metric  text not null,
    num     bigint not null,
    den     bigint not null,
    primary key (cell_id, year, metric)
);

create table unit_year_rollup (
    unit_id  bigint not null,
    child_id bigint not null,
    year     smallint not null,
    metric   text not null,
    num      bigint not null default 0,
    den      bigint not null default 0,
    primary key (unit_id, year, metric, child_id)
);

-- Recomputes the annual sums of the given (cell, year) pairs from the raw rows. A member counts on the cell they
-- were on on 31 December, or on their last day on the roll.
create function refresh_cell_year_stats(pairs_cell bigint[], pairs_year integer[]) returns void language plpgsql as $$
begin
    -- EXECUTE plans each call with its own arrays: one pair from a web save, or every pair in a rebuild
    execute $q$
    delete from cell_year_stats s
    using unnest($1, $2) as p(cell_id, year)
    where s.cell_id = p.cell_id and s.year = p.year
    $q$ using pairs_cell, pairs_year;
    execute $q$
    insert into cell_year_stats (cell_id, year, metric, num, den)
    with pairs as (select distinct cell_id, year::smallint as year from unnest($1, $2) p(cell_id, year)),
    candidates as (
        select m.id, p.year from pairs p join members m on m.cell_id = p.cell_id
        union
        select t.member_id, p.year from pairs p join member_transfers t on t.cell_id = p.cell_id),
    placed as (
        select coalesce(t.cell_id, m.cell_id) as cell_id, mc.year, mc.level
        from candidates c join member_classifications mc on mc.member_id = c.id and mc.year = c.year
        join members m on m.id = c.id
        left join lateral (
            select t.cell_id from member_transfers t
            where t.member_id = m.id and t.effective_on <= least(make_date(mc.year, 12, 31), m.left_on - 1)
            order by t.effective_on desc limit 1) t on true)
    select c.cell_id, c.year, 'cells_good_or_better', (c.level in ('excellent', 'good'))::int, 1
    from pairs p join cell_classifications c on c.cell_id = p.cell_id and c.year = p.year
    union all
    select pl.cell_id, pl.year, 'members_good_or_better',
           count(*) filter (where pl.level in ('excellent', 'good')), count(*)
    from placed pl join pairs p on p.cell_id = pl.cell_id and p.year = pl.year
    group by pl.cell_id, pl.year
    union all
    select a.cell_id, a.year, 'reg18:' || o."group", sum(coalesce(att.n, 0)), sum(a.required)
    from pairs p join reg18_assignments a on a.cell_id = p.cell_id and a.year = p.year
    join officials o on o.id = a.official_id
    left join (
        select g.official_id, m.cell_id, p.year, count(*) as n
        from pairs p
        join meetings m on m.cell_id = p.cell_id
                       and m.held_on >= make_date(p.year, 1, 1) and m.held_on < make_date(p.year + 1, 1, 1)
        join meeting_guests g on g.meeting_id = m.id
        group by 1, 2, 3) att on att.official_id = a.official_id and att.cell_id = a.cell_id and att.year = a.year
    group by a.cell_id, a.year, o."group"
    $q$ using pairs_cell, pairs_year;
end $$;

-- The cell-month refresh of 0003, planned per call (EXECUTE) and counting attendance in one grouped pass over the
-- touched meetings instead of one lookup per meeting, so that a rebuild of every pair takes seconds.
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
    if ids is null then
        return;
    end if;
    execute $q$
        insert into cell_month_stats
        select m.cell_id, date_trunc('month', m.held_on)::date,
               count(*) filter (where m.kind = 'regular'),
               coalesce(sum(case when m.kind = 'regular' then coalesce(m.present, a.present, 0) end), 0),
               coalesce(sum(case when m.kind = 'regular' then coalesce(m.excused, a.excused, 0) end), 0),
               coalesce(sum(case when m.kind = 'regular' then coalesce(m.unexcused, a.unexcused, 0) end), 0),
               count(*) filter (where m.kind = 'regular' and m.rating is not null),
               count(*) filter (where m.kind = 'regular' and m.rating = 'good'),
               count(*) filter (where m.kind = 'regular' and m.rating = 'fair'),
               count(*) filter (where m.kind = 'regular' and m.rating = 'average'),
               count(*) filter (where m.kind = 'regular' and m.rating = 'weak'),
               count(*) filter (where m.kind = 'thematic')
        from meetings m
        left join (
            select meeting_id,
                   count(*) filter (where status = 'present') as present,
                   count(*) filter (where status = 'excused') as excused,
                   count(*) filter (where status = 'unexcused') as unexcused
            from attendance where meeting_id = any($1) group by meeting_id) a on a.meeting_id = m.id
        where m.id = any($1)
        group by m.cell_id, date_trunc('month', m.held_on)
    $q$ using ids;
end $$;

-- Adds the difference between two sets of cell-month rows (the statement's old and new rows) to the month and
-- quarter rollups. Rows are upserted in key order, so that concurrent saves lock them in the same order.
create function apply_cell_month_change(olds cell_month_stats[], news cell_month_stats[]) returns void
language plpgsql as $$
begin
    with d as (
        select 1 as sign, * from unnest(news)
        union all
        select -1, * from unnest(olds))
    insert into unit_month_rollup as r (unit_id, child_id, month, regular_cells, present, expected, rated, good,
                                        fair, average, weak)
    select l.unit_id, l.child_id, d.month, sum(d.sign * (d.regular_meetings > 0)::int),
           sum(d.sign * d.present), sum(d.sign * (d.present + d.excused + d.unexcused)), sum(d.sign * d.rated),
           sum(d.sign * d.good), sum(d.sign * d.fair), sum(d.sign * d.average), sum(d.sign * d.weak)
    from d join cell_places p on p.cell_id = d.cell_id and p.period = 'month' and p.starts_on = d.month
    cross join lateral chain_links(p.ancestors) l
    group by l.unit_id, d.month, l.child_id
    order by l.unit_id, d.month, l.child_id
    on conflict (unit_id, month, child_id) do update set
        regular_cells = r.regular_cells + excluded.regular_cells, present = r.present + excluded.present,
        expected = r.expected + excluded.expected, rated = r.rated + excluded.rated, good = r.good + excluded.good,
        fair = r.fair + excluded.fair, average = r.average + excluded.average, weak = r.weak + excluded.weak;

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

create function cell_month_stats_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    if tg_op = 'INSERT' then
        perform apply_cell_month_change('{}'::cell_month_stats[], (select array_agg(n::cell_month_stats) from new_rows n));
    elsif tg_op = 'UPDATE' then
        perform apply_cell_month_change((select array_agg(o::cell_month_stats) from old_rows o),
                                        (select array_agg(n::cell_month_stats) from new_rows n));
    else
        perform apply_cell_month_change((select array_agg(o::cell_month_stats) from old_rows o), '{}'::cell_month_stats[]);
    end if;
    return null;
end $$;
create trigger cell_month_stats_insert after insert on cell_month_stats referencing new table as new_rows
    for each statement execute function cell_month_stats_changed();
create trigger cell_month_stats_update after update on cell_month_stats
    referencing new table as new_rows old table as old_rows
    for each statement execute function cell_month_stats_changed();
create trigger cell_month_stats_delete after delete on cell_month_stats referencing old table as old_rows
    for each statement execute function cell_month_stats_changed();

create function apply_cell_year_change(olds cell_year_stats[], news cell_year_stats[]) returns void
language sql as $$
    with d as (
        select 1 as sign, * from unnest(news)
        union all
        select -1, * from unnest(olds))
    insert into unit_year_rollup as r (unit_id, child_id, year, metric, num, den)
    select l.unit_id, l.child_id, d.year, d.metric, sum(d.sign * d.num), sum(d.sign * d.den)
    from d join cell_places p on p.cell_id = d.cell_id and p.period = 'year' and p.starts_on = make_date(d.year, 1, 1)
    cross join lateral chain_links(p.ancestors) l
    group by l.unit_id, d.year, d.metric, l.child_id
    order by l.unit_id, d.year, d.metric, l.child_id
    on conflict (unit_id, year, metric, child_id) do update set num = r.num + excluded.num, den = r.den + excluded.den;
$$;

create function cell_year_stats_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    if tg_op = 'INSERT' then
        perform apply_cell_year_change('{}'::cell_year_stats[], (select array_agg(n::cell_year_stats) from new_rows n));
    elsif tg_op = 'UPDATE' then
        perform apply_cell_year_change((select array_agg(o::cell_year_stats) from old_rows o),
                                       (select array_agg(n::cell_year_stats) from new_rows n));
    else
        perform apply_cell_year_change((select array_agg(o::cell_year_stats) from old_rows o), '{}'::cell_year_stats[]);
    end if;
    return null;
end $$;
create trigger cell_year_stats_insert after insert on cell_year_stats referencing new table as new_rows
    for each statement execute function cell_year_stats_changed();
create trigger cell_year_stats_update after update on cell_year_stats
    referencing new table as new_rows old table as old_rows
    for each statement execute function cell_year_stats_changed();
create trigger cell_year_stats_delete after delete on cell_year_stats referencing old table as old_rows
    for each statement execute function cell_year_stats_changed();

-- secretaries_trained is a point-in-time figure: the open cells with a secretary on a day D, and of those the
-- ones whose secretary was trained by D. The rollups keep the counts on each month's first day (at the month's
-- place); the engine adds the few cells whose status changed between that day and D (a secretary appointed or
-- leaving, a training, a cell opening or closing), so a dashboard reads rows per child, not per cell.

-- Per cell and month: a secretary on the month's first day (1) and trained by then (1); only cells with one.
create table cell_secretary_status (
    cell_id bigint not null references units (id) on delete cascade,
    month   date not null,
    trained integer not null,
    primary key (cell_id, month)
);

create index positions_secretary_from on positions (valid_from) where position = 'secretary';
create index positions_secretary_to on positions (valid_to) where position = 'secretary';
create index trainings_on on trainings (trained_on);
create index units_cell_from on units (valid_from) where kind = 'cell';
create index units_cell_to on units (valid_to) where kind = 'cell';

-- Recomputes the statuses of the given cells for every month they have a place in.
create function refresh_cell_secretary_status(cells bigint[]) returns void language plpgsql as $$
begin
    execute 'delete from cell_secretary_status where cell_id = any($1)' using cells;
    execute $q$
        insert into cell_secretary_status (cell_id, month, trained)
        select p.cell_id, p.starts_on, coalesce(max((t.first_on <= p.starts_on)::int), 0)
        from cell_places p
        join units c on c.id = p.cell_id and c.valid_from <= p.starts_on
                    and (c.valid_to is null or c.valid_to >= p.starts_on)
        join positions s on s.cell_id = p.cell_id and s.position = 'secretary' and s.valid_from <= p.starts_on
                        and (s.valid_to is null or s.valid_to >= p.starts_on)
        left join lateral (select min(trained_on) as first_on from trainings where member_id = s.member_id) t on true
        where p.period = 'month' and p.cell_id = any($1)
        group by p.cell_id, p.starts_on
    $q$ using cells;
end $$;

create function apply_secretary_change(olds cell_secretary_status[], news cell_secretary_status[]) returns void
language sql as $$
    with d as (
        select 1 as sign, * from unnest(news)
        union all
        select -1, * from unnest(olds))
    insert into unit_month_rollup as r (unit_id, child_id, month, secretaries, trained)
    select l.unit_id, l.child_id, d.month, sum(d.sign), sum(d.sign * d.trained)
    from d join cell_places p on p.cell_id = d.cell_id and p.period = 'month' and p.starts_on = d.month
    cross join lateral chain_links(p.ancestors) l
    group by l.unit_id, d.month, l.child_id
    order by l.unit_id, d.month, l.child_id
    on conflict (unit_id, month, child_id) do update set
        secretaries = r.secretaries + excluded.secretaries, trained = r.trained + excluded.trained;
$$;

create function cell_secretary_status_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    if tg_op = 'INSERT' then
        perform apply_secretary_change('{}'::cell_secretary_status[],
                                       (select array_agg(n::cell_secretary_status) from new_rows n));
    elsif tg_op = 'UPDATE' then
        perform apply_secretary_change((select array_agg(o::cell_secretary_status) from old_rows o),
                                       (select array_agg(n::cell_secretary_status) from new_rows n));
    else
        perform apply_secretary_change((select array_agg(o::cell_secretary_status) from old_rows o),
                                       '{}'::cell_secretary_status[]);
    end if;
    return null;
end $$;
create trigger cell_secretary_status_insert after insert on cell_secretary_status referencing new table as new_rows
    for each statement execute function cell_secretary_status_changed();
create trigger cell_secretary_status_update after update on cell_secretary_status
    referencing new table as new_rows old table as old_rows
    for each statement execute function cell_secretary_status_changed();
create trigger cell_secretary_status_delete after delete on cell_secretary_status referencing old table as old_rows
    for each statement execute function cell_secretary_status_changed();

-- positions and trainings: recompute the statuses of the cells they concern
create function positions_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        perform refresh_cell_secretary_status(array_agg(distinct cell_id)) from new_rows having count(*) > 0;
    end if;
    if tg_op in ('DELETE', 'UPDATE') then
        perform refresh_cell_secretary_status(array_agg(distinct cell_id)) from old_rows having count(*) > 0;
    end if;
    return null;
end $$;
create trigger positions_status after insert on positions referencing new table as new_rows
    for each statement execute function positions_changed();
create trigger positions_status_u after update on positions referencing new table as new_rows old table as old_rows
    for each statement execute function positions_changed();
create trigger positions_status_d after delete on positions referencing old table as old_rows
    for each statement execute function positions_changed();

create function trainings_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        perform refresh_cell_secretary_status(array_agg(distinct s.cell_id))
        from new_rows t join positions s on s.member_id = t.member_id and s.position = 'secretary' having count(*) > 0;
    end if;
    if tg_op in ('DELETE', 'UPDATE') then
        perform refresh_cell_secretary_status(array_agg(distinct s.cell_id))
        from old_rows t join positions s on s.member_id = t.member_id and s.position = 'secretary' having count(*) > 0;
    end if;
    return null;
end $$;
create trigger trainings_status after insert on trainings referencing new table as new_rows
    for each statement execute function trainings_changed();
create trigger trainings_status_u after update on trainings referencing new table as new_rows old table as old_rows
    for each statement execute function trainings_changed();
create trigger trainings_status_d after delete on trainings referencing old table as old_rows
    for each statement execute function trainings_changed();

-- The rollups from the cell-level stores and the places, whole.
create function refresh_rollups() returns void language plpgsql as $$
begin
    truncate unit_month_rollup, unit_quarter_rollup, unit_year_rollup;
    insert into unit_month_rollup (unit_id, child_id, month, open_cells, regular_cells, present, expected, rated,
                                   good, fair, average, weak, secretaries, trained)
    select l.unit_id, l.child_id, p.starts_on, count(*), count(*) filter (where s.regular_meetings > 0),
           coalesce(sum(s.present), 0), coalesce(sum(s.present + s.excused + s.unexcused), 0),
           coalesce(sum(s.rated), 0), coalesce(sum(s.good), 0), coalesce(sum(s.fair), 0),
           coalesce(sum(s.average), 0), coalesce(sum(s.weak), 0), count(st.cell_id), coalesce(sum(st.trained), 0)
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

-- Every store from the raw rows, the secretaries' statuses included.
create function rebuild_metric_stores() returns void language plpgsql as $$
begin
    perform set_config('chibo.bulk', 'on', true);
    -- after a bulk load in this transaction the planner knows nothing of the new rows yet
    analyze units, unit_moves, members, member_transfers, meetings, attendance, meeting_guests, reg18_assignments,
            officials, cell_classifications, member_classifications, positions, trainings;
    perform refresh_cell_places();
    truncate cell_month_stats, cell_year_stats, cell_secretary_status;
    perform refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
    from (select distinct cell_id, date_trunc('month', held_on)::date as month from meetings) x;
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

-- The structure changed: new places, the statuses on them, then the rollups.
create or replace function structure_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    perform set_config('chibo.bulk', 'on', true);
    perform refresh_cell_places();
    perform refresh_cell_secretary_status(array_agg(id)) from units where kind = 'cell';
    perform refresh_rollups();
    perform set_config('chibo.bulk', 'off', true);
    return null;
end $$;

-- Which (cell, year) pairs a change touches, per source table. ------------------------------------------------

-- Meetings: their reg18 attendance, in the year of the old and the new date.
create or replace function meetings_changed() returns trigger language plpgsql as $$
declare cells bigint[]; months date[];
begin
    if stores_paused() then
        return null;
    end if;
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
        -- the guests of these meetings count toward Regulation 18 of the cell's assignments that year
        perform refresh_cell_year_stats(array_agg(cell_id), array_agg(year))
        from (select distinct x.cell_id, extract(year from x.month)::int as year
              from unnest(cells, months) x(cell_id, month)
              where exists (select 1 from reg18_assignments a
                            where a.cell_id = x.cell_id and a.year = extract(year from x.month))) y
        having count(*) > 0;
    end if;
    return null;
end $$;

create or replace function attendance_changed() returns trigger language plpgsql as $$
declare cells bigint[]; months date[];
begin
    if stores_paused() then
        return null;
    end if;
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

create function cell_years_changed(pairs_cell bigint[], pairs_year integer[]) returns void language sql as $$
    select refresh_cell_year_stats(array_agg(cell_id), array_agg(year))
    from (select distinct cell_id, year from unnest(pairs_cell, pairs_year) x(cell_id, year)) y
    having count(*) > 0;
$$;

create function cell_classifications_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        perform cell_years_changed(array_agg(cell_id), array_agg(year::int)) from new_rows;
    end if;
    if tg_op in ('DELETE', 'UPDATE') then
        perform cell_years_changed(array_agg(cell_id), array_agg(year::int)) from old_rows;
    end if;
    return null;
end $$;

create function reg18_assignments_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        perform cell_years_changed(array_agg(cell_id), array_agg(year::int)) from new_rows;
    end if;
    if tg_op in ('DELETE', 'UPDATE') then
        perform cell_years_changed(array_agg(cell_id), array_agg(year::int)) from old_rows;
    end if;
    return null;
end $$;

create function meeting_guests_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        perform cell_years_changed(array_agg(m.cell_id), array_agg(extract(year from m.held_on)::int))
        from new_rows g join meetings m on m.id = g.meeting_id;
    end if;
    if tg_op in ('DELETE', 'UPDATE') then
        perform cell_years_changed(array_agg(m.cell_id), array_agg(extract(year from m.held_on)::int))
        from old_rows g join meetings m on m.id = g.meeting_id;
    end if;
    return null;
end $$;

-- An official's group decides where their assignments count.
create function officials_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    perform cell_years_changed(array_agg(a.cell_id), array_agg(a.year::int))
    from reg18_assignments a
    where a.official_id in (select n.id from new_rows n join old_rows o on o.id = n.id where n."group" <> o."group");
    return null;
end $$;

-- A member's classification counts on the cell they were on at the year's end or when they left: a change to
-- classifications, transfers or the member touches every cell the member was ever on, for the years they were
-- classified.
create function members_years_changed(member_ids bigint[], extra_cells bigint[]) returns void language sql as $$
    select cell_years_changed(array_agg(c.cell_id), array_agg(y.year::int))
    from (select m.id, m.cell_id from members m where m.id = any(member_ids)
          union select t.member_id, t.cell_id from member_transfers t where t.member_id = any(member_ids)
          union select null, e from unnest(extra_cells) e) c
    join (select distinct year from member_classifications where member_id = any(member_ids)
          union select distinct year from cell_year_stats where cell_id = any(extra_cells)) y on true;
$$;

create function member_classifications_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        perform members_years_changed(array_agg(member_id), '{}') from new_rows;
    end if;
    if tg_op in ('DELETE', 'UPDATE') then
        -- a deleted classification's year is gone from the member's list: name its cells and year directly
        perform cell_years_changed(array_agg(s.cell_id), array_agg(o.year::int))
        from old_rows o join member_stints s on s.member_id = o.member_id;
    end if;
    return null;
end $$;

create function member_transfers_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        perform members_years_changed(array_agg(member_id), array_agg(cell_id)) from new_rows;
    end if;
    if tg_op in ('DELETE', 'UPDATE') then
        perform members_years_changed(array_agg(member_id), array_agg(cell_id)) from old_rows;
    end if;
    return null;
end $$;

create function members_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    if tg_op = 'UPDATE' then
        perform members_years_changed(array_agg(n.id), array_agg(o.cell_id))
        from new_rows n join old_rows o on o.id = n.id
        where n.cell_id <> o.cell_id or n.left_on is distinct from o.left_on;
    else
        perform members_years_changed('{}', array_agg(cell_id)) from old_rows;
    end if;
    return null;
end $$;

create trigger cell_classifications_years after insert on cell_classifications referencing new table as new_rows
    for each statement execute function cell_classifications_changed();
create trigger cell_classifications_years_u after update on cell_classifications
    referencing new table as new_rows old table as old_rows for each statement execute function cell_classifications_changed();
create trigger cell_classifications_years_d after delete on cell_classifications referencing old table as old_rows
    for each statement execute function cell_classifications_changed();

create trigger reg18_assignments_years after insert on reg18_assignments referencing new table as new_rows
    for each statement execute function reg18_assignments_changed();
create trigger reg18_assignments_years_u after update on reg18_assignments
    referencing new table as new_rows old table as old_rows for each statement execute function reg18_assignments_changed();
create trigger reg18_assignments_years_d after delete on reg18_assignments referencing old table as old_rows
    for each statement execute function reg18_assignments_changed();

create trigger meeting_guests_years after insert on meeting_guests referencing new table as new_rows
    for each statement execute function meeting_guests_changed();
create trigger meeting_guests_years_u after update on meeting_guests
    referencing new table as new_rows old table as old_rows for each statement execute function meeting_guests_changed();
create trigger meeting_guests_years_d after delete on meeting_guests referencing old table as old_rows
    for each statement execute function meeting_guests_changed();

create trigger officials_years after update on officials referencing new table as new_rows old table as old_rows
    for each statement execute function officials_changed();

create trigger member_classifications_years after insert on member_classifications referencing new table as new_rows
    for each statement execute function member_classifications_changed();
create trigger member_classifications_years_u after update on member_classifications
    referencing new table as new_rows old table as old_rows
    for each statement execute function member_classifications_changed();
create trigger member_classifications_years_d after delete on member_classifications referencing old table as old_rows
    for each statement execute function member_classifications_changed();

create trigger member_transfers_years after insert on member_transfers referencing new table as new_rows
    for each statement execute function member_transfers_changed();
create trigger member_transfers_years_u after update on member_transfers
    referencing new table as new_rows old table as old_rows for each statement execute function member_transfers_changed();
create trigger member_transfers_years_d after delete on member_transfers referencing old table as old_rows
    for each statement execute function member_transfers_changed();

create trigger members_years_u after update on members referencing new table as new_rows old table as old_rows
    for each statement execute function members_changed();
create trigger members_years_d after delete on members referencing old table as old_rows
    for each statement execute function members_changed();

-- the point-in-time query (secretaries trained) reads one month's places for the root too, where the GIN index
-- on ancestors would match every row
create index cell_places_period on cell_places (period, starts_on);

select rebuild_metric_stores();
