-- The lock of the reporting cycle (DOMAIN.md §10): once a cell-month's report is approved, the cell's meetings held
-- in that month, their attendance, guests and score can be neither created, changed nor deleted, by any writer (the
-- web, the import, the CLI, plain SQL). Tasks are not locked: they may still be marked done. Unlocking (the report
-- back to `returned`) opens the month again.
--
-- A refusal is SQLSTATE 'CB001' (chibo's own class), its message names the cell and month, and its DETAIL is
-- 'CELL/YYYY-MM', which the application reads to say it in the user's language.

-- Refuses the statement if any (cell, day) given falls in an approved cell-month.
create function refuse_locked_months(cells bigint[], days date[]) returns void language plpgsql as $$
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
end $$;

-- A meeting's own columns that the lock covers: all but its bookkeeping (the import's ref given to a web meeting,
-- the version counter, the time of the last save).
create function meeting_locked_part(m jsonb) returns jsonb language sql immutable as $$
    select m - array['ref', 'version', 'updated_at', 'idempotency_key']
$$;

-- Statement-level, as the metric triggers (migration 0003): one check per statement, however many rows.
create function meetings_lock() returns trigger language plpgsql as $$
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
end $$;
create trigger meetings_lock_insert after insert on meetings referencing new table as new_rows
    for each statement execute function meetings_lock();
create trigger meetings_lock_update after update on meetings referencing new table as new_rows old table as old_rows
    for each statement execute function meetings_lock();
create trigger meetings_lock_delete after delete on meetings referencing old table as old_rows
    for each statement execute function meetings_lock();

-- Attendance and guests: the month of the meeting they belong to. A row deleted with its meeting (the cascade)
-- finds no meeting any more: the meeting's own trigger has judged that delete.
create function meeting_rows_lock() returns trigger language plpgsql as $$
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
end $$;
create trigger attendance_lock_insert after insert on attendance referencing new table as new_rows
    for each statement execute function meeting_rows_lock();
create trigger attendance_lock_update after update on attendance referencing new table as new_rows old table as old_rows
    for each statement execute function meeting_rows_lock();
create trigger attendance_lock_delete after delete on attendance referencing old table as old_rows
    for each statement execute function meeting_rows_lock();
create trigger meeting_guests_lock_insert after insert on meeting_guests referencing new table as new_rows
    for each statement execute function meeting_rows_lock();
create trigger meeting_guests_lock_update after update on meeting_guests referencing new table as new_rows old table as old_rows
    for each statement execute function meeting_rows_lock();
create trigger meeting_guests_lock_delete after delete on meeting_guests referencing old table as old_rows
    for each statement execute function meeting_rows_lock();

-- the triggers' first question: is anything approved at all
create index cell_reports_approved on cell_reports (cell_id, month) where state = 'approved';
