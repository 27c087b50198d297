//! Background work, run inside every `chibo serve` (issue 14 item 6).
//!
//! - **One-off work** is an item of the outbox (`db::outbox`): a kind, a JSON payload, an idempotency key (asking
//!   twice makes one item). Any instance's [`Runner`] claims a due item with `for update skip locked` and holds it
//!   for a lease it renews while the handler runs; an item whose holder stopped is claimed again once the lease has
//!   run out. A handler that fails is tried again later, each time twice as late ([`Policy`]), then the item is
//!   marked failed.
//! - **Recurring work** is a kind run every so often ([`Registry::every`]): its row in `recurring_jobs` is a lease
//!   that one instance takes when it is due, so that at most one instance runs the kind at a time.
//! - Handlers are registered by kind ([`Registry`]); [`standard`] is what `chibo serve` runs. A handler is given
//!   the moment it started ([`Ctx::now`]) and reads no clock: only the runner's loop does.
//!
//! Work an instance starts at once (an import, whose files are in its memory) is enqueued already held by
//! [`direct_worker`] (`db::outbox::enqueue_held`) and run with [`run_held`], under the same lease: if the instance
//! stops, another one claims the item and its handler says what became of the work (`import::interrupted`).
pub mod import;
pub mod reminders;
mod runner;

pub use runner::{Config, Runner, Running, run_held};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde_json::Value;
use sqlx::PgPool;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// What a handler returns: an error is retried (one-off work) or recorded (recurring work).
pub type Outcome = anyhow::Result<()>;

type Handler = Arc<dyn Fn(Ctx) -> BoxFuture<'static, Outcome> + Send + Sync>;

/// What a handler is given.
pub struct Ctx {
    pub pool: PgPool,
    pub kind: String,
    /// The item's payload; `null` for recurring work.
    pub payload: Value,
    /// 1 on the first attempt (for recurring work: 1 + the failures in a row before).
    pub attempt: i32,
    /// When this attempt started, from the runner's clock.
    pub now: DateTime<Utc>,
}

/// How often a kind is tried, and how long apart.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Attempts before the item is marked failed (claims of an item whose holder stopped count).
    pub max_attempts: i32,
    /// The wait after the first failure; it doubles with each further one.
    pub first_retry: Duration,
    pub max_retry: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy { max_attempts: 5, first_retry: Duration::from_secs(30), max_retry: Duration::from_secs(3600) }
    }
}

impl Policy {
    /// How long after its `attempt`-th failure work is tried again: `first_retry`, twice that after the second,
    /// and so on, at most `max_retry`.
    pub fn retry_delay(&self, attempt: i32) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(30);
        self.first_retry.saturating_mul(1 << doublings).min(self.max_retry)
    }
}

struct Kind {
    policy: Policy,
    handler: Handler,
}

struct Recurring {
    every: Duration,
    /// Its retry delays after a failure (never later than the next regular run).
    policy: Policy,
    handler: Handler,
}

/// The handlers of an instance, by kind.
#[derive(Default, Clone)]
pub struct Registry {
    kinds: HashMap<String, Arc<Kind>>,
    recurring: HashMap<String, Arc<Recurring>>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Items of `kind` are run by `handler`.
    pub fn on<F, Fut>(mut self, kind: &str, policy: Policy, handler: F) -> Registry
    where
        F: Fn(Ctx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |ctx| Box::pin(handler(ctx)));
        self.kinds.insert(kind.to_string(), Arc::new(Kind { policy, handler }));
        self
    }

    /// `handler` runs on one instance at a time, first at once, then at each multiple of `every` since the Unix
    /// epoch (every day at midnight UTC for a day).
    pub fn every<F, Fut>(mut self, kind: &str, every: Duration, handler: F) -> Registry
    where
        F: Fn(Ctx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |ctx| Box::pin(handler(ctx)));
        let recurring = Recurring { every, policy: Policy::default(), handler };
        self.recurring.insert(kind.to_string(), Arc::new(recurring));
        self
    }

    fn kinds(&self) -> Vec<String> {
        self.kinds.keys().cloned().collect()
    }

    fn recurring_kinds(&self) -> Vec<String> {
        self.recurring.keys().cloned().collect()
    }
}

/// Outbox items done this long ago are forgotten.
pub const KEEP_DONE: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// What `chibo serve` runs: the imports' handlers, the reminders (on the channels the environment sets) and the
/// outbox's own upkeep.
pub fn standard() -> Registry {
    let registry = reminders::register(import::register(Registry::new()), reminders::Channels::from_env());
    registry
        .every("outbox.prune", Duration::from_secs(24 * 3600), |ctx: Ctx| async move {
            let pruned = crate::db::outbox::prune(&ctx.pool, ctx.now - KEEP_DONE).await?;
            if pruned > 0 {
                tracing::info!("outbox: {pruned} items done more than {} days ago forgotten", KEEP_DONE.num_days());
            }
            Ok(())
        })
        // structure edits extend only the cells they concern: a new year's months come to every cell here
        .every("stores.extend_places", Duration::from_secs(6 * 3600), |ctx: Ctx| async move {
            if crate::db::metrics::extend_places(&ctx.pool).await? {
                tracing::info!("metric stores rebuilt: every cell's places now reach December of next year");
            }
            Ok(())
        })
}

/// The first moment after `now` that is a whole multiple of `every` since the Unix epoch.
pub fn next_slot(now: DateTime<Utc>, every: Duration) -> DateTime<Utc> {
    let step = i64::try_from(every.as_millis()).unwrap_or(i64::MAX).max(1);
    let next = (now.timestamp_millis().div_euclid(step) + 1).saturating_mul(step);
    DateTime::from_timestamp_millis(next).unwrap_or(now)
}

/// The name under which this process holds the work it started at once ([`run_held`]): not the runner's, so that
/// a runner stopping does not give that work back while it still runs; if the process ends, its leases run out.
pub fn direct_worker() -> String {
    format!("{}:direct", instance_id())
}

/// This process's name in the leases it holds: host, process id and a random part.
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        format!("{}:{}:{:08x}", host.trim(), std::process::id(), rand::random::<u32>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_the_cap() {
        let p = Policy { max_attempts: 9, first_retry: Duration::from_secs(30), max_retry: Duration::from_secs(300) };
        let delays: Vec<u64> = (1..=6).map(|a| p.retry_delay(a).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 300, 300]);
        assert_eq!(p.retry_delay(0).as_secs(), 30);
        assert_eq!(p.retry_delay(i32::MAX).as_secs(), 300);
    }

    #[test]
    fn slots_are_whole_multiples_after_now() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc));
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(Ok(next_slot(at("2026-11-27T10:15:00Z").unwrap(), day)), at("2026-11-28T00:00:00Z"));
        assert_eq!(Ok(next_slot(at("2026-11-28T00:00:00Z").unwrap(), day)), at("2026-11-29T00:00:00Z"));
        let ten = Duration::from_secs(600);
        assert_eq!(Ok(next_slot(at("2026-11-27T10:15:00Z").unwrap(), ten)), at("2026-11-27T10:20:00Z"));
    }
}
