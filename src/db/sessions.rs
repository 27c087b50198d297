//! Sign-in sessions, stored in PostgreSQL so that several instances can serve the same users.
use rand::RngCore;
use sqlx::PgExecutor;

/// A session lasts at most this long after sign-in, and ends after this long unused.
pub const ABSOLUTE_HOURS: i32 = 12;
pub const IDLE_MINUTES: i32 = 120;

/// A fresh random token, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored key of a token: its SHA-256, so that reading the table does not give live sessions.
pub(crate) fn token_hash(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts a session for `user_id`; returns the cookie token.
pub async fn create(db: impl PgExecutor<'_>, user_id: i64) -> sqlx::Result<String> {
    let token = new_token();
    sqlx::query!(
        "insert into sessions (id_hash, user_id, csrf_token) values ($1, $2, $3)",
        token_hash(&token),
        user_id,
        new_token(),
    )
    .execute(db)
    .await?;
    Ok(token)
}

/// A live session: its user, CSRF token, and the moment it ends at the latest.
pub struct Live {
    pub user_id: i64,
    pub csrf_token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The user and CSRF token of a live session, touching it so that idle expiry counts from now.
pub async fn lookup(db: impl PgExecutor<'_>, token: &str) -> sqlx::Result<Option<Live>> {
    sqlx::query_as!(
        Live,
        r#"update sessions set last_seen_at = now()
           where id_hash = $1
             and created_at > now() - make_interval(hours => $2)
             and last_seen_at > now() - make_interval(mins => $3)
           returning user_id, csrf_token, created_at + make_interval(hours => $2) as "expires_at!""#,
        token_hash(token),
        ABSOLUTE_HOURS,
        IDLE_MINUTES,
    )
    .fetch_optional(db)
    .await
}

pub async fn delete(db: impl PgExecutor<'_>, token: &str) -> sqlx::Result<()> {
    sqlx::query!("delete from sessions where id_hash = $1", token_hash(token)).execute(db).await?;
    Ok(())
}

/// Whether a session kept in memory still stands in the database: not ended (signing out, a new password and
/// disabling the user each delete it), not expired, and its user still enabled with the same role and unit. A read
/// only: what memory saves is the write that keeps idle expiry moving. Asked on every request, so that an ending
/// decided by another instance takes effect at once rather than when its notice arrives.
pub async fn still_valid(db: impl PgExecutor<'_>, token: &str, user: &crate::db::users::User) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (
               select 1 from sessions s join users u on u.id = s.user_id
               where s.id_hash = $1 and s.user_id = $2 and account_active(u.disabled, u.access_until) and u.role = $3 and u.unit_id = $4
                 and s.created_at > now() - make_interval(hours => $5)
                 and s.last_seen_at > now() - make_interval(mins => $6)) as "valid!""#,
        token_hash(token),
        user.id,
        user.role.as_str(),
        user.unit_id,
        ABSOLUTE_HOURS,
        IDLE_MINUTES,
    )
    .fetch_one(db)
    .await
}
