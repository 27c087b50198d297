//! Dashboards kept in memory: the same bytes as a fresh rendering for each user, and never older than the data.
use axum::http::StatusCode;
use chibo::db::audit::Actor;
use chibo::db::users::{self, NewUser};
use chibo::domain::Role;
use sqlx::PgPool;
use std::time::{Duration, Instant};

use crate::common::{Client, PASSWORD, TestApp};
use crate::meetings::filled_form;

const PATH: &str = "/dashboard/P?from=2026-10&to=2026-10";

/// Polls until `client` sees on `PATH` what an instance without a cache renders, for at most 10 s.
async fn converges(client: &mut Client<'_>, fresh: &mut Client<'_>, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (seen, expected) = (client.get(PATH).await.body, fresh.get(PATH).await.body);
        if seen == expected {
            return seen;
        }
        assert!(Instant::now() < deadline, "after {what}, the cached dashboard never caught up");
        tokio::task::yield_now().await;
    }
}

#[sqlx::test]
async fn dashboards_in_memory_are_per_user_and_follow_every_change(pool: PgPool) {
    let app = TestApp::with_cache(pool.clone()).await;
    // a second instance on the same database, without a cache: what a page must look like right now
    let plain = TestApp::without_fixture(pool.clone()).await;
    let unit_p: i64 = sqlx::query_scalar("select id from units where code = 'P'").fetch_one(&pool).await.unwrap();
    let new = NewUser {
        username: "viewer2",
        display_name: "Lương Thị <Mai>",
        password_hash: crate::common::hash(PASSWORD).await,
        role: Role::ProvinceViewer,
        unit_id: unit_p,
    };
    users::create(&pool, &Actor::cli(), new).await.unwrap();

    let mut viewer = app.login("viewer").await;
    let mut viewer_fresh = viewer.on(&plain);
    let first = viewer.get(PATH).await;
    assert_eq!(first.status, StatusCode::OK);
    let hits = app.state.cache().hits();
    let second = viewer.get(PATH).await;
    assert_eq!(app.state.cache().hits(), hits + 1, "the second request was served from memory");
    assert_eq!(second.body, first.body);
    assert_eq!(second.body, viewer_fresh.get(PATH).await.body, "byte-equal to a fresh rendering");

    // another user with the same role and scope gets the stored page with their own name (escaped) and token
    let mut other = app.login("viewer2").await;
    let hits = app.state.cache().hits();
    let page = other.get(PATH).await;
    assert_eq!(app.state.cache().hits(), hits + 1);
    assert!(page.body.contains("Lương Thị &#60;Mai&#62;") || page.body.contains("Lương Thị &lt;Mai&gt;"));
    assert!(!page.body.contains(">viewer <"), "nothing of the first user's account bar");
    assert_eq!(page.body, other.on(&plain).get(PATH).await.body, "byte-equal to a fresh rendering for them");
    // and that token works: they can sign out with it, and the session is gone at once on this instance
    let csrf = page.input("csrf").expect("the sign-out form's token");
    assert_eq!(other.post("/logout", &[("csrf", csrf.as_str())]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(other.get(PATH).await.status, StatusCode::SEE_OTHER, "signed out: sent to sign in");

    // a meeting saved through this instance shows on the very next request
    let mut sec = app.login("sec_a").await;
    let form = filled_form(&mut sec, "A").await;
    let saved = sec.post("/cells/A/meetings", &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let after = viewer.get(PATH).await.body;
    assert_ne!(after, first.body, "the saved meeting changes the dashboard");
    assert_eq!(after, viewer_fresh.get(PATH).await.body);

    // a change made elsewhere (another instance, the command line) arrives as a notice
    sqlx::query("update meetings set rating = 'weak'").execute(&pool).await.unwrap();
    let weak = converges(&mut viewer, &mut viewer_fresh, "a change from another connection").await;
    assert_ne!(weak, after);

    // a user disabled elsewhere is refused on this instance without waiting for the session's recheck
    sqlx::query("update users set disabled = true where username = 'viewer'").execute(&pool).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while viewer.get(PATH).await.status == StatusCode::OK {
        assert!(Instant::now() < deadline, "a disabled user was still served from memory");
        tokio::task::yield_now().await;
    }
}

#[sqlx::test]
async fn without_the_database_notices_nothing_is_served_from_memory(pool: PgPool) {
    // no listener: every request reads the database
    let app = TestApp::new(pool.clone()).await;
    let mut viewer = app.login("viewer").await;
    viewer.get(PATH).await;
    viewer.get(PATH).await;
    assert_eq!(app.state.cache().hits(), 0);
    assert!(!app.state.cache().is_live());
}
