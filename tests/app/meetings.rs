//! The secretary's flow: log a meeting, see it, edit it, mark tasks done, print the minutes; and every bad
//! input refused at its field with everything typed kept and nothing written.
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::common::{Client, DAY, TestApp, set};

/// The new-meeting form as the page gives it, filled in the way a secretary would.
pub async fn filled_form(client: &mut Client<'_>, cell: &str) -> Vec<(String, String)> {
    let page = client.get(&format!("/cells/{cell}/meetings/new")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let mut form = page.form_values();
    set(&mut form, "held_on", DAY);
    set(&mut form, "started_at", "19:30");
    set(&mut form, "ended_at", "21:30");
    set(&mut form, "topic", "Vận động làm nhà vệ sinh hợp vệ sinh");
    set(&mut form, "content", "Chi bộ thảo luận kế hoạch tháng 11.");
    set(&mut form, "rating", "good");
    set(&mut form, "action", "save");
    form
}

fn meeting_id(location: &Option<String>) -> i64 {
    let loc = location.as_deref().expect("a redirect");
    loc.trim_start_matches("/meetings/").trim_end_matches("?saved=1").parse().expect("a meeting id")
}

#[sqlx::test]
async fn secretary_logs_a_meeting_and_finds_it_with_the_right_counts(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let mut form = filled_form(&mut sec, "A").await;
    let binh = app.member_id("Hoàng Thị Bình").await;
    let cuong = app.member_id("Ma Văn Cường").await;
    let an = app.member_id("Nguyễn Văn An").await;
    set(&mut form, &format!("att.{binh}"), "excused");
    set(&mut form, &format!("att.{cuong}"), "unexcused");
    set(&mut form, "task.0.description", "Vận động 5 hộ làm nhà vệ sinh");
    set(&mut form, "task.0.due", "2026-11-30");
    set(&mut form, "task.0.assignee", &an.to_string());
    // the criteria of HD 42 (rubric version hd42-2025, in force on 08/10/2026)
    for (key, points) in [
        ("time", "5"),
        ("attendance", "5"),
        ("preparation", "10"),
        ("conduct", "28"),
        ("chairing", "9"),
        ("principles", "5"),
        ("results", "25"),
        ("closing", "5"),
    ] {
        set(&mut form, &format!("score.{key}"), points);
    }
    let page = sec.post("/cells/A/meetings", &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let id = meeting_id(&page.location);

    let shown = sec.get(&format!("/meetings/{id}?saved=1")).await;
    let text = shown.text();
    assert!(text.contains("Đã lưu biên bản sinh hoạt chi bộ tháng 10/2026"), "{text}");
    assert!(text.contains("2/4 có mặt · 1 vắng có lý do · 1 vắng không lý do · 1 miễn sinh hoạt"), "{text}");
    assert!(text.contains("Tốt (92 điểm)"), "{text}");
    assert!(text.contains("Vận động 5 hộ làm nhà vệ sinh — Nguyễn Văn An"), "{text}");

    let list = sec.get("/cells/A/meetings").await.text();
    assert!(list.contains("08/10/2026"), "{list}");
    assert!(list.contains("2/4 có mặt · 1 vắng có lý do · 1 vắng không lý do · 1 miễn"), "{list}");

    // one row per member on the roll, the exempt member marked exempt; an audit row for the change
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select m.full_name, a.status from attendance a join members m on m.id = a.member_id
         where a.meeting_id = $1 order by m.code",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let statuses: Vec<&str> = rows.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(statuses, ["present", "excused", "unexcused", "present", "exempt"]);
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where entity = 'meeting' and entity_id = $1")
        .bind(id.to_string())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audited, 1);
}

/// Posts `form` and checks what a user must see when it is refused: the message at the field, the page title
/// starting with "Lỗi:", the typed topic kept, and nothing written.
async fn assert_refused(
    app: &TestApp,
    client: &mut Client<'_>,
    path: &str,
    form: &[(String, String)],
    field: &str,
    message: &str,
) {
    let before = app.written().await;
    let page = client.post(path, form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.text());
    assert!(page.body.contains("<title>Lỗi:"), "title must start with Lỗi:");
    assert!(page.body.contains(&format!("href=\"#{field}\"")), "the summary links to #{field}");
    let text = page.text();
    assert!(text.contains(message), "expected {message:?} in {text}");
    let topic = form.iter().find(|(k, _)| k == "topic").map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(page.input("topic").as_deref(), Some(topic.as_str()), "the typed topic is kept");
    assert_eq!(app.written().await, before, "nothing is written");
}

#[sqlx::test]
async fn a_meeting_date_in_the_future_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let mut form = filled_form(&mut sec, "A").await;
    let tomorrow = (chibo::domain::time::today() + chrono::Days::new(1)).format("%Y-%m-%d").to_string();
    set(&mut form, "held_on", &tomorrow);
    assert_refused(&app, &mut sec, "/cells/A/meetings", &form, "held_on", "Ngày sinh hoạt không thể sau hôm nay").await;
}

#[sqlx::test]
async fn a_meeting_before_the_cell_opened_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let mut form = filled_form(&mut sec, "A").await;
    set(&mut form, "held_on", "2019-12-20");
    assert_refused(
        &app,
        &mut sec,
        "/cells/A/meetings",
        &form,
        "held_on",
        "Chi bộ được thành lập ngày 01/01/2020; ngày sinh hoạt không thể trước ngày đó.",
    )
    .await;
}

#[sqlx::test]
async fn an_end_time_before_the_start_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let mut form = filled_form(&mut sec, "A").await;
    set(&mut form, "ended_at", "18:00");
    assert_refused(
        &app,
        &mut sec,
        "/cells/A/meetings",
        &form,
        "ended_at",
        "Giờ kết thúc phải sau giờ bắt đầu (19:30).",
    )
    .await;
    let page = sec.post("/cells/A/meetings", &form).await;
    assert_eq!(page.input("ended_at").as_deref(), Some("18:00"), "the typed time is kept");
}

#[sqlx::test]
async fn a_roster_that_does_not_match_the_roll_that_day_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    // the form shows today's roll; on 15/05/2026 Đặng Văn Giang was still in the cell
    let mut form = filled_form(&mut sec, "A").await;
    set(&mut form, "held_on", "2026-05-15");
    assert_refused(
        &app,
        &mut sec,
        "/cells/A/meetings",
        &form,
        "roster",
        "Danh sách điểm danh không khớp với danh sách đảng viên của chi bộ ngày 15/05/2026 (chưa có: Đặng Văn Giang)",
    )
    .await;
    // the page now shows that day's roll with Giang in it, and the statuses already chosen are kept
    let binh = app.member_id("Hoàng Thị Bình").await;
    set(&mut form, &format!("att.{binh}"), "excused");
    let page = sec.post("/cells/A/meetings", &form).await;
    assert!(page.text().contains("Đặng Văn Giang"));
    let again = page.form_values();
    assert!(again.contains(&(format!("att.{binh}"), "excused".into())), "typed status kept");
    // sending what the page now shows saves
    let mut again = again;
    set(&mut again, "action", "save");
    let saved = sec.post("/cells/A/meetings", &again).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());

    // a member of another cell slipped into the form is refused too
    let mut form = filled_form(&mut sec, "A").await;
    set(&mut form, "held_on", "2026-09-09");
    let phuc = app.member_id("Bàn Văn Phúc").await;
    set(&mut form, &format!("att.{phuc}"), "present");
    assert_refused(&app, &mut sec, "/cells/A/meetings", &form, "roster", "1 người không thuộc chi bộ ngày đó").await;
}

#[sqlx::test]
async fn a_second_regular_meeting_in_a_month_needs_confirmation(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let first = filled_form(&mut sec, "A").await;
    assert_eq!(sec.post("/cells/A/meetings", &first).await.status, StatusCode::SEE_OTHER);

    let mut second = filled_form(&mut sec, "A").await;
    set(&mut second, "held_on", "2026-10-20");
    assert_refused(
        &app,
        &mut sec,
        "/cells/A/meetings",
        &second,
        "confirm_second",
        "Tháng 10/2026 chi bộ đã có buổi sinh hoạt định kỳ ngày 08/10/2026.",
    )
    .await;
    set(&mut second, "confirm_second", "1");
    let page = sec.post("/cells/A/meetings", &second).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(app.count("meetings").await, 2);
}

#[sqlx::test]
async fn the_same_form_sent_twice_creates_one_meeting(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let form = filled_form(&mut sec, "A").await;
    let first = sec.post("/cells/A/meetings", &form).await;
    let second = sec.post("/cells/A/meetings", &form).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location, second.location, "the repeat shows the meeting the first one saved");
    assert_eq!(app.count("meetings").await, 1);
    assert_eq!(app.count("attendance").await, 5);
}

#[sqlx::test]
async fn two_people_editing_the_same_meeting_the_second_save_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let mut clerk = app.login("clerk").await;
    let form = filled_form(&mut sec, "A").await;
    let id = meeting_id(&sec.post("/cells/A/meetings", &form).await.location);

    let mut by_sec = sec.get(&format!("/meetings/{id}/edit")).await.form_values();
    let mut by_clerk = clerk.get(&format!("/meetings/{id}/edit")).await.form_values();
    set(&mut by_sec, "topic", "Chủ đề do bí thư sửa");
    set(&mut by_sec, "action", "save");
    set(&mut by_clerk, "topic", "Chủ đề do văn phòng đảng ủy sửa");
    set(&mut by_clerk, "action", "save");

    let first = sec.post(&format!("/meetings/{id}"), &by_sec).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text());
    let before = app.written().await;
    let second = clerk.post(&format!("/meetings/{id}"), &by_clerk).await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    let text = second.text();
    assert!(text.contains("vừa được người khác sửa và lưu"), "{text}");
    assert_eq!(second.input("topic").as_deref(), Some("Chủ đề do văn phòng đảng ủy sửa"), "typed text kept");
    assert_eq!(app.written().await, before, "nothing written");
    let topic: String =
        sqlx::query_scalar("select topic from meetings where id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(topic, "Chủ đề do bí thư sửa", "the first save is not overwritten");
}

#[sqlx::test]
async fn a_task_is_marked_done_and_leaves_the_open_list(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let mut form = filled_form(&mut sec, "A").await;
    let an = app.member_id("Nguyễn Văn An").await;
    set(&mut form, "task.0.description", "Đôn đốc thu đảng phí quý IV");
    set(&mut form, "task.0.assignee", &an.to_string());
    set(&mut form, "task.0.due", "2026-10-20");
    sec.post("/cells/A/meetings", &form).await;
    let home = sec.get("/cells/A").await;
    assert!(home.text().contains("Nhiệm vụ đang thực hiện (1, 1 quá hạn)"), "{}", home.text());
    let task: i64 = sqlx::query_scalar("select id from tasks").fetch_one(&app.pool).await.unwrap();
    let csrf = home.input("csrf").unwrap();
    let done = sec.post(&format!("/tasks/{task}/done"), &[("csrf", csrf.as_str()), ("next", "/cells/A")]).await;
    assert_eq!(done.location, Some(format!("/cells/A?done_task={task}#tasks")));
    let home = sec.get(done.location.as_deref().unwrap()).await;
    assert!(home.text().contains("Nhiệm vụ đang thực hiện (0)"), "{}", home.text());
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where entity = 'task'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(audited, 1);
    // the page says what was done and offers to undo it (issue 15 item 12)
    assert!(home.text().contains("Đã đánh dấu xong nhiệm vụ: Đôn đốc thu đảng phí quý IV"), "{}", home.text());
    assert!(home.body.contains(&format!("action=\"/tasks/{task}/reopen\"")), "{}", home.body);
    let undone = sec.post(&format!("/tasks/{task}/reopen"), &[("csrf", csrf.as_str()), ("next", "/cells/A")]).await;
    assert_eq!(undone.location.as_deref(), Some("/cells/A"));
    let home = sec.get("/cells/A").await.text();
    assert!(home.contains("Nhiệm vụ đang thực hiện (1, 1 quá hạn)"), "undone: {home}");
    assert!(!home.contains("Đã đánh dấu xong"), "no message after the undo");
}

#[sqlx::test]
async fn the_printed_minutes_follow_the_party_layout(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let mut form = filled_form(&mut sec, "A").await;
    let cuong = app.member_id("Ma Văn Cường").await;
    set(&mut form, &format!("att.{cuong}"), "unexcused");
    let official: i64 = sqlx::query_scalar("select id from officials").fetch_one(&app.pool).await.unwrap();
    form.push(("guest".into(), official.to_string()));
    let id = meeting_id(&sec.post("/cells/A/meetings", &form).await.location);
    let minutes = sec.get(&format!("/meetings/{id}/minutes")).await;
    let text = minutes.text();
    for expected in [
        "ĐẢNG BỘ XÃ XUÂN LẬP",
        "CHI BỘ THÔN KHUỔI TRANG",
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "Xuân Lập, ngày 08 tháng 10 năm 2026",
        "BIÊN BẢN SINH HOẠT CHI BỘ",
        "Vắng không lý do: 1 (đồng chí Ma Văn Cường)",
        "đồng chí Hà Văn Quyết",
        "Chi bộ biểu quyết xếp loại: Tốt",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
}

/// The confirmation of a second regular meeting is asked only when one is refused for it (never up front, never
/// on a thematic meeting), and links to the meeting already logged.
#[sqlx::test]
async fn the_second_regular_confirmation_is_asked_only_when_needed_and_links_the_first(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let today = chibo::domain::time::today().to_string();
    let mut first = filled_form(&mut sec, "A").await;
    set(&mut first, "held_on", &today);
    let saved = sec.post("/cells/A/meetings", &first).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let id = saved.location.unwrap().trim_start_matches("/meetings/").trim_end_matches("?saved=1").to_string();

    let fresh = sec.get("/cells/A/meetings/new").await;
    assert!(!fresh.body.contains("id=\"confirm_second\""), "not asked up front");
    let mut thematic = fresh.form_values();
    for (k, v) in [
        ("held_on", today.as_str()),
        ("kind", "thematic"),
        ("started_at", "19:00"),
        ("ended_at", "21:00"),
        ("topic", "Chuyên đề"),
    ] {
        set(&mut thematic, k, v);
    }
    let page = sec.post("/cells/A/meetings", &thematic).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "a thematic meeting needs no confirmation: {}", page.text());

    let mut second = filled_form(&mut sec, "A").await;
    set(&mut second, "held_on", &today);
    let refused = sec.post("/cells/A/meetings", &second).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"confirm_second\""));
    assert!(refused.body.contains(&format!("<a href=\"/meetings/{id}\">")), "{}", refused.body);
}
