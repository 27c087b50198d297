-- secretaries_trained is a point-in-time figure: the open cells with a secretary on a day D, and of those the
-- ones whose secretary was trained by D. The rollups keep the counts on each month's first day (at the month's
-- place); the engine adds the few cells whose status changed between that day and D (a secretary appointed or
-- leaving, a training, a cell opening or closing), so a dashboard reads rows per child, not per cell.

alter table unit_month_rollup add column secretaries integer not null default 0,
                              add column trained integer not null default 0;

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

-- The rollups, whole: as in 0004, with the secretaries' counts.
create or replace function refresh_rollups() returns void language plpgsql as $$
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
create or replace function rebuild_metric_stores() returns void language plpgsql as $$
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

-- fill: the statuses, then their sums into the rollups already there (a full rebuild would redo everything)
select set_config('chibo.bulk', 'on', true);
analyze positions, trainings;
select refresh_cell_secretary_status(array_agg(id)) from units where kind = 'cell';
update unit_month_rollup r set secretaries = x.n, trained = x.t
from (select l.unit_id, l.child_id, st.month, count(*) as n, sum(st.trained) as t
      from cell_secretary_status st
      join cell_places p on p.cell_id = st.cell_id and p.period = 'month' and p.starts_on = st.month
      cross join lateral chain_links(p.ancestors) l
      group by 1, 2, 3) x
where r.unit_id = x.unit_id and r.child_id = x.child_id and r.month = x.month;
select set_config('chibo.bulk', 'off', true);
analyze cell_secretary_status;
analyze unit_month_rollup;
