//! Published reports (DOMAIN.md §10): a unit's report for a period, frozen as the report contract's JSON with who
//! published it and when. Append-only in the database (migration 0015): a published report is never changed.
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{PgExecutor, PgPool};

use super::audit::{self, Actor, Change};
use crate::domain::metrics::Period;

/// What a publication freezes.
pub struct NewPublication<'a> {
    pub unit_id: i64,
    pub period: Period,
    pub unit_name: &'a str,
    pub issuer: &'a str,
    /// the report contract of DOMAIN.md §9 (`web::report::json`)
    pub report: Value,
    pub note: Option<&'a str>,
    /// the form's key: a double submit publishes once
    pub idempotency_key: &'a str,
}

/// One published report, as listed.
#[derive(Debug, Clone)]
pub struct Summary {
    pub id: i64,
    pub period: Period,
    pub published_at: DateTime<Utc>,
    /// who published it, by the name people know them by
    pub published_by: String,
    pub note: Option<String>,
}

/// One published report, whole.
#[derive(Debug, Clone)]
pub struct Published {
    pub summary: Summary,
    pub unit_id: i64,
    pub unit_name: String,
    pub issuer: String,
    pub report: Value,
}

/// Publishes, in one transaction with its audit row; the id of the publication (the one already made, with no
/// second row and no second audit row, when this form was submitted before).
pub async fn publish(pool: &PgPool, actor: &Actor, p: NewPublication<'_>) -> sqlx::Result<i64> {
    let mut tx = pool.begin().await?;
    let by = actor.user_id.ok_or(sqlx::Error::RowNotFound)?;
    let inserted = sqlx::query_scalar!(
        "insert into published_reports
             (unit_id, period_from, period_to, published_by, unit_name, issuer, report, note, idempotency_key)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (idempotency_key) do nothing
         returning id",
        p.unit_id,
        p.period.from,
        p.period.to,
        by,
        p.unit_name,
        p.issuer,
        p.report,
        p.note,
        p.idempotency_key,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = inserted else {
        tx.rollback().await?;
        return sqlx::query_scalar!("select id from published_reports where idempotency_key = $1", p.idempotency_key)
            .fetch_one(pool)
            .await;
    };
    let change = Change {
        action: "create",
        entity: "published_report",
        entity_id: id.to_string(),
        unit_id: Some(p.unit_id),
        before: None,
        after: Some(json!({
            "unit": p.report.get("unit"),
            "from": p.period.from_label(),
            "to": p.period.to_label(),
            "note": p.note,
        })),
    };
    audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(id)
}

/// A unit's published reports, the latest first.
pub async fn list(db: impl PgExecutor<'_>, unit_id: i64) -> sqlx::Result<Vec<Summary>> {
    let rows = sqlx::query!(
        r#"select p.id, p.period_from, p.period_to, p.published_at, u.display_name as "published_by!", p.note
           from published_reports p join users u on u.id = p.published_by
           where p.unit_id = $1
           order by p.published_at desc, p.id desc"#,
        unit_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Summary {
            id: r.id,
            period: Period { from: r.period_from, to: r.period_to },
            published_at: r.published_at,
            published_by: r.published_by,
            note: r.note,
        })
        .collect())
}

/// One published report of a unit (`None` if there is no such report of that unit).
pub async fn get(db: impl PgExecutor<'_>, unit_id: i64, id: i64) -> sqlx::Result<Option<Published>> {
    let row = sqlx::query!(
        r#"select p.id, p.unit_id, p.period_from, p.period_to, p.published_at, u.display_name as "published_by!",
                  p.note, p.unit_name, p.issuer, p.report
           from published_reports p join users u on u.id = p.published_by
           where p.id = $1 and p.unit_id = $2"#,
        id,
        unit_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Published {
        summary: Summary {
            id: r.id,
            period: Period { from: r.period_from, to: r.period_to },
            published_at: r.published_at,
            published_by: r.published_by,
            note: r.note,
        },
        unit_id: r.unit_id,
        unit_name: r.unit_name,
        issuer: r.issuer,
        report: r.report,
    }))
}
