//! The runner: every `poll`, the recurring kinds that are due and the outbox items that are due (or whose holder's
//! lease ran out) are taken and run, at most `concurrency` items at once; each hold is renewed every third of the
//! lease while its handler runs, and the handler is dropped if the hold was lost.
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde_json::Value;
use sqlx::PgPool;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::{Ctx, Kind, Outcome, Policy, Recurring, Registry, instance_id, next_slot};
use crate::db::outbox::{self, Held, Item, Taken};

#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// How often the outbox and the recurring kinds are looked at.
    pub poll: Duration,
    /// How long a hold lasts unless renewed; an instance that stops is taken over after at most this long.
    pub lease: Duration,
    /// Items one instance runs at once.
    pub concurrency: usize,
    /// When stopping, how long the handlers running are waited for before they are dropped (their items are
    /// given back for another instance).
    pub grace: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            concurrency: 4,
            grace: Duration::from_secs(10),
        }
    }
}

pub struct Runner {
    pool: PgPool,
    worker: String,
    registry: Arc<Registry>,
    config: Config,
    /// the recurring kinds have their rows
    ensured: AtomicBool,
}

impl Runner {
    /// A runner named after this process ([`instance_id`]).
    pub fn new(pool: PgPool, registry: Registry) -> Runner {
        Runner {
            pool,
            worker: instance_id().to_string(),
            registry: Arc::new(registry),
            config: Config::default(),
            ensured: AtomicBool::new(false),
        }
    }

    /// The same under another name (several runners in one process, as tests have).
    pub fn named(mut self, worker: &str) -> Runner {
        self.worker = worker.to_string();
        self
    }

    pub fn with_config(mut self, config: Config) -> Runner {
        self.config = config;
        self
    }

    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// One round at `now`, waiting for what it started: how many runs it started.
    pub async fn tick(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let mut running = JoinSet::new();
        let started = self.round(now, &mut running).await;
        while running.join_next().await.is_some() {}
        started
    }

    async fn round(&self, now: DateTime<Utc>, running: &mut JoinSet<()>) -> anyhow::Result<usize> {
        let (pool, lease) = (&self.pool, self.config.lease);
        let until = now + lease;
        let mut started = 0;
        let recurring = self.registry.recurring_kinds();
        if !recurring.is_empty() {
            if !self.ensured.load(Ordering::Relaxed) {
                outbox::ensure_recurring(pool, &recurring, now).await?;
                self.ensured.store(true, Ordering::Relaxed);
            }
            for taken in outbox::take_recurring(pool, &recurring, &self.worker, now, until).await? {
                let Some(kind) = self.registry.recurring.get(&taken.kind).cloned() else { continue };
                running.spawn(run_recurring(pool.clone(), kind, taken, lease, now));
                started += 1;
            }
        }
        let free = self.config.concurrency.saturating_sub(running.len());
        let kinds = self.registry.kinds();
        if free > 0 && !kinds.is_empty() {
            let limit = i64::try_from(free).unwrap_or(i64::MAX);
            for item in outbox::claim(pool, &kinds, &self.worker, now, until, limit).await? {
                let Some(kind) = self.registry.kinds.get(&item.kind).cloned() else { continue };
                running.spawn(run_item(pool.clone(), kind, item, lease, now));
                started += 1;
            }
        }
        Ok(started)
    }

    /// Runs in the background until [`Running::stop`].
    pub fn start(self) -> Running {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut running = JoinSet::new();
            let mut every = tokio::time::interval(self.config.poll);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stopped.wait_for(|s| *s) => break,
                    _ = every.tick() => {}
                }
                while running.try_join_next().is_some() {}
                // the one clock of background work: each run is given the moment it started
                if let Err(e) = self.round(Utc::now(), &mut running).await {
                    tracing::warn!("background jobs: {e:#}");
                }
            }
            let drained = async { while running.join_next().await.is_some() {} };
            if tokio::time::timeout(self.config.grace, drained).await.is_err() {
                running.abort_all();
                while running.join_next().await.is_some() {}
            }
            match outbox::release(&self.pool, &self.worker, Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("background jobs: {n} unfinished items given back"),
                Err(e) => tracing::warn!("background jobs: could not give back the unfinished items: {e:#}"),
            }
        });
        Running { stop, task }
    }
}

/// A runner at work.
pub struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    /// Takes no more work, waits for the handlers running (at most the grace), gives back what is unfinished.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run_item(pool: PgPool, kind: Arc<Kind>, item: Item, lease: Duration, now: DateTime<Utc>) {
    let Some(held) = item.held() else { return };
    if item.attempts > kind.policy.max_attempts {
        // claimed again and again because its holders stopped each time: not run once more
        let error = format!("given up after {} attempts whose instance stopped", item.attempts - 1);
        let _ = outbox::fail(&pool, &held, &error, None, now).await;
        return;
    }
    let ctx = Ctx { pool: pool.clone(), kind: item.kind, payload: item.payload, attempt: item.attempts, now };
    let work = (kind.handler)(ctx);
    if let Err(e) = run_held(pool, held, kind.policy, lease, now, work).await {
        tracing::warn!("background job {} could not be recorded: {e:#}", item.id);
    }
}

/// Runs `work` under `held` (claimed by a runner, or enqueued held by the instance that does the work at once),
/// renewing the hold every third of `lease`; then marks the item done, or failed for a later attempt or for good.
/// The work is dropped if the hold is lost. Errors are those of recording the outcome.
pub async fn run_held(
    pool: PgPool,
    held: Held,
    policy: Policy,
    lease: Duration,
    now: DateTime<Utc>,
    work: impl Future<Output = Outcome> + Send + 'static,
) -> sqlx::Result<()> {
    let started = Instant::now();
    let renew = {
        let (pool, held) = (pool.clone(), held.clone());
        move |at: DateTime<Utc>| -> BoxFuture<'static, sqlx::Result<bool>> {
            let (pool, held) = (pool.clone(), held.clone());
            Box::pin(async move { outbox::renew(&pool, &held, at, at + lease).await })
        }
    };
    let Some(outcome) = with_lease(work, renew, lease, now).await else {
        tracing::warn!("background job {} was taken over by another instance: dropped here", held.id);
        return Ok(());
    };
    let end = now + started.elapsed();
    match outcome {
        Ok(()) => outbox::complete(&pool, &held, end).await.map(|_| ()),
        Err(e) => {
            let error = format!("{e:#}");
            let retry_at = (held.attempt < policy.max_attempts).then(|| end + policy.retry_delay(held.attempt));
            if retry_at.is_none() {
                tracing::error!("background job {} failed for good after {} attempts: {error}", held.id, held.attempt);
            }
            outbox::fail(&pool, &held, &error, retry_at, end).await.map(|_| ())
        }
    }
}

async fn run_recurring(pool: PgPool, kind: Arc<Recurring>, taken: Taken, lease: Duration, now: DateTime<Utc>) {
    let started = Instant::now();
    let attempt = taken.failures.saturating_add(1);
    let ctx = Ctx { pool: pool.clone(), kind: taken.kind.clone(), payload: Value::Null, attempt, now };
    let renew = {
        let (pool, taken) = (pool.clone(), taken.clone());
        move |at: DateTime<Utc>| -> BoxFuture<'static, sqlx::Result<bool>> {
            let (pool, taken) = (pool.clone(), taken.clone());
            Box::pin(async move { outbox::renew_recurring(&pool, &taken, at, at + lease).await })
        }
    };
    let Some(outcome) = with_lease((kind.handler)(ctx), renew, lease, now).await else {
        tracing::warn!("recurring job {} was taken over by another instance: dropped here", taken.kind);
        return;
    };
    let end = now + started.elapsed();
    let next = next_slot(end, kind.every);
    let (error, next) = match outcome {
        Ok(()) => (None, next),
        Err(e) => {
            tracing::warn!("recurring job {} failed: {e:#}", taken.kind);
            (Some(format!("{e:#}")), next.min(end + kind.policy.retry_delay(attempt)))
        }
    };
    if let Err(e) = outbox::finish_recurring(&pool, &taken, error.as_deref(), next, end).await {
        tracing::warn!("recurring job {} could not be recorded: {e:#}", taken.kind);
    }
}

/// Aborts the task it holds when dropped: a handler stops with whoever runs it.
struct AbortOnDrop(JoinHandle<Outcome>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `work` (in a task of its own, so that a panic is an error), calling `renew` every third of `lease` with
/// the moment, counted from `now`. None if a renewal says the hold was lost: the work is then dropped.
async fn with_lease<R>(
    work: impl Future<Output = Outcome> + Send + 'static,
    renew: R,
    lease: Duration,
    now: DateTime<Utc>,
) -> Option<Outcome>
where
    R: Fn(DateTime<Utc>) -> BoxFuture<'static, sqlx::Result<bool>>,
{
    let started = Instant::now();
    let mut task = AbortOnDrop(tokio::spawn(work));
    let period = (lease / 3).max(Duration::from_millis(10));
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tokio::select! {
            ended = &mut task.0 => {
                return Some(ended.unwrap_or_else(|e| Err(anyhow::anyhow!("the handler stopped: {e}"))));
            }
            _ = every.tick() => match renew(now + started.elapsed()).await {
                Ok(true) => {}
                Ok(false) => return None,
                // the database away for a moment: the hold stands until the lease runs out
                Err(e) => tracing::warn!("a background job's lease could not be renewed: {e:#}"),
            },
        }
    }
}
