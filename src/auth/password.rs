//! Passwords as argon2id hashes: made and checked here, on blocking threads and a few at a time, in memory kept for
//! the purpose; `db::users` stores and reads the hashes only.
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;
use sqlx::PgPool;
use std::sync::Mutex;

use crate::db::users::{self, User};

/// At most one argon2 computation fewer at once than there are cores (one on two cores): each takes 19 MiB and a
/// core for tens of milliseconds. A burst of sign-ins (a month's end) would otherwise grow the server without
/// signing anyone in sooner, and take every core from the secretaries already signed in, whose saves then wait
/// behind the hashing (64 sign-ins at once on national data: save p95 194 ms with two at once, 105 ms with one;
/// BENCHMARKS.md, issue 19).
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(turns()));

fn turns() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// The memory argon2 works in: one array of [`Params::DEFAULT_M_COST`] blocks (19 MiB) per turn of [`HASHING`],
/// allocated at the first sign-ins and reused by every hash after, wiped after each. argon2's own functions
/// allocate and free 19 MiB per hash on whichever blocking thread runs it, and the allocator may keep such freed
/// blocks in each thread's arena.
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Runs `f` in an array of at least `m_cost` blocks from [`MEMORY`] (a hash made with more memory than today's
/// default gets an array of its own, freed after).
fn with_memory<T>(m_cost: u32, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let mut blocks = MEMORY.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default();
    if blocks.len() < m_cost as usize {
        blocks = vec![Block::default(); m_cost as usize];
    }
    let out = f(&mut blocks);
    // wiped: the blocks are derived from the password (black_box: a write before a free is not optimised away)
    blocks.fill(Block::default());
    std::hint::black_box(&blocks);
    let mut kept = MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    if blocks.len() == Params::DEFAULT_M_COST as usize && kept.len() < turns() + 1 {
        kept.push(blocks);
    }
    out
}

/// argon2id with the default parameters (m = 19 MiB, t = 2, p = 1) and a fresh 16-byte salt, as a PHC string.
fn hash_now(password: &[u8]) -> anyhow::Result<String> {
    let params = Params::default();
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    with_memory(params.m_cost(), |blocks| argon.hash_password_into_with_memory(password, &salt, &mut out, blocks))
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` gives `hash` (any argon2 variant and parameters a PHC string names); constant time in the
/// comparison.
fn matches(password: &[u8], hash: &str) -> bool {
    let Ok(phc) = PasswordHash::new(hash) else { return false };
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(phc.algorithm.as_str()) else { return false };
    let Ok(version) = phc.version.map_or(Ok(Version::default()), Version::try_from) else { return false };
    let Ok(params) = Params::try_from(&phc) else { return false };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    let done =
        with_memory(params.m_cost(), |blocks| argon.hash_password_into_with_memory(password, salt, &mut out, blocks));
    done.is_ok() && Output::new(&out).is_ok_and(|o| o == *expected)
}

/// Hashes with argon2id on a blocking thread: hashing is deliberately slow and must not stall the runtime.
pub async fn hash(password: String) -> anyhow::Result<String> {
    let _turn = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || hash_now(password.as_bytes())).await?
}

async fn verify(password: String, hash: String) -> bool {
    let Ok(_turn) = HASHING.acquire().await else { return false };
    tokio::task::spawn_blocking(move || matches(password.as_bytes(), &hash)).await.unwrap_or(false)
}

/// A hash of a password nobody has, so that an unknown user name costs as much time as a known one.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_now(crate::db::sessions::new_token().as_bytes()).expect("hashing a random token"));

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

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    #[test]
    fn a_hash_made_here_is_argon2id_and_checks_as_the_argon2_crate_checks_it() {
        let hash = hash_now(b"chibo-2026").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(matches(b"chibo-2026", &hash));
        assert!(!matches(b"chibo-2027", &hash));
        assert!(Argon2::default().verify_password(b"chibo-2026", hash.as_str()).is_ok());
        assert!(Argon2::default().verify_password(b"chibo-2027", hash.as_str()).is_err());
    }

    #[test]
    fn a_hash_made_by_the_argon2_crate_or_with_other_parameters_is_checked() {
        use argon2::PasswordHasher;
        let default = Argon2::default().hash_password(b"s3cret").unwrap().to_string();
        assert!(matches(b"s3cret", &default));
        assert!(!matches(b"s3creT", &default));
        let small = Argon2::new(Algorithm::Argon2i, Version::V0x10, Params::new(64, 3, 1, None).unwrap());
        let other = small.hash_password(b"s3cret").unwrap().to_string();
        assert!(matches(b"s3cret", &other), "{other}");
        assert!(!matches(b"nope", &other));
        assert!(!matches(b"s3cret", "not a hash"));
    }

    #[test]
    fn the_memory_is_reused_not_grown() {
        for _ in 0..8 {
            hash_now(b"x").unwrap();
        }
        let kept = MEMORY.lock().unwrap();
        assert!(kept.len() <= turns() + 1, "{} arrays kept", kept.len());
        assert!(kept.iter().all(|b| b.iter().all(|b| b.as_ref().iter().all(|w| *w == 0))), "wiped after use");
    }
}
