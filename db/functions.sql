-- The live definition of every function, view and trigger of chibo's schema, as the migrations leave them.
-- Generated from a freshly migrated database by tests/app/schema.rs: do not edit. After a migration that
-- changes any of them: CHIBO_WRITE_FUNCTIONS=1 cargo test --test app schema::

CREATE OR REPLACE FUNCTION public.account_active(disabled boolean, access_until date)
 RETURNS boolean
 LANGUAGE sql
 STABLE
AS $function$ select not disabled and (access_until is null or access_until >= local_today()) $function$;

CREATE OR REPLACE FUNCTION public.announce_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
begin
    perform pg_notify(tg_argv[0], '');
    return null;
end $function$;

CREATE OR REPLACE FUNCTION public.apply_cell_month_change(olds cell_month_stats[], news cell_month_stats[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.apply_cell_year_change(olds cell_year_stats[], news cell_year_stats[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.apply_secretary_change(olds cell_secretary_status[], news cell_secretary_status[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.audit_log_is_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
begin
    raise exception 'audit_log is append-only';
end $function$;

CREATE OR REPLACE FUNCTION public.cell_of(member bigint, day date)
 RETURNS SETOF bigint
 LANGUAGE sql
 STABLE ROWS 1
AS $function$
    select cell_id from (
        select coalesce(
            (select t.cell_id from member_transfers t where t.member_id = member and t.effective_on <= day
             order by t.effective_on desc limit 1),
            (select m.cell_id from members m where m.id = member)) as cell_id
        offset 0) c
$function$;

CREATE OR REPLACE FUNCTION public.cell_places_of(these bigint[])
 RETURNS TABLE(cell_id bigint, period text, starts_on date, ancestors bigint[])
 LANGUAGE plpgsql
 STABLE
 SET jit TO 'off'
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.cell_years_changed(pairs_cell bigint[], pairs_year integer[])
 RETURNS void
 LANGUAGE sql
AS $function$
    select refresh_cell_year_stats(array_agg(cell_id), array_agg(year))
    from (select distinct cell_id, year from unnest(pairs_cell, pairs_year) x(cell_id, year)) y
    having count(*) > 0;
$function$;

CREATE OR REPLACE FUNCTION public.chain_links(chain bigint[])
 RETURNS TABLE(unit_id bigint, child_id bigint)
 LANGUAGE sql
 IMMUTABLE ROWS 6
AS $function$
    select chain[i], coalesce(chain[i + 1], 0) from generate_subscripts(chain, 1) i
$function$;

CREATE OR REPLACE FUNCTION public.is_open(valid_from date, valid_to date, day date)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE
AS $function$
    select valid_from <= day and (valid_to is null or day <= valid_to)
$function$;

CREATE OR REPLACE FUNCTION public.is_secretarys_account(u users, member bigint, day date)
 RETURNS boolean
 LANGUAGE sql
 STABLE
AS $function$ select u.role = 'cell_secretary'
          and ((u.member_id = member and (u.access_until is null or u.access_until >= day))
               or (u.member_id is null and account_active(u.disabled, u.access_until))) $function$;

CREATE OR REPLACE FUNCTION public.last_due_month(today date, deadline_day integer)
 RETURNS date
 LANGUAGE sql
 IMMUTABLE
AS $function$
    select (date_trunc('month', (today - deadline_day)::timestamp) - interval '1 month')::date
$function$;

CREATE OR REPLACE FUNCTION public.local_today()
 RETURNS date
 LANGUAGE sql
 STABLE
AS $function$ select (now() at time zone 'Asia/Ho_Chi_Minh')::date $function$;

CREATE OR REPLACE FUNCTION public.meeting_locked_part(m jsonb)
 RETURNS jsonb
 LANGUAGE sql
 IMMUTABLE
AS $function$
    select m - array['ref', 'version', 'updated_at', 'idempotency_key']
$function$;

CREATE OR REPLACE FUNCTION public.meeting_months_changed(pairs_cell bigint[], pairs_month date[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
begin
    perform refresh_cell_month_stats(pairs_cell, pairs_month);
    perform refresh_cell_year_stats(array_agg(cell_id), array_agg(year))
    from (select distinct x.cell_id, extract(year from x.month)::int as year
          from unnest(pairs_cell, pairs_month) x(cell_id, month)
          where exists (select 1 from reg18_assignments a
                        where a.cell_id = x.cell_id and a.year = extract(year from x.month))) y
    having count(*) > 0;
end $function$;

CREATE OR REPLACE FUNCTION public.meeting_rows_lock()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
declare cells bigint[]; days date[];
begin
    if not exists (select 1 from cell_reports where state = 'approved') then
        return null;
    end if;
    if tg_op = 'INSERT' then
        select array_agg(m.cell_id), array_agg(m.held_on) into cells, days
        from (select distinct meeting_id from new_rows) r join meetings m on m.id = r.meeting_id;
    elsif tg_op = 'DELETE' then
        select array_agg(m.cell_id), array_agg(m.held_on) into cells, days
        from (select distinct meeting_id from old_rows) r join meetings m on m.id = r.meeting_id;
    else
        select array_agg(m.cell_id), array_agg(m.held_on) into cells, days
        from (select meeting_id from new_rows union select meeting_id from old_rows) r
        join meetings m on m.id = r.meeting_id;
    end if;
    if cells is not null then
        perform refuse_locked_months(cells, days);
    end if;
    return null;
end $function$;

CREATE OR REPLACE FUNCTION public.meetings_lock()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
declare cells bigint[]; days date[];
begin
    -- nothing approved anywhere (a new installation, a bulk load): nothing to look up
    if not exists (select 1 from cell_reports where state = 'approved') then
        return null;
    end if;
    if tg_op = 'INSERT' then
        select array_agg(cell_id), array_agg(held_on) into cells, days from new_rows;
    elsif tg_op = 'DELETE' then
        select array_agg(cell_id), array_agg(held_on) into cells, days from old_rows;
    else
        -- both the month a meeting leaves and the month it enters; a row whose locked part is unchanged is free
        select array_agg(v.cell_id), array_agg(v.day) into cells, days from (
            select o.cell_id as o_cell, o.held_on as o_day, n.cell_id as n_cell, n.held_on as n_day
            from old_rows o join new_rows n on n.id = o.id
            where meeting_locked_part(to_jsonb(o)) is distinct from meeting_locked_part(to_jsonb(n))
        ) x cross join lateral (values (x.o_cell, x.o_day), (x.n_cell, x.n_day)) v(cell_id, day);
    end if;
    if cells is not null then
        perform refuse_locked_months(cells, days);
    end if;
    return null;
end $function$;

CREATE OR REPLACE FUNCTION public.meetings_rubric_version()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
begin
    new.rubric_version_id := rubric_version_on(new.held_on);
    return new;
end $function$;

CREATE OR REPLACE FUNCTION public.members_years_changed(member_ids bigint[], extra_cells bigint[])
 RETURNS void
 LANGUAGE sql
AS $function$
    select cell_years_changed(array_agg(c.cell_id), array_agg(y.year::int))
    from (select m.id, m.cell_id from members m where m.id = any(member_ids)
          union select t.member_id, t.cell_id from member_transfers t where t.member_id = any(member_ids)
          union select null, e from unnest(extra_cells) e) c
    join (select distinct year from member_classifications where member_id = any(member_ids)
          union select distinct year from cell_year_stats where cell_id = any(extra_cells)) y on true;
$function$;

CREATE OR REPLACE FUNCTION public.parent_on(unit bigint, day date)
 RETURNS SETOF bigint
 LANGUAGE sql
 STABLE ROWS 1
AS $function$
    select parent_id from (
        select coalesce(
            (select m.parent_id from unit_moves m where m.unit_id = unit and m.effective_on <= day
             order by m.effective_on desc limit 1),
            (select u.parent_id from units u where u.id = unit)) as parent_id
        offset 0) p
$function$;

CREATE OR REPLACE FUNCTION public.published_reports_are_frozen()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
begin
    raise exception 'published_reports is append-only: a published report is never changed or removed';
end $function$;

CREATE OR REPLACE FUNCTION public.rebuild_metric_stores()
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.refresh_cell_month_stats(pairs_cell bigint[], pairs_month date[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.refresh_cell_places()
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.refresh_cell_secretary_status(cells bigint[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.refresh_cell_year_stats(pairs_cell bigint[], pairs_year integer[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.refresh_rollups()
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.refuse_locked_months(cells bigint[], days date[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
declare hit record;
begin
    select u.code, r.month into hit
    from unnest(cells, days) x(cell_id, day)
    join cell_reports r on r.cell_id = x.cell_id and r.month = date_trunc('month', x.day)::date
                       and r.state = 'approved'
    join units u on u.id = r.cell_id
    order by r.month, u.code
    limit 1;
    if found then
        raise exception 'cell % %: the report of this month is approved, its meetings are locked',
                hit.code, to_char(hit.month, 'YYYY-MM')
            using errcode = 'CB001', detail = hit.code || '/' || to_char(hit.month, 'YYYY-MM');
    end if;
end $function$;

CREATE OR REPLACE FUNCTION public.report_deadline(month date, deadline_day integer)
 RETURNS date
 LANGUAGE sql
 IMMUTABLE
AS $function$
    select (date_trunc('month', month::timestamp) + interval '1 month')::date + (deadline_day - 1)
$function$;

CREATE OR REPLACE FUNCTION public.report_deadline_day()
 RETURNS integer
 LANGUAGE sql
 STABLE
AS $function$
    select coalesce((select value::int from settings where key = 'report_deadline_day'), 5)
$function$;

CREATE OR REPLACE FUNCTION public.reporting_since()
 RETURNS date
 LANGUAGE sql
 STABLE
AS $function$
    select to_date(value, 'YYYY-MM') from settings where key = 'reporting_since'
$function$;

CREATE OR REPLACE FUNCTION public.restructure(changed bigint[])
 RETURNS void
 LANGUAGE plpgsql
 SET jit TO 'off'
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.rows_changed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
begin
    if stores_paused() then
        return null;
    end if;
    execute format(tg_argv[0], case tg_op when 'INSERT' then 'new_rows' when 'DELETE' then 'old_rows'
                                   else '(select * from new_rows union all select * from old_rows)' end);
    return null;
end $function$;

CREATE OR REPLACE FUNCTION public.rubric_in_use_is_frozen()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
declare v bigint;
begin
    if tg_table_name = 'rubric_versions' then
        v := old.id;
    else
        v := old.version_id;
    end if;
    if exists(select 1 from meetings where rubric_version_id = v) then
        raise exception 'rubric version % judges meetings and cannot be changed', v using errcode = 'CB003';
    end if;
    return case when tg_op = 'DELETE' then old else new end;
end $function$;

CREATE OR REPLACE FUNCTION public.rubric_points_add_up()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
declare v bigint := coalesce(new.version_id, old.version_id);
declare total integer;
begin
    if exists(select 1 from rubric_versions where id = v) then
        select coalesce(sum(max_points), 0) into total from rubric_criteria where version_id = v;
        if total <> 100 then
            raise exception 'the criteria of rubric version % add up to %, not 100', v, total using errcode = 'CB002';
        end if;
    end if;
    return null;
end $function$;

CREATE OR REPLACE FUNCTION public.rubric_version_on(day date)
 RETURNS bigint
 LANGUAGE sql
 STABLE
AS $function$
    select coalesce(
        (select id from rubric_versions where valid_from <= day order by valid_from desc limit 1),
        (select id from rubric_versions order by valid_from limit 1))
$function$;

CREATE OR REPLACE FUNCTION public.settings_changed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.store_changed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.stores_paused()
 RETURNS boolean
 LANGUAGE sql
 STABLE
AS $function$
    select coalesce(current_setting('chibo.bulk', true), '') = 'on'
$function$;

CREATE OR REPLACE FUNCTION public.structure_apply()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
declare
    pending bigint[];
begin
    with taken as (delete from structure_queue returning ids)
    select array_agg(distinct i) into pending from taken cross join lateral unnest(taken.ids) i;
    if pending is not null and not stores_paused() then
        perform restructure(pending);
    end if;
    return null;
end $function$;

CREATE OR REPLACE FUNCTION public.structure_changed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.structure_noted()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.unit_within(scope_id bigint, unit_id bigint, day date)
 RETURNS boolean
 LANGUAGE plpgsql
 STABLE
AS $function$
begin
    return exists (
        with recursive up(id, depth) as (
            select unit_within.unit_id, 0
            union all
            select p.parent_id, up.depth + 1 from up cross join lateral parent_on(up.id, unit_within.day) p(parent_id)
            where up.depth < 32 and p.parent_id is not null
        )
        select 1 from up where up.id = unit_within.scope_id
    );
end
$function$;

CREATE OR REPLACE FUNCTION public.write_cell_month_stats(whole boolean, ids bigint[], pairs_cell bigint[], pairs_month date[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE VIEW public.meeting_counts AS
 SELECT m.id AS meeting_id,
    COALESCE(m.present::bigint, a.present, 0::bigint) AS present,
    COALESCE(m.excused::bigint, a.excused, 0::bigint) AS excused,
    COALESCE(m.unexcused::bigint, a.unexcused, 0::bigint) AS unexcused,
    COALESCE(m.exempt::bigint, a.exempt, 0::bigint) AS exempt
   FROM meetings m
     LEFT JOIN LATERAL ( SELECT count(*) FILTER (WHERE attendance.status = 'present'::text) AS present,
            count(*) FILTER (WHERE attendance.status = 'excused'::text) AS excused,
            count(*) FILTER (WHERE attendance.status = 'unexcused'::text) AS unexcused,
            count(*) FILTER (WHERE attendance.status = 'exempt'::text) AS exempt
           FROM attendance
          WHERE attendance.meeting_id = m.id) a ON true;

CREATE OR REPLACE VIEW public.member_stints AS
 WITH seg AS (
         SELECT m_1.id AS member_id,
            m_1.cell_id,
            m_1.joined_on AS start_on
           FROM members m_1
        UNION ALL
         SELECT t.member_id,
            t.cell_id,
            t.effective_on
           FROM member_transfers t
        )
 SELECT s.member_id,
    s.cell_id,
    s.start_on,
    LEAST(lead(s.start_on) OVER w - 1, m.left_on - 1) AS end_on
   FROM seg s
     JOIN members m ON m.id = s.member_id
  WINDOW w AS (PARTITION BY s.member_id ORDER BY s.start_on);

CREATE OR REPLACE VIEW public.unit_parent_periods AS
 WITH seg AS (
         SELECT u_1.id AS unit_id,
            u_1.parent_id,
            u_1.valid_from AS start_on
           FROM units u_1
        UNION ALL
         SELECT m.unit_id,
            m.parent_id,
            m.effective_on
           FROM unit_moves m
        )
 SELECT s.unit_id,
    s.parent_id,
    s.start_on,
    LEAST(lead(s.start_on) OVER w - 1, u.valid_to) AS end_on
   FROM seg s
     JOIN units u ON u.id = s.unit_id
  WINDOW w AS (PARTITION BY s.unit_id ORDER BY s.start_on);

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON attendance FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER attendance_lock_delete AFTER DELETE ON attendance REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION meeting_rows_lock();

CREATE TRIGGER attendance_lock_insert AFTER INSERT ON attendance REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION meeting_rows_lock();

CREATE TRIGGER attendance_lock_update AFTER UPDATE ON attendance REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION meeting_rows_lock();

CREATE TRIGGER attendance_stats_delete AFTER DELETE ON attendance REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
            from (select distinct m.cell_id, date_trunc(''month'', m.held_on)::date as month
                  from %s r join meetings m on m.id = r.meeting_id) x
            having count(*) > 0');

CREATE TRIGGER attendance_stats_insert AFTER INSERT ON attendance REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
            from (select distinct m.cell_id, date_trunc(''month'', m.held_on)::date as month
                  from %s r join meetings m on m.id = r.meeting_id) x
            having count(*) > 0');

CREATE TRIGGER attendance_stats_update AFTER UPDATE ON attendance REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
            from (select distinct m.cell_id, date_trunc(''month'', m.held_on)::date as month
                  from %s r join meetings m on m.id = r.meeting_id) x
            having count(*) > 0');

CREATE TRIGGER audit_log_append_only BEFORE DELETE OR UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON cell_classifications FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER cell_classifications_years AFTER INSERT ON cell_classifications REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(cell_id), array_agg(year::int)) from %s r');

CREATE TRIGGER cell_classifications_years_d AFTER DELETE ON cell_classifications REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(cell_id), array_agg(year::int)) from %s r');

CREATE TRIGGER cell_classifications_years_u AFTER UPDATE ON cell_classifications REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(cell_id), array_agg(year::int)) from %s r');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON cell_month_stats FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER cell_month_stats_delete AFTER DELETE ON cell_month_stats REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION store_changed('apply_cell_month_change');

CREATE TRIGGER cell_month_stats_insert AFTER INSERT ON cell_month_stats REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION store_changed('apply_cell_month_change');

CREATE TRIGGER cell_month_stats_update AFTER UPDATE ON cell_month_stats REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION store_changed('apply_cell_month_change');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON cell_places FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON cell_reports FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER cell_reports_stats_delete AFTER DELETE ON cell_reports REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
           from (select distinct cell_id, month from %s r) x having count(*) > 0');

CREATE TRIGGER cell_reports_stats_insert AFTER INSERT ON cell_reports REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
           from (select distinct cell_id, month from %s r) x having count(*) > 0');

CREATE TRIGGER cell_reports_stats_update AFTER UPDATE ON cell_reports REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select refresh_cell_month_stats(array_agg(cell_id), array_agg(month))
           from (select distinct cell_id, month from %s r) x having count(*) > 0');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON cell_secretary_status FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER cell_secretary_status_delete AFTER DELETE ON cell_secretary_status REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION store_changed('apply_secretary_change');

CREATE TRIGGER cell_secretary_status_insert AFTER INSERT ON cell_secretary_status REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION store_changed('apply_secretary_change');

CREATE TRIGGER cell_secretary_status_update AFTER UPDATE ON cell_secretary_status REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION store_changed('apply_secretary_change');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON cell_year_stats FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER cell_year_stats_delete AFTER DELETE ON cell_year_stats REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION store_changed('apply_cell_year_change');

CREATE TRIGGER cell_year_stats_insert AFTER INSERT ON cell_year_stats REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION store_changed('apply_cell_year_change');

CREATE TRIGGER cell_year_stats_update AFTER UPDATE ON cell_year_stats REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION store_changed('apply_cell_year_change');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON exemptions FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON meeting_guests FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER meeting_guests_lock_delete AFTER DELETE ON meeting_guests REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION meeting_rows_lock();

CREATE TRIGGER meeting_guests_lock_insert AFTER INSERT ON meeting_guests REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION meeting_rows_lock();

CREATE TRIGGER meeting_guests_lock_update AFTER UPDATE ON meeting_guests REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION meeting_rows_lock();

CREATE TRIGGER meeting_guests_years AFTER INSERT ON meeting_guests REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(m.cell_id), array_agg(extract(year from m.held_on)::int))
            from %s r join meetings m on m.id = r.meeting_id');

CREATE TRIGGER meeting_guests_years_d AFTER DELETE ON meeting_guests REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(m.cell_id), array_agg(extract(year from m.held_on)::int))
            from %s r join meetings m on m.id = r.meeting_id');

CREATE TRIGGER meeting_guests_years_u AFTER UPDATE ON meeting_guests REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(m.cell_id), array_agg(extract(year from m.held_on)::int))
            from %s r join meetings m on m.id = r.meeting_id');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON meetings FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER meetings_lock_delete AFTER DELETE ON meetings REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION meetings_lock();

CREATE TRIGGER meetings_lock_insert AFTER INSERT ON meetings REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION meetings_lock();

CREATE TRIGGER meetings_lock_update AFTER UPDATE ON meetings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION meetings_lock();

CREATE TRIGGER meetings_rubric_version BEFORE INSERT ON meetings FOR EACH ROW WHEN (new.rubric_version_id IS NULL) EXECUTE FUNCTION meetings_rubric_version();

CREATE TRIGGER meetings_rubric_version_moved BEFORE UPDATE OF held_on ON meetings FOR EACH ROW WHEN (new.held_on IS DISTINCT FROM old.held_on) EXECUTE FUNCTION meetings_rubric_version();

CREATE TRIGGER meetings_stats_delete AFTER DELETE ON meetings REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select meeting_months_changed(array_agg(cell_id), array_agg(month))
            from (select distinct cell_id, date_trunc(''month'', held_on)::date as month from %s r) x
            having count(*) > 0');

CREATE TRIGGER meetings_stats_insert AFTER INSERT ON meetings REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select meeting_months_changed(array_agg(cell_id), array_agg(month))
            from (select distinct cell_id, date_trunc(''month'', held_on)::date as month from %s r) x
            having count(*) > 0');

CREATE TRIGGER meetings_stats_update AFTER UPDATE ON meetings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select meeting_months_changed(array_agg(cell_id), array_agg(month))
            from (select distinct cell_id, date_trunc(''month'', held_on)::date as month from %s r) x
            having count(*) > 0');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON member_classifications FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER member_classifications_years AFTER INSERT ON member_classifications REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(c.cell_id), array_agg(r.year::int))
            from %s r cross join lateral (
                select m.cell_id from members m where m.id = r.member_id
                union all
                select t.cell_id from member_transfers t where t.member_id = r.member_id) c');

CREATE TRIGGER member_classifications_years_d AFTER DELETE ON member_classifications REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(c.cell_id), array_agg(r.year::int))
            from %s r cross join lateral (
                select m.cell_id from members m where m.id = r.member_id
                union all
                select t.cell_id from member_transfers t where t.member_id = r.member_id) c');

CREATE TRIGGER member_classifications_years_u AFTER UPDATE ON member_classifications REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(c.cell_id), array_agg(r.year::int))
            from %s r cross join lateral (
                select m.cell_id from members m where m.id = r.member_id
                union all
                select t.cell_id from member_transfers t where t.member_id = r.member_id) c');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON member_transfers FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER member_transfers_years AFTER INSERT ON member_transfers REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select members_years_changed(array_agg(member_id), array_agg(cell_id)) from %s r');

CREATE TRIGGER member_transfers_years_d AFTER DELETE ON member_transfers REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select members_years_changed(array_agg(member_id), array_agg(cell_id)) from %s r');

CREATE TRIGGER member_transfers_years_u AFTER UPDATE ON member_transfers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select members_years_changed(array_agg(member_id), array_agg(cell_id)) from %s r');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON members FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER members_years_d AFTER DELETE ON members REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select members_years_changed(''{}'', array_agg(cell_id)) from %s r');

CREATE TRIGGER members_years_u AFTER UPDATE ON members REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select members_years_changed(array_agg(n.id), array_agg(o.cell_id))
           from new_rows n join old_rows o on o.id = n.id
           where n.cell_id <> o.cell_id or n.left_on is distinct from o.left_on');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON officials FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER officials_years AFTER UPDATE ON officials REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(a.cell_id), array_agg(a.year::int)) from reg18_assignments a
           where a.official_id in (select n.id from new_rows n join old_rows o on o.id = n.id
                                   where n."group" <> o."group")');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON positions FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER positions_status AFTER INSERT ON positions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select refresh_cell_secretary_status(array_agg(distinct cell_id)) from %s r having count(*) > 0');

CREATE TRIGGER positions_status_d AFTER DELETE ON positions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select refresh_cell_secretary_status(array_agg(distinct cell_id)) from %s r having count(*) > 0');

CREATE TRIGGER positions_status_u AFTER UPDATE ON positions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select refresh_cell_secretary_status(array_agg(distinct cell_id)) from %s r having count(*) > 0');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON programme_targets FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON programmes FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER announce_change AFTER INSERT ON published_reports FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER published_reports_frozen BEFORE DELETE OR UPDATE ON published_reports FOR EACH ROW EXECUTE FUNCTION published_reports_are_frozen();

CREATE TRIGGER published_reports_no_truncate BEFORE TRUNCATE ON published_reports FOR EACH STATEMENT EXECUTE FUNCTION published_reports_are_frozen();

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON reg18_assignments FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER reg18_assignments_years AFTER INSERT ON reg18_assignments REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(cell_id), array_agg(year::int)) from %s r');

CREATE TRIGGER reg18_assignments_years_d AFTER DELETE ON reg18_assignments REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(cell_id), array_agg(year::int)) from %s r');

CREATE TRIGGER reg18_assignments_years_u AFTER UPDATE ON reg18_assignments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select cell_years_changed(array_agg(cell_id), array_agg(year::int)) from %s r');

CREATE TRIGGER rubric_criteria_frozen BEFORE DELETE OR UPDATE ON rubric_criteria FOR EACH ROW EXECUTE FUNCTION rubric_in_use_is_frozen();

CREATE CONSTRAINT TRIGGER rubric_criteria_sum AFTER INSERT OR DELETE OR UPDATE ON rubric_criteria DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rubric_points_add_up();

CREATE TRIGGER rubric_versions_frozen BEFORE DELETE OR UPDATE ON rubric_versions FOR EACH ROW EXECUTE FUNCTION rubric_in_use_is_frozen();

CREATE TRIGGER announce_change AFTER DELETE OR TRUNCATE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_auth');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON settings FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER settings_stats AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON settings FOR EACH STATEMENT EXECUTE FUNCTION settings_changed();

CREATE CONSTRAINT TRIGGER structure_queue_apply AFTER INSERT ON structure_queue DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION structure_apply();

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON tasks FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON trainings FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER trainings_status AFTER INSERT ON trainings REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select refresh_cell_secretary_status(array_agg(distinct s.cell_id))
            from %s r join positions s on s.member_id = r.member_id and s.position = ''secretary''
            having count(*) > 0');

CREATE TRIGGER trainings_status_d AFTER DELETE ON trainings REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select refresh_cell_secretary_status(array_agg(distinct s.cell_id))
            from %s r join positions s on s.member_id = r.member_id and s.position = ''secretary''
            having count(*) > 0');

CREATE TRIGGER trainings_status_u AFTER UPDATE ON trainings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_changed('select refresh_cell_secretary_status(array_agg(distinct s.cell_id))
            from %s r join positions s on s.member_id = r.member_id and s.position = ''secretary''
            having count(*) > 0');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON unit_month_rollup FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON unit_moves FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER unit_moves_noted_delete AFTER DELETE ON unit_moves REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION structure_noted();

CREATE TRIGGER unit_moves_noted_insert AFTER INSERT ON unit_moves REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION structure_noted();

CREATE TRIGGER unit_moves_noted_update AFTER UPDATE ON unit_moves REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION structure_noted();

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON unit_quarter_rollup FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON unit_year_rollup FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER announce_change AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON units FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_data');

CREATE TRIGGER units_noted_insert AFTER INSERT ON units REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION structure_noted();

CREATE TRIGGER units_noted_update AFTER UPDATE ON units REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION structure_noted();

CREATE TRIGGER units_places AFTER DELETE ON units FOR EACH STATEMENT EXECUTE FUNCTION structure_changed();

CREATE TRIGGER announce_change AFTER DELETE OR UPDATE OR TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION announce_change('chibo_auth');
