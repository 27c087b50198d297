//! What a first use found (issue 15), for the administrator and the clerk: each case failed before its fix.
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::common::TestApp;

#[sqlx::test]
async fn a_reset_link_is_shown_whole_with_a_copy_button(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    let csrf = admin.get("/admin/users").await.input("csrf").unwrap();
    let id: i64 =
        sqlx::query_scalar("select id from users where username = 'sec_a'").fetch_one(&app.pool).await.unwrap();
    let page = admin.post(&format!("/admin/users/{id}/reset"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(page.status, StatusCode::OK);
    let link = page.body.split("<code id=\"reset-link\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(link.starts_with("http://localhost/reset/"), "the whole address, to send as it is: {link}");
    assert!(page.body.contains("data-copy=\"reset-link\""), "a copy button");
    assert!(page.body.contains("/static/copy."), "its script");
    assert_eq!(app.anonymous().get(&link).await.status, StatusCode::OK, "the link opens the reset page");
}
