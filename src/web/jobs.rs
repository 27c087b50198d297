//! Imports started from the web, an uploaded bundle or one record saved from a page, run in the background
//! (`jobs::import`) and report to the `import_jobs` table: any instance can show their progress and outcome, and a
//! form whose record was refused can be filled again with what was typed.
use chrono::Utc;
use serde_json::Value;
use std::time::Duration;

use super::extract::LocalPath;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::jobs::{self as store, NewJob};
pub use crate::db::jobs::{Job, load, recent_uploads};
use crate::import::AuditAs;
use crate::jobs::{self, Policy, import::Work};

/// What to run.
pub struct Request {
    pub source: String,
    pub files: Vec<(String, Vec<u8>)>,
    pub dry_run: bool,
    pub form: Option<Value>,
    /// the page a record form came from, to go back to
    pub back: Option<LocalPath>,
    pub audit_as: Option<AuditAs>,
    /// the user's own file names and headings, mapped on `/import/headings`
    pub mapping: crate::import::headings::Mapping,
}

/// Starts the import in the background, held by this instance in the outbox, and waits for it at most `wait`;
/// returns the job as it then stands.
pub async fn run(state: &AppState, user: &CurrentUser, req: Request, wait: Duration) -> AppResult<Job> {
    let pool = state.pool().clone();
    let now = Utc::now();
    let lease = jobs::Config::default().lease;
    let new = NewJob {
        user_id: user.user.id,
        source: &req.source,
        dry_run: req.dry_run,
        form: req.form.as_ref(),
        back: req.back.as_ref().map(LocalPath::as_str),
    };
    let (id, held) = store::start(&pool, new, &jobs::direct_worker(), now, now + lease).await?;
    let work = Work {
        files: req.files,
        dry_run: req.dry_run,
        actor: user.actor(),
        audit_as: req.audit_as,
        mapping: req.mapping,
    };
    // the job speaks the language of the request that started it
    let work = crate::i18n::in_lang(crate::i18n::lang(), jobs::import::execute(pool.clone(), id, work, now));
    let task = tokio::spawn(jobs::run_held(pool.clone(), held, Policy::default(), lease, now, work));
    // a job that outlives the wait goes on; its page follows it
    let _ = tokio::time::timeout(wait, task).await;
    load(&pool, id, user.user.id).await?.ok_or(AppError::NotFound)
}
