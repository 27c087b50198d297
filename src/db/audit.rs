//! The audit trail: every create, update and delete, with who, when, from where, before and after.
use serde_json::Value;
use sqlx::PgConnection;

/// Who is acting and from where, carried into every write.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub ip: Option<String>,
}

impl Actor {
    /// Changes made from the command line (demo, import, user add).
    pub fn cli() -> Actor {
        Actor {
            user_id: None,
            ip: Some("cli".into()),
        }
    }
}

pub async fn record(
    tx: &mut PgConnection,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    before: Option<Value>,
    after: Option<Value>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into audit_log (user_id, ip, action, entity, entity_id, before, after)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(actor.user_id)
    .bind(&actor.ip)
    .bind(action)
    .bind(entity)
    .bind(entity_id.to_string())
    .bind(before)
    .bind(after)
    .execute(tx)
    .await?;
    Ok(())
}
