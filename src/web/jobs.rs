//! Imports started from the web, an uploaded bundle or one record saved from a page, run in the background and
//! report to the `import_jobs` table: any instance can show their progress and outcome, and a form whose record
//! was refused can be filled again with what was typed.
use serde_json::Value;
use sqlx::PgPool;
use std::time::Duration;

use super::extract::LocalPath;
use super::{AppResult, AppState, CurrentUser};
use crate::db::jobs as store;
pub use crate::db::jobs::{Job, load, recent_uploads};
use crate::import::{self, AuditAs};

/// What to run.
pub struct Request {
    pub source: String,
    pub files: Vec<(String, Vec<u8>)>,
    pub dry_run: bool,
    pub form: Option<Value>,
    /// the page a record form came from, to go back to
    pub back: Option<LocalPath>,
    pub audit_as: Option<AuditAs>,
}

/// Starts the import in the background and waits for it at most `wait`; returns the job as it then stands.
pub async fn run(state: &AppState, user: &CurrentUser, req: Request, wait: Duration) -> AppResult<Job> {
    let pool = state.pool().clone();
    let back = req.back.as_ref().map(LocalPath::as_str);
    let id = store::create(&pool, user.user.id, &req.source, req.dry_run, req.form.as_ref(), back).await?;
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
                let _ = store::add_step(&pool, id, &line).await;
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
            // at most MAX_PROBLEMS, each quoting values of at most problem::QUOTE_MAX characters; kept as values,
            // put into words where shown (web::problems)
            ("problems", o.problems.iter().map(|p| p.stored()).collect(), serde_json::to_value(&o.changed).ok())
        }
        Ok(o) => ("done", Vec::new(), serde_json::to_value(&o.changed).ok()),
        Err(e) => {
            tracing::error!("import job {id} failed: {e:#}");
            ("failed", vec![crate::tr("jobs.failed").to_string()], None)
        }
    };
    let _ = store::finish(&pool, id, state, &problems, changed.as_ref()).await;
}
