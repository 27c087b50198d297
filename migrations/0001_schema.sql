-- The whole domain of DOMAIN.md §4–§8: structure over time, people, meetings, officials, targets, users, audit.
create extension if not exists btree_gist;

-- §4 Units form a tree whose shape changes over time: a unit opens under `parent_id`, may move (unit_moves)
-- and may close; nothing is rewritten.
create table units (
    id          bigint generated always as identity primary key,
    code        text not null unique check (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'),
    kind        text not null check (kind in ('province', 'district', 'committee', 'cell')),
    name        text not null check (length(trim(name)) > 0),
    parent_id   bigint references units (id),
    valid_from  date not null,
    valid_to    date check (valid_to >= valid_from),
    cell_type   text check (cell_type in ('village', 'residential', 'agency', 'enterprise', 'school', 'armed_forces', 'other')),
    -- a cell has a type, other units do not
    check ((kind = 'cell') = (cell_type is not null)),
    check (parent_id is distinct from id)
);
create index units_parent on units (parent_id);

create table unit_moves (
    unit_id      bigint not null references units (id) on delete cascade,
    parent_id    bigint not null references units (id),
    effective_on date not null,
    primary key (unit_id, effective_on),
    check (parent_id <> unit_id)
);
create index unit_moves_parent on unit_moves (parent_id);

-- Each stretch of time a unit spent under one parent (parent null: the root).
create view unit_parent_periods as
with seg as (
    select u.id as unit_id, u.parent_id, u.valid_from as start_on from units u
    union all
    select m.unit_id, m.parent_id, m.effective_on from unit_moves m
)
select s.unit_id, s.parent_id, s.start_on,
       least(lead(s.start_on) over w - 1, u.valid_to) as end_on
from seg s join units u on u.id = s.unit_id
window w as (partition by s.unit_id order by s.start_on);

-- People ------------------------------------------------------------------------------------------------
create table members (
    id          bigint generated always as identity primary key,
    code        text not null unique check (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'),
    full_name   text not null check (length(trim(full_name)) > 0),
    -- lower case, without accents: what member search compares against
    search_name text not null,
    gender      text not null check (gender in ('male', 'female')),
    birth_date  date not null,
    ethnicity   text not null,
    joined_on   date not null check (joined_on > birth_date),
    official_on date check (official_on >= joined_on),
    cell_id     bigint not null references units (id),
    left_on     date check (left_on > joined_on)
);
create index members_cell on members (cell_id);
create index members_search on members (search_name text_pattern_ops);

create table member_transfers (
    member_id    bigint not null references members (id) on delete cascade,
    cell_id      bigint not null references units (id),
    effective_on date not null,
    primary key (member_id, effective_on)
);
create index member_transfers_cell on member_transfers (cell_id);

-- Each stretch of time a member was on one cell's roll (DOMAIN.md §8), end inclusive, null while open.
create view member_stints as
with seg as (
    select m.id as member_id, m.cell_id, m.joined_on as start_on from members m
    union all
    select t.member_id, t.cell_id, t.effective_on from member_transfers t
)
select s.member_id, s.cell_id, s.start_on,
       least(lead(s.start_on) over w - 1, m.left_on - 1) as end_on
from seg s join members m on m.id = s.member_id
window w as (partition by s.member_id order by s.start_on);

create table exemptions (
    id         bigint generated always as identity primary key,
    member_id  bigint not null references members (id) on delete cascade,
    valid_from date not null,
    valid_to   date check (valid_to >= valid_from),
    exclude using gist (member_id with =, daterange(valid_from, valid_to, '[]') with &&)
);

create table positions (
    id         bigint generated always as identity primary key,
    cell_id    bigint not null references units (id),
    member_id  bigint not null references members (id) on delete cascade,
    position   text not null check (position in ('secretary', 'deputy_secretary', 'committee_member')),
    valid_from date not null,
    valid_to   date check (valid_to >= valid_from),
    -- one secretary per cell at a time
    exclude using gist (cell_id with =, daterange(valid_from, valid_to, '[]') with &&) where (position = 'secretary')
);
create index positions_member on positions (member_id);

create table trainings (
    id         bigint generated always as identity primary key,
    member_id  bigint not null references members (id) on delete cascade,
    trained_on date not null,
    course     text,
    unique (member_id, trained_on, course)
);

-- Meetings --------------------------------------------------------------------------------------------
create table meetings (
    id              bigint generated always as identity primary key,
    -- the import bundle's key; web-created meetings get 'web-<id>' style refs lazily on export
    ref             text unique,
    cell_id         bigint not null references units (id),
    held_on         date not null,
    kind            text not null check (kind in ('regular', 'thematic', 'extraordinary')),
    topic           text not null check (length(trim(topic)) > 0),
    content         text not null default '',
    resolution      text not null default '',
    location        text not null default '',
    started_at      time,
    ended_at        time,
    rating          text check (rating in ('good', 'fair', 'average', 'weak')),
    score           smallint check (score between 0 and 100),
    score_detail    jsonb,
    chair_id        bigint references members (id),
    minute_taker_id bigint references members (id),
    -- paper-book history: the four counts instead of per-member rows; all four or none
    present         integer check (present >= 0),
    excused         integer check (excused >= 0),
    unexcused       integer check (unexcused >= 0),
    exempt          integer check (exempt >= 0),
    check ((present is null) = (excused is null) and (present is null) = (unexcused is null)
           and (present is null) = (exempt is null)),
    check (ended_at is null or started_at is null or ended_at > started_at),
    -- optimistic concurrency: an edit must name the version it started from
    version         integer not null default 1,
    -- a form submission's key, so that the same form sent twice creates one meeting
    idempotency_key text unique,
    created_by      bigint,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index meetings_cell_held on meetings (cell_id, held_on);

create table attendance (
    meeting_id bigint not null references meetings (id) on delete cascade,
    member_id  bigint not null references members (id),
    status     text not null check (status in ('present', 'excused', 'unexcused', 'exempt')),
    primary key (meeting_id, member_id)
);
create index attendance_member on attendance (member_id);

-- Resolution tasks assigned to members.
create table tasks (
    id          bigint generated always as identity primary key,
    meeting_id  bigint not null references meetings (id) on delete cascade,
    assignee_id bigint not null references members (id),
    description text not null check (length(trim(description)) > 0),
    due_on      date,
    status      text not null default 'open' check (status in ('open', 'done')),
    done_on     date,
    check ((status = 'done') = (done_on is not null))
);
create index tasks_meeting on tasks (meeting_id);
create index tasks_assignee on tasks (assignee_id);

-- The 100-point helper of DOMAIN.md §6 (defaults, editable by an administrator).
create table rating_criteria (
    key        text primary key,
    label_vi   text not null,
    label_en   text not null,
    max_points smallint not null check (max_points > 0),
    position   smallint not null unique
);
insert into rating_criteria values
    ('preparation', 'Chuẩn bị', 'Preparation', 15, 1),
    ('attendance', 'Tham dự', 'Attendance', 20, 2),
    ('conduct', 'Tiến hành', 'Conduct', 45, 3),
    ('conclusion', 'Kết luận', 'Conclusion', 20, 4);

-- Regulation 18: officials assigned to attend cell meetings -------------------------------------------
create table officials (
    id        bigint generated always as identity primary key,
    code      text not null unique check (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'),
    full_name text not null check (length(trim(full_name)) > 0),
    "group"   text not null check ("group" in ('provincial_standing', 'provincial_committee', 'district_standing',
                                               'district_committee', 'advisory_staff', 'grassroots_committee')),
    unit_id   bigint not null references units (id)
);

create table reg18_assignments (
    official_id bigint not null references officials (id) on delete cascade,
    cell_id     bigint not null references units (id),
    year        smallint not null check (year between 1930 and 2200),
    required    smallint not null check (required > 0),
    primary key (official_id, cell_id, year)
);
create index reg18_assignments_cell on reg18_assignments (cell_id, year);

create table meeting_guests (
    meeting_id  bigint not null references meetings (id) on delete cascade,
    official_id bigint not null references officials (id),
    primary key (meeting_id, official_id)
);
create index meeting_guests_official on meeting_guests (official_id);

-- Annual classifications --------------------------------------------------------------------------------
create table cell_classifications (
    cell_id bigint not null references units (id),
    year    smallint not null check (year between 1930 and 2200),
    level   text not null check (level in ('excellent', 'good', 'complete', 'fail')),
    primary key (cell_id, year)
);

create table member_classifications (
    member_id bigint not null references members (id) on delete cascade,
    year      smallint not null check (year between 1930 and 2200),
    level     text not null check (level in ('excellent', 'good', 'complete', 'fail')),
    primary key (member_id, year)
);

-- Programmes and targets -----------------------------------------------------------------------------
create table programmes (
    id         bigint generated always as identity primary key,
    code       text not null unique,
    name       text not null,
    from_month date not null check (extract(day from from_month) = 1),
    to_month   date not null check (extract(day from to_month) = 1 and to_month >= from_month)
);

create table programme_targets (
    programme_id bigint not null references programmes (id) on delete cascade,
    metric       text not null check (metric in ('attendance_rate', 'good_meeting_share', 'meeting_regularity',
                                                 'thematic_coverage', 'cells_good_or_better', 'members_good_or_better',
                                                 'secretaries_trained', 'reg18_participation')),
    -- null: the programme's default for every unit; otherwise an override for that unit and below
    unit_id      bigint references units (id),
    target       numeric(7, 6) not null check (target >= 0 and target <= 2),
    unique nulls not distinct (programme_id, metric, unit_id)
);
insert into programmes (code, name, from_month, to_month)
    values ('DA16', 'Đề án 16-ĐA/TU nâng cao chất lượng sinh hoạt chi bộ', '2020-01-01', '2025-12-01');
insert into programme_targets (programme_id, metric, target)
    select id, m, t from programmes,
        (values ('attendance_rate', 0.9), ('good_meeting_share', 0.8), ('meeting_regularity', 1.0),
                ('thematic_coverage', 1.0)) as v(m, t)
    where code = 'DA16';

-- Users, sessions, audit ---------------------------------------------------------------------------
create table users (
    id            bigint generated always as identity primary key,
    username      text not null unique check (username ~ '^[a-z0-9][a-z0-9_.-]*$'),
    display_name  text not null,
    password_hash text not null,
    role          text not null check (role in ('admin', 'province_viewer', 'district_viewer', 'committee_clerk',
                                                'cell_secretary')),
    unit_id       bigint not null references units (id),
    disabled      boolean not null default false,
    created_at    timestamptz not null default now()
);

create table sessions (
    -- SHA-256 of the cookie's token, so a leaked table does not leak live sessions
    id_hash      text primary key,
    user_id      bigint not null references users (id) on delete cascade,
    csrf_token   text not null,
    created_at   timestamptz not null default now(),
    last_seen_at timestamptz not null default now()
);
create index sessions_user on sessions (user_id);

create table login_failures (
    username  text not null,
    failed_at timestamptz not null default now()
);
create index login_failures_user on login_failures (username, failed_at);

create table audit_log (
    id        bigint generated always as identity primary key,
    at        timestamptz not null default now(),
    user_id   bigint references users (id),
    ip        text,
    action    text not null check (action in ('create', 'update', 'delete', 'import')),
    entity    text not null,
    entity_id text not null,
    before    jsonb,
    after     jsonb
);
create index audit_log_entity on audit_log (entity, entity_id);

-- The audit trail is append-only.
create function audit_log_is_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only';
end $$;
create trigger audit_log_append_only before update or delete on audit_log
    for each row execute function audit_log_is_append_only();
