//! What a first use found (issue 15), for the administrator and the clerk: each case failed before its fix.
use axum::http::StatusCode;
use chibo::domain::meeting::AttendanceStatus;
use sqlx::PgPool;

use crate::common::{TestApp, set};

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

#[sqlx::test]
async fn targets_are_named_in_words_and_can_be_changed_and_removed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    let page = admin.get("/admin/programmes").await;
    let table = page.body.split("id=\"targets\"").nth(1).unwrap().split("</table>").next().unwrap().to_string();
    assert!(table.contains("Tỷ lệ đảng viên dự sinh hoạt"), "the metric in words: {table}");
    assert!(!table.contains(">attendance_rate<"), "no raw key shown: {table}");
    // change: the row's link fills the form with the target it names
    let edit = admin.get("/admin/programmes?programme=DA16&metric=good_meeting_share&unit=").await;
    assert!(edit.body.contains("<option value=\"good_meeting_share\" selected>"), "{}", edit.body);
    let csrf = page.input("csrf").unwrap();
    let saved = admin
        .post(
            "/admin/programmes/targets",
            &[
                ("csrf", csrf.as_str()),
                ("programme", "DA16"),
                ("metric", "good_meeting_share"),
                ("unit", ""),
                ("target", "85"),
            ],
        )
        .await;
    assert!(saved.text().contains("Đã lưu chỉ tiêu."));
    let level: f64 =
        sqlx::query_scalar("select target::float8 from programme_targets where metric = 'good_meeting_share'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(level, 0.85);
    // remove
    let removed = admin
        .post("/admin/programmes/targets/remove", &[("csrf", csrf.as_str()), ("target", "DA16/good_meeting_share/")])
        .await;
    assert_eq!(removed.status, StatusCode::OK);
    assert!(removed.text().contains("Đã xóa chỉ tiêu."));
    let left: i64 = sqlx::query_scalar("select count(*) from programme_targets where metric = 'good_meeting_share'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where entity = 'programme_target' and action = 'delete'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
}

#[sqlx::test]
async fn an_empty_follow_up_list_says_none_instead_of_an_empty_table(pool: PgPool) {
    let app = TestApp::new(pool).await;
    // Côn Lôn's one cell, Nà Khà, has one member: a small cell
    let mut viewer = app.login("viewer").await;
    let page = viewer.get("/followup/YY").await;
    assert_eq!(page.status, StatusCode::OK);
    let section =
        |id: &str| page.body.split(&format!("id=\"{id}\"")).nth(1).unwrap().split("<h2").next().unwrap().to_string();
    let small = section("small");
    assert!(small.contains("(1)") && small.contains("<table") && !small.contains("Không có."), "{small}");
    // every cell small in a unit with none: the table gives way to "none"
    sqlx::query("update units set valid_to = '2020-01-31' where code = 'C'").execute(&app.pool).await.unwrap();
    let page = viewer.get("/followup/YY").await;
    let small = page.body.split("id=\"small\"").nth(1).unwrap().to_string();
    assert!(small.contains("(0)") && small.contains("Không có.") && !small.contains("<table"), "{small}");
    let watch = page.body.split("id=\"watch\"").nth(1).unwrap().split("<h2").next().unwrap().to_string();
    assert!(watch.contains("(0)") && watch.contains("Không có.") && !watch.contains("<li>"), "{watch}");
}

#[sqlx::test]
async fn the_audit_trail_speaks_the_readers_language_with_the_right_verb(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    let csrf = admin.get("/admin/users").await.input("csrf").unwrap();
    let id: i64 =
        sqlx::query_scalar("select id from users where username = 'sec_a'").fetch_one(&app.pool).await.unwrap();
    admin.post(&format!("/admin/users/{id}/reset"), &[("csrf", csrf.as_str())]).await;
    let page = admin.get("/audit").await.text();
    assert!(page.contains(&format!("Tạo liên kết đặt lại mật khẩu cho tài khoản #{id}")), "{page}");
    assert!(!page.contains("create user") && !page.contains(" create ") && !page.contains(" user #"), "{page}");
    // and in English on request
    admin.get("/lang/en").await;
    let page = admin.get("/audit").await.text();
    assert!(page.contains(&format!("Created password reset link for account #{id}")), "{page}");
}

#[sqlx::test]
async fn a_locked_account_is_unlocked_from_the_web_after_a_confirmed_lock_never_ones_own(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    let page = admin.get("/admin/users").await;
    let csrf = page.input("csrf").unwrap();
    let me: i64 =
        sqlx::query_scalar("select id from users where username = 'admin'").fetch_one(&app.pool).await.unwrap();
    let sec: i64 =
        sqlx::query_scalar("select id from users where username = 'sec_a'").fetch_one(&app.pool).await.unwrap();
    assert!(!page.body.contains(&format!("/admin/users/{me}/disable")), "no lock button on one's own account");
    let own = admin.post(&format!("/admin/users/{me}/disable"), &[("csrf", csrf.as_str()), ("confirm", "1")]).await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST);
    assert!(own.text().contains("Bạn không thể tự khóa tài khoản của mình."), "{}", own.text());

    // locking asks first
    let disabled = || async {
        sqlx::query_scalar::<_, bool>("select disabled from users where username = 'sec_a'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let ask = admin.post(&format!("/admin/users/{sec}/disable"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.text().contains("Khóa tài khoản của sec_a (sec_a)"), "{}", ask.text());
    assert!(!disabled().await, "nothing done before the confirmation");
    let done = admin.post(&format!("/admin/users/{sec}/disable"), &[("csrf", csrf.as_str()), ("confirm", "1")]).await;
    assert_eq!(done.location.as_deref(), Some("/admin/users?locked=1"));
    assert!(disabled().await);
    let page = admin.get("/admin/users?locked=1").await;
    assert!(page.text().contains("Đã khóa tài khoản"), "{}", page.text());
    assert!(page.body.contains(&format!("/admin/users/{sec}/unlock")), "an unlock button");
    // unlocking: enabled again, and sign-in paused by wrong passwords is lifted too
    for _ in 0..5 {
        app.anonymous().post_at("203.0.113.40", "/login", &[("username", "sec_b"), ("password", "sai")]).await;
    }
    let page = admin.get("/admin/users").await;
    assert!(page.text().contains("Tạm dừng đăng nhập"), "{}", page.text());
    let done = admin.post(&format!("/admin/users/{sec}/unlock"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(done.location.as_deref(), Some("/admin/users?unlocked=1"));
    assert!(!disabled().await);
    assert!(app.login("sec_a").await.cookie().is_some(), "sec_a signs in again");
    let sec_b: i64 =
        sqlx::query_scalar("select id from users where username = 'sec_b'").fetch_one(&app.pool).await.unwrap();
    admin.post(&format!("/admin/users/{sec_b}/unlock"), &[("csrf", csrf.as_str())]).await;
    let back = app
        .anonymous()
        .post_at("203.0.113.40", "/login", &[("username", "sec_b"), ("password", crate::common::PASSWORD)])
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "the owner signs in again from that address");
}

#[sqlx::test]
async fn the_import_page_checks_only_unless_told_otherwise(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    let page = admin.get("/import").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"dry_run\" value=\"1\" checked"), "check only by default: {}", page.body);
}

#[sqlx::test]
async fn the_member_record_shows_the_years_attendance(pool: PgPool) {
    use chrono::Datelike;
    let app = TestApp::new(pool).await;
    let year = chibo::domain::time::today().year();
    let mut meeting_ids = Vec::new();
    for (day, status) in [
        (format!("{year}-01-01"), AttendanceStatus::Unexcused),
        (chibo::domain::time::today().to_string(), AttendanceStatus::Present),
        ("2020-03-09".to_string(), AttendanceStatus::Present),
    ] {
        let id = app.meeting("A", day).status("M2", status).save().await;
        meeting_ids.push(id);
    }
    let mut clerk = app.login("clerk").await;
    let page = clerk.get("/members/M2").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(text.contains(&format!("Sinh hoạt năm {year}")), "{text}");
    assert!(text.contains("1 có mặt, 0 vắng có lý do, 1 vắng không lý do, 0 miễn sinh hoạt."), "{text}");
    assert!(page.body.contains(&format!("href=\"/meetings/{}\"", meeting_ids[0])), "each meeting links to its page");
    assert!(!page.body.contains(&format!("href=\"/meetings/{}\"", meeting_ids[2])), "only this year's");
}

/// The commune's page answers "who has not logged this month?": each cell with ✓ or ✗ and its latest meeting.
#[sqlx::test]
async fn the_commune_page_shows_each_cells_month(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let today = chibo::domain::time::today();
    app.meeting("A", today).save().await;
    app.meeting("B", "2025-05-06").save().await;
    let mut clerk = app.login("clerk").await;
    let page = clerk.get("/units/XL").await.text();
    let month = today.format("%m/%Y").to_string();
    let day = today.format("%d/%m/%Y").to_string();
    let a =
        page.split("Chi bộ thôn Khuổi Trang").nth(1).unwrap().split("Chi bộ thôn Nà Mỏ").next().unwrap().to_string();
    assert!(a.contains(&format!("✓ đã sinh hoạt định kỳ tháng {month} · buổi gần nhất {day}")), "{a}");
    let b = page.split("Chi bộ thôn Nà Mỏ").nth(1).unwrap().to_string();
    assert!(b.contains(&format!("✗ chưa sinh hoạt định kỳ tháng {month} · buổi gần nhất 06/05/2025")), "{b}");
}

/// Item 14: an excused absence has a reason, typed beside the member, shown on the meeting and in the minutes; a
/// reason typed beside a member not excused is ignored, and one too long is refused at its field, kept as typed.
#[sqlx::test]
async fn an_excused_absence_carries_its_reason_to_the_minutes(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let mut form = crate::meetings::filled_form(&mut sec, "A").await;
    let binh = app.member_id("Hoàng Thị Bình").await;
    let cuong = app.member_id("Ma Văn Cường").await;
    assert!(form.iter().any(|(k, _)| *k == format!("reason.{binh}")), "a reason field beside each member: {form:?}");
    set(&mut form, &format!("att.{binh}"), "excused");
    set(&mut form, &format!("att.{cuong}"), "unexcused");
    set(&mut form, &format!("reason.{cuong}"), "đi chợ");
    // too long: refused at its field, everything typed kept, nothing written
    let long = "ố".repeat(chibo::domain::limits::REASON + 1);
    set(&mut form, &format!("reason.{binh}"), &long);
    let refused = sec.post("/cells/A/meetings", &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(&format!("href=\"#reason-{binh}\"")), "the message links to the field");
    assert_eq!(refused.input(&format!("reason.{binh}")).as_deref(), Some(long.as_str()), "kept as typed");
    assert_eq!(refused.input(&format!("reason.{cuong}")).as_deref(), Some("đi chợ"));
    assert_eq!(app.count("meetings").await, 0);

    set(&mut form, &format!("reason.{binh}"), " ốm ");
    let saved = sec.post("/cells/A/meetings", &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let id: i64 = sqlx::query_scalar("select id from meetings").fetch_one(&app.pool).await.unwrap();
    let reasons: Vec<(String, Option<String>)> = sqlx::query_as(
        "select m.full_name, a.reason from attendance a join members m on m.id = a.member_id
         where a.meeting_id = $1 and a.status <> 'present' and a.status <> 'exempt' order by m.code",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        reasons,
        [("Hoàng Thị Bình".to_string(), Some("ốm".to_string())), ("Ma Văn Cường".to_string(), None)],
        "only an excused absence keeps a reason"
    );
    let shown = sec.get(&format!("/meetings/{id}")).await.text();
    assert!(shown.contains("Hoàng Thị Bình — Vắng có lý do (ốm)"), "{shown}");
    let minutes = sec.get(&format!("/meetings/{id}/minutes")).await.text();
    assert!(minutes.contains("Vắng có lý do: 1 — đồng chí Hoàng Thị Bình (ốm)."), "{minutes}");
    assert!(!minutes.contains("đi chợ"), "{minutes}");

    // the edit form shows it; an edit that marks the member present drops it
    let mut edit = sec.get(&format!("/meetings/{id}/edit")).await;
    assert_eq!(edit.input(&format!("reason.{binh}")).as_deref(), Some("ốm"));
    let mut values = edit.form_values();
    set(&mut values, &format!("att.{binh}"), "present");
    set(&mut values, "action", "save");
    edit = sec.post(&format!("/meetings/{id}"), &values).await;
    assert_eq!(edit.status, StatusCode::SEE_OTHER, "{}", edit.text());
    let left: i64 = sqlx::query_scalar("select count(reason) from attendance where meeting_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

/// Item 8: the follow-up page picks its month with a form that needs no script, and names link to the records
/// for those who keep them.
#[sqlx::test]
async fn the_follow_up_page_has_a_month_picker_and_links_names_to_records(pool: PgPool) {
    use chibo::domain::{metrics::add_months, time};
    let app = TestApp::new(pool).await;
    let today = time::today();
    let last = add_months(time::month_start(today), -1);
    let before = add_months(last, -1);
    app.meeting("A", chrono::Datelike::with_day(&before, 5).unwrap()).save().await;
    let joined_on = today - chrono::Days::new(396);
    app.import(&[(
        "members.csv",
        &format!(
            "code,full_name,gender,birth_date,ethnicity,joined_on,official_on,cell_code,left_on\n\
             M10,Lục Thị Xuân,female,1998-02-02,Tày,{joined_on},,A,\n"
        ),
    )])
    .await;
    let mut clerk = app.login("clerk").await;
    let no_meeting =
        |body: &str| body.split("id=\"no-meeting\"").nth(1).unwrap().split("<h2").next().unwrap().to_string();

    let page = clerk.get("/followup/XL").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<form method=\"get\" action=\"/followup/XL\""), "a GET form: {}", page.body);
    let value = last.format("%Y-%m").to_string();
    assert!(page.body.contains(&format!("<option value=\"{value}\" selected>")), "last month by default");
    let listed = no_meeting(&page.body);
    assert!(listed.contains("Khuổi Trang") && listed.contains("Nà Mỏ"), "neither met last month: {listed}");
    assert!(page.body.contains("<a href=\"/members/M10\">Lục Thị Xuân</a>"), "a clerk opens the record");

    let page = clerk.get(&format!("/followup/XL?month={}", before.format("%Y-%m"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("<option value=\"{}\" selected>", before.format("%Y-%m"))));
    let listed = no_meeting(&page.body);
    assert!(!listed.contains("Khuổi Trang") && listed.contains("Nà Mỏ"), "A met that month: {listed}");
    assert!(page.text().contains(&time::format_month(before)), "the heading names the month");

    // a secretary sees the names without links
    let mut sec = app.login("sec_a").await;
    let page = sec.get("/followup/A").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Lục Thị Xuân"));
    assert!(!page.body.contains("href=\"/members/M10\""), "no link for those who cannot open records");
}

/// Item 9: the record forms offer the cells in scope by name, a transfer asks before it is saved, and the record's
/// tables and history name cells and members rather than show their codes.
#[sqlx::test]
async fn a_transfer_picks_the_cell_by_name_asks_first_and_its_history_names_names(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut clerk = app.login("clerk").await;
    let page = clerk.get("/members/M1").await;
    let transfer = page.body.split("id=\"f-transfers\"").nth(1).unwrap().split("</form>").next().unwrap().to_string();
    assert!(transfer.contains("<select id=\"f-transfers-cell_code\" name=\"cell_code\""), "{transfer}");
    assert!(transfer.contains("<optgroup label=\"Đảng bộ xã Xuân Lập\">"), "grouped by commune: {transfer}");
    assert!(transfer.contains("<option value=\"B\">Chi bộ thôn Nà Mỏ</option>"), "{transfer}");
    assert!(!transfer.contains("value=\"C\""), "only the cells in the clerk's scope: {transfer}");
    let unit = clerk.get("/units/A/records").await;
    assert!(unit.body.contains("<select id=\"f-moves-parent_code\" name=\"parent_code\""), "a parent by name too");

    // the transfer asks first, naming the member, both cells and the day; nothing is written until confirmed
    let csrf = page.input("csrf").unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("file", "transfers.csv"),
        ("back", "/members/M1"),
        ("member_code", "M1"),
        ("cell_code", "B"),
        ("effective_on", "2026-11-01"),
    ];
    let asked = clerk.post("/units/A/records", &form).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert!(
        asked
            .text()
            .contains("Chuyển Nguyễn Văn An từ Chi bộ thôn Khuổi Trang sang Chi bộ thôn Nà Mỏ từ ngày 01/11/2026?"),
        "{}",
        asked.text()
    );
    assert_eq!(app.count("member_transfers").await, 1, "nothing written before the answer");
    let confirmed = clerk.post("/units/A/records", &asked.form_values()).await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER, "{}", confirmed.body);
    assert_eq!(app.count("member_transfers").await, 2);

    let page = clerk.follow(confirmed).await;
    let history = page.body.split("id=\"history-h\"").nth(1).unwrap().to_string();
    assert!(history.contains("<dt>Chi bộ</dt><dd>Chi bộ thôn Nà Mỏ</dd>"), "{history}");
    assert!(history.contains("<dt>Đảng viên</dt><dd>Nguyễn Văn An</dd>"), "{history}");
    assert!(history.contains("<dd>01/11/2026</dd>"), "{history}");
    assert!(!history.contains("<dd>B</dd>") && !history.contains("<dd>M1</dd>"), "no codes: {history}");
}

/// Item 18: the import page offers an XLSX template, a sheet per file with a row of Vietnamese notes that the import
/// skips; and an import's problems name columns in Vietnamese.
#[sqlx::test]
async fn the_import_offers_a_template_and_names_columns_in_vietnamese(pool: PgPool) {
    use calamine::Reader;
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    let page = admin.get("/import").await;
    assert!(page.body.contains("href=\"/import/template.xlsx\""), "{}", page.body);
    let bytes = admin.get_bytes("/import/template.xlsx").await;
    let mut book =
        calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(std::io::Cursor::new(bytes.clone())).unwrap();
    assert_eq!(book.sheet_names().len(), chibo::import::spec::FILES.len(), "a sheet per file");
    let members = book.worksheet_range("members.csv").unwrap();
    assert_eq!(members.get((0, 3)).unwrap().to_string(), "birth_date");
    let note = members.get((1, 3)).unwrap().to_string();
    assert!(note.contains("ngày sinh") && note.contains("bắt buộc") && note.contains("YYYY-MM-DD"), "{note}");

    // the template as it comes checks clean: its notes are not data
    let token = admin.csrf("/import").await;
    let sent = admin.post_multipart("/import", &[("csrf", &token), ("dry_run", "1")], &[("mau.xlsx", bytes)]).await;
    let text = admin.follow(sent).await.text();
    assert!(text.contains("Kiểm tra xong: không có lỗi (chưa ghi gì)"), "{text}");

    // filled in under the notes: row 3 is line 3
    let mut filled = rust_xlsxwriter::Workbook::new();
    let sheet = filled.add_worksheet();
    sheet.set_name("members.csv").unwrap();
    let cols = ["code", "full_name", "gender", "birth_date", "ethnicity", "joined_on", "official_on", "cell_code"];
    let row = ["M20", "Ma Thị Lan", "female", "1985-13-03", "Tày", "2010-05-06", "", "A"];
    for (i, (c, v)) in cols.iter().zip(row).enumerate() {
        sheet.write_string(0, i as u16, *c).unwrap();
        sheet.write_string(1, i as u16, if i == 0 { "ⓘ mã: bắt buộc" } else { "ghi chú" }).unwrap();
        sheet.write_string(2, i as u16, v).unwrap();
    }
    sheet.write_string(0, 8, "left_on").unwrap();
    let sent =
        admin.post_multipart("/import", &[("csrf", &token)], &[("mau.xlsx", filled.save_to_buffer().unwrap())]).await;
    let text = admin.follow(sent).await.text();
    assert!(
        text.contains("members.csv:3: ngày sinh (birth_date): ngày không hợp lệ «1985-13-03» (cần YYYY-MM-DD)"),
        "{text}"
    );

    // a missing column, named in words with its name in the file
    let members = "code,full_name,gender,ethnicity,joined_on,official_on,cell_code,left_on\n";
    let sent = admin.post_multipart("/import", &[("csrf", &token)], &[("members.csv", members.into())]).await;
    let text = admin.follow(sent).await.text();
    assert!(text.contains("thiếu cột ngày sinh (birth_date)"), "{text}");
}
