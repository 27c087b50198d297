//! Users: a role bound to a unit, an argon2id password.
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use sqlx::{FromRow, PgExecutor, PgPool};

use crate::db::audit::{self, Actor, Change};
use crate::domain::Role;

#[derive(Debug, Clone, FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub unit_id: i64,
    pub disabled: bool,
}

impl User {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).expect("the database only holds known roles")
    }
}

const COLUMNS: &str = "id, username, display_name, role, unit_id, disabled";

pub async fn by_id(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<User>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from users where id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// At most as many argon2 computations at once as there are cores: each takes 19 MiB and a core for tens of
/// milliseconds, and a burst of sign-ins (a month's end) would otherwise grow the server by hundreds of megabytes
/// without signing anyone in sooner.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// Hashes with argon2id on a blocking thread: hashing is deliberately slow and must not stall the runtime.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    let _turn = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

async fn verify_password(password: String, hash: String) -> bool {
    let Ok(_turn) = HASHING.acquire().await else { return false };
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash of a password nobody has, so that an unknown user name costs as much time as a known one.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    Argon2::default()
        .hash_password(crate::db::sessions::new_token().as_bytes())
        .expect("hashing a random token")
        .to_string()
});

/// The user with this name and password, if enabled.
pub async fn authenticate(pool: &PgPool, username: &str, password: &str) -> sqlx::Result<Option<User>> {
    let row: Option<(i64, String)> = sqlx::query_as("select id, password_hash from users where username = $1")
        .bind(username)
        .fetch_optional(pool)
        .await?;
    let known = row.is_some();
    let (id, hash) = match row {
        Some(r) => r,
        None => (0, tokio::task::spawn_blocking(|| DUMMY_HASH.clone()).await.unwrap_or_default()),
    };
    if !verify_password(password.to_string(), hash).await || !known {
        return Ok(None);
    }
    Ok(by_id(pool, id).await?.filter(|u| !u.disabled))
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub unit_id: i64,
}

pub async fn create(pool: &PgPool, actor: &Actor, new: NewUser<'_>) -> anyhow::Result<i64> {
    let hash = hash_password(new.password.to_string()).await?;
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "insert into users (username, display_name, password_hash, role, unit_id)
         values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(new.username)
    .bind(new.display_name)
    .bind(&hash)
    .bind(new.role.as_str())
    .bind(new.unit_id)
    .fetch_one(&mut *tx)
    .await?;
    let after = serde_json::json!({
        "username": new.username, "display_name": new.display_name,
        "role": new.role.as_str(), "unit_id": new.unit_id,
    });
    audit::record(
        &mut tx,
        actor,
        Change {
            action: "create",
            entity: "user",
            entity_id: id.to_string(),
            unit_id: Some(new.unit_id),
            before: None,
            after: Some(after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn by_username(db: impl PgExecutor<'_>, username: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from users where username = $1")))
        .bind(username)
        .fetch_optional(db)
        .await
}

/// Users whose unit is one of `unit_ids`, by user name.
pub async fn in_units(db: impl PgExecutor<'_>, unit_ids: &[i64]) -> sqlx::Result<Vec<User>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from users where unit_id = any($1) order by username"
    )))
    .bind(unit_ids)
    .fetch_all(db)
    .await
}

/// Wrong passwords for `username` in the last `minutes`.
/// Wrong passwords are remembered this long.
pub const LOCK_MINUTES: i32 = 15;
/// Wrong passwords for one user name from one address, after which that address may not try it again for a while.
pub const MAX_PER_USER_AND_ADDRESS: i64 = 5;
/// Wrong passwords from one address, whatever the user names: one address trying many names is stopped.
pub const MAX_PER_ADDRESS: i64 = 30;
/// Wrong passwords for one user name from every address together: a guess spread over many addresses.
pub const MAX_PER_USER: i64 = 100;

/// Where a password was typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptSource {
    Login,
    /// the current-password field of the password page
    Password,
}

/// The outcome of asking to check a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt is counted already (as a failure, until [`attempt_succeeded`] says otherwise): check it.
    Reserved,
    /// Too many wrong passwords for this user name from this address, or from everywhere.
    UserLocked,
    /// Too many wrong passwords from this address.
    AddressLocked,
}

/// Counts one attempt at `username` from `ip` *before* its password is checked, so that concurrent attempts cannot
/// all pass under the limit: the user name and the address are locked for the transaction, the counts are read,
/// and the attempt is written if they allow it.
pub async fn reserve_attempt(pool: &PgPool, username: &str, ip: &str, source: AttemptSource) -> sqlx::Result<Attempt> {
    let mut tx = pool.begin().await?;
    // always the user name first, then the address: every transaction takes them in this order, so none deadlock
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('chibo.login.user:' || $1, 0))")
        .bind(username)
        .execute(&mut *tx)
        .await?;
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('chibo.login.address:' || $1, 0))")
        .bind(ip)
        .execute(&mut *tx)
        .await?;
    let (here, user, address): (i64, i64, i64) = sqlx::query_as(
        "select count(*) filter (where ip = $2),
                count(*),
                (select count(*) from login_failures where ip = $2 and failed_at > now() - make_interval(mins => $3))
         from login_failures where username = $1 and failed_at > now() - make_interval(mins => $3)",
    )
    .bind(username)
    .bind(ip)
    .bind(LOCK_MINUTES)
    .fetch_one(&mut *tx)
    .await?;
    let outcome = if here >= MAX_PER_USER_AND_ADDRESS || user >= MAX_PER_USER {
        Attempt::UserLocked
    } else if address >= MAX_PER_ADDRESS {
        Attempt::AddressLocked
    } else {
        let source = match source {
            AttemptSource::Login => "login",
            AttemptSource::Password => "password",
        };
        sqlx::query("insert into login_failures (username, ip, source) values ($1, $2, $3)")
            .bind(username)
            .bind(ip)
            .bind(source)
            .execute(&mut *tx)
            .await?;
        Attempt::Reserved
    };
    if rand::random::<u8>() == 0 {
        // now and then, forget what no limit looks at any more, so the table stays small whatever is tried
        sqlx::query("delete from login_failures where failed_at < now() - interval '1 day'").execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// The password was right: the wrong ones of this user name from this address (and the reserved attempt) are
/// forgotten. Those from other addresses stay.
pub async fn attempt_succeeded(db: impl PgExecutor<'_>, username: &str, ip: &str) -> sqlx::Result<()> {
    sqlx::query("delete from login_failures where username = $1 and ip = $2")
        .bind(username)
        .bind(ip)
        .execute(db)
        .await
        .map(|_| ())
}
