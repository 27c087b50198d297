//! Members and who is on a cell's roll on a given day (DOMAIN.md §8).
use chrono::NaiveDate;
use sqlx::PgExecutor;

use crate::domain::vocab::{AttendanceStatus, MeetingKind};

/// One member on a cell's roll on one day.
#[derive(Debug, Clone)]
pub struct RollMember {
    pub id: i64,
    pub code: String,
    pub full_name: String,
    pub official_on: Option<NaiveDate>,
    /// Exempt from activities that day (DOMAIN.md §2).
    pub exempt: bool,
}

impl RollMember {
    /// Official member on `day` (else probationary).
    pub fn is_official_on(&self, day: &NaiveDate) -> bool {
        self.official_on.is_some_and(|o| o <= *day)
    }
}

/// The members on `cell_id`'s roll on `day`, in Vietnamese name order.
pub async fn roll(db: impl PgExecutor<'_>, cell_id: i64, day: NaiveDate) -> sqlx::Result<Vec<RollMember>> {
    let mut members = sqlx::query_as!(
        RollMember,
        r#"with candidates as (
               select id from members where cell_id = $1
               union select member_id from member_transfers where cell_id = $1
           )
           select m.id, m.code, m.full_name, m.official_on,
                  exists(select 1 from exemptions e where e.member_id = m.id
                         and is_open(e.valid_from, e.valid_to, $2)) as "exempt!"
           from candidates x join members m on m.id = x.id cross join lateral cell_of(m.id, $2) c(cell_id)
           where is_open(m.joined_on, m.left_on - 1, $2) and c.cell_id = $1"#,
        cell_id,
        day
    )
    .fetch_all(db)
    .await?;
    sort_by_vietnamese_name(&mut members, |m| &m.full_name);
    Ok(members)
}

/// Vietnamese lists order people by given name (the last word), then by the full name.
pub fn sort_by_vietnamese_name<T>(items: &mut [T], name: impl Fn(&T) -> &str) {
    items.sort_by_cached_key(|item| crate::domain::text::name_order_key(name(item)));
}

/// A member found by a search, with the cell whose roll they are on.
#[derive(Debug, Clone)]
pub struct Found {
    pub code: String,
    pub full_name: String,
    pub official_on: Option<NaiveDate>,
    pub joined_on: NaiveDate,
    pub cell_code: String,
    pub cell_name: String,
}

impl Found {
    /// Official member on `day` (else probationary).
    pub fn is_official_on(&self, day: &NaiveDate) -> bool {
        self.official_on.is_some_and(|o| o <= *day)
    }
}

/// Members on the roll of a cell under `unit_id` on `day` whose name or code holds every word of `query`,
/// compared without accents or case ("nguyen thi" finds "Nguyễn Thị …"), in Vietnamese name order; at most
/// `limit` of them, and whether there were more.
pub async fn search(
    db: impl sqlx::Acquire<'_, Database = sqlx::Postgres>,
    unit_id: i64,
    query: &str,
    day: NaiveDate,
    limit: usize,
) -> sqlx::Result<(Vec<Found>, bool)> {
    let words: Vec<String> = crate::domain::text::search_key(query)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| format!("%{}%", w.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")))
        .collect();
    if words.is_empty() {
        return Ok((Vec::new(), false));
    }
    let mut conn = db.acquire().await?;
    let cells = super::units::subtree_ids(&mut *conn, unit_id, day).await?;
    let mut found = sqlx::query_as!(
        Found,
        "select m.code, m.full_name, m.official_on, m.joined_on, u.code as cell_code, u.name as cell_name
         from member_stints s join members m on m.id = s.member_id join units u on u.id = s.cell_id
         where s.cell_id = any($1) and is_open(s.start_on, s.end_on, $3)
           and (m.search_name || ' ' || lower(m.code)) like all ($2)
         limit $4",
        &cells,
        &words,
        day,
        limit as i64 + 1
    )
    .fetch_all(&mut *conn)
    .await?;
    let more = found.len() > limit;
    found.truncate(limit);
    sort_by_vietnamese_name(&mut found, |m| &m.full_name);
    Ok((found, more))
}

/// A member's attendance at one meeting.
#[derive(Debug, Clone)]
pub struct Attended {
    pub meeting_id: i64,
    pub held_on: NaiveDate,
    pub kind: MeetingKind,
    pub status: AttendanceStatus,
}

/// A member's attendance at the meetings of a year, newest first.
pub async fn attendance_in_year(db: impl PgExecutor<'_>, member_code: &str, year: i32) -> sqlx::Result<Vec<Attended>> {
    sqlx::query_as!(
        Attended,
        r#"select m.id as meeting_id, m.held_on, m.kind as "kind: MeetingKind", a.status as "status: AttendanceStatus"
           from attendance a join meetings m on m.id = a.meeting_id join members p on p.id = a.member_id
           where p.code = $1 and m.held_on >= make_date($2, 1, 1) and m.held_on < make_date($2 + 1, 1, 1)
           order by m.held_on desc, m.id desc"#,
        member_code,
        year
    )
    .fetch_all(db)
    .await
}
