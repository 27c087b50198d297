//! Imports started from the web, an uploaded bundle or one record saved from a page, run in the background and
//! report to the `import_jobs` table: any instance can show their progress and outcome, and a form whose record
//! was refused can be filled again with what was typed.
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgPool};
use std::time::Duration;

use super::{AppResult, AppState, CurrentUser};
use crate::import::{self, AuditAs};

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

/// What to run.
pub struct Request {
    pub source: String,
    pub files: Vec<(String, Vec<u8>)>,
    pub dry_run: bool,
    pub form: Option<Value>,
    pub back: Option<String>,
    pub audit_as: Option<AuditAs>,
}

/// Starts the import in the background and waits for it at most `wait`; returns the job as it then stands.
pub async fn run(state: &AppState, user: &CurrentUser, req: Request, wait: Duration) -> AppResult<Job> {
    let pool = state.pool().clone();
    let id: i64 = sqlx::query_scalar(
        "insert into import_jobs (user_id, source, dry_run, form, back) values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(user.user.id)
    .bind(&req.source)
    .bind(req.dry_run)
    .bind(&req.form)
    .bind(&req.back)
    .fetch_one(&pool)
    .await?;
    let actor = user.actor();
    // the job speaks the language of the request that started it
    let task = tokio::spawn(crate::i18n::in_lang(crate::i18n::lang(), execute(pool.clone(), id, actor, req)));
    // a job that outlives the wait goes on; its page follows it
    let _ = tokio::time::timeout(wait, task).await;
    Ok(load(&pool, id, user.user.id).await?.expect("the job just made"))
}

async fn execute(pool: PgPool, id: i64, actor: crate::db::audit::Actor, req: Request) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let writer = {
        let pool = pool.clone();
        tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                let _ = sqlx::query(
                    "update import_jobs set steps = steps || $2, updated_at = now() where id = $1 and state = 'running'",
                )
                .bind(id)
                .bind(line)
                .execute(&pool)
                .await;
            }
        })
    };
    let started = std::time::Instant::now();
    let progress = move |step: import::Step| {
        let _ = tx.send(format!("[{:.1} s] {}", started.elapsed().as_secs_f64(), step.render(crate::i18n::lang())));
    };
    let outcome = import::import_as(&pool, req.files, req.dry_run, &actor, &progress, req.audit_as).await;
    drop(progress);
    let _ = writer.await;
    let (state, problems, changed) = match outcome {
        Ok(o) if !o.problems.is_empty() => {
            // at most MAX_PROBLEMS, each at most problem::MESSAGE_MAX characters however long the values it quotes
            let lang = crate::i18n::lang();
            ("problems", o.problems.iter().map(|p| p.render(lang)).collect(), serde_json::to_value(&o.changed).ok())
        }
        Ok(o) => ("done", Vec::new(), serde_json::to_value(&o.changed).ok()),
        Err(e) => {
            tracing::error!("import job {id} failed: {e:#}");
            ("failed", vec![crate::tr("jobs.failed").to_string()], None)
        }
    };
    let _ =
        sqlx::query("update import_jobs set state = $2, problems = $3, changed = $4, updated_at = now() where id = $1")
            .bind(id)
            .bind(state)
            .bind(problems)
            .bind(changed)
            .execute(&pool)
            .await;
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
