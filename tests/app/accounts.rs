//! Accounts on the web (DOMAIN.md §13): committee clerks keep their cells' secretaries' accounts, administrators
//! every account in their scope; a new account gets a one-time link, never a typed password.
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::common::TestApp;

fn link_of(body: &str) -> String {
    body.split("<code id=\"reset-link\">").nth(1).unwrap().split('<').next().unwrap().to_string()
}

fn form<'a>(csrf: &'a str, username: &'a str, role: &'a str, unit: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("username", username),
        ("display_name", "Nguyễn Văn Ánh"),
        ("role", role),
        ("unit", unit),
        ("phone", "0912 345 678"),
        ("email", ""),
    ]
}

async fn user_id(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar("select id from users where username = $1").bind(name).fetch_one(&app.pool).await.unwrap()
}

#[sqlx::test]
async fn a_clerk_creates_a_secretary_for_a_cell_of_their_commune(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut clerk = app.login("clerk").await;
    let new = clerk.get("/admin/users/new").await;
    assert_eq!(new.status, StatusCode::OK);
    assert!(new.body.contains("value=\"A\""), "the clerk's cells are offered");
    assert!(!new.body.contains("value=\"C\""), "no cell of another commune");
    assert!(!new.body.contains("value=\"committee_clerk\""), "only the secretary's role");
    let csrf = new.input("csrf").unwrap();
    let audited = app.count("audit_log").await;
    let page = clerk.post("/admin/users", &form(&csrf, "bt_anh", "cell_secretary", "A")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("bt_anh"));
    assert_eq!(app.count("audit_log").await, audited + 1, "the account and its link are audited");
    let (role, unit, phone): (String, String, Option<String>) = sqlx::query_as(
        "select u.role, n.code, u.phone from users u join units n on n.id = u.unit_id where u.username = 'bt_anh'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((role.as_str(), unit.as_str(), phone.as_deref()), ("cell_secretary", "A", Some("0912345678")));

    // the link sets the password the creator never typed
    let link = link_of(&page.body);
    let mut anon = app.anonymous();
    assert!(anon.get(&link).await.text().contains("bt_anh"));
    let done = anon.post(&link, &[("new", "mat-khau-moi-1"), ("confirm", "mat-khau-moi-1")]).await;
    assert_eq!(done.location.as_deref(), Some("/login?reset=1"));
    let login = anon.post("/login", &[("username", "bt_anh"), ("password", "mat-khau-moi-1")]).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);

    // the same form again creates nothing twice: the name is taken, said at the field
    let again = clerk.post("/admin/users", &form(&csrf, "bt_anh", "cell_secretary", "A")).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("username-error"));
    let n: i64 =
        sqlx::query_scalar("select count(*) from users where username = 'bt_anh'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(n, 1);

    // found by name without accents
    let found = clerk.get("/admin/users?q=nguyen+van+anh").await;
    assert!(found.body.contains("bt_anh"));
    assert!(!found.body.contains("<td>sec_a</td>"));
}

#[sqlx::test]
async fn a_clerk_is_refused_outside_their_commune_and_above_their_role(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut clerk = app.login("clerk").await;
    let csrf = clerk.csrf("/admin/users/new").await;
    let before = app.count("users").await;

    let other = clerk.post("/admin/users", &form(&csrf, "bt_c", "cell_secretary", "C")).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(other.body.contains("unit-error"), "refused at the unit");
    assert!(other.body.contains("value=\"bt_c\""), "the form is kept");
    let above = clerk.post("/admin/users", &form(&csrf, "vp_xl", "committee_clerk", "XL")).await;
    assert_eq!(above.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(above.body.contains("role-error"), "refused at the role");
    let admin = clerk.post("/admin/users", &form(&csrf, "qt_xl", "admin", "A")).await;
    assert!(admin.body.contains("role-error"));
    assert_eq!(app.count("users").await, before, "nothing created");

    // resetting: a secretary of their commune yes, one of another commune or a higher role no
    let sec_a = user_id(&app, "sec_a").await;
    let ok = clerk.post(&format!("/admin/users/{sec_a}/reset"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.body.contains("reset-link"));
    let sec_c = user_id(&app, "sec_c").await;
    let far = clerk.post(&format!("/admin/users/{sec_c}/reset"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(far.status, StatusCode::FORBIDDEN);
    let me = user_id(&app, "clerk").await;
    let own_rank = clerk.post(&format!("/admin/users/{me}/reset"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(own_rank.status, StatusCode::FORBIDDEN);
    let far_lock = clerk.post(&format!("/admin/users/{sec_c}/disable"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(far_lock.status, StatusCode::FORBIDDEN);

    let sec_b = user_id(&app, "sec_b").await;
    let lock = clerk.post(&format!("/admin/users/{sec_b}/disable"), &[("csrf", csrf.as_str()), ("confirm", "1")]).await;
    assert_eq!(lock.location.as_deref(), Some("/admin/users?locked=1"), "a clerk locks a secretary of their commune");
    let unlock = clerk.post(&format!("/admin/users/{sec_b}/unlock"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(unlock.status, StatusCode::FORBIDDEN, "unlocking stays with administrators");

    // and a secretary may not manage accounts at all
    let mut sec = app.login("sec_a").await;
    assert_eq!(sec.get("/admin/users").await.status, StatusCode::FORBIDDEN);
    assert_eq!(sec.get("/admin/users/new").await.status, StatusCode::FORBIDDEN);
}

#[sqlx::test]
async fn the_list_shows_only_accounts_in_scope(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut clerk = app.login("clerk").await;
    let page = clerk.get("/admin/users").await;
    assert_eq!(page.status, StatusCode::OK);
    for name in ["sec_a", "sec_b"] {
        assert!(page.body.contains(&format!("<td>{name}</td>")), "{name} listed");
    }
    for name in ["sec_c", "admin", "viewer", "district", "clerk"] {
        assert!(!page.body.contains(&format!("<td>{name}</td>")), "{name} not listed to the clerk");
    }
    assert!(!page.body.contains("/unlock"), "unlocking stays with administrators");
    let mut district = app.login("district").await;
    assert_eq!(district.get("/admin/users").await.status, StatusCode::FORBIDDEN);
    let mut admin = app.login("admin").await;
    let all = admin.get("/admin/users").await;
    for name in ["sec_a", "sec_c", "clerk", "viewer"] {
        assert!(all.body.contains(&format!("<td>{name}</td>")), "{name} listed to the administrator");
    }
}

#[sqlx::test]
async fn an_administrator_creates_any_role_that_fits_its_unit(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    let new = admin.get("/admin/users/new").await;
    assert!(new.body.contains("value=\"committee_clerk\"") && new.body.contains("value=\"C\""));
    let csrf = new.input("csrf").unwrap();
    let misfit = admin.post("/admin/users", &form(&csrf, "vp_a", "committee_clerk", "A")).await;
    assert_eq!(misfit.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(misfit.body.contains("unit-error"), "a clerk sits at a committee");
    let ok = admin.post("/admin/users", &form(&csrf, "vp_yy", "committee_clerk", "YY")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("reset-link"));
    let role: String =
        sqlx::query_scalar("select role from users where username = 'vp_yy'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(role, "committee_clerk");
}
