//! The `import_jobs` table: imports started from the web (an uploaded bundle, or one record saved from a page),
//! their progress and outcome, readable from any instance.
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgPool};

#[derive(Debug, Clone, FromRow)]
pub struct Job {
    pub id: i64,
    pub source: String,
    pub dry_run: bool,
    pub state: String,
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
        self.state == "running" && !self.stalled()
    }

    /// Still marked running but silent for ten minutes: the instance running it stopped, and its transaction
    /// was rolled back with it.
    pub fn stalled(&self) -> bool {
        self.state == "running" && Utc::now() - self.updated_at > chrono::Duration::minutes(10)
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

/// A new job of `user_id`'s, running; its id.
pub async fn create(
    pool: &PgPool,
    user_id: i64,
    source: &str,
    dry_run: bool,
    form: Option<&Value>,
    back: Option<&str>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "insert into import_jobs (user_id, source, dry_run, form, back) values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(user_id)
    .bind(source)
    .bind(dry_run)
    .bind(form)
    .bind(back)
    .fetch_one(pool)
    .await
}

/// Adds a line to a running job's steps.
pub async fn add_step(pool: &PgPool, id: i64, line: &str) -> sqlx::Result<()> {
    sqlx::query("update import_jobs set steps = steps || $2, updated_at = now() where id = $1 and state = 'running'")
        .bind(id)
        .bind(line)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Ends a job: `state` is `done`, `problems` or `failed`.
pub async fn finish(
    pool: &PgPool,
    id: i64,
    state: &str,
    problems: &[String],
    changed: Option<&Value>,
) -> sqlx::Result<()> {
    sqlx::query("update import_jobs set state = $2, problems = $3, changed = $4, updated_at = now() where id = $1")
        .bind(id)
        .bind(state)
        .bind(problems)
        .bind(changed)
        .execute(pool)
        .await
        .map(|_| ())
}

/// One of the user's own jobs.
pub async fn load(pool: &PgPool, id: i64, user_id: i64) -> sqlx::Result<Option<Job>> {
    sqlx::query_as("select * from import_jobs where id = $1 and user_id = $2")
        .bind(id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
}

/// The user's latest uploads.
pub async fn recent_uploads(pool: &PgPool, user_id: i64) -> sqlx::Result<Vec<Job>> {
    sqlx::query_as("select * from import_jobs where user_id = $1 and form is null order by id desc limit 10")
        .bind(user_id)
        .fetch_all(pool)
        .await
}
