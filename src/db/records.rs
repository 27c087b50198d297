//! The records as the bundle's files hold them (DOMAIN.md §8): the export writes `QUERIES`' rows, and the record
//! pages read one unit's or member's rows as typed records with the same columns, values and order (each
//! function below is its file's query narrowed to one record), so that a form shows what an export would.
//! Serialized (serde), a record is the export's row as JSON: the record forms fill their fields from it.
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgPool;
use std::collections::HashMap;

use crate::domain::vocab::{CellType, ClassLevel, ClassSubject, Gender, OfficialGroup, Position, UnitKind};

/// Each file and the query that makes it; columns in DOMAIN.md's order, rows by their keys.
pub const QUERIES: &[(&str, &str)] = &[
    (
        "units.csv",
        "select u.code, u.kind, u.name, p.code as parent_code, u.valid_from, u.valid_to, u.cell_type
         from units u left join units p on p.id = u.parent_id order by u.code collate \"C\"",
    ),
    (
        "moves.csv",
        "select u.code, p.code as parent_code, m.effective_on
         from unit_moves m join units u on u.id = m.unit_id join units p on p.id = m.parent_id
         order by u.code collate \"C\", m.effective_on",
    ),
    (
        "members.csv",
        "select m.code, m.full_name, m.gender, m.birth_date, m.ethnicity, m.joined_on, m.official_on,
                u.code as cell_code, m.left_on
         from members m join units u on u.id = m.cell_id order by m.code collate \"C\"",
    ),
    (
        "transfers.csv",
        "select m.code as member_code, u.code as cell_code, t.effective_on
         from member_transfers t join members m on m.id = t.member_id join units u on u.id = t.cell_id
         order by m.code collate \"C\", t.effective_on",
    ),
    (
        "exemptions.csv",
        "select m.code as member_code, e.valid_from, e.valid_to
         from exemptions e join members m on m.id = e.member_id order by m.code collate \"C\", e.valid_from",
    ),
    (
        "positions.csv",
        "select u.code as cell_code, m.code as member_code, p.position, p.valid_from, p.valid_to
         from positions p join units u on u.id = p.cell_id join members m on m.id = p.member_id
         order by u.code collate \"C\", m.code collate \"C\", p.position collate \"C\", p.valid_from",
    ),
    (
        "trainings.csv",
        "select m.code as member_code, t.trained_on, t.course
         from trainings t join members m on m.id = t.member_id
         order by m.code collate \"C\", t.trained_on, t.course collate \"C\" nulls first",
    ),
    (
        "meetings.csv",
        "select coalesce(x.ref, 'web-' || x.id) as ref, u.code as cell_code, x.held_on, x.kind, x.topic,
                to_char(x.started_at, 'HH24:MI') as started_at, to_char(x.ended_at, 'HH24:MI') as ended_at,
                x.rating, x.score, x.present, x.excused, x.unexcused, x.exempt, x.notice_on, x.prepared_on,
                x.materials_on, case when x.combined_thematic then 'true' end as combined_thematic
         from meetings x join units u on u.id = x.cell_id order by coalesce(x.ref, 'web-' || x.id) collate \"C\"",
    ),
    (
        "attendance.csv",
        "select coalesce(x.ref, 'web-' || x.id) as meeting_ref, m.code as member_code, a.status,
                case when a.status = 'present' and a.mode = 'online' then 'online' end as mode
         from attendance a join meetings x on x.id = a.meeting_id join members m on m.id = a.member_id
         order by coalesce(x.ref, 'web-' || x.id) collate \"C\", m.code collate \"C\"",
    ),
    (
        "officials.csv",
        "select o.code, o.full_name, o.\"group\", u.code as unit_code
         from officials o join units u on u.id = o.unit_id order by o.code collate \"C\"",
    ),
    (
        "assignments.csv",
        "select o.code as official_code, u.code as cell_code, r.year, r.required
         from reg18_assignments r join officials o on o.id = r.official_id join units u on u.id = r.cell_id
         order by o.code collate \"C\", u.code collate \"C\", r.year",
    ),
    (
        "guests.csv",
        "select coalesce(x.ref, 'web-' || x.id) as meeting_ref, o.code as official_code
         from meeting_guests g join meetings x on x.id = g.meeting_id join officials o on o.id = g.official_id
         order by coalesce(x.ref, 'web-' || x.id) collate \"C\", o.code collate \"C\"",
    ),
    (
        "classifications.csv",
        "select year, subject, code, level from (
             select c.year, 'cell' as subject, u.code, c.level from cell_classifications c join units u on u.id = c.cell_id
             union all
             select c.year, 'member', m.code, c.level from member_classifications c join members m on m.id = c.member_id
         ) x order by year, subject, code collate \"C\"",
    ),
    (
        "reports.csv",
        "select u.code as cell_code, to_char(r.month, 'YYYY-MM') as month, r.first_submitted_on as submitted_on,
                r.approved_on, r.reason
         from cell_reports r join units u on u.id = r.cell_id order by u.code collate \"C\", r.month",
    ),
    ("settings.csv", "select key, value from settings order by key collate \"C\""),
];

/// A row of `units.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct UnitRecord {
    pub code: String,
    pub kind: UnitKind,
    pub name: String,
    pub parent_code: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub cell_type: Option<CellType>,
}

pub async fn unit(pool: &PgPool, code: &str) -> sqlx::Result<Option<UnitRecord>> {
    sqlx::query_as!(
        UnitRecord,
        r#"select u.code, u.kind as "kind: UnitKind", u.name, p.code as "parent_code?", u.valid_from, u.valid_to,
                  u.cell_type as "cell_type: CellType"
           from units u left join units p on p.id = u.parent_id where u.code = $1"#,
        code
    )
    .fetch_optional(pool)
    .await
}

/// A row of `moves.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct MoveRecord {
    pub code: String,
    pub parent_code: String,
    pub effective_on: NaiveDate,
}

/// The moves of unit `code`, by date.
pub async fn moves(pool: &PgPool, code: &str) -> sqlx::Result<Vec<MoveRecord>> {
    sqlx::query_as!(
        MoveRecord,
        "select u.code, p.code as parent_code, m.effective_on
         from unit_moves m join units u on u.id = m.unit_id join units p on p.id = m.parent_id
         where u.code = $1 order by m.effective_on",
        code
    )
    .fetch_all(pool)
    .await
}

/// A row of `members.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct MemberRecord {
    pub code: String,
    pub full_name: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub ethnicity: String,
    pub joined_on: NaiveDate,
    pub official_on: Option<NaiveDate>,
    /// the cell they joined in (their transfers say where they went next)
    pub cell_code: String,
    pub left_on: Option<NaiveDate>,
}

impl MemberRecord {
    /// Official member on `day` (else probationary).
    pub fn is_official_on(&self, day: NaiveDate) -> bool {
        self.official_on.is_some_and(|o| o <= day)
    }
}

pub async fn member(pool: &PgPool, code: &str) -> sqlx::Result<Option<MemberRecord>> {
    sqlx::query_as!(
        MemberRecord,
        r#"select m.code, m.full_name, m.gender as "gender: Gender", m.birth_date, m.ethnicity, m.joined_on,
                  m.official_on, u.code as cell_code, m.left_on
           from members m join units u on u.id = m.cell_id where m.code = $1"#,
        code
    )
    .fetch_optional(pool)
    .await
}

/// A row of `transfers.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct TransferRecord {
    pub member_code: String,
    pub cell_code: String,
    pub effective_on: NaiveDate,
}

/// The transfers of member `code`, by date.
pub async fn transfers(pool: &PgPool, code: &str) -> sqlx::Result<Vec<TransferRecord>> {
    sqlx::query_as!(
        TransferRecord,
        "select m.code as member_code, u.code as cell_code, t.effective_on
         from member_transfers t join members m on m.id = t.member_id join units u on u.id = t.cell_id
         where m.code = $1 order by t.effective_on",
        code
    )
    .fetch_all(pool)
    .await
}

/// A row of `exemptions.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct ExemptionRecord {
    pub member_code: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// The exemptions of member `code`, by date.
pub async fn exemptions(pool: &PgPool, code: &str) -> sqlx::Result<Vec<ExemptionRecord>> {
    sqlx::query_as!(
        ExemptionRecord,
        "select m.code as member_code, e.valid_from, e.valid_to
         from exemptions e join members m on m.id = e.member_id where m.code = $1 order by e.valid_from",
        code
    )
    .fetch_all(pool)
    .await
}

/// A row of `positions.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct PositionRecord {
    pub cell_code: String,
    pub member_code: String,
    pub position: Position,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// The positions member `code` held, by cell, position and date.
pub async fn positions(pool: &PgPool, code: &str) -> sqlx::Result<Vec<PositionRecord>> {
    sqlx::query_as!(
        PositionRecord,
        r#"select u.code as cell_code, m.code as member_code, p.position as "position: Position", p.valid_from,
                  p.valid_to
           from positions p join units u on u.id = p.cell_id join members m on m.id = p.member_id
           where m.code = $1
           order by u.code collate "C", p.position collate "C", p.valid_from"#,
        code
    )
    .fetch_all(pool)
    .await
}

/// A row of `trainings.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct TrainingRecord {
    pub member_code: String,
    pub trained_on: NaiveDate,
    pub course: Option<String>,
}

/// The trainings of member `code`, by date.
pub async fn trainings(pool: &PgPool, code: &str) -> sqlx::Result<Vec<TrainingRecord>> {
    sqlx::query_as!(
        TrainingRecord,
        r#"select m.code as member_code, t.trained_on, t.course
           from trainings t join members m on m.id = t.member_id
           where m.code = $1 order by t.trained_on, t.course collate "C" nulls first"#,
        code
    )
    .fetch_all(pool)
    .await
}

/// A row of `officials.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct OfficialRecord {
    pub code: String,
    pub full_name: String,
    pub group: OfficialGroup,
    pub unit_code: String,
}

pub async fn official(pool: &PgPool, code: &str) -> sqlx::Result<Option<OfficialRecord>> {
    sqlx::query_as!(
        OfficialRecord,
        r#"select o.code, o.full_name, o."group" as "group: OfficialGroup", u.code as unit_code
           from officials o join units u on u.id = o.unit_id where o.code = $1"#,
        code
    )
    .fetch_optional(pool)
    .await
}

/// The officials of unit `code`, by code.
pub async fn officials_of(pool: &PgPool, unit_code: &str) -> sqlx::Result<Vec<OfficialRecord>> {
    sqlx::query_as!(
        OfficialRecord,
        r#"select o.code, o.full_name, o."group" as "group: OfficialGroup", u.code as unit_code
           from officials o join units u on u.id = o.unit_id where u.code = $1 order by o.code collate "C""#,
        unit_code
    )
    .fetch_all(pool)
    .await
}

/// A row of `assignments.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct AssignmentRecord {
    pub official_code: String,
    pub cell_code: String,
    pub year: i16,
    pub required: i16,
}

/// The Regulation 18 assignments to cell `code`, by official and year.
pub async fn assignments(pool: &PgPool, cell_code: &str) -> sqlx::Result<Vec<AssignmentRecord>> {
    sqlx::query_as!(
        AssignmentRecord,
        r#"select o.code as official_code, u.code as cell_code, r.year, r.required
           from reg18_assignments r join officials o on o.id = r.official_id join units u on u.id = r.cell_id
           where u.code = $1 order by o.code collate "C", r.year"#,
        cell_code
    )
    .fetch_all(pool)
    .await
}

/// A row of `classifications.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct ClassificationRecord {
    pub year: i16,
    pub subject: ClassSubject,
    pub code: String,
    pub level: ClassLevel,
}

/// The annual classifications of cell or member `code`, by year.
pub async fn classifications(
    pool: &PgPool,
    subject: ClassSubject,
    code: &str,
) -> sqlx::Result<Vec<ClassificationRecord>> {
    let found = match subject {
        ClassSubject::Cell => sqlx::query!(
            r#"select c.year, u.code, c.level as "level: ClassLevel"
                   from cell_classifications c join units u on u.id = c.cell_id where u.code = $1 order by c.year"#,
            code
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.year, r.code, r.level))
        .collect::<Vec<_>>(),
        ClassSubject::Member => sqlx::query!(
            r#"select c.year, m.code, c.level as "level: ClassLevel"
               from member_classifications c join members m on m.id = c.member_id where m.code = $1 order by c.year"#,
            code
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.year, r.code, r.level))
        .collect(),
    };
    Ok(found.into_iter().map(|(year, code, level)| ClassificationRecord { year, subject, code, level }).collect())
}

/// The code of the cell a member is in on `day` (their last transfer, or the cell they joined in), as the roll
/// reads it.
pub async fn current_cell(pool: &PgPool, member: &str, day: NaiveDate) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "select u.code from members m cross join lateral cell_of(m.id, $2) c(cell_id) join units u on u.id = c.cell_id
         where m.code = $1",
        member,
        day
    )
    .fetch_optional(pool)
    .await
}

/// The unit an official belongs to.
pub async fn official_unit(pool: &PgPool, code: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!("select unit_id from officials where code = $1", code).fetch_optional(pool).await
}

/// A unit a record form may name, with the name of the unit it is under (the forms group by it).
#[derive(Debug, Clone)]
pub struct UnitChoice {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_name: Option<String>,
}

/// The units open on `day` in the subtree of `scope_id` as the tree stands that day, each with its parent's name.
pub async fn units_in_scope(pool: &PgPool, scope_id: i64, day: NaiveDate) -> sqlx::Result<Vec<UnitChoice>> {
    let mut found = sqlx::query_as!(
        UnitChoice,
        r#"with recursive parents as materialized (
               select u.id, p.parent_id from units u cross join lateral parent_on(u.id, $2) p(parent_id)
           ),
           down(id, depth) as (
               select $1::bigint, 0
               union all
               select c.id, down.depth + 1 from down join parents c on c.parent_id = down.id where down.depth < 32
           )
           select u.code, u.name, u.kind as "kind: UnitKind", pu.name as "parent_name?"
           from down join units u on u.id = down.id
           left join parents p on p.id = u.id left join units pu on pu.id = p.parent_id
           where is_open(u.valid_from, u.valid_to, $2)"#,
        scope_id,
        day
    )
    .fetch_all(pool)
    .await?;
    crate::db::members::sort_by_vietnamese_name(&mut found, |u| &u.name);
    Ok(found)
}

/// The names of the units and of the members with these codes: (units, members), code → name.
pub async fn names(
    pool: &PgPool,
    unit_codes: &[String],
    member_codes: &[String],
) -> sqlx::Result<(HashMap<String, String>, HashMap<String, String>)> {
    let units = sqlx::query!("select code, name from units where code = any($1)", unit_codes).fetch_all(pool).await?;
    let members =
        sqlx::query!("select code, full_name from members where code = any($1)", member_codes).fetch_all(pool).await?;
    Ok((
        units.into_iter().map(|u| (u.code, u.name)).collect(),
        members.into_iter().map(|m| (m.code, m.full_name)).collect(),
    ))
}
