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
    activation::activate_secretaries(&app.pool, &Actor::cli(), unit.id, chibo::domain::time::today(), None)
        .await
        .unwrap()
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

/// The links on a sheet, in order.
fn links(sheet: &str) -> Vec<String> {
    sheet
        .match_indices("/reset/")
        .map(|(at, _)| sheet[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c)).collect())
        .filter(|l: &String| l.len() > "/reset/".len() + 20)
        .fold(Vec::new(), |mut all, l| {
            if !all.contains(&l) {
                all.push(l);
            }
            all
        })
}

async fn users_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from users").fetch_one(&app.pool).await.unwrap()
}

#[sqlx::test]
async fn a_clerk_makes_every_secretarys_account_on_the_web_and_prints_the_sheet(pool: PgPool) {
    let app = TestApp::new(pool).await;
    secretaries(&app).await;
    let mut clerk = app.login("clerk").await;
    let users = clerk.get("/admin/users").await;
    assert!(users.body.contains("/units/XL/secretaries"), "the users page leads to the secretaries' accounts");
    let page = clerk.get("/units/XL/secretaries").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Bí thư chưa có tài khoản: 2"), "{}", page.body);
    assert!(page.body.contains("Bàn Văn Phúc") && page.body.contains("Chưa có tài khoản"));
    let (csrf, batch) = (page.input("csrf").unwrap(), page.input("batch").unwrap());
    let before = users_count(&app).await;
    let form = [("csrf", csrf.as_str()), ("batch", batch.as_str())];
    let sheet = clerk.post("/units/XL/secretaries", &form).await;
    assert_eq!(sheet.status, StatusCode::OK, "{}", sheet.body);
    assert_eq!(users_count(&app).await, before + 2);
    assert!(sheet.body.contains("banvanphuc") && sheet.body.contains("nguyenvanan2"), "{}", sheet.body);
    assert!(sheet.body.contains("Đảng bộ xã Xuân Lập") && sheet.body.contains("/static/print."), "{}", sheet.body);
    assert_eq!(sheet.body.matches("<svg").count(), 2, "a QR code per person");
    assert!(!sheet.body.contains("<script"), "no script on the sheet");
    let first = links(&sheet.body);
    assert_eq!(first.len(), 2, "{first:?}");

    // the same form sent again (a double click): nothing made twice, the same accounts' links again
    let again = clerk.post("/units/XL/secretaries", &form).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(users_count(&app).await, before + 2, "nothing made twice");
    let second = links(&again.body);
    assert_eq!(second.len(), 2);
    assert!(again.body.contains("banvanphuc") && again.body.contains("nguyenvanan2"));
    assert_eq!(app.anonymous().get(&first[0]).await.status, StatusCode::NOT_FOUND, "the unseen links are replaced");
    assert_eq!(app.anonymous().get(&second[0]).await.status, StatusCode::OK);

    // a new visit of the page: nothing left to make
    let page = clerk.get("/units/XL/secretaries").await;
    assert!(page.body.contains("Bí thư chưa có tài khoản: 0") && page.body.contains("Tài khoản chưa kích hoạt: 2"));
    let fresh = [("csrf", csrf.clone()), ("batch", page.input("batch").unwrap())];
    let nothing = clerk.post("/units/XL/secretaries", &fresh).await;
    assert!(nothing.body.contains("Không có tài khoản nào cần tạo"), "{}", nothing.body);
    assert_eq!(users_count(&app).await, before + 2);
    assert_eq!(app.anonymous().get(&second[1]).await.status, StatusCode::OK, "the printed links still work");

    // the sheet lost: print again, the old links stop working
    let reprint = clerk.post("/units/XL/secretaries/reissue", &[("csrf", csrf.as_str())]).await;
    assert_eq!(reprint.status, StatusCode::OK);
    let third = links(&reprint.body);
    assert_eq!(third.len(), 2);
    assert_eq!(app.anonymous().get(&second[1]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.anonymous().get(&third[1]).await.status, StatusCode::OK);
}

#[sqlx::test]
async fn a_clerk_makes_no_accounts_outside_their_commune(pool: PgPool) {
    let app = TestApp::new(pool).await;
    secretaries(&app).await;
    let before = users_count(&app).await;
    let mut clerk = app.login("clerk").await;
    let csrf = clerk.csrf("/units/XL/secretaries").await;
    let form = [("csrf", csrf.as_str()), ("batch", "0123456789abcdef0123")];
    for path in ["/units/YY/secretaries", "/units/P/secretaries", "/units/YY/secretaries/reissue"] {
        assert_eq!(clerk.post(path, &form).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(clerk.get("/units/YY/secretaries").await.status, StatusCode::FORBIDDEN);
    let mut secretary = app.login("sec_a").await;
    assert_eq!(secretary.get("/units/XL/secretaries").await.status, StatusCode::FORBIDDEN);
    let forged = clerk.post("/units/XL/secretaries", &[("csrf", "forged"), ("batch", "0123456789abcdef0123")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(users_count(&app).await, before, "nothing made");
}

fn day(offset: i64) -> String {
    (chibo::domain::time::today() + chrono::Duration::days(offset)).format("%Y-%m-%d").to_string()
}

#[sqlx::test]
async fn a_handover_ends_the_old_secretarys_access_on_the_date(pool: PgPool) {
    let app = TestApp::new(pool).await;
    secretaries(&app).await;
    let made = run(&app, "XL").await;
    let phuc = made.iter().find(|a| a.username == "banvanphuc").unwrap();
    let new = [("new", "bi-thu-na-mo-2026"), ("confirm", "bi-thu-na-mo-2026")];
    let link = format!("/reset/{}", phuc.token);
    assert_eq!(app.anonymous().post(&link, &new).await.status, StatusCode::SEE_OTHER);
    let mut old = app.anonymous();
    let signed = old.post("/login", &[("username", "banvanphuc"), ("password", "bi-thu-na-mo-2026")]).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    assert_eq!(old.get("/cells/B").await.status, StatusCode::OK);

    // the position passes to Nông Thị Hoa from today, by the records' import
    let bundle = format!(
        "member_code,cell_code,position,valid_from,valid_to\nM7,B,secretary,2020-01-01,{}\nM8,B,secretary,{},\n",
        day(-1),
        day(0)
    );
    app.import(&[("positions.csv", &bundle)]).await;
    let cell = old.get("/cells/B").await;
    assert_ne!(cell.status, StatusCode::OK, "the old secretary's session ended");
    let again = app.anonymous().post("/login", &[("username", "banvanphuc"), ("password", "bi-thu-na-mo-2026")]).await;
    assert_ne!(again.status, StatusCode::SEE_OTHER, "and they cannot sign in again");
    let until: Option<chrono::NaiveDate> =
        sqlx::query_scalar("select access_until from users where username = 'banvanphuc'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(until.map(|d| d.format("%Y-%m-%d").to_string()), Some(day(-1)), "access to the day before");
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where entity = 'user' and action = 'update'
           and entity_id = (select id::text from users where username = 'banvanphuc')
           and after->>'reason' = 'secretary_handover'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1, "the ending is audited");
    let users = app.login("clerk").await.get("/admin/users?q=banvanphuc").await;
    let shown = chrono::NaiveDate::parse_from_str(&day(-1), "%Y-%m-%d").unwrap().format("%d/%m/%Y").to_string();
    assert!(users.body.contains(&format!("Được dùng đến hết ngày {shown}")), "{}", users.body);

    // the new secretary is on the next sheet, the old one is not
    let next = run(&app, "XL").await;
    let got: Vec<_> = next.iter().map(|a| (a.cell_code.as_str(), a.full_name.as_str())).collect();
    assert_eq!(got, [("B", "Nông Thị Hoa")]);
    assert!(run(&app, "XL").await.is_empty());
}

#[sqlx::test]
async fn a_handover_dated_ahead_leaves_access_until_the_day_before(pool: PgPool) {
    let app = TestApp::new(pool).await;
    secretaries(&app).await;
    // sec_a was made by hand before any of this: Hoàng Thị Bình's cell passes to Ma Văn Cường in five days
    let bundle = format!(
        "member_code,cell_code,position,valid_from,valid_to\nM2,A,secretary,2020-01-01,{}\nM3,A,secretary,{},\n",
        day(4),
        day(5)
    );
    app.import(&[("positions.csv", &bundle)]).await;
    let until: Option<chrono::NaiveDate> =
        sqlx::query_scalar("select access_until from users where username = 'sec_a'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(until.map(|d| d.format("%Y-%m-%d").to_string()), Some(day(4)));
    let mut sec_a = app.login("sec_a").await;
    assert_eq!(sec_a.get("/cells/A").await.status, StatusCode::OK, "until then, the cell is still theirs");
    // the same positions again change nothing and record nothing more
    app.import(&[("positions.csv", &bundle)]).await;
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where entity = 'user' and after->>'reason' = 'secretary_handover'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

/// One form of a member's record page, sent as the clerk sends it; the answer after the save.
async fn record(client: &mut crate::common::Client<'_>, member: &str, fields: &[(&str, &str)]) {
    let page = format!("/members/{member}");
    let token = client.csrf(&page).await;
    let mut form =
        vec![("csrf", token.as_str()), ("file", "positions.csv"), ("back", page.as_str()), ("confirmed", "1")];
    form.extend_from_slice(fields);
    let sent = client.post("/units/B/records", &form).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let shown = client.follow(sent).await;
    assert!(!shown.body.contains("field-error"), "{}", shown.body);
}

#[sqlx::test]
async fn a_handover_made_on_the_members_pages_ends_the_old_secretarys_access(pool: PgPool) {
    let app = TestApp::new(pool).await;
    secretaries(&app).await;
    let made = run(&app, "XL").await;
    let phuc = made.iter().find(|a| a.username == "banvanphuc").unwrap();
    let new = [("new", "bi-thu-na-mo-2026"), ("confirm", "bi-thu-na-mo-2026")];
    assert_eq!(app.anonymous().post(&format!("/reset/{}", phuc.token), &new).await.status, StatusCode::SEE_OTHER);
    let mut old = app.anonymous();
    old.post("/login", &[("username", "banvanphuc"), ("password", "bi-thu-na-mo-2026")]).await;
    assert_eq!(old.get("/cells/B").await.status, StatusCode::OK);

    // the clerk closes Bàn Văn Phúc's position yesterday and gives it to Nông Thị Hoa from today
    let mut clerk = app.login("clerk").await;
    let (yesterday, today) = (day(-1), day(0));
    let closing = [
        ("member_code", "M7"),
        ("cell_code", "B"),
        ("position", "secretary"),
        ("valid_from", "2020-01-01"),
        ("valid_to", yesterday.as_str()),
    ];
    record(&mut clerk, "M7", &closing).await;
    let opening = [
        ("member_code", "M8"),
        ("cell_code", "B"),
        ("position", "secretary"),
        ("valid_from", today.as_str()),
        ("valid_to", ""),
    ];
    record(&mut clerk, "M8", &opening).await;
    assert_ne!(old.get("/cells/B").await.status, StatusCode::OK, "the old secretary's access ended");
    let by_clerk: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where after->>'reason' = 'secretary_handover'
           and user_id = (select id from users where username = 'clerk')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(by_clerk, 1, "the ending is audited as the clerk's");
    let next = run(&app, "XL").await;
    assert_eq!(next.iter().map(|a| a.full_name.as_str()).collect::<Vec<_>>(), ["Nông Thị Hoa"]);
}
