//! The import bundle of DOMAIN.md §8: `chibo import DIR [--dry-run]`, the web upload, and `chibo export DIR`.
//!
//! Reading checks each file's header and values in Rust ([`spec::read_file`]) and stages the rows in temporary
//! tables with COPY. Consistency is checked in SQL ([`checks`]): first on the staged rows, then, once the
//! bundle is merged into the tables inside the same transaction, on the structure and rolls as they would
//! stand. Any problem rolls the whole transaction back, so a bundle with an error writes nothing.
pub mod checks;
pub mod csv;
pub mod export;
pub mod headings;
pub mod problem;
pub mod spec;
pub mod unpack;

use crate::db::audit::{self, Actor, Change};
use crate::domain::metrics::Lang;
use problem::Problem;
use sqlx::{Connection, PgConnection, PgPool};
use std::collections::BTreeMap;

/// The tables `rebuild_metric_stores()` empties and writes whole.
const STORES: &[&str] = &[
    "cell_places",
    "cell_month_stats",
    "cell_year_stats",
    "cell_secretary_status",
    "unit_month_rollup",
    "unit_quarter_rollup",
    "unit_year_rollup",
];

/// At most this many problems are listed (a wrong column in a large file would otherwise list every row).
pub const MAX_PROBLEMS: usize = 1000;

/// What an import found and did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub problems: Vec<Problem>,
    /// Rows read per file.
    pub read: BTreeMap<String, usize>,
    /// Rows added or changed per table.
    pub changed: BTreeMap<&'static str, u64>,
    /// The bundle was written (not a dry run, no problem).
    pub written: bool,
}

impl Outcome {
    pub fn total_changed(&self) -> u64 {
        self.changed.values().sum()
    }
}

/// What an import is doing, for the command line's progress lines.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    Read { file: &'a str, rows: usize },
    Checking,
    Writing,
    CheckingResult,
    Rebuilding,
}

impl Step<'_> {
    pub fn render(&self, lang: Lang) -> String {
        let en = lang == Lang::En;
        match (self, en) {
            (Step::Read { file, rows }, true) => format!("{file}: {rows} rows read"),
            (Step::Read { file, rows }, false) => format!("{file}: đã đọc {rows} dòng"),
            (Step::Checking, true) => "checking the bundle".into(),
            (Step::Checking, false) => "đang kiểm tra gói".into(),
            (Step::Writing, true) => "writing".into(),
            (Step::Writing, false) => "đang ghi".into(),
            (Step::CheckingResult, true) => "checking the structure and rolls as they would stand".into(),
            (Step::CheckingResult, false) => "đang kiểm tra cơ cấu và danh sách đảng viên sau khi ghi".into(),
            (Step::Rebuilding, true) => "rebuilding the dashboard figures".into(),
            (Step::Rebuilding, false) => "đang tính lại số liệu bảng theo dõi".into(),
        }
    }
}

/// Reads a bundle's files from a directory (every `*.csv` in it).
pub fn read_dir(dir: &std::path::Path) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".csv") {
            files.push((name, std::fs::read(entry.path())?));
        }
    }
    files.sort();
    Ok(files)
}

fn file_rank(name: &str) -> usize {
    spec::FILES.iter().position(|f| f.name == name).unwrap_or(usize::MAX)
}

/// Imports a bundle: validates everything, then writes it in one transaction (unless `dry_run`). `progress` is
/// told what is happening, for the command line's and the upload page's progress.
pub async fn import(
    pool: &PgPool,
    files: Vec<(String, Vec<u8>)>,
    dry_run: bool,
    actor: &Actor,
    progress: &(dyn Fn(Step) + Sync),
) -> anyhow::Result<Outcome> {
    import_as(pool, files, dry_run, actor, progress, None).await
}

/// How a change made through a page is written in the audit trail, in place of the bundle's summary: the record
/// it concerns, with its row before and as sent.
#[derive(Debug, Clone)]
pub struct AuditAs {
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: String,
    pub unit_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    /// the row as sent; none: the bundle's summary (rows read and changed)
    pub after: Option<serde_json::Value>,
}

/// [`import`], recording the change as `audit_as` says when given.
pub async fn import_as(
    pool: &PgPool,
    files: Vec<(String, Vec<u8>)>,
    dry_run: bool,
    actor: &Actor,
    progress: &(dyn Fn(Step) + Sync),
    audit_as: Option<AuditAs>,
) -> anyhow::Result<Outcome> {
    import_mapped(pool, files, &headings::Mapping::default(), dry_run, actor, progress, audit_as).await
}

/// [`import_as`], each uploaded file read as `mapping` says (its bundle file and the column of each of its
/// headings); the problems name the user's own file and headings.
pub async fn import_mapped(
    pool: &PgPool,
    files: Vec<(String, Vec<u8>)>,
    mapping: &headings::Mapping,
    dry_run: bool,
    actor: &Actor,
    progress: &(dyn Fn(Step) + Sync),
    audit_as: Option<AuditAs>,
) -> anyhow::Result<Outcome> {
    let mut out = read_and_write(pool, files, mapping, dry_run, actor, progress, audit_as).await?;
    mapping.rename(&mut out.problems);
    Ok(out)
}

async fn read_and_write(
    pool: &PgPool,
    files: Vec<(String, Vec<u8>)>,
    mapping: &headings::Mapping,
    dry_run: bool,
    actor: &Actor,
    progress: &(dyn Fn(Step) + Sync),
    audit_as: Option<AuditAs>,
) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let mut present = Vec::new();
    // the files in which two rows may share a key: only their `dup` checks run
    let mut repeating = Vec::new();
    // the rows staged of the files that make a bundle large (members, meetings, attendance, units, moves)
    let mut staged = 0;
    let mut attendance_rows = 0;
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    for spec in spec::FILES {
        // staging: a temporary table per file, its columns from the file's spec
        sqlx::query(sqlx::AssertSqlSafe(spec.create_table_sql())).execute(&mut *tx).await?;
    }
    // the files are read and checked value by value on a thread of their own while what they have given so far is
    // staged with COPY: reading and staging overlap instead of following each other
    let (sender, mut read) = tokio::sync::mpsc::channel(4);
    let reader = {
        let mapping = mapping.clone();
        tokio::task::spawn_blocking(move || read_files(files, &mapping, sender))
    };
    while let Some(message) = read.recv().await {
        let spec = match message {
            Reading::Problems(problems) => {
                out.problems.extend(problems);
                continue;
            }
            Reading::File(spec) => spec,
            Reading::Chunk(_) | Reading::Done { .. } => unreachable!("a file's rows come after its start"),
        };
        let sql = format!("copy {} ({}) from stdin", spec.table, spec.copy_columns());
        let mut copy = tx.copy_in_raw(&sql).await?;
        let done = loop {
            match read.recv().await {
                Some(Reading::Chunk(text)) => {
                    copy.send(text.as_bytes()).await?;
                }
                Some(Reading::Done { name, rows, problems, may_repeat }) => {
                    break Some((name, rows, problems, may_repeat));
                }
                _ => break None,
            }
        };
        copy.finish().await?;
        let Some((name, rows, problems, may_repeat)) = done else { break };
        if may_repeat {
            repeating.push(spec.name);
        }
        // staging: the planner's statistics of the rows just copied
        sqlx::query(sqlx::AssertSqlSafe(format!("analyze {}", spec.table))).execute(&mut *tx).await?;
        if matches!(spec.name, "members.csv" | "meetings.csv" | "attendance.csv" | "units.csv" | "moves.csv") {
            staged += rows;
        }
        if spec.name == "attendance.csv" {
            attendance_rows += rows;
        }
        progress(Step::Read { file: &name.shown, rows });
        out.read.insert(name.file, rows);
        out.problems.extend(problems);
        present.push(spec.name);
    }
    reader.await?;

    // a large bundle: pause the stores and rebuild them whole at the end; a smaller one, structure edits included
    // (migration 0019), keeps them by its own changes only
    let bulk = staged > 20_000;
    if bulk {
        // and give this transaction's sorts, hashes and index builds the memory a bulk load wants; no JIT: each of
        // its few dozen long statements would compile its expressions for longer than they save (about 1 s in all on
        // the province bundle)
        sqlx::query!(
            "select set_config('chibo.bulk', 'on', true) as bulk, set_config('work_mem', '64MB', true) as work,
                    set_config('maintenance_work_mem', '256MB', true) as maintenance, set_config('jit', 'off', true) as jit"
        )
        .fetch_one(&mut *tx)
        .await?;
    }
    progress(Step::Checking);
    let mut before = checks::duplicates(&repeating);
    before.extend(checks::before());
    // attendance loaded into an empty table: the load proves its references (checks::attendance_refs)
    let first_attendance = present.contains(&"attendance.csv")
        && sqlx::query_scalar!(r#"select not exists (select 1 from attendance) as "empty!""#)
            .fetch_one(&mut *tx)
            .await?;
    if !first_attendance {
        before.extend(checks::attendance_refs());
    }
    run_checks(&mut tx, before, &mut out.problems).await?;
    if !out.problems.is_empty() {
        if first_attendance {
            // nothing is loaded: the attendance references are listed with the rest, as the checks before the merge
            run_checks(&mut tx, checks::attendance_refs(), &mut out.problems).await?;
        }
        finish_problems(&mut out);
        return Ok(out);
    }

    progress(Step::Writing);
    sqlx::query!("savepoint merge").execute(&mut *tx).await?;
    let loaded = match merge(&mut tx, &present, bulk, &mut out).await {
        Ok(attendance) => Some(attendance),
        // an approved month's lock (migration 0012) said as the checks say it; any other refusal as the database says it
        Err(e) => {
            if let Some((cell, month)) = crate::db::reports::locked_month(&e).as_deref().and_then(|d| d.split_once('/'))
            {
                let month = crate::domain::time::parse_month(month)
                    .map_or(month.to_string(), |m| m.format("%m/%Y").to_string());
                out.problems.push(Problem::new("bundle", 0, "month_locked", &[cell, &month]));
            } else {
                let Some(db) = e.as_database_error() else { return Err(e.into()) };
                out.problems.push(Problem::new("bundle", 0, "db", &[db.message()]));
            }
            sqlx::query!("rollback to savepoint merge").execute(&mut *tx).await?;
            None
        }
    };
    // attendance loaded into an empty table: a row was inserted for each one read, or some may name a meeting or
    // member nobody knows, listed as the checks before the merge would have (and only they: what the after-checks
    // would find of the rows left out is their consequence)
    if first_attendance && loaded != Some(attendance_rows as u64) {
        run_checks(&mut tx, checks::attendance_refs(), &mut out.problems).await?;
    }
    if !out.problems.is_empty() {
        finish_problems(&mut out);
        return Ok(out);
    }
    if bulk {
        // the checks after the merge join the tables the bundle has just filled: their plans want the statistics of
        // the rows as they now stand (on a first load, the planner would take 6 million attendance rows for none)
        sqlx::query!(
            "analyze units, unit_moves, members, member_transfers, exemptions, positions, trainings, meetings,
                     attendance, officials, reg18_assignments, meeting_guests, cell_classifications,
                     member_classifications, cell_reports, settings"
        )
        .execute(&mut *tx)
        .await?;
        // and rebuild_metric_stores() need not take them again (migration 0025)
        sqlx::query!("select set_config('chibo.analyzed', 'on', true) as analyzed").fetch_one(&mut *tx).await?;
    }
    progress(Step::CheckingResult);
    // these checks are anti joins that find nothing in a good bundle, which the planner cannot know: it takes half
    // the rows to come out and, for that many, sorts both sides of a join on the rolls (member_stints, a view it has
    // no statistics of) instead of hashing the smaller one (not_on_roll on the province bundle: 4.9 s instead of 2.4)
    let merge_joins =
        sqlx::query_scalar!(r#"select current_setting('enable_mergejoin') as "setting!""#).fetch_one(&mut *tx).await?;
    sqlx::query!("select set_config('enable_mergejoin', 'off', true) as off").fetch_one(&mut *tx).await?;
    run_checks(&mut tx, checks::after(first_attendance), &mut out.problems).await?;
    sqlx::query!("select set_config('enable_mergejoin', $1, true) as back", merge_joins).fetch_one(&mut *tx).await?;
    if !out.problems.is_empty() || dry_run {
        finish_problems(&mut out);
        return Ok(out);
    }
    if out.total_changed() == 0 {
        // the same bundle again: nothing to write, nothing to record
        tx.rollback().await?;
        out.written = true;
        return Ok(out);
    }
    if bulk {
        progress(Step::Rebuilding);
        // every store is emptied and written whole: without its indexes and keys, made again after (on the province
        // bundle 16 s instead of 25 s)
        let detached = Detached::take(&mut tx, STORES).await?;
        sqlx::query!("select rebuild_metric_stores()").execute(&mut *tx).await?;
        if let Some(d) = detached {
            d.restore(&mut tx).await?;
        }
    }
    if present.contains(&"positions.csv") {
        // a secretary's position passed to another member: the old secretary's account ends (DOMAIN.md §13)
        crate::db::activation::end_replaced(&mut tx, actor).await?;
    }
    let summary = serde_json::json!({ "read": out.read, "changed": out.changed });
    let change = match &audit_as {
        Some(a) => Change {
            action: a.action,
            entity: a.entity,
            entity_id: a.entity_id.clone(),
            unit_id: a.unit_id,
            before: a.before.clone(),
            after: Some(a.after.clone().unwrap_or(summary)),
        },
        None => Change {
            action: "import",
            entity: "bundle",
            entity_id: String::new(),
            unit_id: None,
            before: None,
            after: Some(summary),
        },
    };
    audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    out.written = true;
    Ok(out)
}

/// A file's name as the bundle knows it (the key of [`Outcome::read`]) and as its progress line shows it (the
/// user's own file, under a mapping).
struct FileName {
    file: String,
    shown: String,
}

/// What the reading thread hands to the staging: a file starts, its COPY text, its end with the rows it gave and
/// the problems found, or the problems of a file that is not staged at all.
enum Reading {
    File(&'static spec::FileSpec),
    Chunk(String),
    Done { name: FileName, rows: usize, problems: Vec<Problem>, may_repeat: bool },
    Problems(Vec<Problem>),
}

/// Reads and checks every file (on a blocking thread), handing on its COPY text as it goes; stops when the staging
/// side has stopped listening (an error there).
fn read_files(files: Vec<(String, Vec<u8>)>, mapping: &headings::Mapping, to: tokio::sync::mpsc::Sender<Reading>) {
    for (i, (name, bytes)) in files.iter().enumerate() {
        let source = mapping.source(i);
        let (spec, columns) = match source {
            // a sheet left out on the headings page
            Some(s) if s.file.is_none() => continue,
            Some(s) => (s.file.and_then(spec::spec), Some(s)),
            None => (spec::spec(name), None),
        };
        let sent = match (spec, std::str::from_utf8(bytes)) {
            (None, _) => to.blocking_send(Reading::Problems(vec![Problem::not_bundle(name)])),
            (Some(spec), Err(_)) => to.blocking_send(Reading::Problems(vec![Problem::new(spec.name, 0, "utf8", &[])])),
            (Some(spec), Ok(text)) => {
                if to.blocking_send(Reading::File(spec)).is_err() {
                    return;
                }
                let mut problems = Vec::new();
                let mut gone = false;
                let read = spec::read_file_streamed(spec, text, columns, &mut problems, &mut |chunk| {
                    gone = gone || to.blocking_send(Reading::Chunk(chunk)).is_err();
                });
                let (rows, may_repeat) = (read.buffer.rows, read.may_repeat);
                if gone || to.blocking_send(Reading::Chunk(read.buffer.text)).is_err() {
                    return;
                }
                let name = FileName { file: name.clone(), shown: source.map_or(name, |s| &s.name).clone() };
                to.blocking_send(Reading::Done { name, rows, problems, may_repeat })
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

fn finish_problems(out: &mut Outcome) {
    out.problems.sort_by(|a, b| (file_rank(&a.file), a.line, &a.key).cmp(&(file_rank(&b.file), b.line, &b.key)));
    out.problems.dedup();
    out.problems.truncate(MAX_PROBLEMS);
}

/// A row of a check: line, column, message key, the values the message quotes (see [`checks`]).
type CheckRow = (i32, Option<String>, String, Vec<Option<String>>);

async fn run_checks(
    tx: &mut PgConnection,
    checks: Vec<(&'static str, String)>,
    problems: &mut Vec<Problem>,
) -> sqlx::Result<()> {
    for (file, sql) in checks {
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
        let started = std::time::Instant::now();
        // planned as a whole (a CTE is planned for all its rows): under a bare `limit` the planner counts on meeting
        // the first problems early and picks plans that start fast, which on a bundle with no problem must run to
        // the end row by row (the roster check took 12-14 s that way on the province bundle instead of 4 s)
        let sql = format!("with q as materialized ({sql}) select * from q limit {MAX_PROBLEMS}");
        // dynamic: the checks are built from the bundle's file specs and run over the staging tables
        let rows: Vec<CheckRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(&mut *tx).await?;
        // RUST_LOG=chibo::import=debug: each check's time, to find the slow ones
        tracing::debug!(file, ms = started.elapsed().as_millis() as u64, sql = %brief(&sql), "import check");
        for (line, column, key, args) in rows {
            let args: Vec<String> = args.into_iter().map(Option::unwrap_or_default).collect();
            problems.push(Problem::with_args(file, line as u32, column.as_deref(), &key, args));
        }
    }
    Ok(())
}

/// A statement's first words, for the debug log.
fn brief(sql: &str) -> String {
    sql.split_whitespace().take(24).collect::<Vec<_>>().join(" ")
}

/// Writes the staged rows into the tables: inserts what is new, updates what changed, leaves alike rows alone
/// (so that the same bundle imported twice changes nothing the second time).
/// Says how many attendance rows the attendance statement inserted or changed.
async fn merge(tx: &mut PgConnection, present: &[&str], bulk: bool, out: &mut Outcome) -> sqlx::Result<u64> {
    let mut m = Merge { tx, changed: &mut out.changed, present, bulk };
    // units, parents first: each round adds the units whose parent is known by then
    loop {
        let n = m.apply(
            "units.csv",
            "units",
            "insert into units (code, kind, name, parent_id, valid_from, valid_to, cell_type)
             select s.code, s.kind, s.name, p.id, s.valid_from, s.valid_to, s.cell_type
             from s_units s left join units p on p.code = s.parent_code
             where not s.broken and (s.parent_code is null or p.id is not null)
             on conflict (code) do update set kind = excluded.kind, name = excluded.name, parent_id = excluded.parent_id,
                 valid_from = excluded.valid_from, valid_to = excluded.valid_to, cell_type = excluded.cell_type
             where (units.kind, units.name, units.parent_id, units.valid_from, units.valid_to, units.cell_type)
                   is distinct from (excluded.kind, excluded.name, excluded.parent_id, excluded.valid_from,
                                     excluded.valid_to, excluded.cell_type)",
        )
        .await?;
        if n == 0 {
            break;
        }
    }
    m.apply(
        "moves.csv",
        "unit_moves",
        "insert into unit_moves (unit_id, parent_id, effective_on)
         select u.id, p.id, s.effective_on from s_moves s join units u on u.code = s.code join units p on p.code = s.parent_code
         where not s.broken
         on conflict (unit_id, effective_on) do update set parent_id = excluded.parent_id
         where unit_moves.parent_id <> excluded.parent_id",
    )
    .await?;
    m.load(
        "members.csv",
        "members",
        "insert into members (code, full_name, search_name, gender, birth_date, ethnicity, joined_on, official_on, cell_id, left_on)
         select s.code, s.full_name, s.search_name, s.gender, s.birth_date, s.ethnicity, s.joined_on, s.official_on, u.id, s.left_on
         from s_members s join units u on u.code = s.cell_code where not s.broken
         on conflict (code) do update set full_name = excluded.full_name, search_name = excluded.search_name,
             gender = excluded.gender, birth_date = excluded.birth_date, ethnicity = excluded.ethnicity,
             joined_on = excluded.joined_on, official_on = excluded.official_on, cell_id = excluded.cell_id,
             left_on = excluded.left_on
         where (members.full_name, members.gender, members.birth_date, members.ethnicity, members.joined_on,
                members.official_on, members.cell_id, members.left_on)
               is distinct from (excluded.full_name, excluded.gender, excluded.birth_date, excluded.ethnicity,
                                 excluded.joined_on, excluded.official_on, excluded.cell_id, excluded.left_on)",
    )
    .await?;
    m.apply(
        "transfers.csv",
        "member_transfers",
        "insert into member_transfers (member_id, cell_id, effective_on)
         select m.id, u.id, s.effective_on from s_transfers s join members m on m.code = s.member_code
              join units u on u.code = s.cell_code where not s.broken
         on conflict (member_id, effective_on) do update set cell_id = excluded.cell_id
         where member_transfers.cell_id <> excluded.cell_id",
    )
    .await?;
    m.apply(
        "exemptions.csv",
        "exemptions",
        "update exemptions e set valid_to = s.valid_to from s_exemptions s join members m on m.code = s.member_code
         where not s.broken and e.member_id = m.id and e.valid_from = s.valid_from and e.valid_to is distinct from s.valid_to",
    )
    .await?;
    m.apply(
        "exemptions.csv",
        "exemptions",
        "insert into exemptions (member_id, valid_from, valid_to)
         select m.id, s.valid_from, s.valid_to from s_exemptions s join members m on m.code = s.member_code
         where not s.broken and not exists (select 1 from exemptions e where e.member_id = m.id and e.valid_from = s.valid_from)",
    )
    .await?;
    m.apply(
        "positions.csv",
        "positions",
        "update positions p set valid_to = s.valid_to
         from s_positions s join units u on u.code = s.cell_code join members m on m.code = s.member_code
         where not s.broken and p.cell_id = u.id and p.member_id = m.id and p.position = s.position
           and p.valid_from = s.valid_from and p.valid_to is distinct from s.valid_to",
    )
    .await?;
    m.apply(
        "positions.csv",
        "positions",
        "insert into positions (cell_id, member_id, position, valid_from, valid_to)
         select u.id, m.id, s.position, s.valid_from, s.valid_to
         from s_positions s join units u on u.code = s.cell_code join members m on m.code = s.member_code
         where not s.broken and not exists (select 1 from positions p where p.cell_id = u.id and p.member_id = m.id
                                            and p.position = s.position and p.valid_from = s.valid_from)",
    )
    .await?;
    m.apply(
        "trainings.csv",
        "trainings",
        "insert into trainings (member_id, trained_on, course)
         select m.id, s.trained_on, s.course from s_trainings s join members m on m.code = s.member_code
         where not s.broken and not exists (select 1 from trainings t where t.member_id = m.id
                and t.trained_on = s.trained_on and t.course is not distinct from s.course)",
    )
    .await?;
    // meetings made on the web are exported as web-<id>: the same meeting when it comes back, also when only its
    // attendance or guests come back (the checks know web-<id>; the rows below join meetings by ref)
    m.apply(
        "meetings.csv",
        "",
        "update meetings m set ref = s.ref from s_meetings s
         where m.ref is null and s.ref like 'web-%' and s.ref = 'web-' || m.id",
    )
    .await?;
    for (file, staged) in [("attendance.csv", "s_attendance"), ("guests.csv", "s_guests")] {
        m.apply(
            file,
            "",
            &format!(
                "update meetings m set ref = 'web-' || m.id
                 where m.ref is null and 'web-' || m.id in (select meeting_ref from {staged} where meeting_ref like 'web-%')"
            ),
        )
        .await?;
    }
    m.load(
        "meetings.csv",
        "meetings",
        "insert into meetings (ref, cell_id, held_on, kind, topic, started_at, ended_at, rating, score,
                               present, excused, unexcused, exempt, notice_on, prepared_on, materials_on,
                               combined_thematic, rubric_version_id)
         select s.ref, u.id, s.held_on, s.kind, s.topic, s.started_at, s.ended_at, s.rating, s.score,
                s.present, s.excused, s.unexcused, s.exempt, s.notice_on, s.prepared_on, s.materials_on,
                coalesce(s.combined_thematic = 'true', false),
                -- the rubric version in force on the day (rubric_version_on, set-based: no trigger call per row)
                coalesce(v.id, (select id from rubric_versions order by valid_from limit 1))
         from s_meetings s join units u on u.code = s.cell_code
         left join lateral (select id from rubric_versions r where r.valid_from <= s.held_on
                            order by r.valid_from desc limit 1) v on true
         where not s.broken
         on conflict (ref) do update set cell_id = excluded.cell_id, held_on = excluded.held_on, kind = excluded.kind,
             topic = excluded.topic, started_at = excluded.started_at, ended_at = excluded.ended_at,
             rating = excluded.rating, score = excluded.score, present = excluded.present, excused = excluded.excused,
             unexcused = excluded.unexcused, exempt = excluded.exempt, notice_on = excluded.notice_on,
             prepared_on = excluded.prepared_on, materials_on = excluded.materials_on,
             combined_thematic = excluded.combined_thematic, version = meetings.version + 1, updated_at = now()
         where (meetings.cell_id, meetings.held_on, meetings.kind, meetings.topic, meetings.started_at,
                meetings.ended_at, meetings.rating, meetings.score, meetings.present, meetings.excused,
                meetings.unexcused, meetings.exempt, meetings.notice_on, meetings.prepared_on, meetings.materials_on,
                meetings.combined_thematic)
               is distinct from (excluded.cell_id, excluded.held_on, excluded.kind, excluded.topic, excluded.started_at,
                                 excluded.ended_at, excluded.rating, excluded.score, excluded.present,
                                 excluded.excused, excluded.unexcused, excluded.exempt, excluded.notice_on,
                                 excluded.prepared_on, excluded.materials_on, excluded.combined_thematic)",
    )
    .await?;
    // a meeting given as four counts has no per-member rows
    m.apply(
        "meetings.csv",
        "attendance",
        "delete from attendance a using meetings m, s_meetings s
         where a.meeting_id = m.id and m.ref = s.ref and not s.broken and s.present is not null",
    )
    .await?;
    // a meeting of the bundle has exactly the rows the bundle gives it
    m.apply(
        "attendance.csv",
        "attendance",
        "delete from attendance a using meetings m, s_meetings s
             where a.meeting_id = m.id and m.ref = s.ref and not s.broken and s.present is null
               and not exists (select 1 from s_attendance sa join members mm on mm.code = sa.member_code
                               where sa.meeting_ref = s.ref and mm.id = a.member_id)",
    )
    .await?;
    let attendance = m
        .load(
            "attendance.csv",
            "attendance",
            "insert into attendance (meeting_id, member_id, status, mode)
             select m.id, mm.id, s.status, coalesce(s.mode, 'in_person') from s_attendance s
                  join meetings m on m.ref = s.meeting_ref join members mm on mm.code = s.member_code where not s.broken
             on conflict (meeting_id, member_id) do update set status = excluded.status, mode = excluded.mode
             where (attendance.status, attendance.mode) is distinct from (excluded.status, excluded.mode)",
        )
        .await?;
    m.apply(
        "officials.csv",
        "officials",
        "insert into officials (code, full_name, \"group\", unit_id)
         select s.code, s.full_name, s.\"group\", u.id from s_officials s join units u on u.code = s.unit_code
         where not s.broken
         on conflict (code) do update set full_name = excluded.full_name, \"group\" = excluded.\"group\",
             unit_id = excluded.unit_id
         where (officials.full_name, officials.\"group\", officials.unit_id)
               is distinct from (excluded.full_name, excluded.\"group\", excluded.unit_id)",
    )
    .await?;
    m.load(
        "assignments.csv",
        "reg18_assignments",
        "insert into reg18_assignments (official_id, cell_id, year, required)
         select o.id, u.id, s.year, s.required from s_assignments s join officials o on o.code = s.official_code
              join units u on u.code = s.cell_code where not s.broken
         on conflict (official_id, cell_id, year) do update set required = excluded.required
         where reg18_assignments.required <> excluded.required",
    )
    .await?;
    // and the guests it gives it
    m.apply(
        "guests.csv",
        "meeting_guests",
        "delete from meeting_guests g using meetings m, s_meetings s
             where g.meeting_id = m.id and m.ref = s.ref and not s.broken
               and not exists (select 1 from s_guests sg join officials o on o.code = sg.official_code
                               where sg.meeting_ref = s.ref and o.id = g.official_id)",
    )
    .await?;
    m.load(
        "guests.csv",
        "meeting_guests",
        "insert into meeting_guests (meeting_id, official_id)
             select m.id, o.id from s_guests s join meetings m on m.ref = s.meeting_ref
                  join officials o on o.code = s.official_code where not s.broken
             on conflict do nothing",
    )
    .await?;
    m.load(
        "classifications.csv",
        "cell_classifications",
        "insert into cell_classifications (cell_id, year, level)
         select u.id, s.year, s.level from s_classifications s join units u on u.code = s.code
         where not s.broken and s.subject = 'cell'
         on conflict (cell_id, year) do update set level = excluded.level
         where cell_classifications.level <> excluded.level",
    )
    .await?;
    m.load(
        "classifications.csv",
        "member_classifications",
        "insert into member_classifications (member_id, year, level)
         select m.id, s.year, s.level from s_classifications s join members m on m.code = s.code
         where not s.broken and s.subject = 'member'
         on conflict (member_id, year) do update set level = excluded.level
         where member_classifications.level <> excluded.level",
    )
    .await?;
    // after the meetings: an approved month locks its meetings
    m.load(
        "reports.csv",
        "cell_reports",
        "insert into cell_reports (cell_id, month, state, first_submitted_on, submitted_on, approved_on, reason)
         select u.id, s.month,
                case when s.approved_on is not null then 'approved'
                     when s.submitted_on is not null then 'submitted' else 'draft' end,
                s.submitted_on, s.submitted_on, s.approved_on, s.reason
         from s_reports s join units u on u.code = s.cell_code where not s.broken
         on conflict (cell_id, month) do update set state = excluded.state,
             first_submitted_on = excluded.first_submitted_on, submitted_on = excluded.submitted_on,
             submitted_by = case when excluded.submitted_on is null then null else cell_reports.submitted_by end,
             approved_on = excluded.approved_on,
             approved_by = case when excluded.approved_on is null then null else cell_reports.approved_by end,
             reason = excluded.reason, returned_reason = null, updated_at = now()
         where (cell_reports.first_submitted_on, cell_reports.approved_on, cell_reports.reason)
               is distinct from (excluded.first_submitted_on, excluded.approved_on, excluded.reason)",
    )
    .await?;
    m.apply(
        "settings.csv",
        "settings",
        "insert into settings (key, value)
         select key, case when key = 'report_deadline_day' then value::int::text else value end
         from s_settings where not broken
         on conflict (key) do update set value = excluded.value where settings.value <> excluded.value",
    )
    .await?;
    out.changed.retain(|_, n| *n > 0);
    Ok(attendance)
}

/// The merge's statements, each reading the staged rows of one file. Staging: they read the temporary tables of
/// this transaction, which the build-time check of `query!` cannot see.
struct Merge<'a> {
    tx: &'a mut PgConnection,
    changed: &'a mut BTreeMap<&'static str, u64>,
    present: &'a [&'a str],
    /// a large bundle: a table it fills from empty is loaded as a bulk load ([`Merge::load`])
    bulk: bool,
}

impl Merge<'_> {
    /// Runs one statement of the merge, which reads the staged rows of `file`, and counts the rows it added or
    /// changed under `table` (none: not counted). A file the bundle does not hold has nothing to merge, and its
    /// statements are not run (a statement on the structure moves the places and rollups of the units it changes
    /// only, at commit: migration 0019).
    async fn apply(&mut self, file: &str, table: &'static str, sql: &str) -> sqlx::Result<u64> {
        if !self.present.contains(&file) {
            return Ok(0);
        }
        let started = std::time::Instant::now();
        let n = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut *self.tx).await?.rows_affected();
        tracing::debug!(file, ms = started.elapsed().as_millis() as u64, sql = %brief(sql), "import merge");
        if !table.is_empty() {
            *self.changed.entry(table).or_default() += n;
        }
        Ok(n)
    }

    /// [`Merge::apply`] for the statement that inserts the rows of one of the large tables. When a large bundle
    /// fills the table from empty (a province coming onto the system), its indexes and its own foreign keys are
    /// dropped, the rows inserted as they come, and the same indexes and keys made again from their saved
    /// definitions: each index is built in one sorted pass and each foreign key checked by one join, instead of a
    /// lookup and an index entry per row (the 6 million attendance rows of the province bundle went in 5x faster).
    /// An empty table has no row to conflict with and the checks have refused a bundle repeating a key, so the
    /// statement's `on conflict` clause is left out. An index another table's foreign key rests on stays, and so does
    /// everything else (checks, triggers). Otherwise, or where this role does not own the table: [`Merge::apply`].
    async fn load(&mut self, file: &str, table: &'static str, sql: &str) -> sqlx::Result<u64> {
        if !self.present.contains(&file) {
            return Ok(0);
        }
        let plain = sql.find("on conflict").map(|i| &sql[..i]);
        let Some(plain) = plain.filter(|_| self.bulk) else { return self.apply(file, table, sql).await };
        // the table is one of the merge's own names
        let empty_sql = format!("select not exists (select 1 from {table})");
        let empty: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(empty_sql)).fetch_one(&mut *self.tx).await?;
        if !empty {
            return self.apply(file, table, sql).await;
        }
        let started = std::time::Instant::now();
        let Some(detached) = Detached::take(self.tx, &[table]).await? else {
            return self.apply(file, table, sql).await;
        };
        let n = sqlx::query(sqlx::AssertSqlSafe(plain.to_string())).execute(&mut *self.tx).await?.rows_affected();
        let rebuilt = detached.restore(self.tx).await?;
        tracing::debug!(file, ms = started.elapsed().as_millis() as u64, sql = %brief(plain), rebuilt,
                        "import merge, loaded into an empty table");
        *self.changed.entry(table).or_default() += n;
        Ok(n)
    }
}

/// The indexes and foreign keys of tables about to be filled in bulk, dropped and kept by definition so that
/// [`Detached::restore`] makes them again, each in one pass (an index sorted once, a foreign key checked by one
/// join) instead of an entry and a lookup per row. A table's own foreign keys go, and its indexes but those another
/// table's foreign key rests on; checks and triggers stay.
struct Detached {
    /// `alter table … add constraint …` or `create index …`, indexes and keys first
    make: Vec<String>,
}

impl Detached {
    /// Drops them, or does nothing and says `None` where this role does not own every one of the tables.
    async fn take(tx: &mut PgConnection, tables: &[&str]) -> sqlx::Result<Option<Detached>> {
        let tables: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
        let owned = sqlx::query_scalar!(
            r#"select bool_and(pg_has_role(relowner, 'USAGE')) as "owned!" from pg_class
               where oid in (select t::regclass from unnest($1::text[]) t)"#,
            &tables
        )
        .fetch_one(&mut *tx)
        .await?;
        if !owned {
            return Ok(None);
        }
        let parts = sqlx::query!(
            r#"select c.contype = 'f' as "foreign_key!",
                      format('alter table %s drop constraint %I', c.conrelid::regclass, c.conname) as "drop!",
                      format('alter table %s add constraint %I %s', c.conrelid::regclass, c.conname,
                             pg_get_constraintdef(c.oid)) as "make!"
               from pg_constraint c
               where c.conrelid in (select t::regclass from unnest($1::text[]) t)
                 and (c.contype = 'f' or (c.contype in ('p', 'u')
                      and not exists (select 1 from pg_constraint f where f.contype = 'f' and f.conindid = c.conindid)))
               union all
               select false, format('drop index %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
               from pg_index i
               where i.indrelid in (select t::regclass from unnest($1::text[]) t)
                 and not exists (select 1 from pg_constraint k
                                 where k.conindid = i.indexrelid and (k.conrelid = i.indrelid or k.contype = 'f'))
               order by 1 desc"#,
            &tables
        )
        .fetch_all(&mut *tx)
        .await?;
        for p in &parts {
            sqlx::query(sqlx::AssertSqlSafe(p.drop.clone())).execute(&mut *tx).await?;
        }
        // the parts came foreign keys first: made again last
        Ok(Some(Detached { make: parts.into_iter().rev().map(|p| p.make).collect() }))
    }

    /// Makes every index and key again; says how many.
    async fn restore(self, tx: &mut PgConnection) -> sqlx::Result<usize> {
        for sql in &self.make {
            let started = std::time::Instant::now();
            sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(&mut *tx).await?;
            tracing::debug!(ms = started.elapsed().as_millis() as u64, sql = %brief(sql), "import, made again");
        }
        Ok(self.make.len())
    }
}

/// Runs an import in a fresh connection's transaction for a test or the command line, printing nothing.
pub async fn import_quiet(pool: &PgPool, files: Vec<(String, Vec<u8>)>, dry_run: bool) -> anyhow::Result<Outcome> {
    import(pool, files, dry_run, &Actor::cli(), &|_| {}).await
}
