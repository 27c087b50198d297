//! The store of the reminders (DOMAIN.md §10, migration 0014): who is to be reminded of which cell-month, and the
//! notices shown on the users' home pages. Sending is `jobs::reminders`, through the outbox.
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};
use std::collections::HashSet;

use super::audit::{self, Actor, Change};
use crate::domain::Role;

/// A cell open in a month whose report for it is neither submitted nor approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCell {
    pub cell_id: i64,
    pub code: String,
    pub name: String,
    /// The unit the cell stood under that month (its grassroots committee).
    pub committee_id: Option<i64>,
    pub committee_name: Option<String>,
}

/// The cells open in `month` (their place that month, `cell_places`) that have not submitted its report.
pub async fn pending_cells(db: impl PgExecutor<'_>, month: NaiveDate) -> sqlx::Result<Vec<PendingCell>> {
    sqlx::query_as!(
        PendingCell,
        r#"select c.id as cell_id, c.code, c.name, k.id as "committee_id?", k.name as "committee_name?"
           from cell_places p
           join units c on c.id = p.cell_id
           left join units k on k.id = p.ancestors[cardinality(p.ancestors) - 1]
           where p.period = 'month' and p.starts_on = $1
             and not exists (select 1 from cell_reports r
                             where r.cell_id = p.cell_id and r.month = $1 and r.state in ('submitted', 'approved'))
           order by c.name, c.id"#,
        month,
    )
    .fetch_all(db)
    .await
}

/// Someone to remind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: i64,
    pub unit_id: i64,
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// The enabled users with `role` bound to one of `unit_ids`.
pub async fn recipients(db: impl PgExecutor<'_>, role: Role, unit_ids: &[i64]) -> sqlx::Result<Vec<Recipient>> {
    sqlx::query_as!(
        Recipient,
        "select id as user_id, unit_id, display_name, phone, email from users
         where role = $1 and unit_id = any($2) and account_active(disabled, access_until) order by id",
        role.as_str(),
        unit_ids,
    )
    .fetch_all(db)
    .await
}

pub struct NewNotice<'a> {
    pub key: &'a str,
    pub user_id: i64,
    pub unit_id: i64,
    pub month: NaiveDate,
    pub deadline: NaiveDate,
    pub overdue: bool,
    pub cell_ids: &'a [i64],
}

/// Adds a notice unless one with its key exists already (dismissed or not). Whether it is new.
pub async fn add_notice(conn: &mut PgConnection, n: NewNotice<'_>, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "insert into notices (key, user_id, unit_id, month, deadline, overdue, cell_ids, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (key) do nothing",
        n.key,
        n.user_id,
        n.unit_id,
        n.month,
        n.deadline,
        n.overdue,
        n.cell_ids,
        now,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Those of `keys` that notices have already.
pub async fn known_notices(db: impl PgExecutor<'_>, keys: &[String]) -> sqlx::Result<HashSet<String>> {
    let known = sqlx::query_scalar!("select key from notices where key = any($1)", keys).fetch_all(db).await?;
    Ok(known.into_iter().collect())
}

/// A notice as a home page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: i64,
    pub overdue: bool,
    pub month: NaiveDate,
    pub deadline: NaiveDate,
    /// The cells it names whose report is still not submitted, by name.
    pub cells: Vec<String>,
}

/// At most this many notices on a page (a cell that never reports would gather one a month).
pub const MAX_SHOWN: usize = 3;

/// The notices of `user_id` about `unit_id` not dismissed, the latest per month and kind, newest month first;
/// one whose cells have all submitted since is no longer shown.
pub async fn notices(db: impl PgExecutor<'_>, user_id: i64, unit_id: i64) -> sqlx::Result<Vec<Notice>> {
    let mut rows = sqlx::query_as!(
        Notice,
        r#"select distinct on (n.month, n.overdue) n.id, n.overdue, n.month, n.deadline,
                  array(select u.name from unnest(n.cell_ids) c(id) join units u on u.id = c.id
                        where not exists (select 1 from cell_reports r
                                          where r.cell_id = c.id and r.month = n.month
                                            and r.state in ('submitted', 'approved'))
                        order by u.name) as "cells!"
           from notices n
           where n.user_id = $1 and n.unit_id = $2 and n.dismissed_at is null
           order by n.month desc, n.overdue, n.created_at desc, n.id desc"#,
        user_id,
        unit_id,
    )
    .fetch_all(db)
    .await?;
    rows.retain(|n| !n.cells.is_empty());
    rows.truncate(MAX_SHOWN);
    Ok(rows)
}

/// Dismisses a notice of `user_id`'s, with the earlier ones of the same unit, month and kind. False if the user
/// has no such notice.
pub async fn dismiss(pool: &PgPool, actor: &Actor, user_id: i64, id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"with gone as (
               update notices d set dismissed_at = $3
               from notices n
               where n.id = $1 and n.user_id = $2 and d.user_id = n.user_id and d.unit_id = n.unit_id
                 and d.month = n.month and d.overdue = n.overdue and d.dismissed_at is null
               returning d.id, d.unit_id)
           select count(*) as "count!", min(unit_id) as unit_id from gone"#,
        id,
        user_id,
        now,
    )
    .fetch_one(&mut *tx)
    .await?;
    if row.count == 0 {
        return Ok(false);
    }
    let change = Change {
        action: "update",
        entity: "notice",
        entity_id: id.to_string(),
        unit_id: row.unit_id,
        before: None,
        after: Some(serde_json::json!({ "dismissed": row.count })),
    };
    audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(true)
}
