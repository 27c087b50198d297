-- The monthly reporting cycle (DOMAIN.md §10): the settings it reads and one report per cell and month.

-- Settings an administrator keeps (and the import's settings.csv): `reporting_since` ('YYYY-MM', months before it are
-- outside every reporting metric; no row: no month is required yet) and `report_deadline_day` (1–28, default 5).
create table settings (
    key   text primary key check (key in ('reporting_since', 'report_deadline_day')),
    value text not null,
    check (key <> 'reporting_since' or value ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    check (key <> 'report_deadline_day' or (value ~ '^[0-9]{1,2}$' and value::int between 1 and 28))
);

-- A cell-month's report: draft → submitted → approved, or returned (with a reason) → submitted again.
-- No row is the same as a draft. Dates are local (Asia/Ho_Chi_Minh); `first_submitted_on` decides timeliness.
create table cell_reports (
    cell_id            bigint not null references units (id),
    month              date not null check (month = date_trunc('month', month)::date),
    state              text not null default 'draft' check (state in ('draft', 'submitted', 'approved', 'returned')),
    first_submitted_on date,
    submitted_on       date,
    submitted_by       bigint references users (id),
    approved_on        date,
    approved_by        bigint references users (id),
    -- why a month has no regular meeting (flood, harvest, …): required to submit such a month
    reason             text check (reason is null or length(trim(reason)) > 0),
    -- why a reviewer returned it, or why an approved month was unlocked
    returned_reason    text check (returned_reason is null or length(trim(returned_reason)) > 0),
    updated_at         timestamptz not null default now(),
    primary key (cell_id, month),
    check ((state in ('submitted', 'approved')) <= (submitted_on is not null)),
    check ((state = 'approved') = (approved_on is not null)),
    check (first_submitted_on is null or submitted_on is null or first_submitted_on <= submitted_on),
    check ((submitted_on is null) = (first_submitted_on is null)),
    check (state <> 'returned' or returned_reason is not null)
);
create index cell_reports_month on cell_reports (month, state);

create trigger announce_change after insert or update or delete or truncate on cell_reports
    for each statement execute function announce_change('chibo_data');
create trigger announce_change after insert or update or delete or truncate on settings
    for each statement execute function announce_change('chibo_data');
