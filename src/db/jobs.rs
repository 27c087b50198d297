//! The `import_jobs` table: imports started from the web (an uploaded bundle, or one record saved from a page),
//! their progress and outcome, readable from any instance. Each runs as an item of the outbox (`db::outbox`),
//! held by the instance that took the files; `jobs::import` says what happens when that instance stops.
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

use crate::db::outbox::{self, Held};
use crate::domain::vocab::JobState;

/// The outbox kind of an import job.
pub const KIND: &str = "import";

#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub source: String,
    pub dry_run: bool,
    pub state: JobState,
    pub steps: Vec<String>,
    pub problems: Vec<String>,
    pub changed: Option<Value>,
    pub form: Option<Value>,
    pub back: Option<String>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Job {
    pub fn running(&self) -> bool {
        self.state == JobState::Running
    }

    /// The instance running it stopped part way, and its transaction was rolled back with it.
    pub fn stalled(&self) -> bool {
        self.state == JobState::Interrupted
    }

    /// Finished: written, or checked only (a dry run).
    pub fn done(&self) -> bool {
        self.state == JobState::Done
    }

    /// The bundle was refused: its problems are listed.
    pub fn refused(&self) -> bool {
        self.state == JobState::Problems
    }

    /// Rows added or changed, per table, for the page.
    pub fn changed_rows(&self) -> Vec<(String, i64)> {
        match &self.changed {
            Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0))).collect(),
            _ => Vec::new(),
        }
    }

    /// Done, and the bundle held nothing new.
    pub fn changed_nothing(&self) -> bool {
        self.changed_rows().iter().all(|(_, n)| *n == 0)
    }

    /// A form field as it was typed.
    pub fn typed(&self, name: &str) -> Option<String> {
        self.form.as_ref()?.get(name)?.as_str().map(str::to_string)
    }
}

/// The idempotency key of a job's outbox item (the sweep below finds the item by it).
pub fn outbox_key(id: i64) -> String {
    format!("import:{id}")
}

/// What a new job is.
pub struct NewJob<'a> {
    pub user_id: i64,
    pub source: &'a str,
    pub dry_run: bool,
    pub form: Option<&'a Value>,
    pub back: Option<&'a str>,
}

/// A new job of the user's, running, and its outbox item, held by `worker` until `until` (one transaction: no job
/// without its item). The job's id and the hold.
pub async fn start(
    pool: &PgPool,
    new: NewJob<'_>,
    worker: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<(i64, Held)> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into import_jobs (user_id, source, dry_run, form, back, started_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $6) returning id",
        new.user_id,
        new.source,
        new.dry_run,
        new.form,
        new.back,
        now,
    )
    .fetch_one(&mut *tx)
    .await?;
    let payload = serde_json::json!({ "job": id });
    let held = outbox::enqueue_held(&mut tx, KIND, &payload, Some(&outbox_key(id)), worker, now, until).await?;
    tx.commit().await?;
    Ok((id, held))
}

/// Adds a line to a running job's steps.
pub async fn add_step(pool: &PgPool, id: i64, line: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "update import_jobs set steps = steps || $2::text, updated_at = $3 where id = $1 and state = 'running'",
        id,
        line,
        now,
    )
    .execute(pool)
    .await
    .map(|_| ())
}

/// Ends a running job: `state` is done, problems or failed. False if it had ended already (said interrupted).
pub async fn finish(
    pool: &PgPool,
    id: i64,
    state: JobState,
    problems: &[String],
    changed: Option<&Value>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update import_jobs set state = $2, problems = $3, changed = $4, updated_at = $5
         where id = $1 and state = 'running'",
        id,
        state.as_str(),
        problems,
        changed,
        now,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Says a running job interrupted: the instance running it stopped. False if it had ended.
pub async fn interrupt(pool: &PgPool, id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update import_jobs set state = 'interrupted', updated_at = $2 where id = $1 and state = 'running'",
        id,
        now,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Says interrupted the jobs still running but silent since `silent_since` whose outbox item no instance holds:
/// those started before the outbox existed, or whose item was lost. How many.
pub async fn sweep(pool: &PgPool, silent_since: DateTime<Utc>, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "update import_jobs j set state = 'interrupted', updated_at = $2
         where j.state = 'running' and j.updated_at < $1
           and not exists (select 1 from outbox o
                           where o.idempotency_key = 'import:' || j.id and o.state = 'running' and o.locked_until > $2)",
        silent_since,
        now,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// One of the user's own jobs.
pub async fn load(pool: &PgPool, id: i64, user_id: i64) -> sqlx::Result<Option<Job>> {
    sqlx::query_as!(
        Job,
        r#"select id, source, dry_run, state as "state: JobState", steps, problems, changed, form, back, started_at,
                  updated_at
           from import_jobs where id = $1 and user_id = $2"#,
        id,
        user_id,
    )
    .fetch_optional(pool)
    .await
}

/// The user's latest uploads.
pub async fn recent_uploads(pool: &PgPool, user_id: i64) -> sqlx::Result<Vec<Job>> {
    sqlx::query_as!(
        Job,
        r#"select id, source, dry_run, state as "state: JobState", steps, problems, changed, form, back, started_at,
                  updated_at
           from import_jobs where user_id = $1 and form is null order by id desc limit 10"#,
        user_id,
    )
    .fetch_all(pool)
    .await
}
