-- Issue 17 item 4: spreadsheets as they are. An upload whose file names or column headings are the committee's own
-- ("Đảng viên", "Họ và tên") is mapped once onto the bundle's files and columns on a page; the mapping is
-- remembered here, so that the next upload of the same spreadsheet imports straight away.

-- An uploaded file's or sheet's own name (folded: lower case, no accents, single spaces, without ".csv") → the
-- bundle file it is; no file: a sheet to leave out.
create table import_file_names (
    name     text primary key check (length(name) between 1 and 200),
    file     text check (file ~ '^[a-z]+\.csv$'),
    saved_by bigint references users (id),
    saved_at timestamptz not null default now()
);

-- A column heading of a bundle file's sheet (folded) → the bundle column it holds; no column: ignored ("STT").
create table import_headings (
    file     text not null check (file ~ '^[a-z]+\.csv$'),
    heading  text not null check (length(heading) between 1 and 200),
    col      text check (col ~ '^[a-z_]+$'),
    saved_by bigint references users (id),
    saved_at timestamptz not null default now(),
    primary key (file, heading)
);

-- An upload waiting for its headings to be mapped: its files as unpacked (CSV), kept for a day and only for the
-- user who sent them, deleted when the mapping is sent (web::headings; at most upload::KEEP_MAX bytes).
create table import_drafts (
    id         bigserial primary key,
    user_id    bigint not null references users (id) on delete cascade,
    source     text not null,
    dry_run    boolean not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);
create index import_drafts_by_user on import_drafts (user_id);
create index import_drafts_by_expiry on import_drafts (expires_at);

create table import_draft_files (
    draft_id bigint not null references import_drafts (id) on delete cascade,
    position integer not null,
    name     text not null,
    content  bytea not null,
    primary key (draft_id, position)
);
