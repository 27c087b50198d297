-- Every change that can alter a page is announced, so that each running chibo (and there may be several behind one
-- address) drops the pages and sessions it keeps in memory. A statement-level trigger costs one notice per statement,
-- and PostgreSQL folds equal notices of one transaction into one, delivered at commit.
--   chibo_data: anything a report, a dashboard or the structure depends on;
--   chibo_auth: a session ended, a user changed (disabled, new role or unit, new password).
-- A table added by a later migration must get its trigger there too (the loop below sees only today's tables).
create function announce_change() returns trigger language plpgsql as $$
begin
    perform pg_notify(tg_argv[0], '');
    return null;
end $$;

do $$
declare t text;
begin
    for t in
        select tablename from pg_tables
        where schemaname = current_schema()
          and tablename not in ('sessions', 'users', 'api_tokens', 'login_failures', 'password_resets', 'audit_log',
                                '_sqlx_migrations')
        order by tablename
    loop
        execute format('create trigger announce_change after insert or update or delete or truncate on %I '
                       'for each statement execute function announce_change(%L)', t, 'chibo_data');
    end loop;
end $$;

-- a session touched on use is not news; one that ends is
create trigger announce_change after delete or truncate on sessions
    for each statement execute function announce_change('chibo_auth');
create trigger announce_change after update or delete or truncate on users
    for each statement execute function announce_change('chibo_auth');
