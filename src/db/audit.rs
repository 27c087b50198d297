//! The audit trail: every create, update and delete, with who, when, from where, before and after, and the
//! unit it concerns (so that each user browses the changes within their scope). Append-only in the database.
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};

/// Who is acting and from where, carried into every write.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub ip: Option<String>,
}

impl Actor {
    /// Changes made from the command line (demo, import, user add).
    pub fn cli() -> Actor {
        Actor { user_id: None, ip: Some("cli".into()) }
    }
}

/// One change to record.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: String,
    /// The unit the change concerns (a meeting's cell, a user's unit).
    pub unit_id: Option<i64>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub async fn record(tx: &mut PgConnection, actor: &Actor, change: Change<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into audit_log (user_id, ip, action, entity, entity_id, unit_id, before, after)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        actor.user_id,
        actor.ip.as_deref(),
        change.action,
        change.entity,
        change.entity_id,
        change.unit_id,
        change.before,
        change.after
    )
    .execute(tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub username: Option<String>,
    /// the actor's name as people know it (officials act in public office; their login name is not shown to all)
    pub display_name: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub unit_name: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The latest changes to units inside `unit_ids`, newest first, before the entry `before_id` (for paging).
pub async fn browse(
    db: impl PgExecutor<'_>,
    unit_ids: &[i64],
    before_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<Entry>> {
    sqlx::query_as!(
        Entry,
        r#"select a.id, a.at, u.username as "username?", u.display_name as "display_name?", a.ip, a.action, a.entity,
                  a.entity_id, n.name as "unit_name?", a.before, a.after
           from audit_log a left join users u on u.id = a.user_id left join units n on n.id = a.unit_id
           where a.unit_id = any($1) and ($2::bigint is null or a.id < $2)
           order by a.id desc limit $3"#,
        unit_ids,
        before_id,
        limit
    )
    .fetch_all(db)
    .await
}

/// The changes recorded for one record (a unit, member or official by its code), newest first.
pub async fn for_entity(db: impl PgExecutor<'_>, entity: &str, entity_id: &str) -> sqlx::Result<Vec<Entry>> {
    sqlx::query_as!(
        Entry,
        r#"select a.id, a.at, u.username as "username?", u.display_name as "display_name?", a.ip, a.action, a.entity,
                  a.entity_id, n.name as "unit_name?", a.before, a.after
           from audit_log a left join users u on u.id = a.user_id left join units n on n.id = a.unit_id
           where a.entity = $1 and a.entity_id = $2
           order by a.id desc limit 50"#,
        entity,
        entity_id
    )
    .fetch_all(db)
    .await
}
