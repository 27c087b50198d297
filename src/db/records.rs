//! The records as the bundle's files hold them (DOMAIN.md §8): the export writes these queries' rows, and the
//! record pages read a unit's or a member's rows through them, so that a form shows what an export would.
use chrono::NaiveDate;
use serde_json::{Map, Value};
use sqlx::PgPool;

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
                x.rating, x.score, x.present, x.excused, x.unexcused, x.exempt
         from meetings x join units u on u.id = x.cell_id order by coalesce(x.ref, 'web-' || x.id) collate \"C\"",
    ),
    (
        "attendance.csv",
        "select coalesce(x.ref, 'web-' || x.id) as meeting_ref, m.code as member_code, a.status
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
];

/// Rows of a bundle file whose `col` is `value`, as the export writes them.
pub async fn rows(pool: &PgPool, file: &str, col: &str, value: &str) -> sqlx::Result<Vec<Map<String, Value>>> {
    let query = QUERIES.iter().find(|(f, _)| *f == file).map(|(_, q)| *q).expect("an exported file");
    let sql = format!("select to_jsonb(q) from ({query}) q where q.\"{col}\" = $1");
    let found: Vec<Value> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(value).fetch_all(pool).await?;
    Ok(found.into_iter().filter_map(|v| if let Value::Object(m) = v { Some(m) } else { None }).collect())
}

/// The code of the cell a member is in on `day` (their last transfer, or the cell they joined in), as the roll
/// reads it.
pub async fn current_cell(pool: &PgPool, member: &str, day: NaiveDate) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "select u.code from members m cross join lateral cell_of(m.id, $2) c(cell_id) join units u on u.id = c.cell_id
         where m.code = $1",
    )
    .bind(member)
    .bind(day)
    .fetch_optional(pool)
    .await
}

/// The unit an official belongs to.
pub async fn official_unit(pool: &PgPool, code: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("select unit_id from officials where code = $1").bind(code).fetch_optional(pool).await
}
