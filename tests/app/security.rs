//! No route is open: sign-in first, then only the units in one's scope, and forms only from this site.
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::common::{DAY, PASSWORD, TestApp, set};

#[sqlx::test]
async fn pages_need_a_signed_in_user(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut anon = app.anonymous();
    for path in ["/", "/cells/A", "/cells/A/meetings", "/cells/A/meetings/new", "/units/P"] {
        let page = anon.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location.as_deref(), Some("/login"), "{path}");
    }
    let before = app.written().await;
    let page = anon.post("/cells/A/meetings", &[("topic", "x")]).await;
    assert_eq!(page.location.as_deref(), Some("/login"));
    assert_eq!(app.written().await, before);
    assert_eq!(anon.get("/healthz").await.status, StatusCode::OK);
}

#[sqlx::test]
async fn a_secretary_cannot_read_or_change_another_cell(pool: PgPool) {
    let app = TestApp::new(pool).await;
    // a meeting with a task in cell B, logged by B's secretary
    let mut sec_b = app.login("sec_b").await;
    let mut form = sec_b.get("/cells/B/meetings/new").await.form_values();
    for (k, v) in [
        ("held_on", DAY),
        ("started_at", "19:00"),
        ("ended_at", "21:00"),
        ("topic", "Họp chi bộ Nà Mỏ"),
        ("rating", "good"),
    ] {
        set(&mut form, k, v);
    }
    let phuc = app.member_id("Bàn Văn Phúc").await;
    set(&mut form, "task.0.description", "Nhiệm vụ của Nà Mỏ");
    set(&mut form, "task.0.assignee", &phuc.to_string());
    let created = sec_b.post("/cells/B/meetings", &form).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text());
    let meeting = created.location.unwrap().trim_start_matches("/meetings/").trim_end_matches("?saved=1").to_string();
    let task: i64 = sqlx::query_scalar("select id from tasks").fetch_one(&app.pool).await.unwrap();

    let mut sec_a = app.login("sec_a").await;
    let csrf = sec_a.get("/cells/A").await.input("csrf").unwrap();
    for path in [
        "/cells/B".to_string(),
        "/cells/B/meetings".into(),
        "/cells/B/meetings/new".into(),
        format!("/meetings/{meeting}"),
        format!("/meetings/{meeting}/edit"),
        format!("/meetings/{meeting}/minutes"),
        "/units/XL".into(),
    ] {
        let page = sec_a.get(&path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!page.text().contains("Bàn Văn Phúc"), "{path} shows a name");
    }
    let before = app.written().await;
    let mut stolen = form.clone();
    set(&mut stolen, "csrf", &csrf);
    set(&mut stolen, "idempotency_key", "another-key");
    assert_eq!(sec_a.post("/cells/B/meetings", &stolen).await.status, StatusCode::FORBIDDEN);
    set(&mut stolen, "version", "1");
    assert_eq!(sec_a.post(&format!("/meetings/{meeting}"), &stolen).await.status, StatusCode::FORBIDDEN);
    let done = sec_a.post(&format!("/tasks/{task}/done"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(done.status, StatusCode::FORBIDDEN);
    assert_eq!(app.written().await, before, "nothing changed in cell B");
    let status: String = sqlx::query_scalar("select status from tasks").fetch_one(&app.pool).await.unwrap();
    assert_eq!(status, "open");
}

#[sqlx::test]
async fn a_provincial_viewer_sees_no_names_and_changes_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut viewer = app.login("viewer").await;
    let home = viewer.get("/cells/A").await;
    assert_eq!(home.status, StatusCode::OK);
    let text = home.text();
    assert!(!text.contains("Nguyễn Văn An"), "{text}");
    assert!(text.contains("Danh sách đảng viên (5, 1 miễn sinh hoạt)"), "{text}");
    assert_eq!(viewer.get("/cells/A/meetings/new").await.status, StatusCode::FORBIDDEN);

    // a meeting's page shows the counts, not who was absent
    let mut sec = app.login("sec_a").await;
    let mut form = sec.get("/cells/A/meetings/new").await.form_values();
    for (k, v) in
        [("held_on", DAY), ("started_at", "19:00"), ("ended_at", "21:00"), ("topic", "Họp"), ("rating", "good")]
    {
        set(&mut form, k, v);
    }
    let binh = app.member_id("Hoàng Thị Bình").await;
    set(&mut form, &format!("att.{binh}"), "unexcused");
    let saved = sec.post("/cells/A/meetings", &form).await;
    let page = viewer.get(saved.location.as_deref().unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(text.contains("1 vắng không lý do"), "{text}");
    assert!(!text.contains("Hoàng Thị Bình"), "{text}");
}

#[sqlx::test]
async fn responses_carry_security_headers_and_a_guarded_cookie(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let page = app.anonymous().get_response("/login").await;
    let h = page.headers();
    let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(h.get("referrer-policy").unwrap(), "same-origin");
    assert_eq!(h.get("cache-control").unwrap(), "no-store");
    // the tests' app is built as for plain http (CHIBO_INSECURE_COOKIES=1): no HSTS, no Secure
    assert!(h.get("strict-transport-security").is_none());
    let res =
        app.anonymous().post_response("/login", &[("username", "sec_a"), ("password", crate::common::PASSWORD)]).await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    assert!(res.headers().get("strict-transport-security").is_none());
}

#[sqlx::test]
async fn over_https_every_response_asks_for_https_and_every_cookie_is_secure(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let secure = chibo::app(chibo::AppState::new(app.pool.clone(), true));
    let res = crate::common::send_to(secure.clone(), crate::common::login_request("sec_a")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers().get("strict-transport-security").unwrap(), "max-age=31536000");
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("chibo_session=") && cookie.ends_with("; Secure"), "{cookie}");
    assert_eq!(cookie.matches("Secure").count(), 1, "{cookie}");
    // the language cookie too, and a page, an error and a static file all carry HSTS
    let get = |path: &str| {
        axum::http::Request::get(path).header("host", "localhost").body(axum::body::Body::empty()).unwrap()
    };
    let res = crate::common::send_to(secure.clone(), get("/lang/en")).await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("chibo_lang=en") && cookie.ends_with("; Secure"), "{cookie}");
    for path in ["/login", "/nowhere", "/healthz", chibo::web::assets::url("app.css")] {
        let res = crate::common::send_to(secure.clone(), get(path)).await;
        assert_eq!(res.headers().get("strict-transport-security").unwrap(), "max-age=31536000", "{path}");
    }
    // on plain http, neither
    for res in [
        app.anonymous().get_response("/lang/en").await,
        app.anonymous().post_response("/login", &[("username", "sec_a"), ("password", PASSWORD)]).await,
    ] {
        let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert!(res.headers().get("strict-transport-security").is_none());
    }
}

#[sqlx::test]
async fn signed_in_pages_and_exports_are_kept_by_no_browser(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let viewer = app.login("viewer").await;
    for path in [
        "/cells/A",
        "/dashboard/P?from=2026-01&to=2026-10",
        "/dashboard/P/export.csv?from=2026-01&to=2026-10",
        "/dashboard/P/export.xlsx?from=2026-01&to=2026-10",
        "/dashboard/P/report?from=2026-01&to=2026-10",
    ] {
        let res = viewer.get_response(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{path}");
    }
    // compressed as a browser asks for it, the same
    let (status, headers, _) = viewer.get_compressed("/dashboard/P?from=2026-01&to=2026-10").await;
    assert_eq!((status, headers.get("cache-control").unwrap().to_str().unwrap()), (StatusCode::OK, "no-store"));
    // the fingerprinted static files keep their year
    let css = app.anonymous().get_response(chibo::web::assets::url("app.css")).await;
    assert_eq!(css.headers().get("cache-control").unwrap(), "public, max-age=31536000, immutable");
}

#[sqlx::test]
async fn a_form_without_the_session_token_or_from_another_site_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let mut form = sec.get("/cells/A/meetings/new").await.form_values();
    for (k, v) in [("held_on", DAY), ("started_at", "19:00"), ("ended_at", "21:00"), ("topic", "x"), ("rating", "good")]
    {
        set(&mut form, k, v);
    }
    let before = app.written().await;
    let mut no_token = form.clone();
    set(&mut no_token, "csrf", "forged");
    let page = sec.post("/cells/A/meetings", &no_token).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.text().contains("Biểu mẫu đã hết hạn"));
    assert_eq!(app.written().await, before);

    // the right token, but the browser says the form comes from another site
    let cross = sec.post_from(Some("http://evil.example"), "/cells/A/meetings", &form).await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert_eq!(app.written().await, before);
    // the same form from this site saves
    let same = sec.post_from(Some("http://localhost"), "/cells/A/meetings", &form).await;
    assert_eq!(same.status, StatusCode::SEE_OTHER, "{}", same.text());
}

#[sqlx::test]
async fn sign_in_locks_after_five_wrong_passwords_and_cycles_the_session(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut anon = app.anonymous();
    let page = anon.post("/login", &[("username", "sec_a"), ("password", "sai")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().contains("Tên đăng nhập hoặc mật khẩu không đúng."));
    assert_eq!(page.input("username").as_deref(), Some("sec_a"), "the user name is kept");
    for _ in 0..4 {
        anon.post("/login", &[("username", "sec_a"), ("password", "sai")]).await;
    }
    let sixth = anon.post("/login", &[("username", "sec_a"), ("password", PASSWORD)]).await;
    assert_eq!(sixth.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sixth.text().contains("tạm khóa"), "{}", sixth.text());

    let first = app.login("sec_b").await.cookie().map(str::to_string);
    let second = app.login("sec_b").await.cookie().map(str::to_string);
    assert!(first.is_some() && first != second, "every sign-in gets a new session id");
}

#[sqlx::test]
async fn sign_out_ends_the_session(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let stolen = sec.cookie().unwrap().to_string();
    let csrf = sec.get("/cells/A").await.input("csrf").unwrap();
    let out = sec.post("/logout", &[("csrf", csrf.as_str())]).await;
    assert_eq!(out.location.as_deref(), Some("/login?signed_out=1"));
    let count: i64 = sqlx::query_scalar("select count(*) from sessions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0, "{stolen} no longer opens anything");
}
