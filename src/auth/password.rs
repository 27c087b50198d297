//! Passwords as argon2id hashes: made and checked here, on blocking threads and a few at a time; `db::users`
//! stores and reads the hashes only.
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use sqlx::PgPool;

use crate::db::users::{self, User};

/// At most as many argon2 computations at once as there are cores: each takes 19 MiB and a core for tens of
/// milliseconds, and a burst of sign-ins (a month's end) would otherwise grow the server by hundreds of megabytes
/// without signing anyone in sooner.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// Hashes with argon2id on a blocking thread: hashing is deliberately slow and must not stall the runtime.
pub async fn hash(password: String) -> anyhow::Result<String> {
    let _turn = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

async fn verify(password: String, hash: String) -> bool {
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
    let row = users::password_hash(pool, username).await?;
    let known = row.is_some();
    let (id, hash) = match row {
        Some(r) => r,
        None => (0, tokio::task::spawn_blocking(|| DUMMY_HASH.clone()).await.unwrap_or_default()),
    };
    if !verify(password.to_string(), hash).await || !known {
        return Ok(None);
    }
    Ok(users::by_id(pool, id).await?.filter(|u| !u.disabled))
}
