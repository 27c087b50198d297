//! Users: a role bound to a unit, and the hash of their password (made and checked by `auth::password`).
use sqlx::{PgExecutor, PgPool};

use crate::db::audit::{self, Actor, Change};
use crate::domain::Role;

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: i64,
    /// disabled, or past the last day of its access (a secretary's account after a handover)
    pub disabled: bool,
    /// the last day a secretary's account may be used, set by a handover (DOMAIN.md §13)
    pub access_until: Option<chrono::NaiveDate>,
}

impl User {
    pub fn role(&self) -> Role {
        self.role
    }
}

pub async fn by_id(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"select id, username, display_name, role as "role: Role", unit_id,
                  not account_active(disabled, access_until) as "disabled!", access_until
           from users where id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// The id and password hash of the user with this name, whether or not they are enabled.
pub async fn password_hash(db: impl PgExecutor<'_>, username: &str) -> sqlx::Result<Option<(i64, String)>> {
    let row =
        sqlx::query!("select id, password_hash from users where username = $1", username).fetch_optional(db).await?;
    Ok(row.map(|r| (r.id, r.password_hash)))
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    /// from `auth::password::hash`
    pub password_hash: String,
    pub role: Role,
    pub unit_id: i64,
}

pub async fn create(pool: &PgPool, actor: &Actor, new: NewUser<'_>) -> anyhow::Result<i64> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into users (username, display_name, password_hash, role, unit_id)
         values ($1, $2, $3, $4, $5) returning id",
        new.username,
        new.display_name,
        new.password_hash,
        new.role.as_str(),
        new.unit_id,
    )
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
    sqlx::query_as!(
        User,
        r#"select id, username, display_name, role as "role: Role", unit_id,
                  not account_active(disabled, access_until) as "disabled!", access_until
           from users where username = $1"#,
        username
    )
    .fetch_optional(db)
    .await
}

/// Users whose unit is one of `unit_ids`, by user name.
pub async fn in_units(db: impl PgExecutor<'_>, unit_ids: &[i64]) -> sqlx::Result<Vec<User>> {
    sqlx::query_as!(
        User,
        r#"select id, username, display_name, role as "role: Role", unit_id,
                  not account_active(disabled, access_until) as "disabled!", access_until
           from users where unit_id = any($1) order by username"#,
        unit_ids
    )
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
    sqlx::query!("select pg_advisory_xact_lock(hashtextextended('chibo.login.user:' || $1, 0))", username)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("select pg_advisory_xact_lock(hashtextextended('chibo.login.address:' || $1, 0))", ip)
        .execute(&mut *tx)
        .await?;
    let counts = sqlx::query!(
        r#"select count(*) filter (where ip = $2) as "here!",
                  count(*) as "user!",
                  (select count(*) from login_failures
                   where ip = $2 and failed_at > now() - make_interval(mins => $3)) as "address!"
           from login_failures where username = $1 and failed_at > now() - make_interval(mins => $3)"#,
        username,
        ip,
        LOCK_MINUTES,
    )
    .fetch_one(&mut *tx)
    .await?;
    let (here, user, address) = (counts.here, counts.user, counts.address);
    let outcome = if here >= MAX_PER_USER_AND_ADDRESS || user >= MAX_PER_USER {
        Attempt::UserLocked
    } else if address >= MAX_PER_ADDRESS {
        Attempt::AddressLocked
    } else {
        let source = match source {
            AttemptSource::Login => "login",
            AttemptSource::Password => "password",
        };
        sqlx::query!("insert into login_failures (username, ip, source) values ($1, $2, $3)", username, ip, source)
            .execute(&mut *tx)
            .await?;
        Attempt::Reserved
    };
    if rand::random::<u8>() == 0 {
        // now and then, forget what no limit looks at any more, so the table stays small whatever is tried
        sqlx::query!("delete from login_failures where failed_at < now() - interval '1 day'").execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// The password was right: the wrong ones of this user name from this address (and the reserved attempt) are
/// forgotten. Those from other addresses stay.
pub async fn attempt_succeeded(db: impl PgExecutor<'_>, username: &str, ip: &str) -> sqlx::Result<()> {
    sqlx::query!("delete from login_failures where username = $1 and ip = $2", username, ip)
        .execute(db)
        .await
        .map(|_| ())
}

/// A user's phone and e-mail (migration 0014), used only for reminders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub phone: Option<String>,
    pub email: Option<String>,
}

pub async fn contact(db: impl PgExecutor<'_>, user_id: i64) -> sqlx::Result<Contact> {
    let row =
        sqlx::query_as!(Contact, "select phone, email from users where id = $1", user_id).fetch_optional(db).await?;
    Ok(row.unwrap_or_default())
}

/// The contacts of `user_ids` that have one, by user id.
pub async fn contacts(db: impl PgExecutor<'_>, user_ids: &[i64]) -> sqlx::Result<Vec<(i64, Contact)>> {
    let rows = sqlx::query!(
        "select id, phone, email from users where id = any($1) and (phone is not null or email is not null)",
        user_ids
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, Contact { phone: r.phone, email: r.email })).collect())
}

/// Sets a user's own phone and e-mail (as `domain::contact` normalised them), audited with before and after.
pub async fn set_contact(pool: &PgPool, actor: &Actor, user: &User, new: &Contact) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    let before = sqlx::query_as!(Contact, "select phone, email from users where id = $1 for update", user.id)
        .fetch_one(&mut *tx)
        .await?;
    if before == *new {
        return tx.commit().await;
    }
    sqlx::query!("update users set phone = $2, email = $3 where id = $1", user.id, new.phone, new.email)
        .execute(&mut *tx)
        .await?;
    let json = |c: &Contact| serde_json::json!({ "phone": c.phone, "email": c.email });
    let change = Change {
        action: "update",
        entity: "user",
        entity_id: user.id.to_string(),
        unit_id: Some(user.unit_id),
        before: Some(json(&before)),
        after: Some(json(new)),
    };
    audit::record(&mut tx, actor, change).await?;
    tx.commit().await
}
