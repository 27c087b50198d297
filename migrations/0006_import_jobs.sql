-- Imports started from the web (an uploaded bundle, or one record saved from a page) run in the background and
-- report here, so that any instance can show their progress and outcome, and a form sent back with errors can be
-- filled again with what was typed.
create table import_jobs (
    id bigserial primary key,
    user_id bigint not null references users (id),
    -- what was sent: "upload" with the file names, or the bundle file a record form wrote
    source text not null,
    dry_run boolean not null default false,
    state text not null default 'running' check (state in ('running', 'done', 'problems', 'failed')),
    -- progress lines, in the user's language, as they come
    steps text[] not null default '{}',
    problems text[] not null default '{}',
    -- rows added or changed per table
    changed jsonb,
    -- a record form's fields as typed, to fill the form again
    form jsonb,
    -- the page to go back to
    back text,
    started_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index import_jobs_by_user on import_jobs (user_id, id desc);
