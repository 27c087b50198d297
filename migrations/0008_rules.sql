-- One definition per temporal rule (DOMAIN.md §4, §8), used by every query, trigger and check, and one trigger
-- function for the rollups' per-table triggers where the tables differed only in which rows they touch.
-- The live definition of every function, view and trigger is in db/functions.sql (generated; a test keeps it in sync).

-- The rules -----------------------------------------------------------------------------------------------------

-- A period from `valid_from` to `valid_to` (blank: still running) holds `day`: a unit open, a position held, an
-- exemption in force. Inlined by the planner, so a query reads as if it were written out (indexes included).
create function is_open(valid_from date, valid_to date, day date) returns boolean language sql immutable as $$
    select valid_from <= day and (valid_to is null or day <= valid_to)
$$;

-- The parent of a unit on a day: its latest move on or before that day, else the parent it opened with (null: the
-- root). A one-row set rather than a scalar, so that the planner inlines it where it stands in FROM (a scalar SQL
-- function holding a subquery is called row by row): `cross join lateral parent_on(u.id, day) p(parent_id)`.
-- `offset 0` keeps the answer a value computed once per row: without it the planner copies the lookups into every
-- condition that names the answer, and one that joins on it runs them for each pair of rows it compares.
drop function ancestors_on(bigint, date);
drop function parent_on(bigint, date);
create function parent_on(unit bigint, day date) returns setof bigint language sql stable rows 1 as $$
    select parent_id from (
        select coalesce(
            (select m.parent_id from unit_moves m where m.unit_id = unit and m.effective_on <= day
             order by m.effective_on desc limit 1),
            (select u.parent_id from units u where u.id = unit)) as parent_id
        offset 0) p
$$;

-- The cell whose roll a member is on on a day: their latest transfer on or before that day, else the cell they
-- joined in. Whether they are on any roll that day (joined, not yet left) is the caller's to ask. A one-row set,
-- like parent_on: `cross join lateral cell_of(m.id, day) c(cell_id)`.
create function cell_of(member bigint, day date) returns setof bigint language sql stable rows 1 as $$
    select cell_id from (
        select coalesce(
            (select t.cell_id from member_transfers t where t.member_id = member and t.effective_on <= day
             order by t.effective_on desc limit 1),
            (select m.cell_id from members m where m.id = member)) as cell_id
        offset 0) c
$$;

-- The views unit_parent_periods and member_stints (0001) state the same two rules as stretches of time, read in
-- one pass over the moves and transfers where a query needs every unit's or member's history at once (rebuilding
-- the places, member search, the import's roll checks). They stay as they are: computed through the functions
-- above they cost a lookup per row, and member search went from milliseconds to seconds.

-- The stores, in terms of the rules -----------------------------------------------------------------------------

-- Recomputes the annual sums of the given (cell, year) pairs from the raw rows. A member counts on the cell they
-- were on on 31 December, or on their last day on the roll.
create or replace function refresh_cell_year_stats(pairs_cell bigint[], pairs_year integer[]) returns void
language plpgsql as $$
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
    -- each classification placed once (materialized: else the planner may join the pairs first and place it again
    -- for every pair of its year)
    placed as materialized (
        select c.cell_id, mc.year, mc.level
        from candidates x join member_classifications mc on mc.member_id = x.id and mc.year = x.year
        join members m on m.id = x.id
        cross join lateral cell_of(m.id, least(make_date(mc.year, 12, 31), m.left_on - 1)) c(cell_id))
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

-- Recomputes the secretaries' statuses of the given cells for every month they have a place in.
create or replace function refresh_cell_secretary_status(cells bigint[]) returns void language plpgsql as $$
begin
    execute 'delete from cell_secretary_status where cell_id = any($1)' using cells;
    execute $q$
        insert into cell_secretary_status (cell_id, month, trained)
        select p.cell_id, p.starts_on, coalesce(max((t.first_on <= p.starts_on)::int), 0)
        from cell_places p
        join units c on c.id = p.cell_id and is_open(c.valid_from, c.valid_to, p.starts_on)
        join positions s on s.cell_id = p.cell_id and s.position = 'secretary'
                        and is_open(s.valid_from, s.valid_to, p.starts_on)
        left join lateral (select min(trained_on) as first_on from trainings where member_id = s.member_id) t on true
        where p.period = 'month' and p.cell_id = any($1)
        group by p.cell_id, p.starts_on
    $q$ using cells;
end $$;

-- Meetings changed in these (cell, month) pairs: their sums, and the Regulation 18 attendance of the cell's
-- assignments in those years (the guests of these meetings).
create function meeting_months_changed(pairs_cell bigint[], pairs_month date[]) returns void language plpgsql as $$
begin
    perform refresh_cell_month_stats(pairs_cell, pairs_month);
    perform refresh_cell_year_stats(array_agg(cell_id), array_agg(year))
    from (select distinct x.cell_id, extract(year from x.month)::int as year
          from unnest(pairs_cell, pairs_month) x(cell_id, month)
          where exists (select 1 from reg18_assignments a
                        where a.cell_id = x.cell_id and a.year = extract(year from x.month))) y
    having count(*) > 0;
end $$;

-- The triggers --------------------------------------------------------------------------------------------------

-- One trigger function for every table the stores are computed from. TG_ARGV[0] is the query that hands what a
-- statement touched to the stores' refresh, with %s standing for the statement's rows: the new ones, the old ones,
-- or both for an update (one refresh per statement, as many rows as it has). Paused during bulk loads.
create function rows_changed() returns trigger language plpgsql as $$
begin
    if stores_paused() then
        return null;
    end if;
    execute format(tg_argv[0], case tg_op when 'INSERT' then 'new_rows' when 'DELETE' then 'old_rows'
                                   else '(select * from new_rows union all select * from old_rows)' end);
    return null;
end $$;

-- One trigger function for the three cell-level stores: TG_ARGV[0] adds a statement's change (its old rows and its
-- new rows, as arrays of the store's row type) to the rollups.
create function store_changed() returns trigger language plpgsql as $$
declare
    olds text := 'null';
    news text := 'null';
begin
    if stores_paused() then
        return null;
    end if;
    if tg_op in ('DELETE', 'UPDATE') then
        olds := format('(select array_agg(r::%I) from old_rows r)', tg_table_name);
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        news := format('(select array_agg(r::%I) from new_rows r)', tg_table_name);
    end if;
    execute format('select %I(%s, %s)', tg_argv[0], olds, news);
    return null;
end $$;

-- Each table's triggers (insert, update, delete: a trigger with transition tables has one event), under the names
-- they had, so that they still fire in the same order among a table's triggers.
do $$
declare t record;
begin
    for t in select * from (values
        ('meetings', 'meetings_stats_insert', 'meetings_stats_update', 'meetings_stats_delete', 'rows_changed',
         $q$select meeting_months_changed(array_agg(cell_id), array_agg(month))
            from (select distinct cell_id, date_trunc('month', held_on)::date as month from %s r) x
            having count(*) > 0$q$),
        ('attendance', 'attendance_stats_insert', 'attendance_stats_update', 'attendance_stats_delete', 'rows_changed',
         $q$select refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
            from (select distinct m.cell_id, date_trunc('month', m.held_on)::date as month
                  from %s r join meetings m on m.id = r.meeting_id) x
            having count(*) > 0$q$),
        ('cell_classifications', 'cell_classifications_years', 'cell_classifications_years_u',
         'cell_classifications_years_d', 'rows_changed',
         $q$select cell_years_changed(array_agg(cell_id), array_agg(year::int)) from %s r$q$),
        ('reg18_assignments', 'reg18_assignments_years', 'reg18_assignments_years_u', 'reg18_assignments_years_d',
         'rows_changed', $q$select cell_years_changed(array_agg(cell_id), array_agg(year::int)) from %s r$q$),
        ('meeting_guests', 'meeting_guests_years', 'meeting_guests_years_u', 'meeting_guests_years_d', 'rows_changed',
         $q$select cell_years_changed(array_agg(m.cell_id), array_agg(extract(year from m.held_on)::int))
            from %s r join meetings m on m.id = r.meeting_id$q$),
        -- a member's classification counts on a cell they were on: each cell they were ever on, for its year
        ('member_classifications', 'member_classifications_years', 'member_classifications_years_u',
         'member_classifications_years_d', 'rows_changed',
         $q$select cell_years_changed(array_agg(c.cell_id), array_agg(r.year::int))
            from %s r cross join lateral (
                select m.cell_id from members m where m.id = r.member_id
                union all
                select t.cell_id from member_transfers t where t.member_id = r.member_id) c$q$),
        ('member_transfers', 'member_transfers_years', 'member_transfers_years_u', 'member_transfers_years_d',
         'rows_changed', $q$select members_years_changed(array_agg(member_id), array_agg(cell_id)) from %s r$q$),
        ('positions', 'positions_status', 'positions_status_u', 'positions_status_d', 'rows_changed',
         $q$select refresh_cell_secretary_status(array_agg(distinct cell_id)) from %s r having count(*) > 0$q$),
        ('trainings', 'trainings_status', 'trainings_status_u', 'trainings_status_d', 'rows_changed',
         $q$select refresh_cell_secretary_status(array_agg(distinct s.cell_id))
            from %s r join positions s on s.member_id = r.member_id and s.position = 'secretary'
            having count(*) > 0$q$),
        ('cell_month_stats', 'cell_month_stats_insert', 'cell_month_stats_update', 'cell_month_stats_delete',
         'store_changed', 'apply_cell_month_change'),
        ('cell_year_stats', 'cell_year_stats_insert', 'cell_year_stats_update', 'cell_year_stats_delete',
         'store_changed', 'apply_cell_year_change'),
        ('cell_secretary_status', 'cell_secretary_status_insert', 'cell_secretary_status_update',
         'cell_secretary_status_delete', 'store_changed', 'apply_secretary_change')
    ) v(tab, on_insert, on_update, on_delete, fn, arg)
    loop
        execute format('create or replace trigger %I after insert on %I referencing new table as new_rows '
                       'for each statement execute function %I(%L)', t.on_insert, t.tab, t.fn, t.arg);
        execute format('create or replace trigger %I after update on %I '
                       'referencing new table as new_rows old table as old_rows '
                       'for each statement execute function %I(%L)', t.on_update, t.tab, t.fn, t.arg);
        execute format('create or replace trigger %I after delete on %I referencing old table as old_rows '
                       'for each statement execute function %I(%L)', t.on_delete, t.tab, t.fn, t.arg);
    end loop;
end $$;

-- members: a change of cell or leaving day touches the years of every cell the member was ever on; an official: a
-- change of group, where their assignments count
create or replace trigger members_years_u after update on members
    referencing new table as new_rows old table as old_rows
    for each statement execute function rows_changed(
        $q$select members_years_changed(array_agg(n.id), array_agg(o.cell_id))
           from new_rows n join old_rows o on o.id = n.id
           where n.cell_id <> o.cell_id or n.left_on is distinct from o.left_on$q$);
create or replace trigger members_years_d after delete on members referencing old table as old_rows
    for each statement execute function rows_changed(
        $q$select members_years_changed('{}', array_agg(cell_id)) from %s r$q$);
create or replace trigger officials_years after update on officials
    referencing new table as new_rows old table as old_rows
    for each statement execute function rows_changed(
        $q$select cell_years_changed(array_agg(a.cell_id), array_agg(a.year::int)) from reg18_assignments a
           where a.official_id in (select n.id from new_rows n join old_rows o on o.id = n.id
                                   where n."group" <> o."group")$q$);

-- the per-table copies these replace
drop function meetings_changed(), attendance_changed(), cell_classifications_changed(), reg18_assignments_changed(),
    meeting_guests_changed(), member_classifications_changed(), member_transfers_changed(), positions_changed(),
    trainings_changed(), members_changed(), officials_changed(), cell_month_stats_changed(), cell_year_stats_changed(),
    cell_secretary_status_changed();
