//! Published reports (DOMAIN.md §10): a committee, district or province user publishes a unit's report for a
//! period; the figures are frozen with who and when, listed, printable on A4 without JavaScript, and never change
//! (not even in plain SQL); when today's figures differ, the published page says which, then and now.
use axum::http::StatusCode;
use chibo::domain::meeting::{AttendanceStatus, Rating};
use sqlx::PgPool;

use crate::common::{Client, DAY, TestApp, set};

/// Cell A's regular meeting of October 2026, rated good: its four members present (M5 is exempt).
async fn october_meeting(app: &TestApp) -> i64 {
    let mut meeting = app.meeting("A", DAY).rating(Rating::Good).status("M5", AttendanceStatus::Exempt);
    for member in ["M1", "M2", "M3", "M4"] {
        meeting = meeting.status(member, AttendanceStatus::Present);
    }
    meeting.save().await
}

/// Publishes `unit`'s report for October 2026 through the list page's form, as `client`; the response.
async fn publish(client: &mut Client<'_>, unit: &str, note: &str) -> (Vec<(String, String)>, crate::common::Page) {
    let mut form = client.get(&format!("/dashboard/{unit}/published?from=2026-10&to=2026-10")).await.form_values();
    set(&mut form, "note", note);
    let page = client.post(&format!("/dashboard/{unit}/publish"), &form).await;
    (form, page)
}

#[sqlx::test]
async fn a_published_report_keeps_its_figures_and_says_which_changed_since(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let meeting = october_meeting(&app).await;
    let mut clerk = app.login("clerk").await;

    // the dashboard and the printed report lead to the published reports
    let dashboard = clerk.get("/dashboard/XL?from=2026-10&to=2026-10").await;
    assert!(dashboard.body.contains("href=\"/dashboard/XL/published?from=2026-10&"), "{}", dashboard.body);
    assert!(clerk.get("/dashboard/XL/report?from=2026-10&to=2026-10").await.body.contains("/dashboard/XL/published"));

    let audit_before = app.count("audit_log").await;
    let (form, page) = publish(&mut clerk, "XL", "Báo cáo gửi Huyện ủy").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let at = page.location.clone().expect("the published report's page");
    assert!(at.starts_with("/dashboard/XL/published/"), "{at}");
    // a double submit of the same form publishes once
    let again = clerk.post("/dashboard/XL/publish", &form).await;
    assert_eq!(again.location.as_deref(), Some(at.as_str()));
    assert_eq!(app.count("published_reports").await, 1);
    assert_eq!(app.count("audit_log").await, audit_before + 1, "the publication is audited, once");
    let audit = clerk.get("/audit").await.text();
    assert!(audit.contains("báo cáo đã công bố #"), "the audit trail says it in words: {audit}");

    let published = clerk.get(&at).await;
    assert_eq!(published.status, StatusCode::OK);
    let text = published.text();
    assert!(text.contains("ĐẢNG BỘ XÃ XUÂN LẬP") && text.contains("tháng 10/2026"), "{text}");
    assert!(text.contains("người công bố:") && text.contains("Báo cáo gửi Huyện ủy"), "who, when and the note: {text}");
    assert!(text.contains("Số liệu hiện nay vẫn đúng như lúc công bố."), "{text}");
    assert!(text.contains("100,00 %") && text.contains("4 / 4"), "cell A's four members attended: {text}");

    // the list shows it
    let list = clerk.get("/dashboard/XL/published").await;
    assert!(list.body.contains(&format!("href=\"{at}\"")), "{}", list.body);
    assert!(list.text().contains("Báo cáo gửi Huyện ủy"));

    // a past month's meeting changes (Hoàng Thị Bình was in fact absent without reason)
    let mut sec = app.login("sec_a").await;
    let mut edit = sec.get(&format!("/meetings/{meeting}/edit")).await.form_values();
    let binh = app.member_id("Hoàng Thị Bình").await;
    set(&mut edit, &format!("att.{binh}"), "unexcused");
    set(&mut edit, "action", "save");
    let saved = sec.post(&format!("/meetings/{meeting}"), &edit).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());

    let text = clerk.get(&at).await.text();
    assert!(!text.contains("vẫn đúng như lúc công bố"), "{text}");
    assert!(text.contains("Số liệu đã thay đổi sau khi công bố"), "{text}");
    // old and new side by side, for the committee and for cell A's row, in words
    let attendance = "Tỷ lệ đảng viên dự sinh hoạt";
    for unit in ["Đảng bộ xã Xuân Lập", "Chi bộ thôn Khuổi Trang"] {
        let line = format!("{unit} {attendance}");
        let at_line = text.find(&line).unwrap_or_else(|| panic!("no line for {unit}: {text}"));
        let rest = &text[at_line..];
        assert!(rest.starts_with(&format!("{line} 100,00 % (4 / 4)")), "then: {rest}");
        assert!(rest[line.len()..].trim_start().contains("75,00 % (3 / 4)"), "now: {rest}");
    }
    // the frozen figures themselves are as published
    let part1 = &text[text.find("I. KẾT QUẢ CHUNG").unwrap()..];
    assert!(part1.contains(&format!("{attendance} 100,00 % 4 / 4")), "{part1}");
    // and in English, in the reader's language
    clerk.get("/lang/en").await;
    let english = clerk.get(&at).await.text();
    assert!(english.contains("Figures changed since publication") && english.contains("As published"), "{english}");
}

#[sqlx::test]
async fn a_published_report_cannot_be_changed_or_removed_even_in_plain_sql(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut viewer = app.login("viewer").await;
    let (_, page) = publish(&mut viewer, "P", "").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    for sql in [
        "update published_reports set report = '{}'",
        "update published_reports set note = 'sửa'",
        "delete from published_reports",
        "truncate published_reports",
    ] {
        let refused = sqlx::query(sql).execute(&app.pool).await;
        assert!(refused.is_err(), "{sql} was allowed");
    }
    assert_eq!(app.count("published_reports").await, 1);
    let note: Option<String> =
        sqlx::query_scalar("select note from published_reports").fetch_one(&app.pool).await.unwrap();
    assert_eq!(note, None);
}

#[sqlx::test]
async fn who_may_publish_and_for_which_units(pool: PgPool) {
    let app = TestApp::new(pool).await;
    // a province viewer, a district user and a committee clerk publish a unit in their scope
    for (user, unit) in [("viewer", "P"), ("district", "D1"), ("clerk", "XL"), ("clerk", "A"), ("admin", "D2")] {
        let mut client = app.login(user).await;
        let (_, page) = publish(&mut client, unit, "").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{user} publishes {unit}: {}", page.text());
    }
    // not outside it
    let mut district = app.login("district").await;
    let csrf = district.csrf("/dashboard/D1/published").await;
    let form = [("csrf", csrf.as_str()), ("from", "2026-10"), ("to", "2026-10"), ("key", "k-yy")];
    assert_eq!(district.post("/dashboard/YY/publish", &form).await.status, StatusCode::FORBIDDEN);
    assert!(district.get("/dashboard/YY/published").await.status == StatusCode::FORBIDDEN);
    // a cell secretary reads their cell's published reports but publishes nothing
    let mut sec = app.login("sec_a").await;
    let list = sec.get("/dashboard/A/published").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text().contains("tháng 10/2026"), "the clerk's publication of cell A is listed");
    assert!(!list.body.contains("action=\"/dashboard/A/publish\""), "no form for a secretary");
    let csrf = sec.csrf("/dashboard/A/published").await;
    let form = [("csrf", csrf.as_str()), ("from", "2026-10"), ("to", "2026-10"), ("key", "k-sec")];
    assert_eq!(sec.post("/dashboard/A/publish", &form).await.status, StatusCode::FORBIDDEN);
    // a report of another unit is not found under this one
    let other: i64 =
        sqlx::query_scalar("select p.id from published_reports p join units u on u.id = p.unit_id where code = 'XL'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(sec.get(&format!("/dashboard/A/published/{other}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("published_reports").await, 5);
}

#[sqlx::test]
async fn a_refused_form_says_why_and_publishes_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut clerk = app.login("clerk").await;
    let mut form = clerk.get("/dashboard/XL/published").await.form_values();
    set(&mut form, "from", "2026-11");
    set(&mut form, "to", "2026-10");
    let page = clerk.post("/dashboard/XL/publish", &form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().starts_with("Lỗi:") || page.body.contains("<title>Lỗi:"), "{}", page.body);
    assert!(page.text().contains("Kỳ báo cáo không hợp lệ"), "{}", page.text());
    assert_eq!(page.input("from").as_deref(), Some("2026-11"), "as typed");
    set(&mut form, "from", "2099-01");
    set(&mut form, "to", "2099-02");
    let page = clerk.post("/dashboard/XL/publish", &form).await;
    assert!(page.text().contains("Kỳ báo cáo chưa bắt đầu"), "{}", page.text());
    assert_eq!(app.count("published_reports").await, 0);
}

/// The published report is a document: A4 print styles, no script, the Party layout, a way back that is not
/// printed.
#[sqlx::test]
async fn a_published_report_prints_without_javascript(pool: PgPool) {
    let app = TestApp::new(pool).await;
    october_meeting(&app).await;
    let mut clerk = app.login("clerk").await;
    let (_, page) = publish(&mut clerk, "XL", "").await;
    let doc = clerk.get(page.location.as_deref().unwrap()).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(!doc.body.contains("<script"), "no JavaScript");
    assert!(doc.body.contains("<body class=\"document\">"));
    let css = doc.body.split("href=\"").find(|s| s.starts_with("/static/print")).expect("the print styles");
    let css = &css[..css.find('"').unwrap()];
    let styles = String::from_utf8(clerk.get_bytes(css).await).unwrap();
    assert!(styles.contains("size:A4 portrait"), "{styles}");
    let text = doc.text();
    assert!(text.contains("ĐẢNG CỘNG SẢN VIỆT NAM") && text.contains("BÁO CÁO KẾT QUẢ SINH HOẠT CHI BỘ"), "{text}");
    assert!(text.contains("II. KẾT QUẢ CỦA CÁC ĐƠN VỊ TRỰC THUỘC") && text.contains("Chi bộ thôn Nà Mỏ"), "{text}");
    assert!(doc.body.contains("class=\"no-print\""));
}
