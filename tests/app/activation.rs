//! Every secretary at once (issue 17): an account and a one-time activation link for the secretary of each cell
//! under a unit, made in one run; the link sets the password at /reset/{token}.
use axum::http::StatusCode;
use chibo::db::activation::{self, Activation};
use chibo::db::audit::Actor;
use sqlx::PgPool;

use crate::common::TestApp;
use crate::fixture::import_bundle;

/// Secretaries for cells A (which already has sec_a), B (whose sec_b is disabled), a new cell D under XL, and C
/// (under YY); someone is already called `nguyenvanan`.
async fn secretaries(app: &TestApp) {
    import_bundle(
        &app.pool,
        &[
            ("units.csv", "code,kind,name,parent_code,valid_from,valid_to,cell_type\nD,cell,Chi bộ thôn Nặm Đíp,XL,2000-01-01,,village\n"),
            (
                "members.csv",
                "code,full_name,gender,birth_date,ethnicity,joined_on,official_on,cell_code,left_on\n\
                 M10,Nguyễn Văn An,male,1972-05-01,Tày,2010-03-01,2011-03-01,D,\n",
            ),
            (
                "positions.csv",
                "member_code,cell_code,position,valid_from,valid_to\n\
                 M2,A,secretary,2020-01-01,\n\
                 M7,B,secretary,2020-01-01,\n\
                 M10,D,secretary,2020-01-01,\n\
                 M9,C,secretary,2020-01-01,\n",
            ),
        ],
    )
    .await;
    sqlx::query("update users set disabled = true where username = 'sec_b'").execute(&app.pool).await.unwrap();
    sqlx::query(
        "insert into users (username, display_name, password_hash, role, unit_id)
         select 'nguyenvanan', 'Nguyễn Văn An', '!', 'province_viewer', id from units where code = 'P'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
}

async fn run(app: &TestApp, unit: &str) -> Vec<Activation> {
    let unit = chibo::db::units::by_code(&app.pool, unit).await.unwrap().unwrap();
    activation::activate_secretaries(&app.pool, &Actor::cli(), unit.id, chibo::domain::time::today()).await.unwrap()
}

#[sqlx::test]
async fn accounts_are_made_for_the_secretaries_of_a_units_cells_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    secretaries(&app).await;
    let made = run(&app, "XL").await;
    let got: Vec<_> = made.iter().map(|a| (a.cell_code.as_str(), a.full_name.as_str(), a.username.as_str())).collect();
    assert_eq!(
        got,
        [("B", "Bàn Văn Phúc", "banvanphuc"), ("D", "Nguyễn Văn An", "nguyenvanan2")],
        "A has its account, C is not under XL, the taken name gets a number"
    );
    assert!(made.iter().all(|a| a.committee_code == "XL" && a.committee_name == "Đảng bộ xã Xuân Lập"));
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "select u.display_name, u.role, c.code, (select count(*) from password_resets r where r.user_id = u.id
                  and r.expires_at between now() + interval '13 days 23 hours' and now() + interval '14 days 1 hour')
         from users u join units c on c.id = u.unit_id where u.username = 'nguyenvanan2'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(rows, [("Nguyễn Văn An".into(), "cell_secretary".into(), "D".into(), 1)], "a link for 14 days");
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where entity = 'user' and action = 'create'
           and entity_id in (select id::text from users where username in ('banvanphuc', 'nguyenvanan2'))",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 2, "audited once per account");
    // the unusable password signs nobody in
    let login = app.anonymous().post("/login", &[("username", "banvanphuc"), ("password", "!activation")]).await;
    assert_ne!(login.status, StatusCode::SEE_OTHER);

    assert!(run(&app, "XL").await.is_empty(), "a second run makes nothing");
    assert!(run(&app, "P").await.is_empty(), "C has sec_c");
    sqlx::query("update users set disabled = true where username = 'sec_c'").execute(&app.pool).await.unwrap();
    let province = run(&app, "P").await;
    assert_eq!(
        province.iter().map(|a| a.username.as_str()).collect::<Vec<_>>(),
        ["sungvanpao"],
        "only C, whose account is disabled, is left"
    );
    assert_eq!(province[0].committee_code, "YY");
}

#[sqlx::test]
async fn the_link_sets_the_password_once_and_the_secretary_signs_in(pool: PgPool) {
    let app = TestApp::new(pool).await;
    secretaries(&app).await;
    let made = run(&app, "XL").await;
    let link = format!("/reset/{}", made[0].token);
    let page = app.anonymous().get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("banvanphuc"), "the page names the account");
    let new = [("new", "bi-thu-na-mo-2026"), ("confirm", "bi-thu-na-mo-2026")];
    let set = app.anonymous().post(&link, &new).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let login = app.anonymous().post("/login", &[("username", "banvanphuc"), ("password", "bi-thu-na-mo-2026")]).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "signed in with the password just set");
    // used: refused
    assert_eq!(app.anonymous().get(&link).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.anonymous().post(&link, &new).await.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn an_expired_activation_link_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    secretaries(&app).await;
    let made = run(&app, "XL").await;
    sqlx::query("update password_resets set expires_at = now() - interval '1 minute' where user_id = $1")
        .bind(made[1].user_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let link = format!("/reset/{}", made[1].token);
    assert_eq!(app.anonymous().get(&link).await.status, StatusCode::NOT_FOUND);
    let new = [("new", "bi-thu-nam-dip-1"), ("confirm", "bi-thu-nam-dip-1")];
    assert_eq!(app.anonymous().post(&link, &new).await.status, StatusCode::NOT_FOUND);
    let hash: String = sqlx::query_scalar("select password_hash from users where id = $1")
        .bind(made[1].user_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(hash, activation::NO_PASSWORD, "no password was set");
}
