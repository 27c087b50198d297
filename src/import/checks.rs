//! The bundle's consistency checks, as SQL over the staging tables (`s_*`, rows with `line`) and the database.
//! Each query returns `(line, column, key, args)`: the column whose value is wrong (or null), the message's key
//! (`import::problem::KEYS`) and the values it quotes; the file is given beside it.
//!
//! `BEFORE` runs on the staged rows before anything is written (it also keeps the merge from tripping a
//! constraint); `AFTER` runs on the tables once the bundle is merged, inside the same transaction, and uses the
//! structure and rolls as they would stand.

use super::spec::{FILES, FileSpec, Kind};
use crate::domain::vocab::UnitKind;

/// Every unit code known: the bundle's and the database's, with its kind.
const UNITS: &str = "(select code, kind from s_units union all select code, kind from units)";

/// Where a code may be found: the bundle's staged rows and the database's table (`{v}`: the value looked up). Each is
/// its own `not exists`, so that the planner sees the statistics of both tables: behind a `union all` it would take
/// the codes to repeat and sort the file's rows (the 6 million attendance rows of a province bundle: 3.3 s instead of
/// 0.8 s for its members' codes).
const UNIT_CODES: &[&str] = &["s_units k where k.code = {v}", "units k where k.code = {v}"];
const MEMBER_CODES: &[&str] = &["s_members k where k.code = {v}", "members k where k.code = {v}"];
const OFFICIAL_CODES: &[&str] = &["s_officials k where k.code = {v}", "officials k where k.code = {v}"];

/// Rows whose `col` names no unit, member, official or meeting.
fn unknown(table: &str, col: &str, known: &[&str]) -> String {
    let nowhere: Vec<String> =
        known.iter().map(|k| format!("not exists (select 1 from {})", k.replace("{v}", &format!("s.{col}")))).collect();
    format!(
        "select s.line, '{col}', 'unknown', array[s.{col}] from {table} s
         where s.{col} is not null and {}",
        nowhere.join(" and ")
    )
}

/// Rows whose `col` names a unit that is not a cell.
fn not_cell(table: &str, col: &str) -> String {
    format!(
        "select s.line, '{col}', 'not_cell', array[s.{col}] from {table} s
         where exists (select 1 from {UNITS} k where k.code = s.{col} and k.kind <> 'cell')"
    )
}

/// Rows repeating the key ([`FileSpec::key`]) of an earlier row of the file; a month as `YYYY-MM`.
fn dup(spec: &FileSpec) -> String {
    let cols: Vec<String> = spec
        .key()
        .iter()
        .map(|k| match spec.cols.iter().find(|c| c.name == *k).map(|c| c.kind) {
            Some(Kind::Month) => format!("to_char({k}, 'YYYY-MM')"),
            _ => k.to_string(),
        })
        .collect();
    let (key, what, table) = (cols.join(", "), spec.key().join(" / "), spec.table);
    // the key's first column stands for it
    let col = spec.key()[0];
    format!(
        "select line, '{col}', 'dup', array['{what}', k, first::text] from (
             select line, concat_ws(' / ', {key}) as k, min(line) over (partition by {key}) as first
             from {table}) x
         where line <> first and k <> ''"
    )
}

/// The `dup` checks of the files in which two rows may share a key: those whose reader saw two keys hash alike
/// (`spec::Streamed::may_repeat`). Of any other file no two rows do, and its check, a sort of every row, is left out.
pub fn duplicates(repeating: &[&str]) -> Vec<(&'static str, String)> {
    FILES.iter().filter(|f| repeating.contains(&f.name)).map(|f| (f.name, dup(f))).collect()
}

/// Rows whose `later` column comes before their `earlier` one.
fn order(table: &str, later: &str, earlier: &str) -> String {
    format!("select line, '{later}', 'before', array['{earlier}'] from {table} where {later} < {earlier}")
}

/// Rows whose `later` column does not come after their `earlier` one.
fn strictly_after(table: &str, later: &str, earlier: &str) -> String {
    format!("select line, '{later}', 'not_after', array['{earlier}'] from {table} where {later} <= {earlier}")
}

/// A meeting's reference: the bundle's, the database's, or `web-<id>` for a meeting made on the web.
const MEETING_REFS: &[&str] = &[
    "s_meetings k where k.ref = {v}",
    "meetings k where k.ref = {v}",
    "meetings k where k.ref is null and 'web-' || k.id = {v}",
];

/// Attendance rows naming no meeting or member. Not among [`before`]: when the attendance table is empty (a province
/// coming onto the system) the load itself proves them, for an attendance row can only be inserted by joining its
/// meeting and its member, each at most once: as many rows inserted as the file gave means none names anything
/// unknown, and these checks (a pass over the 6 million rows of a province bundle, 1.2 s) run only when fewer were,
/// or when the import stops before or in the merge. Otherwise they run with the others before anything is written.
pub fn attendance_refs() -> Vec<(&'static str, String)> {
    vec![
        ("attendance.csv", unknown("s_attendance", "meeting_ref", MEETING_REFS)),
        ("attendance.csv", unknown("s_attendance", "member_code", MEMBER_CODES)),
    ]
}

pub fn before() -> Vec<(&'static str, String)> {
    vec![
        ("units.csv", order("s_units", "valid_to", "valid_from")),
        (
            "units.csv",
            "select line, 'cell_type', 'cell_type', array[]::text[] from s_units
             where not broken and (kind = 'cell') <> (cell_type is not null)"
                .into(),
        ),
        (
            "units.csv",
            "select line, null::text, 'self_parent', array[]::text[] from s_units where parent_code = code".into(),
        ),
        ("units.csv", unknown("s_units", "parent_code", UNIT_CODES)),
        (
            "units.csv",
            format!(
                "select s.line, 'parent_code', 'cell_parent', array[s.parent_code] from s_units s
                 where exists (select 1 from {UNITS} k where k.code = s.parent_code and k.kind = 'cell')"
            ),
        ),
        (
            "units.csv",
            "select s.line, null::text, 'kind_changed', array[s.code, u.kind, s.kind] from s_units s join units u on u.code = s.code
             where u.kind <> s.kind and 'cell' in (u.kind, s.kind)"
                .into(),
        ),
        ("moves.csv", unknown("s_moves", "code", UNIT_CODES)),
        ("moves.csv", unknown("s_moves", "parent_code", UNIT_CODES)),
        (
            "moves.csv",
            "select line, null::text, 'self_parent', array[]::text[] from s_moves where parent_code = code".into(),
        ),
        (
            "moves.csv",
            format!(
                "select s.line, 'parent_code', 'cell_parent', array[s.parent_code] from s_moves s
                 where exists (select 1 from {UNITS} k where k.code = s.parent_code and k.kind = 'cell')"
            ),
        ),
        ("members.csv", strictly_after("s_members", "joined_on", "birth_date")),
        ("members.csv", order("s_members", "official_on", "joined_on")),
        ("members.csv", strictly_after("s_members", "left_on", "joined_on")),
        ("members.csv", unknown("s_members", "cell_code", UNIT_CODES)),
        ("members.csv", not_cell("s_members", "cell_code")),
        ("transfers.csv", unknown("s_transfers", "member_code", MEMBER_CODES)),
        (
            "transfers.csv",
            "select s.line, 'effective_on', 'not_after', array['joined_on'] from s_transfers s
             join (select code, joined_on from s_members where not broken
                   union all select code, joined_on from members m
                   where not exists (select 1 from s_members x where x.code = m.code)) m on m.code = s.member_code
             where s.effective_on <= m.joined_on"
                .into(),
        ),
        ("transfers.csv", unknown("s_transfers", "cell_code", UNIT_CODES)),
        ("transfers.csv", not_cell("s_transfers", "cell_code")),
        ("exemptions.csv", order("s_exemptions", "valid_to", "valid_from")),
        ("exemptions.csv", unknown("s_exemptions", "member_code", MEMBER_CODES)),
        ("exemptions.csv", overlap("s_exemptions", "exemptions e join members m on m.id = e.member_id", "member_code", "m.code")),
        ("positions.csv", order("s_positions", "valid_to", "valid_from")),
        ("positions.csv", unknown("s_positions", "cell_code", UNIT_CODES)),
        ("positions.csv", not_cell("s_positions", "cell_code")),
        ("positions.csv", unknown("s_positions", "member_code", MEMBER_CODES)),
        (
            "positions.csv",
            overlap(
                "(select * from s_positions where position = 'secretary')",
                "positions e join units m on m.id = e.cell_id and e.position = 'secretary' join members mm on mm.id = e.member_id",
                "cell_code",
                "m.code",
            ),
        ),
        ("trainings.csv", unknown("s_trainings", "member_code", MEMBER_CODES)),
        ("meetings.csv", unknown("s_meetings", "cell_code", UNIT_CODES)),
        ("meetings.csv", not_cell("s_meetings", "cell_code")),
        (
            "meetings.csv",
            "select line, null::text, 'counts', array[]::text[] from s_meetings where not broken
             and num_nulls(present, excused, unexcused, exempt) not in (0, 4)"
                .into(),
        ),
        ("meetings.csv", strictly_after("s_meetings", "ended_at", "started_at")),
        (
            "meetings.csv",
            "select line, 'combined_thematic', 'combined_not_regular', array[]::text[] from s_meetings
             where not broken and combined_thematic = 'true' and kind <> 'regular'"
                .into(),
        ),
        (
            "meetings.csv",
            // a join rather than `exists`: the meetings given as counts are hashed and the attendance rows read past
            // them once, instead of all 6 million attendance rows hashed (0.8 s on the province bundle)
            "select distinct m.line, null::text, 'rows_and_counts', array[m.ref]
             from s_meetings m join s_attendance a on a.meeting_ref = m.ref where m.present is not null"
                .into(),
        ),
        ("meetings.csv", locked_meetings()),
        (
            "attendance.csv",
            locked_rows(
                "s_attendance",
                "status",
                "join members x on x.code = s.member_code",
                "attendance a where a.meeting_id = m.id and a.member_id = x.id and a.status = s.status",
            ),
        ),
        (
            "attendance.csv",
            "select line, 'mode', 'online_not_present', array[]::text[] from s_attendance
             where not broken and mode = 'online' and status <> 'present'"
                .into(),
        ),
        ("officials.csv", unknown("s_officials", "unit_code", UNIT_CODES)),
        ("assignments.csv", unknown("s_assignments", "official_code", OFFICIAL_CODES)),
        ("assignments.csv", unknown("s_assignments", "cell_code", UNIT_CODES)),
        ("assignments.csv", not_cell("s_assignments", "cell_code")),
        (
            "guests.csv",
            locked_rows(
                "s_guests",
                "official_code",
                "join officials x on x.code = s.official_code",
                "meeting_guests g where g.meeting_id = m.id and g.official_id = x.id",
            ),
        ),
        ("guests.csv", unknown("s_guests", "meeting_ref", MEETING_REFS)),
        ("guests.csv", unknown("s_guests", "official_code", OFFICIAL_CODES)),
        ("classifications.csv", unknown("(select * from s_classifications where subject = 'cell')", "code", UNIT_CODES)),
        ("classifications.csv", not_cell("(select * from s_classifications where subject = 'cell')", "code")),
        ("classifications.csv", unknown("(select * from s_classifications where subject = 'member')", "code", MEMBER_CODES)),
        ("reports.csv", unknown("s_reports", "cell_code", UNIT_CODES)),
        ("reports.csv", not_cell("s_reports", "cell_code")),
        (
            "reports.csv",
            "select line, 'approved_on', 'approved_unsubmitted', array[]::text[] from s_reports
             where approved_on is not null and submitted_on is null"
                .into(),
        ),
        ("reports.csv", order("s_reports", "approved_on", "submitted_on")),
        (
            "reports.csv",
            "select line, 'submitted_on', 'submitted_early', array[to_char(month, 'MM/YYYY')] from s_reports
             where submitted_on < month"
                .into(),
        ),
        (
            "settings.csv",
            // the values the `settings` table's checks allow (migration 0011)
            "select line, 'value', 'month', array[value] from s_settings
             where not broken and key = 'reporting_since' and value !~ '^[0-9]{4}-(0[1-9]|1[0-2])$'
             union all
             select line, 'value', 'number', array[value, '1', '28'] from s_settings
             where not broken and key = 'report_deadline_day'
               and case when value ~ '^[0-9]{1,2}$' then value::int not between 1 and 28 else true end"
                .into(),
        ),
    ]
}

/// The approved cell-months (DOMAIN.md §10): their meetings are locked (migration 0012 refuses the write). A staged
/// meeting is refused when it would add, change or move a meeting of such a month (into it or out of it); one that
/// restates the stored meeting as it is changes nothing and passes, so that a bundle exported and imported again
/// still goes through.
fn locked_meetings() -> String {
    let cols = ["held_on", "kind", "topic", "started_at", "ended_at", "rating", "score", "present", "excused"];
    let cols = cols.iter().chain(&["unexcused", "exempt"]);
    let stored: Vec<String> = cols.clone().map(|c| format!("m.{c}")).collect();
    let staged: Vec<String> = cols.map(|c| format!("s.{c}")).collect();
    format!(
        "with s as (
             select s.*, u.id as cell_id, coalesce(m1.id, m2.id) as meeting_id from s_meetings s
             join units u on u.code = s.cell_code
             left join meetings m1 on m1.ref = s.ref
             left join meetings m2 on m2.ref is null
                  and m2.id = case when s.ref ~ '^web-[0-9]{{1,18}}$' then substr(s.ref, 5)::bigint end
             where not s.broken),
         hit as (
             select s.line, s.cell_id, s.held_on from s left join meetings m on m.id = s.meeting_id
             where (m.cell_id, {stored}) is distinct from (s.cell_id, {staged})
             union all
             select s.line, m.cell_id, m.held_on from s join meetings m on m.id = s.meeting_id
             where (m.cell_id, {stored}) is distinct from (s.cell_id, {staged}))
         select distinct on (h.line) h.line, 'held_on', 'month_locked', array[u.code, to_char(r.month, 'MM/YYYY')]
         from hit h join cell_reports r on r.cell_id = h.cell_id and r.month = date_trunc('month', h.held_on)::date
                                      and r.state = 'approved'
              join units u on u.id = h.cell_id
         order by h.line, r.month",
        stored = stored.join(", "),
        staged = staged.join(", "),
    )
}

/// Staged rows of a meeting's file (attendance, guests) that would add or change a row of a meeting in an approved
/// cell-month (the meeting by its ref, or a web meeting by `web-<id>`): `join` finds the row's other party as `x`,
/// `same` is the stored row it would leave as it is.
fn locked_rows(table: &str, col: &str, join: &str, same: &str) -> String {
    format!(
        "select s.line, '{col}', 'month_locked', array[u.code, to_char(r.month, 'MM/YYYY')]
         from {table} s
              join meetings m on m.id = coalesce(
                  (select w.id from meetings w where w.ref = s.meeting_ref),
                  (select w.id from meetings w where w.ref is null
                      and w.id = case when s.meeting_ref ~ '^web-[0-9]{{1,18}}$' then substr(s.meeting_ref, 5)::bigint end))
              {join}
              join cell_reports r on r.cell_id = m.cell_id and r.month = date_trunc('month', m.held_on)::date
                                  and r.state = 'approved'
              join units u on u.id = m.cell_id
         where not s.broken and not exists (select 1 from {same})"
    )
}

/// Periods of the bundle (`staged`, keyed by `key`) that overlap another period of the same key, in the bundle or
/// in the database (`db`, whose key is `db_key`); a database row the bundle restates (same key and start) is
/// replaced by it, so it does not count.
fn overlap(staged: &str, db: &str, key: &str, db_key: &str) -> String {
    format!(
        "with s as (select line, {key} as k, valid_from, valid_to from {staged} x where not broken),
              d as (select null::integer as line, {db_key} as k, e.valid_from, e.valid_to from {db}
                    where {db_key} in (select k from s)
                      and not exists (select 1 from s where s.k = {db_key} and s.valid_from = e.valid_from)),
              a as (select * from s union all select * from d)
         select distinct on (s.line) s.line, null::text, 'overlap', array[s.k, o.valid_from::text] from s join a o
             on o.k = s.k and o.line is distinct from s.line and o.valid_from <> s.valid_from
            and daterange(s.valid_from, s.valid_to, '[]') && daterange(o.valid_from, o.valid_to, '[]')
         order by s.line, o.valid_from"
    )
}

/// A unit kind's depth: a unit is at a lower level (a greater depth) than each of its parents. Since the 2025
/// restructure communes sit directly under the province, so levels may be skipped, never repeated or reversed.
/// The kinds' order of `UnitKind` is that of the levels, from the top.
fn depth(kind: &str) -> String {
    let levels: Vec<String> = UnitKind::CODES.iter().map(|c| format!("'{c}'")).collect();
    format!("array_position(array[{}], {kind})", levels.join(", "))
}

/// Every link of a unit to a parent: the one it opened under (no date) and each move.
const LINKS: &str =
    "(select id as unit_id, parent_id, null::date as effective_on from units where parent_id is not null
     union all select unit_id, parent_id, effective_on from unit_moves)";

/// Units whose kind does not sit below a parent's, or above a child's, as the structure would stand. A link is
/// reported on the row that makes it: a move on its `moves.csv` line, any other link on the unit's `units.csv` line
/// (the child's, if the bundle has it).
fn nesting() -> Vec<(&'static str, String)> {
    let (child, parent, unit) = (depth("c.kind"), depth("p.kind"), depth("u.kind"));
    vec![
        (
            "units.csv",
            format!(
                "select distinct s.line, 'kind', 'kind_under', array[u.kind, p.code, p.kind]
                 from s_units s join units u on u.code = s.code join {LINKS} l on l.unit_id = u.id
                      join units p on p.id = l.parent_id
                 where not s.broken and {unit} <= {parent}
                   and not exists (select 1 from s_moves x where x.code = s.code and x.effective_on = l.effective_on)"
            ),
        ),
        (
            "units.csv",
            format!(
                "select distinct s.line, 'kind', 'kind_over', array[u.kind, c.code, c.kind]
                 from s_units s join units u on u.code = s.code join {LINKS} l on l.parent_id = u.id
                      join units c on c.id = l.unit_id
                 where not s.broken and {child} <= {unit}
                   and not exists (select 1 from s_units x where x.code = c.code)
                   and not exists (select 1 from s_moves x where x.code = c.code and x.effective_on = l.effective_on)"
            ),
        ),
        (
            "moves.csv",
            format!(
                "select s.line, 'parent_code', 'kind_under', array[u.kind, p.code, p.kind]
                 from s_moves s join units u on u.code = s.code join units p on p.code = s.parent_code
                 where not s.broken and {unit} <= {parent}"
            ),
        ),
    ]
}

/// `first_attendance`: the attendance table was empty before this import, so that every row it holds now is a row of
/// the bundle (proven by the count of [`attendance_refs`]).
pub fn after(first_attendance: bool) -> Vec<(&'static str, String)> {
    // a cycle: following parents from a unit on the day a link of the bundle starts leads back to it
    let cycle = |table: &str, day: &str| {
        format!(
            "with recursive walk as (
                 select s.line, u.id as start, s.code, s.{day} as day, p.parent_id as cur, 1 as depth
                 from {table} s join units u on u.code = s.code cross join lateral parent_on(u.id, s.{day}) p(parent_id)
                 where not s.broken
                 union all
                 select w.line, w.start, w.code, w.day, p.parent_id, w.depth + 1
                 from walk w cross join lateral parent_on(w.cur, w.day) p(parent_id)
                 where w.cur is not null and w.cur <> w.start and w.depth < 64)
             select distinct line, null::text, 'cycle', array[code, to_char(day, 'DD/MM/YYYY')] from walk
             where cur = start or depth >= 64"
        )
    };
    let mut checks = vec![
        ("units.csv", cycle("s_units", "valid_from")),
        (
            "units.csv",
            // a new unit still missing means its parents never resolved: they form a cycle among new units
            "select s.line, null::text, 'cycle', array[s.code, to_char(s.valid_from, 'DD/MM/YYYY')] from s_units s
             where not s.broken and not exists (select 1 from units u where u.code = s.code)"
                .into(),
        ),
        ("moves.csv", cycle("s_moves", "effective_on")),
        (
            "moves.csv",
            "select s.line, null::text, 'move_outside', array[to_char(s.effective_on, 'DD/MM/YYYY'), u.code,
                    to_char(u.valid_from, 'DD/MM/YYYY') || ' – ' || coalesce(to_char(u.valid_to, 'DD/MM/YYYY'), '')]
             from s_moves s join units u on u.code = s.code
             where not s.broken
               and (s.effective_on = u.valid_from or not is_open(u.valid_from, u.valid_to, s.effective_on))"
                .into(),
        ),
        (
            "moves.csv",
            "select s.line, null::text, 'parent_closed', array[p.code, to_char(s.effective_on, 'DD/MM/YYYY')]
             from s_moves s join units p on p.code = s.parent_code
             where not s.broken and not is_open(p.valid_from, p.valid_to, s.effective_on)"
                .into(),
        ),
        (
            "meetings.csv",
            "select s.line, null::text, 'meeting_closed', array[u.code, to_char(s.held_on, 'DD/MM/YYYY')]
             from s_meetings s join units u on u.code = s.cell_code
             where not s.broken and not is_open(u.valid_from, u.valid_to, s.held_on)"
                .into(),
        ),
        (
            "attendance.csv",
            format!(
                "select s.line, null::text, 'not_on_roll', array[s.member_code, u.code, to_char(m.held_on, 'DD/MM/YYYY')]
                 from s_attendance s join meetings m on m.ref = s.meeting_ref join members mm on mm.code = s.member_code
                      join units u on u.id = m.cell_id
                 where {} not s.broken and not exists (
                     select 1 from member_stints st where st.member_id = mm.id and st.cell_id = m.cell_id
                        and is_open(st.start_on, st.end_on, m.held_on))",
                // on a first load the rows of the bundle are the table's: counted there by their ids first, and looked
                // for line by line only if one is off the roll (1.9 s -> 1.3 s on the province bundle)
                if first_attendance {
                    "(select count(*) from attendance a join meetings m on m.id = a.meeting_id
                      where not exists (select 1 from member_stints st where st.member_id = a.member_id
                                        and st.cell_id = m.cell_id and is_open(st.start_on, st.end_on, m.held_on))) > 0
                     and"
                } else {
                    ""
                }
            ),
        ),
        (
            "attendance.csv",
            "select s.line, null::text, 'not_exempt', array[s.member_code, to_char(m.held_on, 'DD/MM/YYYY')]
             from s_attendance s join meetings m on m.ref = s.meeting_ref join members mm on mm.code = s.member_code
             where not s.broken and s.status = 'exempt' and not exists (
                 select 1 from exemptions e where e.member_id = mm.id and is_open(e.valid_from, e.valid_to, m.held_on))"
                .into(),
        ),
        (
            "meetings.csv",
            // looked for member by member only when the counts say someone is missing: the pairs (meeting, member
            // on its roll) are as many as those of them with an attendance row exactly when none lacks one (a member
            // is on a cell's roll once a day, an attendance row is one per member). Counting is two hash joins; the
            // search, an anti join against every attendance row (4.9 s on the province bundle instead of 2.7 s).
            "with b as (select m.id, m.cell_id, m.held_on from s_meetings s join meetings m on m.ref = s.ref
                        where not s.broken and s.kind = 'regular' and s.present is null)
             select s.line, null::text, 'roster', array[s.ref, mm.code, to_char(m.held_on, 'DD/MM/YYYY')]
             from s_meetings s join meetings m on m.ref = s.ref
                  join member_stints st on st.cell_id = m.cell_id and is_open(st.start_on, st.end_on, m.held_on)
                  join members mm on mm.id = st.member_id
             where (select count(*) from b join member_stints st on st.cell_id = b.cell_id
                                                               and is_open(st.start_on, st.end_on, b.held_on))
                   <> (select count(*) from attendance a join b on b.id = a.meeting_id
                       where exists (select 1 from member_stints st where st.member_id = a.member_id
                                     and st.cell_id = b.cell_id and is_open(st.start_on, st.end_on, b.held_on)))
               and not s.broken and s.kind = 'regular' and s.present is null
               and not exists (select 1 from attendance a where a.meeting_id = m.id and a.member_id = st.member_id)"
                .into(),
        ),
    ];
    checks.push((
        "reports.csv",
        // a cell reports the months it is open on some day of (DOMAIN.md §10, its place as in §4)
        "select s.line, 'month', 'report_closed', array[u.code, to_char(s.month, 'MM/YYYY')]
         from s_reports s join units u on u.code = s.cell_code
         where not s.broken and u.kind = 'cell'
           and ((s.month + interval '1 month')::date <= u.valid_from or s.month > u.valid_to)"
            .into(),
    ));
    checks.extend(nesting());
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_files_dup_check_is_over_the_key_its_reader_hashes() {
        let all: Vec<&str> = FILES.iter().map(|f| f.name).collect();
        assert!(duplicates(&[]).is_empty());
        assert!(before().iter().all(|(_, sql)| !sql.contains("'dup'")), "the dup checks run apart, where needed");
        let dups = duplicates(&all);
        assert_eq!(dups.len(), FILES.len());
        for (spec, (file, sql)) in FILES.iter().zip(&dups) {
            assert_eq!(spec.name, *file);
            let key = spec.key().join(", ").replace("month", "to_char(month, 'YYYY-MM')");
            assert!(sql.contains(&format!("partition by {key})")), "{file}: {sql}");
        }
    }
}
