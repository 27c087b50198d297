//! Security by default: escaped output, bounded and checked input, expiring sessions, revocable tokens,
//! password changes and one-time reset links, and an audit row for every write.
use axum::http::StatusCode;
use chibo::web::{Access, app_routes};
use sqlx::PgPool;

use crate::common::{DAY, PASSWORD, TestApp, set};

const MARKUP: &str = "<script>alert('x')</script><b onmouseover=\"x()\">";

#[sqlx::test]
async fn markup_in_every_free_text_field_comes_back_escaped(pool: PgPool) {
    let app = TestApp::new(pool).await;
    sqlx::query("update members set full_name = $1 where code = 'M1'")
        .bind(format!("Nguyễn {MARKUP}"))
        .execute(&app.pool)
        .await
        .unwrap();
    let mut sec = app.login("sec_a").await;
    let mut form = sec.get("/cells/A/meetings/new").await.form_values();
    for (k, v) in [("held_on", DAY), ("started_at", "19:00"), ("ended_at", "21:00"), ("rating", "good")] {
        set(&mut form, k, v);
    }
    for field in ["topic", "content", "resolution", "location"] {
        set(&mut form, field, &format!("{field} {MARKUP}"));
    }
    let an: i64 = sqlx::query_scalar("select id from members where code = 'M1'").fetch_one(&app.pool).await.unwrap();
    set(&mut form, "task.0.description", &format!("task {MARKUP}"));
    set(&mut form, "task.0.assignee", &an.to_string());
    set(&mut form, "chair", &an.to_string());
    // a refused form shows the typed markup back: escaped
    let mut refused = form.clone();
    set(&mut refused, "ended_at", "18:00");
    let page = sec.post("/cells/A/meetings", &refused).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.body.contains("<script>") && !page.body.contains("<b onmouseover"), "refused form escapes");
    assert!(page.body.contains("&lt;script&gt;") || page.body.contains("&#60;script&#62;"), "shown as text");

    let saved = sec.post("/cells/A/meetings", &form).await;
    let path = saved.location.unwrap().replace("?saved=1", "");
    for p in
        [path.clone(), format!("{path}/minutes"), format!("{path}/edit"), "/cells/A".into(), "/cells/A/meetings".into()]
    {
        let page = sec.get(&p).await;
        assert_eq!(page.status, StatusCode::OK, "{p}");
        assert!(!page.body.contains("<script>"), "{p} lets a script through");
        assert!(!page.body.contains("<b onmouseover"), "{p} lets markup through");
        assert!(page.body.contains("&lt;script&gt;") || page.body.contains("&#60;script&#62;"), "{p} shows the text");
    }
}

#[sqlx::test]
async fn oversized_and_malformed_bodies_get_a_4xx_never_a_500(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let csrf = sec.get("/cells/A").await.input("csrf").unwrap();
    let before = app.written().await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let page = sec.post("/cells/A/meetings", &[("csrf", csrf.as_str()), ("topic", huge.as_str())]).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.text().contains("Nội dung gửi lên quá lớn"), "a page that says why: {}", page.text());
    for body in ["%%%", "csrf=%ZZ&topic=x", "=&&==", "task.999999999999999999999.description=x"] {
        let page = sec.post_raw("/cells/A/meetings", body).await;
        assert!(page.status.is_client_error(), "{body}: {}", page.status);
        assert!(page.body.contains("<h1>"), "{body}: an HTML page, not a bare rejection");
    }
    for (path, body) in [("/login", "username"), ("/account/password", "csrf=x"), ("/tasks/1/done", "csrf=%FF%FE")] {
        let page = sec.post_raw(path, body).await;
        assert!(page.status.is_client_error(), "{path} {body}: {}", page.status);
        assert!(page.body.contains("<h1>"), "{path} {body}: an HTML page, not a bare rejection");
    }
    for path in
        ["/meetings/abc", "/meetings/99999999999999999999999", "/cells/%27%20or%201=1--", "/units/..%2F..%2Fetc"]
    {
        let page = sec.get(path).await;
        assert!(page.status.is_client_error(), "{path}: {}", page.status);
        assert!(page.body.contains("<h1>"), "{path}: an HTML page");
    }
    assert_eq!(app.written().await, before);
}

#[sqlx::test]
async fn sql_metacharacters_in_inputs_are_harmless(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut anon = app.anonymous();
    for name in ["' or '1'='1", "sec_a'--", "sec_a\"; drop table users; --", "%' union select 1 --"] {
        let page = anon.post("/login", &[("username", name), ("password", "' or '1'='1")]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
    }
    assert_eq!(app.count("users").await, 7, "the users table is intact");
    let mut sec = app.login("sec_a").await;
    let mut form = sec.get("/cells/A/meetings/new").await.form_values();
    for (k, v) in [("held_on", DAY), ("started_at", "19:00"), ("ended_at", "21:00"), ("rating", "good")] {
        set(&mut form, k, v);
    }
    set(&mut form, "topic", "'); delete from meetings; --");
    assert_eq!(sec.post("/cells/A/meetings", &form).await.status, StatusCode::SEE_OTHER);
    let topic: String = sqlx::query_scalar("select topic from meetings").fetch_one(&app.pool).await.unwrap();
    assert_eq!(topic, "'); delete from meetings; --", "stored as text, nothing run");
}

#[sqlx::test]
async fn sessions_end_when_idle_or_too_old(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    assert_eq!(sec.get("/cells/A").await.status, StatusCode::OK);
    sqlx::query("update sessions set last_seen_at = now() - interval '3 hours'").execute(&app.pool).await.unwrap();
    assert_eq!(sec.get("/cells/A").await.location.as_deref(), Some("/login"), "idle expiry");
    let mut sec = app.login("sec_a").await;
    sqlx::query("update sessions set created_at = now() - interval '13 hours'").execute(&app.pool).await.unwrap();
    assert_eq!(sec.get("/cells/A").await.location.as_deref(), Some("/login"), "absolute expiry");
}

#[sqlx::test]
async fn a_revoked_api_token_stops_working(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let csrf = sec.get("/account/tokens").await.input("csrf").unwrap();
    let page = sec.post("/account/tokens", &[("csrf", csrf.as_str()), ("name", "Bảng tính")]).await;
    assert_eq!(page.status, StatusCode::OK);
    let secret = page.body.split("<code id=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let stored: String = sqlx::query_scalar("select token_hash from api_tokens").fetch_one(&app.pool).await.unwrap();
    assert_ne!(stored, secret, "stored hashed");
    assert!(!sec.get("/account/tokens").await.body.contains(&secret), "shown once");

    let mut api = app.anonymous();
    let me = api.get_with_token("/api/v1/me", Some(&secret)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.body.contains("\"role\":\"cell_secretary\""), "{}", me.body);
    assert_eq!(api.get_with_token("/api/v1/cells/A/meetings", Some(&secret)).await.status, StatusCode::OK);
    assert_eq!(api.get_with_token("/api/v1/cells/C/meetings", Some(&secret)).await.status, StatusCode::FORBIDDEN);

    let id: i64 = sqlx::query_scalar("select id from api_tokens").fetch_one(&app.pool).await.unwrap();
    let revoked = sec.post(&format!("/account/tokens/{id}/revoke"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let me = api.get_with_token("/api/v1/me", Some(&secret)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert!(me.body.contains("revoked"));
}

#[sqlx::test]
async fn a_password_change_and_a_one_time_reset_link(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let mut other_device = app.login("sec_a").await;
    let csrf = sec.get("/account/password").await.input("csrf").unwrap();
    let short = sec
        .post(
            "/account/password",
            &[("csrf", csrf.as_str()), ("current", PASSWORD), ("new", "ngan"), ("confirm", "ngan")],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text().contains("ít nhất 10 ký tự"));
    let wrong = sec
        .post(
            "/account/password",
            &[("csrf", csrf.as_str()), ("current", "sai"), ("new", "mat-khau-moi-1"), ("confirm", "mat-khau-moi-1")],
        )
        .await;
    assert!(wrong.text().contains("Mật khẩu hiện tại không đúng."));
    let ok = sec
        .post(
            "/account/password",
            &[("csrf", csrf.as_str()), ("current", PASSWORD), ("new", "mat-khau-moi-1"), ("confirm", "mat-khau-moi-1")],
        )
        .await;
    assert!(ok.text().contains("Đã đổi mật khẩu"), "{}", ok.text());
    assert_eq!(sec.get("/cells/A").await.status, StatusCode::OK, "this session stays");
    assert_eq!(other_device.get("/cells/A").await.location.as_deref(), Some("/login"), "other sessions end");

    // the administrator issues a one-time link; it sets a new password once
    let mut admin = app.login("admin").await;
    let csrf = admin.get("/admin/users").await.input("csrf").unwrap();
    let id: i64 =
        sqlx::query_scalar("select id from users where username = 'sec_a'").fetch_one(&app.pool).await.unwrap();
    let page = admin.post(&format!("/admin/users/{id}/reset"), &[("csrf", csrf.as_str())]).await;
    let link = page.body.split("<code id=\"reset-link\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let mut anon = app.anonymous();
    assert!(anon.get(&link).await.text().contains("Tài khoản: sec_a"));
    let done = anon.post(&link, &[("new", "mat-khau-lan-ba"), ("confirm", "mat-khau-lan-ba")]).await;
    assert_eq!(done.location.as_deref(), Some("/login?reset=1"));
    assert_eq!(sec.get("/cells/A").await.location.as_deref(), Some("/login"), "a reset ends every session");
    let again = anon.post(&link, &[("new", "mat-khau-lan-bon"), ("confirm", "mat-khau-lan-bon")]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "the link works once");
    let login = anon.post("/login", &[("username", "sec_a"), ("password", "mat-khau-lan-ba")]).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
}

/// A valid write for each state-changing route (by its template); a new write route fails here until it is
/// taught, so that no write path escapes the audit trail.
#[sqlx::test]
async fn every_write_route_leaves_an_audit_row(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let mut admin = app.login("admin").await;
    let admin_csrf = admin.get("/admin/users").await.input("csrf").unwrap();
    let sec_b: i64 =
        sqlx::query_scalar("select id from users where username = 'sec_b'").fetch_one(&app.pool).await.unwrap();
    let (_, specs) = app_routes().into_parts();
    let mut walked = Vec::new();
    for spec in specs.iter().filter(|s| s.method == axum::http::Method::POST) {
        // signing in and out and using a reset link are not changes to records (the link's use is audited
        // in a_password_change_and_a_one_time_reset_link's flow through credentials::use_reset)
        if matches!(spec.path, "/login" | "/logout" | "/reset/{token}") {
            assert!(matches!(spec.access, Access::Public | Access::SignedIn));
            continue;
        }
        let before = app.count("audit_log").await;
        let csrf = sec.get("/cells/A").await.input("csrf").unwrap();
        let page = match spec.path {
            "/cells/{code}/meetings" => {
                let mut form = sec.get("/cells/A/meetings/new").await.form_values();
                for (k, v) in [
                    ("held_on", DAY),
                    ("started_at", "19:00"),
                    ("ended_at", "21:00"),
                    ("topic", "Họp"),
                    ("rating", "good"),
                ] {
                    set(&mut form, k, v);
                }
                let an: i64 =
                    sqlx::query_scalar("select id from members where code = 'M1'").fetch_one(&app.pool).await.unwrap();
                set(&mut form, "task.0.description", "Việc");
                set(&mut form, "task.0.assignee", &an.to_string());
                sec.post("/cells/A/meetings", &form).await
            }
            "/meetings/{id}" => {
                let id: i64 = sqlx::query_scalar("select max(id) from meetings").fetch_one(&app.pool).await.unwrap();
                let mut form = sec.get(&format!("/meetings/{id}/edit")).await.form_values();
                set(&mut form, "topic", "Họp (đã sửa)");
                set(&mut form, "action", "save");
                sec.post(&format!("/meetings/{id}"), &form).await
            }
            "/tasks/{id}/done" => {
                let id: i64 = sqlx::query_scalar("select max(id) from tasks").fetch_one(&app.pool).await.unwrap();
                sec.post(&format!("/tasks/{id}/done"), &[("csrf", csrf.as_str())]).await
            }
            "/tasks/{id}/reopen" => {
                let id: i64 = sqlx::query_scalar("select max(id) from tasks").fetch_one(&app.pool).await.unwrap();
                sec.post(&format!("/tasks/{id}/done"), &[("csrf", csrf.as_str())]).await;
                let before = app.count("audit_log").await;
                let page = sec.post(&format!("/tasks/{id}/reopen"), &[("csrf", csrf.as_str())]).await;
                assert_eq!(app.count("audit_log").await, before + 1, "the undo is audited");
                page
            }
            "/account/password" => {
                let form = [("csrf", csrf.as_str()), ("current", PASSWORD), ("new", PASSWORD), ("confirm", PASSWORD)];
                sec.post("/account/password", &form).await
            }
            "/account/tokens" => sec.post("/account/tokens", &[("csrf", csrf.as_str()), ("name", "k")]).await,
            "/account/contact" => {
                let form = [("csrf", csrf.as_str()), ("phone", "0912 345 678"), ("email", "")];
                sec.post("/account/contact", &form).await
            }
            "/account/notices/dismiss" => {
                let (user, cell): (i64, i64) =
                    sqlx::query_as("select u.id, u.unit_id from users u where u.username = 'sec_a'")
                        .fetch_one(&app.pool)
                        .await
                        .unwrap();
                let month = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
                let notice = chibo::db::reminders::NewNotice {
                    key: "reminder:due3:walk",
                    user_id: user,
                    unit_id: cell,
                    month,
                    deadline: month + chrono::TimeDelta::days(34),
                    overdue: false,
                    cell_ids: &[cell],
                };
                let mut conn = app.pool.acquire().await.unwrap();
                chibo::db::reminders::add_notice(&mut conn, notice, chrono::Utc::now()).await.unwrap();
                let id: i64 = sqlx::query_scalar("select max(id) from notices").fetch_one(&app.pool).await.unwrap();
                let id = id.to_string();
                let form = [("csrf", csrf.as_str()), ("id", id.as_str()), ("next", "/cells/A")];
                sec.post("/account/notices/dismiss", &form).await
            }
            "/account/tokens/{id}/revoke" => {
                let id: i64 = sqlx::query_scalar("select max(id) from api_tokens").fetch_one(&app.pool).await.unwrap();
                sec.post(&format!("/account/tokens/{id}/revoke"), &[("csrf", csrf.as_str())]).await
            }
            "/admin/users" => {
                let form = [
                    ("csrf", admin_csrf.as_str()),
                    ("username", "bt_moi"),
                    ("display_name", "Bí thư mới"),
                    ("role", "cell_secretary"),
                    ("unit", "A"),
                ];
                admin.post("/admin/users", &form).await
            }
            "/admin/users/{id}/reset" => {
                admin.post(&format!("/admin/users/{sec_b}/reset"), &[("csrf", admin_csrf.as_str())]).await
            }
            "/admin/users/{id}/disable" => {
                let form = [("csrf", admin_csrf.as_str()), ("confirm", "1")];
                admin.post(&format!("/admin/users/{sec_b}/disable"), &form).await
            }
            "/admin/users/{id}/unlock" => {
                admin.post(&format!("/admin/users/{sec_b}/unlock"), &[("csrf", admin_csrf.as_str())]).await
            }
            "/admin/programmes" => {
                let form = [
                    ("csrf", admin_csrf.as_str()),
                    ("code", "DA-2030"),
                    ("name", "Đề án 2026–2030"),
                    ("from", "2026-01"),
                    ("to", "2030-12"),
                ];
                admin.post("/admin/programmes", &form).await
            }
            "/admin/programmes/targets" => {
                let form = [
                    ("csrf", admin_csrf.as_str()),
                    ("programme", "DA16"),
                    ("metric", "attendance_rate"),
                    ("unit", ""),
                    ("target", "91"),
                ];
                admin.post("/admin/programmes/targets", &form).await
            }
            "/admin/programmes/targets/remove" => {
                let form = [("csrf", admin_csrf.as_str()), ("target", "DA16/good_meeting_share/")];
                admin.post("/admin/programmes/targets/remove", &form).await
            }
            "/admin/rubrics" => {
                let mut form = admin.get("/admin/rubrics").await.form_values();
                set(&mut form, "code", "hd42-2027");
                set(&mut form, "valid_from", "2027-01-01");
                admin.post("/admin/rubrics", &form).await
            }
            "/admin/settings" => {
                let form =
                    [("csrf", admin_csrf.as_str()), ("reporting_since", "2026-01"), ("report_deadline_day", "5")];
                admin.post("/admin/settings", &form).await
            }
            "/units/{code}/records" => {
                let form = [
                    ("csrf", admin_csrf.as_str()),
                    ("file", "transfers.csv"),
                    ("confirmed", "1"),
                    ("member_code", "M1"),
                    ("cell_code", "B"),
                    ("effective_on", "2026-11-01"),
                ];
                admin.post("/units/A/records", &form).await
            }
            "/import" => {
                let units = "code,kind,name,parent_code,valid_from,valid_to,cell_type\n\
                             XL-09,cell,Chi bộ thôn Nà Đâng,XL,2026-01-01,,village\n";
                let page =
                    admin.post_multipart("/import", &[("csrf", &admin_csrf)], &[("units.csv", units.into())]).await;
                // the upload runs in the background: its page says when it is done
                let job = page.location.clone().expect("the job's page");
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                while admin.get(&job).await.text().contains("Đang nhập") {
                    assert!(std::time::Instant::now() < deadline, "the upload never finished");
                    tokio::task::yield_now().await;
                }
                page
            }
            "/units/{code}/secretaries" => {
                // cell B's secretary is Bàn Văn Phúc, and sec_b is someone else's: one account to make (raw SQL
                // so that the setting up leaves no audit row)
                sqlx::query(
                    "insert into positions (cell_id, member_id, position, valid_from)
                     select u.id, m.id, 'secretary', '2020-01-01' from units u, members m
                     where u.code = 'B' and m.code = 'M7'",
                )
                .execute(&app.pool)
                .await
                .unwrap();
                sqlx::query(
                    "update users set member_id = (select id from members where code = 'M8') where username = 'sec_b'",
                )
                .execute(&app.pool)
                .await
                .unwrap();
                let form = [("csrf", admin_csrf.as_str()), ("batch", "hardening-walk-0123456789")];
                admin.post("/units/XL/secretaries", &form).await
            }
            "/units/{code}/secretaries/reissue" => {
                // the account just made, not yet activated
                admin.post("/units/XL/secretaries/reissue", &[("csrf", admin_csrf.as_str())]).await
            }
            "/import/headings/{id}" => {
                // a sheet with a heading of its own, checked only: the mapping remembered is the one write
                let units = "code,kind,name,parent_code,valid_from,valid_to,cell_type,STT\n";
                let sent = admin
                    .post_multipart(
                        "/import",
                        &[("csrf", &admin_csrf), ("dry_run", "1")],
                        &[("units.csv", units.into())],
                    )
                    .await;
                let at = sent.location.clone().expect("the headings page");
                let before = app.count("audit_log").await;
                let form = admin.get(&at).await.form_values();
                let page = admin.post(&at, &form).await;
                let job = page.location.clone().expect("the job's page");
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                while admin.get(&job).await.text().contains("Đang nhập") {
                    assert!(std::time::Instant::now() < deadline, "the check never finished");
                    tokio::task::yield_now().await;
                }
                assert_eq!(app.count("audit_log").await, before + 1, "the mapping is audited");
                page
            }
            "/dashboard/{code}/publish" => {
                let form = admin.get("/dashboard/P/published").await.form_values();
                admin.post("/dashboard/P/publish", &form).await
            }
            // the reporting cycle, walked before the meeting routes (their months are left unlocked)
            "/cells/{code}/reports/{month}/submit" => {
                let form = [("csrf", csrf.as_str()), ("reason", "Lũ lụt")];
                sec.post(&format!("/cells/A/reports/{}/submit", &DAY[..7]), &form).await
            }
            "/cells/{code}/reports/{month}/approve" => {
                admin.post(&format!("/cells/A/reports/{}/approve", &DAY[..7]), &[("csrf", admin_csrf.as_str())]).await
            }
            "/cells/{code}/reports/{month}/return" => {
                submitted_report(&app, "B", "2026-09-01").await;
                let form = [("csrf", admin_csrf.as_str()), ("reason", "Thiếu biên bản")];
                admin.post("/cells/B/reports/2026-09/return", &form).await
            }
            "/cells/{code}/reports/{month}/unlock" => {
                let form = [("csrf", admin_csrf.as_str()), ("reason", "Sửa số liệu")];
                admin.post(&format!("/cells/A/reports/{}/unlock", &DAY[..7]), &form).await
            }
            "/units/{code}/reports/approve" => {
                submitted_report(&app, "B", "2026-08-01").await;
                let form = [("csrf", admin_csrf.as_str()), ("item", "B/2026-08")];
                admin.post("/units/XL/reports/approve", &form).await
            }
            other => panic!("no audit walk for POST {other}: teach tests/app/hardening.rs how to write through it"),
        };
        assert!(page.status.is_success() || page.status.is_redirection(), "POST {}: {}", spec.path, page.status);
        assert_eq!(app.count("audit_log").await, before + 1, "POST {} leaves one audit row", spec.path);
        walked.push(spec.path);
    }
    assert!(walked.len() >= 8, "{walked:?}");
    // every audit row names who, and the unit it concerns; the log cannot be edited
    let unowned: i64 =
        sqlx::query_scalar("select count(*) from audit_log where unit_id is null").fetch_one(&app.pool).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as("select action, entity from audit_log where unit_id is null")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(unowned, 0, "{rows:?}");
    assert!(sqlx::query("update audit_log set action = 'delete'").execute(&app.pool).await.is_err());
    assert!(sqlx::query("delete from audit_log").execute(&app.pool).await.is_err());
    // and the secretary browses the changes of their cell, not others'
    let audit = sec.get("/audit").await.text();
    assert!(audit.contains("meeting"), "{audit}");
    assert!(!audit.contains(&format!("user #{sec_b}")), "sec_b's changes are outside sec_a's scope");
}

/// A report of `cell` for `month` (its first day) in the state `submitted`, written without the app (test setup).
async fn submitted_report(app: &TestApp, cell: &str, month: &str) {
    sqlx::query(
        "insert into cell_reports (cell_id, month, state, first_submitted_on, submitted_on)
         select id, $2::date, 'submitted', $2::date + 10, $2::date + 10 from units where code = $1",
    )
    .bind(cell)
    .bind(month)
    .execute(&app.pool)
    .await
    .unwrap();
}
