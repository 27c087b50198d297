//! The monthly reporting cycle (DOMAIN.md §10): submit, return, approve, unlock; and the lock of an approved month,
//! held by PostgreSQL against the web form, the import and plain SQL.
use axum::http::StatusCode;
use chibo::domain::meeting::{AttendanceStatus, Rating};
use sqlx::PgPool;

use crate::common::{Client, DAY, TestApp, set};

const MONTH: &str = "2026-10";

async fn csrf(client: &mut Client<'_>) -> String {
    client.csrf("/cells/A").await
}

async fn state_of(app: &TestApp, cell: &str, month: &str) -> Option<String> {
    sqlx::query_scalar(
        "select r.state from cell_reports r join units u on u.id = r.cell_id
         where u.code = $1 and r.month = to_date($2, 'YYYY-MM')",
    )
    .bind(cell)
    .bind(month)
    .fetch_optional(&app.pool)
    .await
    .unwrap()
}

/// A regular meeting of cell A in October, submitted by its secretary and approved by the clerk, through the pages.
async fn approved_october(app: &TestApp) -> i64 {
    let id = app
        .meeting("A", DAY)
        .rating(Rating::Good)
        .status("M1", AttendanceStatus::Present)
        .status("M2", AttendanceStatus::Excused)
        .status("M3", AttendanceStatus::Present)
        .status("M4", AttendanceStatus::Present)
        .status("M5", AttendanceStatus::Exempt)
        .task("M1", "Vận động 5 hộ")
        .save()
        .await;
    let mut sec = app.login("sec_a").await;
    let token = csrf(&mut sec).await;
    let home = sec.get("/cells/A").await.text();
    assert!(home.contains("Chưa nộp"), "{home}");
    let page = sec.post(&format!("/cells/A/reports/{MONTH}/submit"), &[("csrf", token.as_str())]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert!(sec.follow(page).await.text().contains("Đã nộp báo cáo tháng 10/2026"));
    let mut clerk = app.login("clerk").await;
    let token = csrf(&mut clerk).await;
    let page = clerk.post(&format!("/cells/A/reports/{MONTH}/approve"), &[("csrf", token.as_str())]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(state_of(app, "A", MONTH).await.as_deref(), Some("approved"));
    id
}

#[sqlx::test]
async fn the_lock_holds_for_the_web_form_the_import_and_plain_sql(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = approved_october(&app).await;
    let mut sec = app.login("sec_a").await;

    // the edit form says it before anything is typed; a save is refused at the date, in the user's language
    let edit = sec.get(&format!("/meetings/{id}/edit")).await;
    assert!(edit.text().contains("Báo cáo tháng 10/2026 của chi bộ A đã được duyệt"), "{}", edit.text());
    let mut form = edit.form_values();
    set(&mut form, "topic", "Sửa sau khi duyệt");
    set(&mut form, "action", "save");
    let written = app.written().await;
    let page = sec.post(&format!("/meetings/{id}"), &form).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.text());
    assert!(page.text().contains("không thể thêm, sửa hay xóa buổi sinh hoạt"), "{}", page.text());
    assert!(page.body.contains("value=\"Sửa sau khi duyệt\""), "what was typed is kept");
    assert_eq!(app.written().await, written, "nothing written");

    // a new meeting in the locked month
    let mut form = crate::meetings::filled_form(&mut sec, "A").await;
    set(&mut form, "held_on", "2026-10-20");
    set(&mut form, "kind", "thematic");
    let page = sec.post("/cells/A/meetings", &form).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.text());
    assert!(page.text().contains("đã được duyệt"), "{}", page.text());
    assert_eq!(app.written().await, written, "nothing written");

    // another month of the same cell is free
    set(&mut form, "held_on", "2026-11-10");
    assert_eq!(sec.post("/cells/A/meetings", &form).await.status, StatusCode::SEE_OTHER);

    // the import: meetings.csv:LINE, nothing written
    let written = app.written().await;
    let csv = "ref,cell_code,held_on,kind,topic,started_at,ended_at,rating,score,present,excused,unexcused,exempt\n\
               K-1,B,2026-10-03,regular,Họp B,,,,,3,0,0,0\n\
               K-2,A,2026-10-21,thematic,Chuyên đề,,,,,3,0,0,0\n";
    let files = vec![("meetings.csv".to_string(), csv.as_bytes().to_vec())];
    let actor = chibo::db::audit::Actor::cli();
    let out = chibo::import::import_as(&app.pool, files, false, &actor, &|_| {}, None).await.unwrap();
    assert!(!out.written);
    let locked: Vec<_> = out.problems.iter().map(|p| (p.file.as_str(), p.line, p.key.as_str())).collect();
    assert_eq!(locked, [("meetings.csv", 3, "import.problem.month_locked")], "{:?}", out.problems);
    assert_eq!(out.problems[0].args, ["A", "10/2026"]);
    assert_eq!(app.written().await, written, "nothing written");

    // plain SQL: refused by PostgreSQL with the lock's own SQLSTATE, naming the cell and month
    for sql in [
        "update meetings set topic = 'x' where id = $1",
        "update meetings set score = 50 where id = $1",
        "update meetings set held_on = '2026-11-02' where id = $1",
        "update attendance set status = 'excused' where meeting_id = $1",
        "delete from attendance where meeting_id = $1",
        "delete from meetings where id = $1",
    ] {
        let err = sqlx::query(sql).bind(id).execute(&app.pool).await.expect_err(sql);
        let db = err.as_database_error().expect("a database error");
        assert_eq!(db.code().as_deref(), Some("CB001"), "{sql}");
        assert!(db.message().contains("A 2026-10"), "{sql}: {}", db.message());
    }
    let official: i64 =
        sqlx::query_scalar("select id from officials where code = 'O1'").fetch_one(&app.pool).await.unwrap();
    let err = sqlx::query("insert into meeting_guests (meeting_id, official_id) values ($1, $2)")
        .bind(id)
        .bind(official)
        .execute(&app.pool)
        .await
        .expect_err("a guest added");
    assert_eq!(err.as_database_error().unwrap().code().as_deref(), Some("CB001"));
    // a meeting of another month cannot be moved into the locked one either
    let other: i64 =
        sqlx::query_scalar("select max(id) from meetings where cell_id = (select id from units where code = 'A')")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let err =
        sqlx::query("update meetings set held_on = '2026-10-25' where id = $1").bind(other).execute(&app.pool).await;
    assert_eq!(err.expect_err("moved in").as_database_error().unwrap().code().as_deref(), Some("CB001"));

    // tasks may still be marked done
    let task: i64 =
        sqlx::query_scalar("select id from tasks where meeting_id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    let token = csrf(&mut sec).await;
    let done = sec.post(&format!("/tasks/{task}/done"), &[("csrf", token.as_str())]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
}

#[sqlx::test]
async fn unlock_needs_a_reason_and_is_audited_and_the_month_is_editable_again(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = approved_october(&app).await;
    let mut clerk = app.login("clerk").await;
    let token = csrf(&mut clerk).await;
    let path = format!("/cells/A/reports/{MONTH}/unlock");
    let refused = clerk.post(&path, &[("csrf", token.as_str()), ("reason", "   ")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("<title>Lỗi:"), "{}", refused.body);
    assert!(refused.text().contains("Cần ghi lý do."), "{}", refused.text());
    assert_eq!(state_of(&app, "A", MONTH).await.as_deref(), Some("approved"));

    // a secretary may not unlock
    let mut sec = app.login("sec_a").await;
    let sec_token = csrf(&mut sec).await;
    let page = sec.post(&path, &[("csrf", sec_token.as_str()), ("reason", "Tôi muốn sửa")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    let page = clerk.post(&path, &[("csrf", token.as_str()), ("reason", "Ghi thiếu khách mời")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(state_of(&app, "A", MONTH).await.as_deref(), Some("returned"));
    let (action, after): (String, serde_json::Value) = sqlx::query_as(
        "select action, after from audit_log where entity = 'report' and entity_id = 'A/2026-10' order by id desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(action, "update");
    assert_eq!(after["step"], "unlock");
    assert_eq!(after["state"], "returned");
    assert_eq!(after["returned_reason"], "Ghi thiếu khách mời");
    let steps: Vec<String> = sqlx::query_scalar(
        "select after->>'step' from audit_log where entity = 'report' and entity_id = 'A/2026-10' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(steps, ["submit", "approve", "unlock"]);

    // the secretary sees why, and may edit the meeting again
    let home = sec.get("/cells/A").await.text();
    assert!(home.contains("Ghi thiếu khách mời"), "{home}");
    let mut form = sec.get(&format!("/meetings/{id}/edit")).await.form_values();
    set(&mut form, "topic", "Họp (đã bổ sung)");
    set(&mut form, "action", "save");
    let saved = sec.post(&format!("/meetings/{id}"), &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    // the audit page names the report in words
    let audit = clerk.get("/audit").await.text();
    assert!(audit.contains("báo cáo tháng #A/2026-10"), "{audit}");
}

#[sqlx::test]
async fn a_month_without_a_regular_meeting_needs_a_reason(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.meeting("A", "2026-09-12").kind(chibo::domain::MeetingKind::Thematic).save().await;
    let mut sec = app.login("sec_a").await;
    let token = csrf(&mut sec).await;
    let path = "/cells/A/reports/2026-09/submit";
    let audit = app.count("audit_log").await;
    let refused = sec.post(path, &[("csrf", token.as_str()), ("reason", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("<title>Lỗi:"));
    let text = refused.text();
    assert!(text.contains("Có lỗi cần sửa") && text.contains("Ghi lý do tháng này không sinh hoạt định kỳ"), "{text}");
    assert!(refused.body.contains("href=\"#reason\""), "the summary links the field");
    assert_eq!(app.count("audit_log").await, audit, "nothing written");
    assert_eq!(state_of(&app, "A", "2026-09").await, None);

    let page = sec.post(path, &[("csrf", token.as_str()), ("reason", "Lũ quét cắt đường")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let shown = sec.follow(page).await.text();
    assert!(shown.contains("Lý do không sinh hoạt định kỳ: Lũ quét cắt đường"), "{shown}");
    assert!(shown.contains("đang chờ cấp ủy duyệt"), "{shown}");
    let (first, reason): (Option<chrono::NaiveDate>, Option<String>) =
        sqlx::query_as("select first_submitted_on, reason from cell_reports where month = '2026-09-01'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(first, Some(chibo::domain::time::today()));
    assert_eq!(reason.as_deref(), Some("Lũ quét cắt đường"));
    // sent again: nothing more written
    let audit = app.count("audit_log").await;
    let again = sec.post(path, &[("csrf", token.as_str()), ("reason", "Lũ quét cắt đường")]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("audit_log").await, audit);
}

#[sqlx::test]
async fn the_clerk_returns_one_and_approves_several_at_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let actor = chibo::db::audit::Actor::cli();
    let since = chibo::domain::reports::Settings {
        reporting_since: chibo::domain::time::parse_month("2026-09"),
        report_deadline_day: 5,
    };
    chibo::db::settings::set(&app.pool, &actor, since).await.unwrap();
    app.meeting("A", DAY).save().await;
    app.meeting("B", DAY).save().await;
    app.meeting("B", "2026-09-15").save().await;
    for (user, cell, month) in [("sec_a", "A", MONTH), ("sec_b", "B", MONTH), ("sec_b", "B", "2026-09")] {
        let mut sec = app.login(user).await;
        let token = sec.csrf(&format!("/cells/{cell}")).await;
        let page = sec.post(&format!("/cells/{cell}/reports/{month}/submit"), &[("csrf", token.as_str())]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    }
    let mut clerk = app.login("clerk").await;
    assert!(
        clerk.get("/units/XL").await.body.contains("href=\"/units/XL/reports\""),
        "the committee's page links its queue"
    );
    let queue = clerk.get("/units/XL/reports").await;
    assert_eq!(queue.status, StatusCode::OK);
    let text = queue.text();
    assert!(text.contains("Đã nộp, chờ duyệt (3)"), "{text}");
    // A did not report September, whose deadline has passed
    assert!(text.contains("Quá hạn, chưa nộp") && text.contains("Chi bộ thôn Khuổi Trang — 09/2026"), "{text}");
    let token = queue.input("csrf").unwrap();

    // B's September goes back with a reason; the secretary reads it on the cell's home
    let path = "/cells/B/reports/2026-09/return";
    assert_eq!(
        clerk.post(path, &[("csrf", token.as_str()), ("reason", "")]).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let page = clerk.post(path, &[("csrf", token.as_str()), ("reason", "Thiếu điểm đánh giá")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let mut sec_b = app.login("sec_b").await;
    let home = sec_b.get("/cells/B").await.text();
    assert!(home.contains("Cấp ủy đã trả lại báo cáo, lý do: Thiếu điểm đánh giá"), "{home}");

    // both Octobers at once
    let form = [("csrf", token.as_str()), ("item", "A/2026-10"), ("item", "B/2026-10")];
    let page = clerk.post("/units/XL/reports/approve", &form).await;
    assert_eq!(page.location.as_deref(), Some("/units/XL/reports?approved=2&selected=2"));
    assert!(clerk.follow(page).await.text().contains("Đã duyệt 2 báo cáo."));
    // sent twice: nothing approved twice, nothing written
    let audit = app.count("audit_log").await;
    let again = clerk.post("/units/XL/reports/approve", &form).await;
    assert_eq!(again.location.as_deref(), Some("/units/XL/reports?approved=0&selected=2"));
    assert_eq!(app.count("audit_log").await, audit);
    let none = clerk.post("/units/XL/reports/approve", &[("csrf", token.as_str())]).await;
    assert!(clerk.follow(none).await.text().contains("Chưa chọn báo cáo nào."));
    assert_eq!(state_of(&app, "A", MONTH).await.as_deref(), Some("approved"));
    assert_eq!(state_of(&app, "B", MONTH).await.as_deref(), Some("approved"));
    let queue = clerk.get("/units/XL/reports").await.text();
    assert!(queue.contains("Đã nộp, chờ duyệt (0)") && queue.contains("Thiếu điểm đánh giá"), "{queue}");

    // a cell outside the queue's unit is refused, nothing approved
    app.meeting("C", DAY).save().await;
    let mut sec_c = app.login("sec_c").await;
    let t = sec_c.csrf("/cells/C").await;
    sec_c.post(&format!("/cells/C/reports/{MONTH}/submit"), &[("csrf", t.as_str())]).await;
    let page = clerk.post("/units/XL/reports/approve", &[("csrf", token.as_str()), ("item", "C/2026-10")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(state_of(&app, "C", MONTH).await.as_deref(), Some("submitted"));
}

/// A bundle that restates an approved month as it stands (export, then import the same files) goes through: only a
/// change is refused.
#[sqlx::test]
async fn an_approved_month_restated_as_it_stands_imports_cleanly(pool: PgPool) {
    let app = TestApp::new(pool).await;
    approved_october(&app).await;
    let dir = std::env::temp_dir().join(format!("chibo-locked-{}", std::process::id()));
    chibo::import::export::export(&app.pool, &dir).await.unwrap();
    let again = chibo::import::import_quiet(&app.pool, chibo::import::read_dir(&dir).unwrap(), false).await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let problems: Vec<_> =
        again.problems.iter().map(|p| chibo::web::problems::text_in(p, chibo::domain::metrics::Lang::En)).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(state_of(&app, "A", MONTH).await.as_deref(), Some("approved"));

    // a change to the month's attendance or guests is refused at its line, nothing written
    let id: i64 = sqlx::query_scalar("select id from meetings").fetch_one(&app.pool).await.unwrap();
    let reference: String = sqlx::query_scalar("select coalesce(ref, 'web-' || id) from meetings where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let files = vec![
        (
            "attendance.csv".to_string(),
            format!("meeting_ref,member_code,status\n{reference},M3,excused\n").into_bytes(),
        ),
        ("guests.csv".to_string(), format!("meeting_ref,official_code\n{reference},O1\n").into_bytes()),
    ];
    let written = app.written().await;
    let out = chibo::import::import_quiet(&app.pool, files, false).await.unwrap();
    let at: Vec<_> = out.problems.iter().map(|p| (p.file.as_str(), p.line, p.key.as_str())).collect();
    assert_eq!(
        at,
        [("attendance.csv", 2, "import.problem.month_locked"), ("guests.csv", 2, "import.problem.month_locked")],
        "{:?}",
        out.problems
    );
    assert_eq!(app.written().await, written);
}

/// A bundle whose merge would drop attendance rows of a locked meeting (a row fewer than the month holds) is refused
/// in words, naming the cell and month, and writes nothing — not as the database's English text.
#[sqlx::test]
async fn a_bundle_that_would_drop_a_locked_meetings_rows_is_refused_in_words(pool: PgPool) {
    let app = TestApp::new(pool).await;
    approved_october(&app).await;
    let dir = std::env::temp_dir().join(format!("chibo-locked-drop-{}", std::process::id()));
    chibo::import::export::export(&app.pool, &dir).await.unwrap();
    let attendance = std::fs::read_to_string(dir.join("attendance.csv")).unwrap();
    let mut lines: Vec<&str> = attendance.lines().collect();
    assert!(lines.len() > 2, "the locked meeting has attendance rows: {attendance}");
    lines.pop();
    std::fs::write(dir.join("attendance.csv"), lines.join("\n") + "\n").unwrap();
    let written = app.written().await;
    let out = chibo::import::import_quiet(&app.pool, chibo::import::read_dir(&dir).unwrap(), false).await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let keys: Vec<_> = out.problems.iter().map(|p| p.key.as_str()).collect();
    assert!(!keys.is_empty() && keys.iter().all(|k| *k == "import.problem.month_locked"), "{:?}", out.problems);
    let text = chibo::web::problems::text_in(&out.problems[0], chibo::domain::metrics::Lang::Vi);
    assert!(text.contains("đã được duyệt") && text.contains("«A»"), "{text}");
    assert_eq!(app.written().await, written);
}
