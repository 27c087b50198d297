//! Imports as background work. The instance that took the files runs the import at once under its outbox item
//! ([`execute`], started by `web::jobs`), reporting each step to `import_jobs`; the files stay in its memory (up to
//! 400 MB, not copied into the database). If it stops part way, its transaction is rolled back, the item's lease
//! runs out, and whichever instance claims the item says the job interrupted ([`interrupted`]): nothing was
//! written and the files must be sent again.
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::time::{Duration, Instant};

use super::{Ctx, Outcome, Policy, Registry};
use crate::db::audit::Actor;
use crate::db::jobs::{self as store, KIND};
use crate::domain::vocab::JobState;
use crate::import::{self, AuditAs};

/// A job still marked running this long after its last step, with no instance holding its item, was lost.
pub const SILENT: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// The imports' handlers: an item claimed from a stopped instance, and the sweep of jobs lost otherwise.
pub fn register(registry: Registry) -> Registry {
    registry.on(KIND, Policy::default(), interrupted).every("import.sweep", Duration::from_secs(600), sweep)
}

/// What one import is.
pub struct Work {
    pub files: Vec<(String, Vec<u8>)>,
    pub dry_run: bool,
    pub actor: Actor,
    pub audit_as: Option<AuditAs>,
    /// the user's own file names and headings (`import::headings`)
    pub mapping: import::headings::Mapping,
}

/// Runs job `id`'s import, started at `now`, writing its steps as they come and its outcome at the end, in the
/// language of the task that runs it.
pub async fn execute(pool: PgPool, id: i64, work: Work, now: DateTime<Utc>) -> Outcome {
    let started = Instant::now();
    let at = move || now + started.elapsed();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let writer = {
        let pool = pool.clone();
        tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                let _ = store::add_step(&pool, id, &line, at()).await;
            }
        })
    };
    let progress = move |step: import::Step| {
        let _ = tx.send(format!("[{:.1} s] {}", started.elapsed().as_secs_f64(), step.render(crate::i18n::lang())));
    };
    let outcome =
        import::import_mapped(&pool, work.files, &work.mapping, work.dry_run, &work.actor, &progress, work.audit_as)
            .await;
    drop(progress);
    let _ = writer.await;
    let (state, problems, changed) = match outcome {
        Ok(o) if !o.problems.is_empty() => {
            // at most MAX_PROBLEMS, each quoting values of at most problem::QUOTE_MAX characters; kept as values,
            // put into words where shown (web::problems)
            let problems = o.problems.iter().map(|p| p.stored()).collect();
            (JobState::Problems, problems, serde_json::to_value(&o.changed).ok())
        }
        Ok(o) => (JobState::Done, Vec::new(), serde_json::to_value(&o.changed).ok()),
        Err(e) => {
            tracing::error!("import job {id} failed: {e:#}");
            (JobState::Failed, vec![crate::tr("jobs.failed").to_string()], None)
        }
    };
    store::finish(&pool, id, state, &problems, changed.as_ref(), at()).await?;
    Ok(())
}

/// An import item claimed by a runner: the instance that held it (and the files) stopped, so the job, if still
/// running, was interrupted.
async fn interrupted(ctx: Ctx) -> Outcome {
    let id = ctx.payload.get("job").and_then(serde_json::Value::as_i64);
    let id = id.ok_or_else(|| anyhow::anyhow!("an import item without its job: {}", ctx.payload))?;
    if store::interrupt(&ctx.pool, id, ctx.now).await? {
        tracing::warn!("import job {id} interrupted: the instance running it stopped");
    }
    Ok(())
}

/// Jobs still running, silent for [`SILENT`], whose item no instance holds (started before the outbox, or whose
/// item was lost) are said interrupted; uploads kept past their day for a mapping of headings are deleted.
async fn sweep(ctx: Ctx) -> Outcome {
    // uploads kept for their headings to be mapped (web::headings) last a day
    crate::db::headings::sweep(&ctx.pool, ctx.now).await?;
    let n = store::sweep(&ctx.pool, ctx.now - SILENT, ctx.now).await?;
    if n > 0 {
        tracing::warn!("{n} import jobs silent for {} minutes said interrupted", SILENT.num_minutes());
    }
    Ok(())
}
