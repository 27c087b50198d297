//! Passwords, one-time reset links and API tokens. Secrets are shown once and stored only as hashes.
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;

use crate::db::audit::{self, Actor, Change};
use crate::db::sessions::{new_token, token_hash};
use crate::db::users::{self, User};

/// A reset link is good for this long, and once.
pub const RESET_HOURS: i32 = 24;

fn user_change(user: &User, action: &'static str, after: serde_json::Value) -> Change<'static> {
    Change {
        action,
        entity: "user",
        entity_id: user.id.to_string(),
        unit_id: Some(user.unit_id),
        before: None,
        after: Some(after),
    }
}

/// Sets a new password; every other session of the user ends (`keep_session`: the token hash of the one that
/// stays signed in, if any).
pub async fn set_password(
    pool: &PgPool,
    actor: &Actor,
    user: &User,
    password_hash: &str,
    keep_session: Option<&str>,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!("update users set password_hash = $2 where id = $1", user.id, password_hash).execute(&mut *tx).await?;
    sqlx::query!(
        "delete from sessions where user_id = $1 and id_hash is distinct from $2",
        user.id,
        keep_session.map(token_hash),
    )
    .execute(&mut *tx)
    .await?;
    revoke_all_tokens(&mut tx, user.id).await?;
    audit::record(&mut tx, actor, user_change(user, "update", json!({"password": "changed", "api_tokens": "revoked"})))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A new password ends whatever the old one opened: every API token of the user stops working with it.
async fn revoke_all_tokens(tx: &mut sqlx::PgConnection, user_id: i64) -> sqlx::Result<()> {
    sqlx::query!("update api_tokens set revoked_at = now() where user_id = $1 and revoked_at is null", user_id)
        .execute(tx)
        .await
        .map(|_| ())
}

/// Disables a user and ends their sessions; their tokens stop working with them.
pub async fn disable(pool: &PgPool, actor: &Actor, user: &User) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!("update users set disabled = true where id = $1", user.id).execute(&mut *tx).await?;
    sqlx::query!("delete from sessions where user_id = $1", user.id).execute(&mut *tx).await?;
    audit::record(&mut tx, actor, user_change(user, "update", json!({"disabled": true}))).await?;
    tx.commit().await
}

/// Unlocks a user: enables a disabled account and forgets the wrong passwords that paused its sign-in, from every
/// address. What changed is audited; false if there was nothing to unlock.
pub async fn unlock(pool: &PgPool, actor: &Actor, user: &User) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let enabled =
        // an account whose access a handover ended is given it back too
        sqlx::query!(
            "update users set disabled = false, access_until = null
             where id = $1 and (disabled or access_until is not null)",
            user.id
        )
        .execute(&mut *tx)
        .await?;
    let forgotten =
        sqlx::query!("delete from login_failures where username = $1", user.username).execute(&mut *tx).await?;
    let changed = enabled.rows_affected() > 0 || forgotten.rows_affected() > 0;
    if changed {
        let after =
            json!({"disabled": false, "access_until": null, "wrong_passwords_forgotten": forgotten.rows_affected()});
        audit::record(&mut tx, actor, user_change(user, "update", after)).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Those of `usernames` whose sign-in is paused from some address (too many wrong passwords lately): one query
/// for a whole list of users.
pub async fn sign_in_paused(pool: &PgPool, usernames: &[String]) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "select distinct username from login_failures
         where username = any($1) and failed_at > now() - make_interval(mins => $2)
         group by username, ip having count(*) >= $3",
        usernames,
        crate::db::users::LOCK_MINUTES,
        crate::db::users::MAX_PER_USER_AND_ADDRESS,
    )
    .fetch_all(pool)
    .await
}

/// Creates a one-time reset link token for `user` (shown once to whoever hands it over).
pub async fn create_reset(pool: &PgPool, actor: &Actor, user: &User) -> sqlx::Result<String> {
    let token = new_token();
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into password_resets (token_hash, user_id, created_by, expires_at)
         values ($1, $2, $3, now() + make_interval(hours => $4))",
        token_hash(&token),
        user.id,
        actor.user_id,
        RESET_HOURS,
    )
    .execute(&mut *tx)
    .await?;
    // a link issued for the user, not a user created
    let change =
        Change { entity: "password_reset", ..user_change(user, "create", json!({"valid_hours": RESET_HOURS})) };
    audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(token)
}

/// The user a reset link is for, while it is unused and unexpired.
pub async fn reset_user(pool: &PgPool, token: &str) -> sqlx::Result<Option<User>> {
    let user_id = sqlx::query_scalar!(
        "select user_id from password_resets where token_hash = $1 and used_at is null and expires_at > now()",
        token_hash(token),
    )
    .fetch_optional(pool)
    .await?;
    match user_id {
        Some(id) => Ok(users::by_id(pool, id).await?.filter(|u| !u.disabled)),
        None => Ok(None),
    }
}

/// Uses a reset link: sets the password if the link is still good. False if it was not.
pub async fn use_reset(pool: &PgPool, actor: &Actor, token: &str, password_hash: &str) -> anyhow::Result<bool> {
    let Some(user) = reset_user(pool, token).await? else { return Ok(false) };
    let mut tx = pool.begin().await?;
    // the update only wins once, even if the link is sent twice at the same moment
    let used = sqlx::query!(
        "update password_resets set used_at = now() where token_hash = $1 and used_at is null",
        token_hash(token)
    )
    .execute(&mut *tx)
    .await?;
    if used.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query!("update users set password_hash = $2 where id = $1", user.id, password_hash).execute(&mut *tx).await?;
    sqlx::query!("delete from sessions where user_id = $1", user.id).execute(&mut *tx).await?;
    revoke_all_tokens(&mut tx, user.id).await?;
    let actor = Actor { user_id: Some(user.id), ip: actor.ip.clone() };
    audit::record(
        &mut tx,
        &actor,
        user_change(&user, "update", json!({"password": "reset with a link", "api_tokens": "revoked"})),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn tokens(pool: &PgPool, user_id: i64) -> sqlx::Result<Vec<ApiToken>> {
    sqlx::query_as!(
        ApiToken,
        "select id, name, created_at, last_used_at, revoked_at from api_tokens where user_id = $1 order by id desc",
        user_id,
    )
    .fetch_all(pool)
    .await
}

/// Creates an API token for `user`; returns the secret, shown once.
pub async fn create_token(pool: &PgPool, actor: &Actor, user: &User, name: &str) -> sqlx::Result<String> {
    let secret = format!("chibo_{}", new_token());
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into api_tokens (user_id, name, token_hash) values ($1, $2, $3) returning id",
        user.id,
        name,
        token_hash(&secret),
    )
    .fetch_one(&mut *tx)
    .await?;
    let change = Change {
        action: "create",
        entity: "api_token",
        entity_id: id.to_string(),
        unit_id: Some(user.unit_id),
        before: None,
        after: Some(json!({"name": name, "user_id": user.id})),
    };
    audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(secret)
}

/// Revokes one of `user`'s own tokens. False if it is not theirs or already revoked.
pub async fn revoke_token(pool: &PgPool, actor: &Actor, user: &User, id: i64) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query!(
        "update api_tokens set revoked_at = now() where id = $1 and user_id = $2 and revoked_at is null",
        id,
        user.id,
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        let change = Change {
            action: "update",
            entity: "api_token",
            entity_id: id.to_string(),
            unit_id: Some(user.unit_id),
            before: None,
            after: Some(json!({"revoked": true})),
        };
        audit::record(&mut tx, actor, change).await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// The owner of a live token, if enabled.
pub async fn token_user(pool: &PgPool, secret: &str) -> sqlx::Result<Option<User>> {
    let user_id = sqlx::query_scalar!(
        "update api_tokens set last_used_at = now() where token_hash = $1 and revoked_at is null returning user_id",
        token_hash(secret),
    )
    .fetch_optional(pool)
    .await?;
    match user_id {
        Some(id) => Ok(users::by_id(pool, id).await?.filter(|u| !u.disabled)),
        None => Ok(None),
    }
}

/// The owner of an API token (for the revoke route's ownership check).
pub async fn token_owner(pool: &PgPool, id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!("select user_id from api_tokens where id = $1", id).fetch_optional(pool).await
}

/// A new account made on the web (DOMAIN.md §13): the creator types no password; the account gets one nobody
/// knows and a one-time reset link, in one transaction with its audit row.
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: crate::domain::Role,
    pub unit_id: i64,
    pub contact: &'a users::Contact,
    /// from `auth::password::hash` of a secret nobody keeps
    pub password_hash: String,
}

/// Creates the account and its reset link: the new id and the link's token, or `None` if the user name is taken
/// (a double submit creates nothing twice).
pub async fn create_account(pool: &PgPool, actor: &Actor, new: NewAccount<'_>) -> sqlx::Result<Option<(i64, String)>> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into users (username, display_name, password_hash, role, unit_id, phone, email)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (username) do nothing returning id",
        new.username,
        new.display_name,
        new.password_hash,
        new.role.as_str(),
        new.unit_id,
        new.contact.phone,
        new.contact.email,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else { return Ok(None) };
    let after = json!({
        "username": new.username, "display_name": new.display_name, "role": new.role.as_str(),
        "unit_id": new.unit_id, "phone": new.contact.phone, "email": new.contact.email,
        "reset_link_valid_hours": RESET_HOURS,
    });
    let user = User {
        id,
        username: new.username.to_string(),
        display_name: new.display_name.to_string(),
        role: new.role,
        unit_id: new.unit_id,
        disabled: false,
        access_until: None,
    };
    let token = new_token();
    sqlx::query!(
        "insert into password_resets (token_hash, user_id, created_by, expires_at)
         values ($1, $2, $3, now() + make_interval(hours => $4))",
        token_hash(&token),
        id,
        actor.user_id,
        RESET_HOURS,
    )
    .execute(&mut *tx)
    .await?;
    // one action, one row: the account and the link it was given
    audit::record(&mut tx, actor, user_change(&user, "create", after)).await?;
    tx.commit().await?;
    Ok(Some((id, token)))
}
