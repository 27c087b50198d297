-- A home for background work (issue 14 item 6), run by every `chibo serve` (src/jobs/).
--
-- The outbox: one row per piece of work, named by its kind and carrying its payload. An instance claims a due row
-- (`for update skip locked`) and holds it for a lease it renews while it works; a row whose holder stopped is taken
-- again once the lease has run out. A failure is retried later, each time twice as late, up to its kind's limit.
-- The idempotency key makes asking twice for the same work one row.
create table outbox (
    id bigserial primary key,
    kind text not null check (kind <> ''),
    payload jsonb not null default '{}',
    idempotency_key text unique,
    state text not null default 'pending' check (state in ('pending', 'running', 'done', 'failed')),
    -- claims so far, the running one included
    attempts integer not null default 0 check (attempts >= 0),
    -- a pending row is not claimed before
    next_attempt_at timestamptz not null default now(),
    last_error text,
    -- the instance holding a running row, and until when
    locked_by text,
    locked_until timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check ((state = 'running') = (locked_by is not null and locked_until is not null))
);
create index outbox_due on outbox (next_attempt_at) where state = 'pending';
create index outbox_leases on outbox (locked_until) where state = 'running';
create index outbox_finished on outbox (updated_at) where state in ('done', 'failed');

-- Recurring work, one row per kind: whichever instance takes the row's lease when it is due runs it, so that at
-- most one instance runs a kind at a time; the next run is then written here for all of them.
create table recurring_jobs (
    kind text primary key check (kind <> ''),
    next_run_at timestamptz not null,
    -- times taken: the fencing token of the current holder
    runs bigint not null default 0,
    -- failures in a row, for the retry delay
    failures integer not null default 0,
    last_run_at timestamptz,
    last_error text,
    locked_by text,
    locked_until timestamptz,
    updated_at timestamptz not null default now(),
    check ((locked_by is null) = (locked_until is null))
);

-- An import whose instance stopped part way (nothing was written: its transaction went with it) is said to be
-- interrupted, from the outbox lease that ran out, instead of being guessed from ten minutes of silence.
alter table import_jobs drop constraint import_jobs_state_check;
alter table import_jobs add constraint import_jobs_state_check
    check (state in ('running', 'done', 'problems', 'failed', 'interrupted'));
