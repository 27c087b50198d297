//! The authorization matrix, built from the router's own route list: every route, every role, a target in
//! scope and one out of scope, against the rule the route was declared with. A new route cannot exist without a
//! rule, and is walked here as soon as it is added.
use axum::http::{Method, StatusCode};
use chibo::domain::Role;
use chibo::domain::meeting::Rating;
use chibo::web::{Access, app_routes};
use sqlx::PgPool;

use crate::common::{DAY, TestApp, set};

/// The fixture's units under each user's unit (their scope).
fn scope(user: &str) -> &'static [&'static str] {
    match user {
        "admin" | "viewer" => &["P", "D1", "D2", "XL", "YY", "A", "B", "C"],
        "district" => &["D1", "XL", "A", "B"],
        "clerk" => &["XL", "A", "B"],
        "sec_a" => &["A"],
        _ => &[],
    }
}

fn role_of(user: &str) -> Option<Role> {
    match user {
        "admin" => Some(Role::Admin),
        "viewer" => Some(Role::ProvinceViewer),
        "district" => Some(Role::DistrictViewer),
        "clerk" => Some(Role::CommitteeClerk),
        "sec_a" => Some(Role::CellSecretary),
        _ => None,
    }
}

/// What a request is about: a unit (by code), a record owned by the user or by someone else, or nothing.
#[derive(Debug, Clone, Copy)]
enum Target {
    None,
    Unit(&'static str),
    Owned(bool),
}

fn allowed(access: Access, user: &str, target: Target) -> bool {
    let Some(role) = role_of(user) else { return access == Access::Public };
    let in_scope = match target {
        Target::Unit(u) => scope(user).contains(&u),
        Target::None | Target::Owned(_) => true,
    };
    match access {
        Access::Public | Access::SignedIn => true,
        Access::ReadUnit => in_scope,
        Access::ReadNames => in_scope && role.can_see_names(),
        Access::EditCell => in_scope && role.can_edit_meetings(),
        Access::ManageRecords => in_scope && role.can_manage_records(),
        Access::Publish => in_scope && role.can_publish_reports(),
        Access::Admin => in_scope && role == Role::Admin,
        Access::ManageAccounts => in_scope && role.can_manage_accounts(),
        Access::Owner => matches!(target, Target::Owned(true)),
    }
}

struct Targets {
    meeting: [(i64, &'static str); 2],
    task: [(i64, &'static str); 2],
    /// users in cells B and C
    user: [(i64, &'static str); 2],
    /// an API token of sec_b's
    foreign_token: i64,
}

/// A meeting with a task in cell A and one in cell C.
async fn targets(app: &TestApp) -> Targets {
    let mut meeting = [(0, "A"), (0, "C")];
    let mut task = [(0, "A"), (0, "C")];
    for (i, member) in ["M1", "M9"].into_iter().enumerate() {
        let cell = meeting[i].1;
        let id = app.meeting(cell, DAY).rating(Rating::Good).task(member, "Việc").save().await;
        let t: i64 = sqlx::query_scalar("select id from tasks where meeting_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        meeting[i].0 = id;
        task[i].0 = t;
    }
    let mut user = [(0, "B"), (0, "C")];
    for (i, name) in ["sec_b", "sec_c"].into_iter().enumerate() {
        user[i].0 = sqlx::query_scalar("select id from users where username = $1")
            .bind(name)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    }
    let sec_b = chibo::db::users::by_username(&app.pool, "sec_b").await.unwrap().unwrap();
    let actor = chibo::db::audit::Actor::cli();
    chibo::db::credentials::create_token(&app.pool, &actor, &sec_b, "b").await.unwrap();
    let foreign_token = sqlx::query_scalar("select max(id) from api_tokens").fetch_one(&app.pool).await.unwrap();
    Targets { meeting, task, user, foreign_token }
}

/// The concrete paths to try for a route, each with what it concerns. `own_token` is the user's API token id.
fn paths(template: &str, user: &str, t: &Targets, own_token: Option<i64>) -> Vec<(String, Target)> {
    if !template.contains('{') {
        return vec![(template.to_string(), Target::None)];
    }
    let own: &'static str = scope(user).first().copied().unwrap_or("A");
    let candidates: Vec<(String, Target)> = if template.starts_with("/units/{code}")
        || template.starts_with("/api/v1/units/{code}")
        || template.starts_with("/dashboard/{code}")
        || template.starts_with("/followup/{code}")
    {
        vec![(own.to_string(), Target::Unit(own)), ("YY".into(), Target::Unit("YY"))]
    } else if template.starts_with("/cells/{code}") || template.starts_with("/api/v1/cells/{code}") {
        vec![("A".into(), Target::Unit("A")), ("C".into(), Target::Unit("C"))]
    } else if template.starts_with("/members/{code}") {
        vec![("M1".into(), Target::Unit("A")), ("M9".into(), Target::Unit("C"))]
    } else if template.starts_with("/meetings/{id}") {
        t.meeting.iter().map(|(id, cell)| (id.to_string(), Target::Unit(cell))).collect()
    } else if template.starts_with("/tasks/{id}") {
        t.task.iter().map(|(id, cell)| (id.to_string(), Target::Unit(cell))).collect()
    } else if template.starts_with("/admin/users/{id}") {
        t.user.iter().map(|(id, cell)| (id.to_string(), Target::Unit(cell))).collect()
    } else if template.starts_with("/account/tokens/{id}") {
        let mut c = vec![(t.foreign_token.to_string(), Target::Owned(false))];
        if let Some(own) = own_token {
            c.push((own.to_string(), Target::Owned(true)));
        }
        c
    } else if template.starts_with("/import/headings/{id}") {
        // an upload kept for its headings: whose it is, the handler decides (none is kept here: 404 past the rule)
        vec![("0".into(), Target::None)]
    } else if template.starts_with("/lang/{code}") {
        vec![("en".into(), Target::None)]
    } else if template.starts_with("/static/{file}") {
        vec![("app.css".into(), Target::None)]
    } else if template.starts_with("/reset/{token}") {
        vec![("not-a-real-link".into(), Target::None)]
    } else {
        panic!("no fixture for the parameters of {template}: teach tests/app/authz.rs about it");
    };
    let param = &template[template.find('{').unwrap()..=template.find('}').unwrap()];
    // a second parameter: a published report's id under its unit names no report (the guard decides by the unit);
    // a report's month (`/cells/{code}/reports/{month}…`) is the month of the fixture's meetings
    let month = &DAY[..7];
    candidates
        .into_iter()
        .map(|(value, target)| {
            (template.replacen(param, &value, 1).replace("{id}", "0").replace("{month}", month), target)
        })
        .collect()
}

#[sqlx::test]
async fn every_route_allows_and_denies_as_its_rule_says(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let t = targets(&app).await;
    let (_, mut specs) = app_routes().into_parts();
    // revoking one's token and signing out end what the other requests use: walk them last
    specs.sort_by_key(|s| (s.path == "/logout", s.path.ends_with("/revoke")));
    let mut checked = 0;
    for user in ["anonymous", "admin", "viewer", "district", "clerk", "sec_a"] {
        let mut client = if user == "anonymous" { app.anonymous() } else { app.login(user).await };
        let csrf = client.get("/cells/A").await.input("csrf").unwrap_or_default();
        let (token, token_id) = match chibo::db::users::by_username(&app.pool, user).await.unwrap() {
            Some(u) => {
                let actor = chibo::db::audit::Actor::cli();
                let secret = chibo::db::credentials::create_token(&app.pool, &actor, &u, "matrix").await.unwrap();
                let id: i64 = sqlx::query_scalar("select max(id) from api_tokens").fetch_one(&app.pool).await.unwrap();
                (Some(secret), Some(id))
            }
            None => (None, None),
        };
        for spec in &specs {
            for (path, target) in paths(spec.path, user, &t, token_id) {
                let api = path.starts_with("/api/");
                let page = if api {
                    client.get_with_token(&path, token.as_deref()).await
                } else if spec.method == Method::GET {
                    client.get(&path).await
                } else {
                    client.post(&path, &[("csrf", csrf.as_str())]).await
                };
                assert!(!page.status.is_server_error(), "{} {path} as {user}: {}", spec.method, page.status);
                let denied = page.status == StatusCode::FORBIDDEN
                    || (api && page.status == StatusCode::UNAUTHORIZED)
                    || (page.status == StatusCode::SEE_OTHER && page.location.as_deref() == Some("/login"));
                let expected = allowed(spec.access, user, target);
                assert_eq!(
                    !denied, expected,
                    "{} {path} as {user} ({:?}): got {}",
                    spec.method, spec.access, page.status
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "the matrix walked {checked} cases");
}

/// Every state-changing route refuses a form without the session's token (sign-in and reset links have no
/// session yet: the same-origin check guards them, and a cross-site post is refused in security.rs).
#[sqlx::test]
async fn every_post_route_refuses_a_form_without_the_session_token(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let t = targets(&app).await;
    let (_, specs) = app_routes().into_parts();
    let mut admin = app.login("admin").await;
    let before = app.count("audit_log").await;
    let mut checked = 0;
    for spec in specs.iter().filter(|s| s.method == Method::POST && s.access != Access::Public) {
        if spec.path == "/logout" {
            continue;
        }
        for (path, _) in paths(spec.path, "admin", &t, None) {
            let page = admin.post(&path, &[("csrf", "forged"), ("topic", "x")]).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "POST {path} without the token");
            assert!(page.text().contains("Biểu mẫu đã hết hạn"), "POST {path}: {}", page.text());
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked}");
    assert_eq!(app.count("audit_log").await, before, "nothing was changed");
    let logout = admin.post("/logout", &[("csrf", "forged")]).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN, "not even signing out");
}

/// What a provincial viewer sees of people: officials are public office holders (a guest official's name shows on
/// a meeting's page, the name of whoever made a change shows in the audit trail); members are not (no member's
/// name); login names and network addresses are for administrators only.
#[sqlx::test]
async fn a_viewer_sees_officials_by_name_and_no_member_login_name_or_address(pool: PgPool) {
    let app = TestApp::new(pool).await;
    sqlx::query("update users set display_name = 'Hoàng Văn Thư' where username = 'sec_a'")
        .execute(&app.pool)
        .await
        .unwrap();
    let mut sec = app.login("sec_a").await;
    let mut form = sec.get("/cells/A/meetings/new").await.form_values();
    for (k, v) in
        [("held_on", DAY), ("started_at", "19:00"), ("ended_at", "21:00"), ("topic", "Họp"), ("rating", "good")]
    {
        set(&mut form, k, v);
    }
    let official: i64 =
        sqlx::query_scalar("select id from officials where code = 'O1'").fetch_one(&app.pool).await.unwrap();
    form.push(("guest".into(), official.to_string()));
    let binh = app.member_id("Hoàng Thị Bình").await;
    set(&mut form, &format!("att.{binh}"), "unexcused");
    let saved = sec.post_at("192.0.2.44", "/cells/A/meetings", &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());

    let mut viewer = app.login("viewer").await;
    let meeting = viewer.get(saved.location.as_deref().unwrap()).await.text();
    assert!(meeting.contains("Hà Văn Quyết"), "the guest official is named: {meeting}");
    assert!(!meeting.contains("Hoàng Thị Bình"), "no member is named");
    let audit = viewer.get("/audit").await.text();
    assert!(audit.contains("Hoàng Văn Thư"), "the actor by name: {audit}");
    assert!(!audit.contains("sec_a") && !audit.contains("192.0.2.44"), "no login name, no address: {audit}");
    assert!(!audit.contains("Hoàng Thị Bình"), "no before/after naming members");
    let mut admin = app.login("admin").await;
    let audit = admin.get("/audit").await.text();
    assert!(audit.contains("sec_a (192.0.2.44)"), "administrators see login names and addresses: {audit}");
}

/// The rule in the route table is what runs: a route whose handler checks nothing at all is still closed to
/// whoever its rule excludes, for a unit, a meeting, a task and a member named in its path (web/access.rs). The
/// same holds with the page cache on, where the guard's answers are remembered per data generation.
#[sqlx::test]
async fn a_route_s_rule_runs_even_when_its_handler_checks_nothing(pool: PgPool) {
    use axum::body::Body;
    use axum::http::{Request, header};
    let app = crate::common::TestApp::with_cache(pool).await;
    async fn inside() -> &'static str {
        "inside"
    }
    let (router, _) = chibo::web::Routes::default()
        .get("/cells/{code}/probe", Access::ReadUnit, inside)
        .get("/meetings/{id}/probe", Access::EditCell, inside)
        .get("/members/{code}/probe", Access::ManageRecords, inside)
        .into_parts();
    let router = router.with_state(app.state.clone());
    let meeting_in = |cell: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "insert into meetings (cell_id, held_on, kind, topic)
                 select id, '2026-10-08', 'thematic', 'Chuyên đề' from units where code = $1 returning id",
            )
            .bind(cell)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let (meeting_a, meeting_c) = (meeting_in("A").await, meeting_in("C").await);
    let cookie_of = |user: &'static str| {
        let app = &app;
        async move { app.login(user).await.cookie().map(str::to_string) }
    };
    let (sec_a, viewer, clerk) = (cookie_of("sec_a").await, cookie_of("viewer").await, cookie_of("clerk").await);
    let ask = |path: String, cookie: Option<String>| {
        let router = router.clone();
        async move {
            let mut req = Request::get(&path).header(header::HOST, "localhost");
            if let Some(c) = cookie {
                req = req.header(header::COOKIE, c);
            }
            let res = crate::common::send_to(router, req.body(Body::empty()).unwrap()).await;
            (res.status(), res.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_string()))
        }
    };
    for _ in 0..2 {
        // twice: the second time the guard answers from its memory
        assert_eq!(ask("/cells/A/probe".into(), sec_a.clone()).await.0, StatusCode::OK);
        assert_eq!(ask("/cells/B/probe".into(), sec_a.clone()).await.0, StatusCode::FORBIDDEN);
        assert_eq!(ask("/cells/NOPE/probe".into(), sec_a.clone()).await.0, StatusCode::NOT_FOUND);
        assert_eq!(ask("/cells/A/probe".into(), None).await.1.as_deref(), Some("/login"));
        assert_eq!(ask(format!("/meetings/{meeting_a}/probe"), sec_a.clone()).await.0, StatusCode::OK);
        assert_eq!(ask(format!("/meetings/{meeting_c}/probe"), sec_a.clone()).await.0, StatusCode::FORBIDDEN);
        // a viewer's role may not edit, in scope or not
        assert_eq!(ask(format!("/meetings/{meeting_a}/probe"), viewer.clone()).await.0, StatusCode::FORBIDDEN);
        assert_eq!(ask("/meetings/999999/probe".into(), sec_a.clone()).await.0, StatusCode::NOT_FOUND);
        assert_eq!(ask("/members/M1/probe".into(), clerk.clone()).await.0, StatusCode::OK);
        assert_eq!(ask("/members/M1/probe".into(), sec_a.clone()).await.0, StatusCode::FORBIDDEN);
        assert_eq!(ask("/members/M9/probe".into(), clerk.clone()).await.0, StatusCode::FORBIDDEN);
    }
}

/// A route declared with a rule its path cannot carry is refused when the router is built.
#[test]
#[should_panic(expected = "does not fit")]
fn a_unit_rule_on_a_path_that_names_no_unit_is_refused() {
    async fn inside() -> &'static str {
        "inside"
    }
    let _ = chibo::web::Routes::default().get("/probe", Access::ReadUnit, inside);
}

/// The reporting settings hold for the whole tree: every administrator sees them, only an administrator of its
/// top unit changes them; the values are checked at their fields and the change is audited.
#[sqlx::test]
async fn only_an_administrator_of_the_whole_tree_changes_the_reporting_settings(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let unit_id = chibo::db::units::by_code(&app.pool, "D1").await.unwrap().unwrap().id;
    let password_hash = crate::common::hash(crate::common::PASSWORD).await;
    let new = chibo::db::users::NewUser {
        username: "admin_d1",
        display_name: "admin_d1",
        password_hash,
        role: Role::Admin,
        unit_id,
    };
    chibo::db::users::create(&app.pool, &chibo::db::audit::Actor::cli(), new).await.unwrap();

    let mut district = app.login("admin_d1").await;
    let page = district.get("/admin/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Chỉ quản trị viên toàn tỉnh"), "{}", page.text());
    let csrf = page.input("csrf").unwrap();
    let form = [("csrf", csrf.as_str()), ("reporting_since", "2025-01"), ("report_deadline_day", "7")];
    assert_eq!(district.post("/admin/settings", &form).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("settings").await, 0);

    let mut admin = app.login("admin").await;
    let csrf = admin.get("/admin/settings").await.input("csrf").unwrap();
    let bad = [("csrf", csrf.as_str()), ("reporting_since", "2025-13"), ("report_deadline_day", "31")];
    let page = admin.post("/admin/settings", &bad).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().contains("Nhập tháng theo dạng YYYY-MM") && page.text().contains("Nhập số nguyên từ 1 đến 28"));
    assert_eq!(page.input("report_deadline_day").as_deref(), Some("31"), "the form comes back as typed");
    assert_eq!(app.count("settings").await, 0);

    let before = app.count("audit_log").await;
    let form = [("csrf", csrf.as_str()), ("reporting_since", "2025-01"), ("report_deadline_day", "7")];
    let page = admin.post("/admin/settings", &form).await;
    assert_eq!(page.location.as_deref(), Some("/admin/settings?saved=1"));
    let s = chibo::db::settings::get(&app.pool).await.unwrap();
    assert_eq!((s.reporting_since, s.report_deadline_day), (chibo::domain::time::parse_month("2025-01"), 7));
    assert_eq!(app.count("audit_log").await, before + 1);
    let page = admin.get("/admin/settings?saved=1").await;
    assert!(page.text().contains("Đã lưu thiết lập"));
    assert_eq!(page.input("reporting_since").as_deref(), Some("2025-01"));
}
