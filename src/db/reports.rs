//! The monthly reports of cells (DOMAIN.md §10, table `cell_reports`): read a cell-month, the months a cell still
//! has to report, a committee's review queue; submit, approve, return and unlock, each one transaction with its
//! audit row (entity `report`, id `CELL/YYYY-MM`). Approval locks the month's meetings in PostgreSQL
//! (migration 0012, SQLSTATE [`LOCKED`]).
use chrono::NaiveDate;
use sqlx::{PgConnection, PgExecutor, PgPool};

use super::audit::{self, Actor, Change};
use crate::domain::vocab::{MeetingKind, Rating, ReportState};

/// The SQLSTATE of a write refused because the cell-month's report is approved (migration 0012).
pub const LOCKED: &str = "CB001";

/// The cell and month (`CELL/YYYY-MM`) a database error says are locked, if it is the lock's refusal.
pub fn locked_month(e: &sqlx::Error) -> Option<String> {
    let db = e.as_database_error()?;
    if db.code().as_deref() != Some(LOCKED) {
        return None;
    }
    // the DETAIL is 'CELL/YYYY-MM'; sqlx keeps it in the Postgres error
    let pg = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    Some(pg.detail().unwrap_or_default().to_string())
}

/// A cell-month's report; a month without a row is a draft.
#[derive(Debug, Clone)]
pub struct Report {
    pub cell_id: i64,
    /// The first day of the month.
    pub month: NaiveDate,
    pub state: ReportState,
    pub first_submitted_on: Option<NaiveDate>,
    pub submitted_on: Option<NaiveDate>,
    pub approved_on: Option<NaiveDate>,
    /// Why the month has no regular meeting.
    pub reason: Option<String>,
    /// Why it was returned (or unlocked).
    pub returned_reason: Option<String>,
}

impl Report {
    fn draft(cell_id: i64, month: NaiveDate) -> Report {
        Report {
            cell_id,
            month,
            state: ReportState::Draft,
            first_submitted_on: None,
            submitted_on: None,
            approved_on: None,
            reason: None,
            returned_reason: None,
        }
    }

    /// Whether the secretary may (still) submit it.
    pub fn can_submit(&self) -> bool {
        matches!(self.state, ReportState::Draft | ReportState::Returned)
    }
}

/// The report of `cell_id` for the month of `month` (any day in it).
pub async fn get(db: impl PgExecutor<'_>, cell_id: i64, month: NaiveDate) -> sqlx::Result<Report> {
    let month = crate::domain::time::month_start(month);
    let found = sqlx::query_as!(
        Report,
        r#"select cell_id, month, state as "state: ReportState", first_submitted_on, submitted_on, approved_on, reason,
                  returned_reason
           from cell_reports where cell_id = $1 and month = $2"#,
        cell_id,
        month
    )
    .fetch_optional(db)
    .await?;
    Ok(found.unwrap_or_else(|| Report::draft(cell_id, month)))
}

/// The months of `cell_id` from `since` (a month) to the month of `today`, while the cell is open, whose report is
/// not approved, and any earlier month submitted or returned: the months it still has to report, the latest first.
pub async fn open_months(
    db: impl PgExecutor<'_>,
    cell_id: i64,
    since: NaiveDate,
    today: NaiveDate,
) -> sqlx::Result<Vec<Report>> {
    sqlx::query_as!(
        Report,
        r#"select u.id as "cell_id!", g.month::date as "month!",
                  coalesce(r.state, 'draft') as "state!: ReportState", r.first_submitted_on as "first_submitted_on?",
                  r.submitted_on as "submitted_on?", r.approved_on as "approved_on?", r.reason as "reason?",
                  r.returned_reason as "returned_reason?"
           from units u
           cross join generate_series(
               greatest(date_trunc('month', least($2::date, (select min(x.month) from cell_reports x
                                                             where x.cell_id = $1 and x.state <> 'approved'))),
                        date_trunc('month', u.valid_from)),
               date_trunc('month', $3::date), interval '1 month') g(month)
           left join cell_reports r on r.cell_id = u.id and r.month = g.month::date
           where u.id = $1 and (u.valid_to is null or u.valid_to >= g.month::date)
             and (g.month >= date_trunc('month', $2::date) or r.state in ('submitted', 'returned'))
             and r.state is distinct from 'approved'
           order by g.month desc"#,
        cell_id,
        since,
        today
    )
    .fetch_all(db)
    .await
}

/// A meeting of a report's month: what the reviewer checks at a glance.
#[derive(Debug, Clone)]
pub struct MonthMeeting {
    pub id: i64,
    pub held_on: NaiveDate,
    pub kind: MeetingKind,
    pub topic: String,
    pub rating: Option<Rating>,
    pub score: Option<i16>,
    pub present: i64,
    /// present + excused + unexcused (the exempt never count)
    pub expected: i64,
}

/// The meetings of `cell_id` held in the months `first` to `last` (any day in each), in the order held: one query for
/// every month a page shows.
pub async fn meetings_of_months(
    db: impl PgExecutor<'_>,
    cell_id: i64,
    first: NaiveDate,
    last: NaiveDate,
) -> sqlx::Result<Vec<MonthMeeting>> {
    let from = crate::domain::time::month_start(first);
    let until = crate::domain::metrics::add_months(crate::domain::time::month_start(last), 1);
    sqlx::query_as!(
        MonthMeeting,
        r#"select m.id, m.held_on, m.kind as "kind: MeetingKind", m.topic, m.rating as "rating: Rating", m.score,
                  c.present as "present!", (c.present + c.excused + c.unexcused)::bigint as "expected!"
           from meetings m join meeting_counts c on c.meeting_id = m.id
           where m.cell_id = $1 and m.held_on >= $2 and m.held_on < $3
           order by m.held_on, m.id"#,
        cell_id,
        from,
        until
    )
    .fetch_all(db)
    .await
}

/// A line of a committee's review queue: a cell-month not yet approved.
#[derive(Debug, Clone)]
pub struct QueueItem {
    pub cell_id: i64,
    pub cell_code: String,
    pub cell_name: String,
    pub month: NaiveDate,
    pub state: ReportState,
    pub submitted_on: Option<NaiveDate>,
    pub reason: Option<String>,
    pub returned_reason: Option<String>,
}

/// Every cell-month under `unit_id` (the tree as on `today`) from `since` up to the month of `today`, while the cell
/// is open, whose report is not approved; the oldest first, then by cell.
pub async fn queue(
    db: impl PgExecutor<'_>,
    cell_ids: &[i64],
    since: NaiveDate,
    today: NaiveDate,
) -> sqlx::Result<Vec<QueueItem>> {
    sqlx::query_as!(
        QueueItem,
        r#"select u.id as "cell_id!", u.code as "cell_code!", u.name as "cell_name!", g.month::date as "month!",
                  coalesce(r.state, 'draft') as "state!: ReportState", r.submitted_on as "submitted_on?",
                  r.reason as "reason?", r.returned_reason as "returned_reason?"
           from units u
           cross join generate_series(greatest(date_trunc('month', $2::date), date_trunc('month', u.valid_from)),
                                      date_trunc('month', $3::date), interval '1 month') g(month)
           left join cell_reports r on r.cell_id = u.id and r.month = g.month::date
           where u.id = any($1) and u.kind = 'cell' and (u.valid_to is null or u.valid_to >= g.month::date)
             and r.state is distinct from 'approved'
           order by g.month, u.name"#,
        cell_ids,
        since,
        today
    )
    .fetch_all(db)
    .await
}

/// What a step of the cycle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The report was not in a state this step applies to (already submitted, approved, …): nothing written.
    WrongState(ReportState),
    /// A month without a regular meeting needs a reason (submit); a return or an unlock needs one too.
    NeedsReason,
}

fn report_id(code: &str, month: NaiveDate) -> String {
    format!("{code}/{}", month.format("%Y-%m"))
}

/// The report row, created as a draft if missing, locked for this transaction.
async fn lock_row(tx: &mut PgConnection, cell_id: i64, month: NaiveDate) -> sqlx::Result<(Report, String)> {
    sqlx::query!("insert into cell_reports (cell_id, month) values ($1, $2) on conflict do nothing", cell_id, month)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("select 1 as one from cell_reports where cell_id = $1 and month = $2 for update", cell_id, month)
        .fetch_one(&mut *tx)
        .await?;
    let report = get(&mut *tx, cell_id, month).await?;
    let code = sqlx::query_scalar!("select code from units where id = $1", cell_id).fetch_one(&mut *tx).await?;
    Ok((report, code))
}

fn json(r: &Report) -> serde_json::Value {
    serde_json::json!({
        "state": r.state,
        "first_submitted_on": r.first_submitted_on,
        "submitted_on": r.submitted_on,
        "approved_on": r.approved_on,
        "reason": r.reason,
        "returned_reason": r.returned_reason,
    })
}

async fn audit_step(tx: &mut PgConnection, actor: &Actor, code: &str, before: &Report, step: &str) -> sqlx::Result<()> {
    let after = get(&mut *tx, before.cell_id, before.month).await?;
    let mut after_json = json(&after);
    after_json["step"] = serde_json::Value::from(step);
    let change = Change {
        action: "update",
        entity: "report",
        entity_id: report_id(code, before.month),
        unit_id: Some(before.cell_id),
        before: Some(json(before)),
        after: Some(after_json),
    };
    audit::record(tx, actor, change).await
}

fn clean(reason: Option<&str>) -> Option<&str> {
    reason.map(str::trim).filter(|r| !r.is_empty())
}

/// Submits the month of `month` for `cell_id` on `today` (a local date); keeps the first submission's date. A month
/// without a regular meeting needs `reason`. Submitting a month already submitted or approved writes nothing.
pub async fn submit(
    pool: &PgPool,
    actor: &Actor,
    cell_id: i64,
    month: NaiveDate,
    reason: Option<&str>,
    today: NaiveDate,
) -> sqlx::Result<Outcome> {
    let month = crate::domain::time::month_start(month);
    let mut tx = pool.begin().await?;
    let (before, code) = lock_row(&mut tx, cell_id, month).await?;
    if !before.can_submit() {
        return Ok(Outcome::WrongState(before.state));
    }
    let regular = sqlx::query_scalar!(
        r#"select exists (select 1 from meetings where cell_id = $1 and kind = $3
                          and date_trunc('month', held_on) = $2::date) as "regular!""#,
        cell_id,
        month,
        MeetingKind::Regular.as_str()
    )
    .fetch_one(&mut *tx)
    .await?;
    let reason = if regular { None } else { clean(reason) };
    if !regular && reason.is_none() {
        return Ok(Outcome::NeedsReason);
    }
    sqlx::query!(
        "update cell_reports set state = $3, first_submitted_on = coalesce(first_submitted_on, $4), submitted_on = $4,
                submitted_by = $5, reason = $6, updated_at = now()
         where cell_id = $1 and month = $2",
        cell_id,
        month,
        ReportState::Submitted.as_str(),
        today,
        actor.user_id,
        reason
    )
    .execute(&mut *tx)
    .await?;
    audit_step(&mut tx, actor, &code, &before, "submit").await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}

/// Approves the submitted reports of these (cell, month) pairs on `today`, in one transaction; the others (not
/// submitted, or approved already) are left as they are. Returns how many were approved.
pub async fn approve(
    pool: &PgPool,
    actor: &Actor,
    items: &[(i64, NaiveDate)],
    today: NaiveDate,
) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let mut approved = 0;
    for &(cell_id, month) in items {
        let month = crate::domain::time::month_start(month);
        let before = get(&mut *tx, cell_id, month).await?;
        let done = sqlx::query!(
            "update cell_reports set state = $3, approved_on = $4, approved_by = $5, updated_at = now()
             where cell_id = $1 and month = $2 and state = $6",
            cell_id,
            month,
            ReportState::Approved.as_str(),
            today,
            actor.user_id,
            ReportState::Submitted.as_str()
        )
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            continue;
        }
        let code = sqlx::query_scalar!("select code from units where id = $1", cell_id).fetch_one(&mut *tx).await?;
        audit_step(&mut tx, actor, &code, &before, "approve").await?;
        approved += 1;
    }
    tx.commit().await?;
    Ok(approved)
}

/// Sends a submitted report back with `reason` (from `from`: submitted to return it, approved to unlock it).
async fn send_back(
    pool: &PgPool,
    actor: &Actor,
    cell_id: i64,
    month: NaiveDate,
    reason: Option<&str>,
    from: ReportState,
    step: &str,
) -> sqlx::Result<Outcome> {
    let Some(reason) = clean(reason) else { return Ok(Outcome::NeedsReason) };
    let month = crate::domain::time::month_start(month);
    let mut tx = pool.begin().await?;
    let (before, code) = lock_row(&mut tx, cell_id, month).await?;
    if before.state != from {
        return Ok(Outcome::WrongState(before.state));
    }
    sqlx::query!(
        "update cell_reports set state = $3, returned_reason = $4, approved_on = null, approved_by = null,
                updated_at = now()
         where cell_id = $1 and month = $2",
        cell_id,
        month,
        ReportState::Returned.as_str(),
        reason
    )
    .execute(&mut *tx)
    .await?;
    audit_step(&mut tx, actor, &code, &before, step).await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}

/// Returns a submitted report to the cell with `reason`.
pub async fn return_report(
    pool: &PgPool,
    actor: &Actor,
    cell_id: i64,
    month: NaiveDate,
    reason: Option<&str>,
) -> sqlx::Result<Outcome> {
    send_back(pool, actor, cell_id, month, reason, ReportState::Submitted, "return").await
}

/// Unlocks an approved report with `reason`: it goes back to `returned`, its meetings open again.
pub async fn unlock(
    pool: &PgPool,
    actor: &Actor,
    cell_id: i64,
    month: NaiveDate,
    reason: Option<&str>,
) -> sqlx::Result<Outcome> {
    send_back(pool, actor, cell_id, month, reason, ReportState::Approved, "unlock").await
}
