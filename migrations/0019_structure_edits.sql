-- Structure edits touch only what they move (issue 19 item 1).
--
-- Until now any change to `units` or `unit_moves` rebuilt every cell's places and every rollup (35 s on the
-- province demo, 26 minutes on national data, for a rename). Now:
--   * a statement that changes a unit's place in the tree (its parent, a move, its dates, its kind; a new cell)
--     only notes the units it changed (a row of `structure_queue`, seen by its transaction only); a rename notes
--     nothing;
--   * at commit a deferred trigger hands the noted units to `restructure()`, which recomputes the places of the
--     cells under them only, compares them with `cell_places`, and applies the difference to the rollups as
--     deltas (-1 with the old chain, +1 with the new), writing only rows whose sums change;
--   * deleting a unit still rebuilds everything (`structure_changed()`), as does `rebuild_metric_stores()`,
--     kept for bulk loads and as the reference the tests compare against.
-- Running at commit keeps the rollup rows it writes locked for the least time (a concurrent meeting save waits
-- for the apply only, never for the rest of an import), and several statements of one import are applied once.

-- The places of some cells (one row per month and year of their life) as the structure stands now: the rule of
-- refresh_cell_places(), computed for these cells only, through the parent periods of the units above them.
-- Each step looks up by index (a few cells among 280,000); EXECUTE plans with the call's own arrays.
create function cell_places_of(these bigint[])
returns table (cell_id bigint, period text, starts_on date, ancestors bigint[])
language plpgsql stable set jit = off as $$
declare
    above bigint[];
begin
    -- every unit above these cells at any time: the only parent periods their chains can need
    execute $q$
        with recursive up(id) as (
            select unnest($1::bigint[])
            union
            select x.parent_id from up cross join lateral (
                select u.parent_id from units u where u.id = up.id and u.parent_id is not null
                union all
                select m.parent_id from unit_moves m where m.unit_id = up.id) x)
        select array_agg(id) from up
    $q$ into above using these;
    return query execute $q$
    with recursive
    bounds as (
        select least(date '2020-01-01',
                     coalesce((select date_trunc('month', min(held_on))::date from meetings), date '2020-01-01'))
                   as first_month,
               (date_trunc('year', current_date) + interval '1 year 11 months')::date as last_month),
    periods as materialized (
        select s.unit_id, s.parent_id, s.start_on,
               coalesce(least(lead(s.start_on) over w - 1, u.valid_to), date '9999-12-31') as end_on
        from (select u.id as unit_id, u.parent_id, u.valid_from as start_on from units u where u.id = any($2)
              union all
              select m.unit_id, m.parent_id, m.effective_on from unit_moves m where m.unit_id = any($2)) s
        join units u on u.id = s.unit_id
        window w as (partition by s.unit_id order by s.start_on)),
    days as (
        select c.id as cell_id, 'month'::text as period, m::date as starts_on, greatest(m::date, c.valid_from) as day
        from units c cross join bounds b,
             generate_series(greatest(date_trunc('month', c.valid_from), b.first_month),
                             least(date_trunc('month', coalesce(c.valid_to, b.last_month)), b.last_month),
                             interval '1 month') m
        where c.id = any($1) and c.kind = 'cell'
        union all
        select c.id, 'year', make_date(y, 1, 1), least(make_date(y, 12, 31), coalesce(c.valid_to, make_date(y, 12, 31)))
        from units c cross join bounds b,
             generate_series(greatest(extract(year from c.valid_from)::int, extract(year from b.first_month)::int),
                             least(extract(year from coalesce(c.valid_to, b.last_month))::int,
                                   extract(year from b.last_month)::int)) y
        where c.id = any($1) and c.kind = 'cell'),
    chain(cell_id, period, starts_on, day, unit_id, depth) as (
        select d.cell_id, d.period, d.starts_on, d.day, d.cell_id, 0 from days d
        union all
        select c.cell_id, c.period, c.starts_on, c.day, p.parent_id, c.depth + 1
        from chain c join periods p on p.unit_id = c.unit_id and c.day between p.start_on and p.end_on
        where p.parent_id is not null and c.depth < 32)
    select c.cell_id, c.period, c.starts_on, array_agg(c.unit_id order by c.depth desc)
    from chain c group by c.cell_id, c.period, c.starts_on
    $q$ using these, above;
end $$;

-- A chain is a handful of units: the planner's guess of a thousand rows per call made it scan whole rollups.
alter function chain_links(bigint[]) rows 6;

-- The cells under these units (themselves included) at any time, then their places and secretary statuses made
-- to agree with the structure as it stands, and the rollups moved by the difference only.
create function restructure(changed bigint[]) returns void language plpgsql set jit = off as $$
declare
    cells bigint[];
    -- the rollup rows the deltas took to zero cells (unit, child, period; metric for a year)
    gone_unit bigint[];
    gone_child bigint[];
    gone_on date[];
    gone_year smallint[];
    gone_metric text[];
begin
    -- one structure change at a time: each compares the places it reads with the ones it writes
    perform pg_advisory_xact_lock(hashtext('chibo.structure'));
    with recursive down(id) as (
        select unnest(changed)
        union
        select x.unit_id from down cross join lateral (
            select u.id as unit_id from units u where u.parent_id = down.id
            union all
            select m.unit_id from unit_moves m where m.parent_id = down.id) x)
    select array_agg(distinct d.id) into cells from down d;
    if cells is null then
        return;
    end if;

    -- a transaction may restructure several times: the scratch tables of the last call may still be here
    if to_regclass('pg_temp.new_places') is not null then
        drop table pg_temp.new_places, pg_temp.place_changes, pg_temp.new_status, pg_temp.month_changes,
                   pg_temp.quarter_changes;
    end if;
    create temporary table new_places on commit drop as select * from cell_places_of(cells);
    create index on pg_temp.new_places (cell_id, period, starts_on);
    create temporary table place_changes on commit drop as
        select coalesce(o.cell_id, n.cell_id) as cell_id, coalesce(o.period, n.period) as period,
               coalesce(o.starts_on, n.starts_on) as starts_on, o.ancestors as old_chain, n.ancestors as new_chain
        from (select * from cell_places p where p.cell_id = any(cells)) o
        full join new_places n on n.cell_id = o.cell_id and n.period = o.period and n.starts_on = o.starts_on
        where o.ancestors is distinct from n.ancestors;
    analyze pg_temp.new_places, pg_temp.place_changes;
    -- a concurrent save reads these places FOR SHARE (apply_cell_month_change): from here on it waits for this
    -- transaction, and the sums read below include every save that came first
    perform 1 from cell_places p join place_changes c
        on c.cell_id = p.cell_id and c.period = p.period and c.starts_on = p.starts_on
    for update of p;

    -- the secretary statuses as they will be (the rule of refresh_cell_secretary_status, on the new places)
    create temporary table new_status on commit drop as
        select p.cell_id, p.starts_on as month, coalesce(max((t.first_on <= p.starts_on)::int), 0) as trained
        from new_places p
        join units c on c.id = p.cell_id and is_open(c.valid_from, c.valid_to, p.starts_on)
        join positions s on s.cell_id = p.cell_id and s.position = 'secretary'
                        and is_open(s.valid_from, s.valid_to, p.starts_on)
        left join lateral (select min(trained_on) as first_on from trainings where member_id = s.member_id) t on true
        where p.period = 'month'
        group by p.cell_id, p.starts_on;
    analyze pg_temp.new_status;

    -- the cell-months whose part in the rollups changes: a new chain, or a secretary status that changed
    create temporary table month_changes on commit drop as
        select k.cell_id, k.month, o.ancestors as old_chain, n.ancestors as new_chain,
               os.trained as old_trained, ns.trained as new_trained
        from (select c.cell_id, c.starts_on as month from place_changes c where c.period = 'month'
              union
              select coalesce(o.cell_id, n.cell_id), coalesce(o.month, n.month)
              from (select * from cell_secretary_status s where s.cell_id = any(cells)) o
              full join new_status n on n.cell_id = o.cell_id and n.month = o.month
              where o.trained is distinct from n.trained) k
        left join cell_places o on o.cell_id = k.cell_id and o.period = 'month' and o.starts_on = k.month
        left join new_places n on n.cell_id = k.cell_id and n.period = 'month' and n.starts_on = k.month
        left join cell_secretary_status os on os.cell_id = k.cell_id and os.month = k.month
        left join new_status ns on ns.cell_id = k.cell_id and ns.month = k.month;
    analyze pg_temp.month_changes;

    -- a cell counts in a quarter where its first month with a place that quarter puts it
    create temporary table quarter_changes on commit drop as
        select q.cell_id, q.quarter,
               (select p.ancestors from cell_places p
                where p.cell_id = q.cell_id and p.period = 'month'
                  and p.starts_on >= q.quarter and p.starts_on < q.quarter + interval '3 months'
                order by p.starts_on limit 1) as old_chain,
               (select p.ancestors from new_places p
                where p.cell_id = q.cell_id and p.period = 'month'
                  and p.starts_on >= q.quarter and p.starts_on < q.quarter + interval '3 months'
                order by p.starts_on limit 1) as new_chain,
               (select coalesce(sum(s.thematic_meetings), 0) from cell_month_stats s
                where s.cell_id = q.cell_id and s.month >= q.quarter and s.month < q.quarter + interval '3 months')
                   as thematic
        from (select distinct c.cell_id, date_trunc('quarter', c.starts_on)::date as quarter
              from place_changes c where c.period = 'month') q;
    analyze pg_temp.quarter_changes;

    -- the rollups: one statement per table, in key order (as the save triggers write them), only rows that change
    with moved as (
        insert into unit_month_rollup as r (unit_id, child_id, month, open_cells, regular_cells, present, expected, rated,
                                            good, fair, average, weak, secretaries, trained, submitted, on_time, approved,
                                            timed_meetings, long_meetings, online, present_listed)
        select l.unit_id, l.child_id, x.month, sum(x.sign), sum(x.sign * (coalesce(s.regular_meetings, 0) > 0)::int),
               sum(x.sign * coalesce(s.present, 0)),
               sum(x.sign * coalesce(s.present + s.excused + s.unexcused, 0)), sum(x.sign * coalesce(s.rated, 0)),
               sum(x.sign * coalesce(s.good, 0)), sum(x.sign * coalesce(s.fair, 0)), sum(x.sign * coalesce(s.average, 0)),
               sum(x.sign * coalesce(s.weak, 0)), sum(x.sign * x.secretary), sum(x.sign * x.trained),
               sum(x.sign * coalesce(s.submitted, 0)), sum(x.sign * coalesce(s.on_time, 0)),
               sum(x.sign * coalesce(s.approved, 0)),
               sum(x.sign * coalesce(s.timed_meetings, 0)), sum(x.sign * coalesce(s.long_meetings, 0)),
               sum(x.sign * coalesce(s.online, 0)), sum(x.sign * coalesce(s.present_listed, 0))
        from (select c.cell_id, c.month, -1 as sign, c.old_chain as chain, (c.old_trained is not null)::int as secretary,
                     coalesce(c.old_trained, 0) as trained
              from month_changes c where c.old_chain is not null
              union all
              select c.cell_id, c.month, 1, c.new_chain, (c.new_trained is not null)::int, coalesce(c.new_trained, 0)
              from month_changes c where c.new_chain is not null) x
        left join cell_month_stats s on s.cell_id = x.cell_id and s.month = x.month
        cross join lateral chain_links(x.chain) l
        group by l.unit_id, x.month, l.child_id
        having sum(x.sign) <> 0 or sum(x.sign * (coalesce(s.regular_meetings, 0) > 0)::int) <> 0
            or sum(x.sign * coalesce(s.present, 0)) <> 0 or sum(x.sign * coalesce(s.present + s.excused + s.unexcused, 0)) <> 0
            or sum(x.sign * coalesce(s.rated, 0)) <> 0 or sum(x.sign * coalesce(s.good, 0)) <> 0
            or sum(x.sign * coalesce(s.fair, 0)) <> 0 or sum(x.sign * coalesce(s.average, 0)) <> 0
            or sum(x.sign * coalesce(s.weak, 0)) <> 0 or sum(x.sign * x.secretary) <> 0 or sum(x.sign * x.trained) <> 0
            or sum(x.sign * coalesce(s.submitted, 0)) <> 0 or sum(x.sign * coalesce(s.on_time, 0)) <> 0
            or sum(x.sign * coalesce(s.approved, 0)) <> 0
            or sum(x.sign * coalesce(s.timed_meetings, 0)) <> 0 or sum(x.sign * coalesce(s.long_meetings, 0)) <> 0
            or sum(x.sign * coalesce(s.online, 0)) <> 0 or sum(x.sign * coalesce(s.present_listed, 0)) <> 0
        order by l.unit_id, x.month, l.child_id
        on conflict (unit_id, month, child_id) do update set
            open_cells = r.open_cells + excluded.open_cells, regular_cells = r.regular_cells + excluded.regular_cells,
            present = r.present + excluded.present, expected = r.expected + excluded.expected,
            rated = r.rated + excluded.rated, good = r.good + excluded.good, fair = r.fair + excluded.fair,
            average = r.average + excluded.average, weak = r.weak + excluded.weak,
            secretaries = r.secretaries + excluded.secretaries, trained = r.trained + excluded.trained,
            submitted = r.submitted + excluded.submitted, on_time = r.on_time + excluded.on_time,
            approved = r.approved + excluded.approved, timed_meetings = r.timed_meetings + excluded.timed_meetings,
            long_meetings = r.long_meetings + excluded.long_meetings, online = r.online + excluded.online,
            present_listed = r.present_listed + excluded.present_listed
        returning r.unit_id, r.child_id, r.month, r.open_cells)
    select array_agg(unit_id), array_agg(child_id), array_agg(month) into gone_unit, gone_child, gone_on
    from moved where open_cells = 0;
    -- a unit no cell counts in that month any more has no row (as after a rebuild)
    delete from unit_month_rollup r using unnest(gone_unit, gone_child, gone_on) k(unit_id, child_id, month)
    where r.unit_id = k.unit_id and r.month = k.month and r.child_id = k.child_id and r.open_cells = 0;

    with moved as (
        insert into unit_quarter_rollup as r (unit_id, child_id, quarter, open_cells, thematic_cells)
        select l.unit_id, l.child_id, x.quarter, sum(x.sign), sum(x.sign * (x.thematic > 0)::int)
        from (select c.quarter, -1 as sign, c.old_chain as chain, c.thematic from quarter_changes c
              where c.old_chain is not null
              union all
              select c.quarter, 1, c.new_chain, c.thematic from quarter_changes c where c.new_chain is not null) x
        cross join lateral chain_links(x.chain) l
        group by l.unit_id, x.quarter, l.child_id
        having sum(x.sign) <> 0 or sum(x.sign * (x.thematic > 0)::int) <> 0
        order by l.unit_id, x.quarter, l.child_id
        on conflict (unit_id, quarter, child_id) do update set
            open_cells = r.open_cells + excluded.open_cells, thematic_cells = r.thematic_cells + excluded.thematic_cells
        returning r.unit_id, r.child_id, r.quarter, r.open_cells)
    select array_agg(unit_id), array_agg(child_id), array_agg(quarter) into gone_unit, gone_child, gone_on
    from moved where open_cells = 0;
    delete from unit_quarter_rollup r using unnest(gone_unit, gone_child, gone_on) k(unit_id, child_id, quarter)
    where r.unit_id = k.unit_id and r.quarter = k.quarter and r.child_id = k.child_id and r.open_cells = 0;

    with moved as (
        insert into unit_year_rollup as r (unit_id, child_id, year, metric, num, den)
        select l.unit_id, l.child_id, s.year, s.metric, sum(x.sign * s.num), sum(x.sign * s.den)
        from (select c.cell_id, extract(year from c.starts_on)::smallint as year, -1 as sign, c.old_chain as chain
              from place_changes c where c.period = 'year' and c.old_chain is not null
              union all
              select c.cell_id, extract(year from c.starts_on)::smallint, 1, c.new_chain
              from place_changes c where c.period = 'year' and c.new_chain is not null) x
        join cell_year_stats s on s.cell_id = x.cell_id and s.year = x.year
        cross join lateral chain_links(x.chain) l
        group by l.unit_id, s.year, s.metric, l.child_id
        having sum(x.sign) <> 0 or sum(x.sign * s.num) <> 0 or sum(x.sign * s.den) <> 0
        order by l.unit_id, s.year, s.metric, l.child_id
        on conflict (unit_id, year, metric, child_id) do update set num = r.num + excluded.num, den = r.den + excluded.den
        returning r.unit_id, r.child_id, r.year, r.metric, r.num, r.den)
    select array_agg(unit_id), array_agg(child_id), array_agg(year), array_agg(metric)
    into gone_unit, gone_child, gone_year, gone_metric
    from moved where num = 0 and den = 0;

    -- the places and statuses themselves (the statuses' own delta triggers paused: their rollup part is done above)
    delete from cell_places p using place_changes c
    where p.cell_id = c.cell_id and p.period = c.period and p.starts_on = c.starts_on and c.new_chain is null;
    update cell_places p set ancestors = c.new_chain from place_changes c
    where p.cell_id = c.cell_id and p.period = c.period and p.starts_on = c.starts_on
      and c.old_chain is not null and c.new_chain is not null;
    insert into cell_places (cell_id, period, starts_on, ancestors)
    select c.cell_id, c.period, c.starts_on, c.new_chain from place_changes c where c.old_chain is null;

    perform set_config('chibo.bulk', 'on', true);
    delete from cell_secretary_status s using month_changes c
    where s.cell_id = c.cell_id and s.month = c.month and c.old_trained is distinct from c.new_trained;
    insert into cell_secretary_status (cell_id, month, trained)
    select c.cell_id, c.month, c.new_trained from month_changes c
    where c.new_trained is not null and c.old_trained is distinct from c.new_trained;
    perform set_config('chibo.bulk', 'off', true);

    -- a year's sum no cell gives any more has no row (as after a rebuild); rare, so looked up row by row
    delete from unit_year_rollup r
    using unnest(gone_unit, gone_child, gone_year, gone_metric) k(unit_id, child_id, year, metric)
    where r.unit_id = k.unit_id and r.year = k.year and r.metric = k.metric and r.child_id = k.child_id
      and r.num = 0 and r.den = 0
      and not exists (
          -- the cells whose chains hold the unit and the child (the GIN index), then that year's
          select 1 from (select p.cell_id, p.period, p.starts_on, p.ancestors from cell_places p
                         where p.ancestors @> case r.child_id when 0 then array[r.unit_id]
                                                               else array[r.unit_id, r.child_id] end
                         offset 0) p
          join cell_year_stats s on s.cell_id = p.cell_id and s.year = r.year and s.metric = r.metric
          cross join lateral chain_links(p.ancestors) l
          where p.period = 'year' and p.starts_on = make_date(r.year, 1, 1)
            and l.unit_id = r.unit_id and l.child_id = r.child_id);
end $$;

-- The units a transaction's statements moved, until its commit applies them (see structure_apply()). Each
-- transaction sees and drains only its own rows: the table is empty between transactions.
create table structure_queue (
    ids bigint[] not null
);

-- A statement that changed units or moves notes the units whose place in the tree it changed.
create function structure_noted() returns trigger language plpgsql as $$
declare
    ids bigint[];
begin
    if stores_paused() then
        return null;
    end if;
    if tg_table_name = 'units' and tg_op = 'INSERT' then
        -- a new unit above no cell yet changes no place; a new cell has its own
        select array_agg(n.id) into ids from new_rows n where n.kind = 'cell';
    elsif tg_table_name = 'units' then
        -- a new name, code or cell type moves nothing
        select array_agg(n.id) into ids from new_rows n join old_rows o on o.id = n.id
        where (o.parent_id, o.valid_from, o.valid_to, o.kind) is distinct from (n.parent_id, n.valid_from, n.valid_to, n.kind);
    elsif tg_op = 'INSERT' then
        select array_agg(n.unit_id) into ids from new_rows n;
    elsif tg_op = 'DELETE' then
        select array_agg(o.unit_id) into ids from old_rows o;
    else
        select array_agg(x.unit_id) into ids
        from (select n.unit_id from new_rows n union select o.unit_id from old_rows o) x;
    end if;
    if ids is not null then
        insert into structure_queue (ids) values (ids);
    end if;
    return null;
end $$;

-- At commit: every unit the transaction noted, restructured once (the first deferred event takes them all; the
-- others find nothing left).
create function structure_apply() returns trigger language plpgsql as $$
declare
    pending bigint[];
begin
    with taken as (delete from structure_queue returning ids)
    select array_agg(distinct i) into pending from taken cross join lateral unnest(taken.ids) i;
    if pending is not null and not stores_paused() then
        perform restructure(pending);
    end if;
    return null;
end $$;

drop trigger units_places on units;
drop trigger unit_moves_places on unit_moves;
-- a unit deleted (never done by the app: units close) still rebuilds everything
create trigger units_places after delete on units for each statement execute function structure_changed();

create trigger units_noted_insert after insert on units referencing new table as new_rows
    for each statement execute function structure_noted();
create trigger units_noted_update after update on units referencing old table as old_rows new table as new_rows
    for each statement execute function structure_noted();
create trigger unit_moves_noted_insert after insert on unit_moves referencing new table as new_rows
    for each statement execute function structure_noted();
create trigger unit_moves_noted_update after update on unit_moves referencing old table as old_rows new table as new_rows
    for each statement execute function structure_noted();
create trigger unit_moves_noted_delete after delete on unit_moves referencing old table as old_rows
    for each statement execute function structure_noted();
create constraint trigger structure_queue_apply after insert on structure_queue deferrable initially deferred
    for each row execute function structure_apply();

-- A save reads the places of its cells FOR SHARE before it moves the rollups: a restructure that changes them
-- (and has locked them) finishes first, so the save adds to the chain the cell has after it, never a stale one.
create or replace function apply_cell_month_change(olds cell_month_stats[], news cell_month_stats[])
returns void language plpgsql as $$
begin
    -- every month of the quarters touched: the quarter's first month places the quarter's thematic flag
    perform 1 from cell_places p
    join (select distinct cell_id, date_trunc('quarter', month)::date as quarter
          from (select cell_id, month from unnest(news) union all select cell_id, month from unnest(olds)) x) d
      on p.cell_id = d.cell_id and p.period = 'month'
     and p.starts_on >= d.quarter and p.starts_on < d.quarter + interval '3 months'
    order by p.cell_id, p.starts_on
    for share of p;

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

create or replace function apply_cell_year_change(olds cell_year_stats[], news cell_year_stats[])
returns void language plpgsql as $$
begin
    perform 1 from cell_places p
    join (select distinct cell_id, year from (select cell_id, year from unnest(news)
                                              union all select cell_id, year from unnest(olds)) x) d
      on p.cell_id = d.cell_id and p.period = 'year' and p.starts_on = make_date(d.year, 1, 1)
    order by p.cell_id, p.starts_on
    for share of p;

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
end $$;

create or replace function apply_secretary_change(olds cell_secretary_status[], news cell_secretary_status[])
returns void language plpgsql as $$
begin
    perform 1 from cell_places p
    join (select distinct cell_id, month from (select cell_id, month from unnest(news)
                                               union all select cell_id, month from unnest(olds)) x) d
      on p.cell_id = d.cell_id and p.period = 'month' and p.starts_on = d.month
    order by p.cell_id, p.starts_on
    for share of p;

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
end $$;

-- The full rebuild covers whatever the transaction noted before it.
create or replace function rebuild_metric_stores() returns void language plpgsql as $$
begin
    perform set_config('chibo.bulk', 'on', true);
    -- whatever this transaction's statements noted is rebuilt here too
    delete from structure_queue;
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
