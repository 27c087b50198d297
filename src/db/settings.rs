//! The settings of the reporting cycle (`settings` table, migration 0011), read and written whole.
use sqlx::{PgExecutor, PgPool};

use super::audit::{self, Actor, Change};
use crate::domain::reports::{DEFAULT_DEADLINE_DAY, Settings};
use crate::domain::time;

pub async fn get(db: impl PgExecutor<'_>) -> sqlx::Result<Settings> {
    let rows = sqlx::query!("select key, value from settings").fetch_all(db).await?;
    let mut s = Settings::default();
    for r in rows {
        match r.key.as_str() {
            "reporting_since" => s.reporting_since = time::parse_month(&r.value),
            "report_deadline_day" => s.report_deadline_day = r.value.parse().unwrap_or(DEFAULT_DEADLINE_DAY),
            _ => {}
        }
    }
    Ok(s)
}

/// Writes both settings in one transaction, audited with the values before and after.
pub async fn set(pool: &PgPool, actor: &Actor, new: Settings) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    let before = get(&mut *tx).await?;
    let since = new.reporting_since.map(|m| m.format("%Y-%m").to_string());
    sqlx::query!("delete from settings").execute(&mut *tx).await?;
    if let Some(since) = &since {
        sqlx::query!("insert into settings (key, value) values ('reporting_since', $1)", since)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query!(
        "insert into settings (key, value) values ('report_deadline_day', $1)",
        new.report_deadline_day.to_string()
    )
    .execute(&mut *tx)
    .await?;
    let json = |s: &Settings| {
        serde_json::json!({
            "reporting_since": s.reporting_since.map(|m| m.format("%Y-%m").to_string()),
            "report_deadline_day": s.report_deadline_day,
        })
    };
    let change = Change {
        action: "update",
        entity: "settings",
        entity_id: "reporting".into(),
        // the settings hold for the whole tree: the change concerns its top unit
        unit_id: sqlx::query_scalar!("select id from units where parent_id is null order by id limit 1")
            .fetch_optional(&mut *tx)
            .await?,
        before: Some(json(&before)),
        after: Some(json(&new)),
    };
    audit::record(&mut tx, actor, change).await?;
    tx.commit().await
}
