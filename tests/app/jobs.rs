//! Background work (src/jobs, issue 14 item 6) against a real PostgreSQL: claims, leases, retries, idempotency
//! and recurring work shared by two instances. Time is a parameter of every round (`Runner::tick(now)`), so that
//! nothing waits for a clock; what runs in tasks is waited for by polling with a deadline.
use chibo::db::jobs::{self as import_jobs, NewJob};
use chibo::db::outbox::{self, Item};
use chibo::domain::vocab::{JobState, OutboxState};
use chibo::jobs::{Config, Ctx, Policy, Registry, Runner};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::TestApp;

const SECOND: chrono::TimeDelta = chrono::TimeDelta::seconds(1);

fn secs(n: i64) -> chrono::TimeDelta {
    chrono::TimeDelta::seconds(n)
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-27T10:15:00Z").unwrap().with_timezone(&Utc)
}

/// Waits until `done` says so, failing the test past 10 s.
async fn until<F: Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done().await {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn enqueue(pool: &PgPool, kind: &str, payload: serde_json::Value, key: Option<&str>, now: DateTime<Utc>) -> i64 {
    let mut conn = pool.acquire().await.unwrap();
    outbox::enqueue(&mut conn, kind, &payload, key, now).await.unwrap().0
}

async fn item(pool: &PgPool, id: i64) -> Item {
    outbox::load(pool, id).await.unwrap().unwrap()
}

/// A registry whose kind `count` records each payload's `n` as it runs.
fn counting(seen: Arc<Mutex<Vec<i64>>>) -> Registry {
    Registry::new().on("count", Policy::default(), move |ctx: Ctx| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(ctx.payload["n"].as_i64().unwrap());
            Ok(())
        }
    })
}

#[sqlx::test]
async fn two_workers_racing_claim_each_item_once(pool: PgPool) {
    for n in 0..60 {
        enqueue(&pool, "count", json!({ "n": n }), None, t0()).await;
    }
    // the claims themselves, side by side: no item in both
    let kinds = ["count".to_string()];
    let lease_end = t0() + secs(60);
    let (a, b) = tokio::join!(
        outbox::claim(&pool, &kinds, "a", t0(), lease_end, 40),
        outbox::claim(&pool, &kinds, "b", t0(), lease_end, 40)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 60, "every item claimed by one of them");
    let a_ids: HashSet<i64> = a.iter().map(|i| i.id).collect();
    assert!(b.iter().all(|i| !a_ids.contains(&i.id)), "an item claimed twice");
    assert!(a.iter().chain(&b).all(|i| i.state == OutboxState::Running && i.attempts == 1));
    sqlx::query("delete from outbox").execute(&pool).await.unwrap();

    // two runners over the same outbox run each item once
    for n in 0..60 {
        enqueue(&pool, "count", json!({ "n": n }), None, t0()).await;
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let config = Config { concurrency: 8, ..Config::default() };
    let one = Runner::new(pool.clone(), counting(seen.clone())).named("one").with_config(config);
    let two = Runner::new(pool.clone(), counting(seen.clone())).named("two").with_config(config);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ran = (0, 0);
    while seen.lock().unwrap().len() < 60 {
        assert!(Instant::now() < deadline, "not every item ran");
        let (x, y) = tokio::join!(one.tick(t0()), two.tick(t0()));
        ran = (ran.0 + x.unwrap(), ran.1 + y.unwrap());
    }
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_unstable();
    assert_eq!(seen, (0..60).collect::<Vec<_>>(), "each item once");
    assert_eq!(ran.0 + ran.1, 60);
    assert!(ran.0 > 0 && ran.1 > 0, "both took a share: {ran:?}");
    let done: i64 = sqlx::query_scalar("select count(*) from outbox where state = 'done' and locked_by is null")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(done, 60);
}

#[sqlx::test]
async fn a_failing_item_is_retried_later_each_time_then_marked_failed(pool: PgPool) {
    let policy = Policy { max_attempts: 3, first_retry: Duration::from_secs(30), max_retry: Duration::from_secs(3600) };
    let calls = Arc::new(AtomicUsize::new(0));
    let registry = Registry::new().on("flaky", policy, {
        let calls = calls.clone();
        move |ctx: Ctx| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move { anyhow::bail!("no luck on attempt {}", ctx.attempt) }
        }
    });
    let runner = Runner::new(pool.clone(), registry).named("w");
    let id = enqueue(&pool, "flaky", json!({}), None, t0()).await;

    assert_eq!(runner.tick(t0()).await.unwrap(), 1);
    let first = item(&pool, id).await;
    assert_eq!((first.state, first.attempts), (OutboxState::Pending, 1));
    assert_eq!(first.last_error.as_deref(), Some("no luck on attempt 1"));
    assert_eq!(first.locked_by, None);
    let wait = first.next_attempt_at - t0();
    assert!(wait >= secs(30) && wait < secs(35), "first retry after 30 s: {wait}");

    // not before its time
    assert_eq!(runner.tick(first.next_attempt_at - SECOND).await.unwrap(), 0);
    assert_eq!(runner.tick(first.next_attempt_at).await.unwrap(), 1);
    let second = item(&pool, id).await;
    assert_eq!((second.state, second.attempts), (OutboxState::Pending, 2));
    let wait = second.next_attempt_at - first.next_attempt_at;
    assert!(wait >= secs(60) && wait < secs(65), "then twice as long: {wait}");

    // the third failure is the last
    assert_eq!(runner.tick(second.next_attempt_at).await.unwrap(), 1);
    let last = item(&pool, id).await;
    assert_eq!((last.state, last.attempts), (OutboxState::Failed, 3));
    assert_eq!(last.last_error.as_deref(), Some("no luck on attempt 3"));
    assert_eq!(runner.tick(t0() + chrono::TimeDelta::days(30)).await.unwrap(), 0, "a failed item stays failed");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[sqlx::test]
async fn enqueueing_twice_with_one_idempotency_key_makes_one_item(pool: PgPool) {
    let first = enqueue(&pool, "count", json!({ "n": 1 }), Some("reminders:2026-12:cell:7"), t0()).await;
    let mut conn = pool.acquire().await.unwrap();
    let again =
        outbox::enqueue(&mut conn, "count", &json!({ "n": 2 }), Some("reminders:2026-12:cell:7"), t0()).await.unwrap();
    assert_eq!(again, (first, false), "the same item, not a new one");
    assert_eq!(item(&pool, first).await.payload, json!({ "n": 1 }), "the first one's payload stands");

    // at the same moment from two connections: one item, and both are told its id
    let (mut c1, mut c2) = (pool.acquire().await.unwrap(), pool.acquire().await.unwrap());
    let payload = json!({ "n": 3 });
    let (x, y) = tokio::join!(
        outbox::enqueue(&mut c1, "count", &payload, Some("same"), t0()),
        outbox::enqueue(&mut c2, "count", &payload, Some("same"), t0())
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.0, y.0);
    assert!(x.1 != y.1, "one of them made it: {x:?} {y:?}");

    // without a key, each is its own
    let a = enqueue(&pool, "count", json!({ "n": 4 }), None, t0()).await;
    let b = enqueue(&pool, "count", json!({ "n": 4 }), None, t0()).await;
    assert_ne!(a, b);
    let count: i64 = sqlx::query_scalar("select count(*) from outbox").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 4);
}

#[sqlx::test]
async fn an_item_whose_holder_stopped_is_claimed_again_once_its_lease_ran_out(pool: PgPool) {
    let id = enqueue(&pool, "count", json!({ "n": 7 }), None, t0()).await;
    let lease_end = t0() + secs(60);
    let claimed = outbox::claim(&pool, &["count".to_string()], "crashed", t0(), lease_end, 10).await.unwrap();
    let held = claimed[0].held().unwrap();
    // "crashed" stops here, holding the item

    let seen = Arc::new(Mutex::new(Vec::new()));
    let runner = Runner::new(pool.clone(), counting(seen.clone())).named("alive");
    assert_eq!(runner.tick(lease_end - SECOND).await.unwrap(), 0, "the lease still stands");
    assert_eq!(runner.tick(lease_end).await.unwrap(), 1);
    assert_eq!(*seen.lock().unwrap(), [7]);
    let done = item(&pool, id).await;
    assert_eq!((done.state, done.attempts, done.locked_by), (OutboxState::Done, 2, None));

    // the old holder, back, can no longer touch it
    let later = lease_end + SECOND;
    assert!(!outbox::renew(&pool, &held, later, later + secs(60)).await.unwrap());
    assert!(!outbox::complete(&pool, &held, later).await.unwrap());
    assert!(!outbox::fail(&pool, &held, "late", None, later).await.unwrap());
    assert_eq!(item(&pool, id).await.state, OutboxState::Done);
}

#[sqlx::test]
async fn an_import_whose_instance_stopped_is_said_interrupted(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let admin_id: i64 =
        sqlx::query_scalar("select id from users where username = 'admin'").fetch_one(&pool).await.unwrap();
    let new = NewJob { user_id: admin_id, source: "units.csv", dry_run: false, form: None, back: None };
    // started by an instance that then stopped: its files, and its transaction, went with it
    let lease_end = t0() + secs(60);
    let (job, _) = import_jobs::start(&pool, new, "stopped", t0(), lease_end).await.unwrap();
    let runner = Runner::new(pool.clone(), chibo::jobs::standard()).named("alive");
    runner.tick(lease_end - SECOND).await.unwrap();
    assert_eq!(import_jobs::load(&pool, job, admin_id).await.unwrap().unwrap().state, JobState::Running);
    runner.tick(lease_end).await.unwrap();
    assert_eq!(import_jobs::load(&pool, job, admin_id).await.unwrap().unwrap().state, JobState::Interrupted);

    let mut admin = app.login("admin").await;
    let text = admin.get(&format!("/import?job={job}")).await.text();
    assert!(text.contains("Bị gián đoạn (máy chủ dừng giữa chừng)"), "{text}");
    assert!(!text.contains("trang tự cập nhật"), "no longer refreshing: {text}");
}

#[sqlx::test]
async fn a_recurring_job_runs_on_one_of_two_instances_only(pool: PgPool) {
    let runs = Arc::new(AtomicUsize::new(0));
    let (open, gate) = tokio::sync::watch::channel(false);
    let registry = Registry::new().every("report", Duration::from_secs(3600), {
        let runs = runs.clone();
        move |_ctx: Ctx| {
            runs.fetch_add(1, Ordering::SeqCst);
            let mut gate = gate.clone();
            async move {
                let _ = gate.wait_for(|open| *open).await;
                Ok(())
            }
        }
    });
    let a = Arc::new(Runner::new(pool.clone(), registry.clone()).named("a"));
    let b = Runner::new(pool.clone(), registry).named("b");

    // a takes it and is still running it while b looks, now and half a minute later
    let first = tokio::spawn({
        let a = a.clone();
        async move { a.tick(t0()).await.unwrap() }
    });
    until("a starts the run", || async { runs.load(Ordering::SeqCst) == 1 }).await;
    assert_eq!(b.tick(t0()).await.unwrap(), 0);
    assert_eq!(b.tick(t0() + secs(30)).await.unwrap(), 0);
    open.send(true).unwrap();
    assert_eq!(first.await.unwrap(), 1);
    let row = outbox::recurring(&pool, "report").await.unwrap().unwrap();
    let next = DateTime::parse_from_rfc3339("2026-11-27T11:00:00Z").unwrap().with_timezone(&Utc);
    assert_eq!((row.next_run_at, row.runs, row.locked_by), (next, 1, None), "next on the hour");

    // not again before the next hour; at it, both try and one runs it
    assert_eq!(b.tick(next - SECOND).await.unwrap(), 0);
    let (x, y) = tokio::join!(a.tick(next), b.tick(next));
    assert_eq!(x.unwrap() + y.unwrap(), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[sqlx::test]
async fn the_runner_of_chibo_serve_runs_what_is_enqueued_until_stopped(pool: PgPool) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let config = Config { poll: Duration::from_millis(20), ..Config::default() };
    let running = Runner::new(pool.clone(), counting(seen.clone())).named("serve").with_config(config).start();
    let id = enqueue(&pool, "count", json!({ "n": 5 }), None, Utc::now()).await;
    until("the item is done", || async { item(&pool, id).await.state == OutboxState::Done }).await;
    assert_eq!(*seen.lock().unwrap(), [5]);
    running.stop().await;
    // stopped: what comes next waits for another instance
    let later = enqueue(&pool, "count", json!({ "n": 6 }), None, Utc::now()).await;
    tokio::task::yield_now().await;
    assert_eq!(item(&pool, later).await.state, OutboxState::Pending);
}

/// Structure edits extend only the places of the cells they concern (migration 0019): when a new year leaves some
/// cell's places short of next December, the recurring `stores.extend_places` rebuilds the stores once.
#[sqlx::test]
async fn a_new_year_brings_every_cells_places_to_next_december(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    app.meeting("A", crate::common::DAY).save().await;
    assert!(!chibo::db::metrics::places_short(&pool).await.unwrap(), "a rebuilt database reaches next December");
    // as if the places were last rebuilt a year ago: the months of next year are missing
    sqlx::query(
        "delete from cell_places where period = 'month' and starts_on >= date_trunc('year', current_date) + interval '1 year'",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert!(chibo::db::metrics::places_short(&pool).await.unwrap());
    let runner = Runner::new(pool.clone(), chibo::jobs::standard()).named("w");
    runner.tick(Utc::now()).await.unwrap();
    until("the places are extended", || async { !chibo::db::metrics::places_short(&pool).await.unwrap() }).await;
    let months: i64 = sqlx::query_scalar(
        "select count(*) from cell_places where period = 'month'
           and starts_on = (date_trunc('year', current_date) + interval '1 year 11 months')::date",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(months >= 3, "every open cell of the fixture reaches next December: {months}");
    // and once done, the next round leaves them be
    assert!(!chibo::db::metrics::extend_places(&pool).await.unwrap());
}
