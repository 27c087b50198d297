//! Programmes (Project 16 and its successors) and their targets, by metric, with per-unit overrides.
use chrono::NaiveDate;
use serde_json::json;
use sqlx::{FromRow, PgPool};

use crate::db::audit::{self, Actor, Change};
use crate::domain::vocab::Metric;

#[derive(Debug, Clone, FromRow)]
pub struct Programme {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub from_month: NaiveDate,
    pub to_month: NaiveDate,
}

#[derive(Debug, Clone, FromRow)]
pub struct Target {
    pub programme_code: String,
    pub metric: Metric,
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    pub target: f64,
}

pub async fn list(pool: &PgPool) -> sqlx::Result<Vec<Programme>> {
    sqlx::query_as!(Programme, "select id, code, name, from_month, to_month from programmes order by from_month, code")
        .fetch_all(pool)
        .await
}

pub async fn targets(pool: &PgPool) -> sqlx::Result<Vec<Target>> {
    sqlx::query_as!(
        Target,
        r#"select p.code as programme_code, t.metric as "metric: Metric", u.code as "unit_code?",
                  u.name as "unit_name?", t.target::float8 as "target!"
         from programme_targets t join programmes p on p.id = t.programme_id left join units u on u.id = t.unit_id
         order by p.from_month, t.metric, u.code nulls first"#,
    )
    .fetch_all(pool)
    .await
}

/// The audit trail's unit of a change to a programme: the root of the tree.
async fn root(tx: &mut sqlx::PgConnection) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!("select id from units where parent_id is null order by id limit 1").fetch_optional(tx).await
}

/// Creates a programme; `None` if its code is taken.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    code: &str,
    name: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Option<i64>> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into programmes (code, name, from_month, to_month) values ($1, $2, $3, $4)
         on conflict (code) do nothing returning id",
        code,
        name,
        from,
        to,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = id {
        let change = Change {
            action: "create",
            entity: "programme",
            entity_id: id.to_string(),
            unit_id: root(&mut tx).await?,
            before: None,
            after: Some(json!({"code": code, "name": name, "from": from, "to": to})),
        };
        audit::record(&mut tx, actor, change).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Sets a programme's target for a metric, for every unit (`unit_id` None) or as one unit's override.
pub async fn set_target(
    pool: &PgPool,
    actor: &Actor,
    programme_id: i64,
    metric: Metric,
    unit_id: Option<i64>,
    target: f64,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    let before = sqlx::query_scalar!(
        r#"select target::float8 as "target!" from programme_targets
         where programme_id = $1 and metric = $2 and unit_id is not distinct from $3"#,
        programme_id,
        metric.as_str(),
        unit_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into programme_targets (programme_id, metric, unit_id, target) values ($1, $2, $3, $4::float8::numeric)
         on conflict (programme_id, metric, unit_id) do update set target = excluded.target",
        programme_id,
        metric.as_str(),
        unit_id,
        target,
    )
    .execute(&mut *tx)
    .await?;
    let root = root(&mut tx).await?;
    let change = Change {
        action: if before.is_some() { "update" } else { "create" },
        entity: "programme_target",
        entity_id: format!("{programme_id}/{}/{}", metric.as_str(), unit_id.map(|u| u.to_string()).unwrap_or_default()),
        unit_id: unit_id.or(root),
        before: before.map(|b| json!({ "target": b })),
        after: Some(json!({ "target": target })),
    };
    audit::record(&mut tx, actor, change).await?;
    tx.commit().await
}

/// Removes a target (a programme's default for every unit when `unit_id` is `None`, else a unit's override).
/// False if there was none.
pub async fn remove_target(
    pool: &PgPool,
    actor: &Actor,
    programme_id: i64,
    metric: Metric,
    unit_id: Option<i64>,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let before = sqlx::query_scalar!(
        r#"delete from programme_targets where programme_id = $1 and metric = $2 and unit_id is not distinct from $3
         returning target::float8 as "target!""#,
        programme_id,
        metric.as_str(),
        unit_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(before) = before else { return Ok(false) };
    let root = root(&mut tx).await?;
    let change = Change {
        action: "delete",
        entity: "programme_target",
        entity_id: format!("{programme_id}/{}/{}", metric.as_str(), unit_id.map(|u| u.to_string()).unwrap_or_default()),
        unit_id: unit_id.or(root),
        before: Some(json!({ "target": before })),
        after: None,
    };
    audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(true)
}
