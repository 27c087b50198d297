//! The outbox and the recurring jobs (migration 0009), the store of `jobs`: what is to be done, who holds it and
//! until when. Every moment is a parameter: the caller's clock decides what is due and when a lease runs out.
//!
//! A hold is fenced by its holder and its attempt: an instance whose lease ran out and was taken over can no longer
//! renew, finish or fail the item, whatever it still believes.
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use crate::domain::vocab::OutboxState;

#[derive(Debug, Clone)]
pub struct Item {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    pub idempotency_key: Option<String>,
    pub state: OutboxState,
    /// Claims so far, the running one included.
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Item {
    /// The hold of a running item.
    pub fn held(&self) -> Option<Held> {
        Some(Held { id: self.id, worker: self.locked_by.clone()?, attempt: self.attempts })
    }
}

/// An item held by `worker` for its `attempt`-th attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub id: i64,
    pub worker: String,
    pub attempt: i32,
}

/// Adds an item due at `now`, unless one with the same idempotency key exists already. Its id, and whether it is
/// new.
pub async fn enqueue(
    conn: &mut PgConnection,
    kind: &str,
    payload: &Value,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<(i64, bool)> {
    // none: another transaction inserted the key after this statement's snapshot; the next statement sees it
    for _ in 0..3 {
        let row = sqlx::query!(
            r#"with new as (
                   insert into outbox (kind, payload, idempotency_key, next_attempt_at, created_at, updated_at)
                   values ($1, $2, $3, $4, $4, $4)
                   on conflict (idempotency_key) do nothing
                   returning id)
               select id as "id!", true as "new!" from new
               union all
               select id, false from outbox where idempotency_key = $3 and not exists (select 1 from new)"#,
            kind,
            payload,
            key,
            now,
        )
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return Ok((row.id, row.new));
        }
    }
    Err(sqlx::Error::RowNotFound)
}

/// Adds an item already held by `worker` until `until`, for work it starts at once (its first attempt).
pub async fn enqueue_held(
    conn: &mut PgConnection,
    kind: &str,
    payload: &Value,
    key: Option<&str>,
    worker: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<Held> {
    let id = sqlx::query_scalar!(
        "insert into outbox (kind, payload, idempotency_key, state, attempts, next_attempt_at, locked_by, locked_until,
                             created_at, updated_at)
         values ($1, $2, $3, 'running', 1, $4, $5, $6, $4, $4) returning id",
        kind,
        payload,
        key,
        now,
        worker,
        until,
    )
    .fetch_one(conn)
    .await?;
    Ok(Held { id, worker: worker.to_string(), attempt: 1 })
}

/// Takes at most `limit` items of `kinds` for `worker` until `until`: pending ones that are due, and running ones
/// whose holder's lease ran out by `now`. Rows another claim is taking are skipped, never waited for: two claims
/// at once get different items.
pub async fn claim(
    pool: &PgPool,
    kinds: &[String],
    worker: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Item>> {
    sqlx::query_as!(
        Item,
        r#"with due as (
               select id from outbox
               where kind = any($1)
                 and ((state = 'pending' and next_attempt_at <= $3) or (state = 'running' and locked_until <= $3))
               order by next_attempt_at, id
               limit $5
               for update skip locked)
           update outbox o
           set state = 'running', attempts = o.attempts + 1, locked_by = $2, locked_until = $4, updated_at = $3
           from due where o.id = due.id
           returning o.id, o.kind, o.payload, o.idempotency_key, o.state as "state: OutboxState", o.attempts,
                     o.next_attempt_at, o.last_error, o.locked_by, o.locked_until, o.created_at, o.updated_at"#,
        kinds,
        worker,
        now,
        until,
        limit,
    )
    .fetch_all(pool)
    .await
}

/// Extends a hold until `until`. False if it was lost (the lease ran out and another instance took the item).
pub async fn renew(pool: &PgPool, held: &Held, now: DateTime<Utc>, until: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update outbox set locked_until = $4, updated_at = $5
         where id = $1 and locked_by = $2 and attempts = $3 and state = 'running'",
        held.id,
        held.worker,
        held.attempt,
        until,
        now,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The held item is done. False if the hold was lost.
pub async fn complete(pool: &PgPool, held: &Held, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update outbox set state = 'done', locked_by = null, locked_until = null, updated_at = $4
         where id = $1 and locked_by = $2 and attempts = $3 and state = 'running'",
        held.id,
        held.worker,
        held.attempt,
        now,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The held item failed with `error`: pending again from `retry_at`, or failed for good without one. False if the
/// hold was lost.
pub async fn fail(
    pool: &PgPool,
    held: &Held,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update outbox
         set state = case when $5::timestamptz is null then 'failed' else 'pending' end,
             next_attempt_at = coalesce($5, next_attempt_at), last_error = $4,
             locked_by = null, locked_until = null, updated_at = $6
         where id = $1 and locked_by = $2 and attempts = $3 and state = 'running'",
        held.id,
        held.worker,
        held.attempt,
        error,
        retry_at,
        now,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives back every item and recurring kind `worker` holds, due at `now` (an instance stopping): another instance
/// takes them without waiting for the leases to run out. How many items.
pub async fn release(pool: &PgPool, worker: &str, now: DateTime<Utc>) -> sqlx::Result<u64> {
    sqlx::query!(
        "update recurring_jobs set locked_by = null, locked_until = null, updated_at = $2 where locked_by = $1",
        worker,
        now,
    )
    .execute(pool)
    .await?;
    let done = sqlx::query!(
        "update outbox set state = 'pending', next_attempt_at = $2, locked_by = null, locked_until = null,
                           updated_at = $2
         where locked_by = $1 and state = 'running'",
        worker,
        now,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub async fn load(pool: &PgPool, id: i64) -> sqlx::Result<Option<Item>> {
    sqlx::query_as!(
        Item,
        r#"select id, kind, payload, idempotency_key, state as "state: OutboxState", attempts, next_attempt_at,
                  last_error, locked_by, locked_until, created_at, updated_at
           from outbox where id = $1"#,
        id,
    )
    .fetch_optional(pool)
    .await
}

/// Forgets the items done before `before`; failed ones stay, to be looked at. How many.
pub async fn prune(pool: &PgPool, before: DateTime<Utc>) -> sqlx::Result<u64> {
    let done =
        sqlx::query!("delete from outbox where state = 'done' and updated_at < $1", before).execute(pool).await?;
    Ok(done.rows_affected())
}

/// A recurring kind as it stands.
#[derive(Debug, Clone)]
pub struct Recurring {
    pub kind: String,
    pub next_run_at: DateTime<Utc>,
    pub runs: i64,
    pub failures: i32,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// A run of a recurring kind taken by `worker`: `run` is its fencing token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub kind: String,
    pub worker: String,
    pub run: i64,
    /// Failures in a row before this run.
    pub failures: i32,
}

/// Makes the recurring kinds known, first due at `first_run_at` (kinds known already keep their time).
pub async fn ensure_recurring(pool: &PgPool, kinds: &[String], first_run_at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into recurring_jobs (kind, next_run_at, updated_at)
         select k, $2, $2 from unnest($1::text[]) k
         on conflict (kind) do nothing",
        kinds,
        first_run_at,
    )
    .execute(pool)
    .await
    .map(|_| ())
}

/// Takes for `worker` until `until` those of `kinds` that are due at `now` and that no instance holds. A kind
/// another instance is taking at the same moment is seen as held once it has it: one of them runs it.
pub async fn take_recurring(
    pool: &PgPool,
    kinds: &[String],
    worker: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<Vec<Taken>> {
    let rows = sqlx::query!(
        "update recurring_jobs set locked_by = $2, locked_until = $4, runs = runs + 1, updated_at = $3
         where kind = any($1) and next_run_at <= $3 and (locked_until is null or locked_until <= $3)
         returning kind, runs, failures",
        kinds,
        worker,
        now,
        until,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Taken { kind: r.kind, worker: worker.to_string(), run: r.runs, failures: r.failures })
        .collect())
}

/// Extends a run's hold. False if it was lost.
pub async fn renew_recurring(
    pool: &PgPool,
    taken: &Taken,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update recurring_jobs set locked_until = $4, updated_at = $5 where kind = $1 and locked_by = $2 and runs = $3",
        taken.kind,
        taken.worker,
        taken.run,
        until,
        now,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends a run at `now` (with its error, if it failed) and sets the next. False if the hold was lost.
pub async fn finish_recurring(
    pool: &PgPool,
    taken: &Taken,
    error: Option<&str>,
    next_run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update recurring_jobs
         set locked_by = null, locked_until = null, last_run_at = $4, next_run_at = $5, last_error = $6,
             failures = case when $6::text is null then 0 else failures + 1 end, updated_at = $4
         where kind = $1 and locked_by = $2 and runs = $3",
        taken.kind,
        taken.worker,
        taken.run,
        now,
        next_run_at,
        error,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn recurring(pool: &PgPool, kind: &str) -> sqlx::Result<Option<Recurring>> {
    sqlx::query_as!(
        Recurring,
        "select kind, next_run_at, runs, failures, last_run_at, last_error, locked_by, locked_until
         from recurring_jobs where kind = $1",
        kind,
    )
    .fetch_optional(pool)
    .await
}
