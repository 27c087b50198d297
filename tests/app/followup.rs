//! The follow-up lists of DOMAIN.md §7, as a committee clerk sees them.
use chibo::domain::meeting::{AttendanceStatus, MeetingKind, Rating};
use chibo::domain::metrics::add_months;
use chibo::domain::time;
use chrono::{Datelike, Days};
use sqlx::PgPool;

use crate::common::TestApp;

#[sqlx::test]
async fn the_committee_sees_whom_to_chase(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let today = time::today();
    let last_month = add_months(time::month_start(today), -1);
    let day = |d: chrono::NaiveDate| d.with_day(5).unwrap();
    // A met last month; B has not met for three months
    app.meeting("A", day(last_month)).rating(Rating::Good).counts([4, 0, 0, 1]).save().await;
    // Hoàng Thị Bình absent without reason in three months of this year (when three have passed)
    if today.month() > 3 {
        for m in 1..=3 {
            let held_on = chrono::NaiveDate::from_ymd_opt(today.year(), m, 20).unwrap();
            let meeting = app.meeting("A", held_on).kind(MeetingKind::Thematic).topic("Chuyên đề");
            meeting.status("M2", AttendanceStatus::Unexcused).save().await;
        }
    }
    // a probationary member who joined thirteen months ago; a commune cadre assigned to A this year
    let joined_on = today.checked_sub_days(Days::new(396)).unwrap();
    app.import(&[
        (
            "members.csv",
            &format!(
                "code,full_name,gender,birth_date,ethnicity,joined_on,official_on,cell_code,left_on\n\
                 M10,Lục Thị Xuân,female,1998-02-02,Tày,{joined_on},,A,\n"
            ),
        ),
        ("assignments.csv", &format!("official_code,cell_code,year,required\nO1,A,{},10\n", today.year())),
    ])
    .await;

    let xl: i64 = sqlx::query_scalar("select id from units where code = 'XL'").fetch_one(&app.pool).await.unwrap();
    chibo::db::followup::follow_up(&app.pool, xl, today).await.expect("the lists");
    let mut clerk = app.login("clerk").await;
    let page = clerk.get("/followup/XL").await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    let text = page.text();
    let month = time::format_month(last_month);
    for expected in [
        format!("Chi bộ chưa sinh hoạt định kỳ tháng {month} (1) Chi bộ thôn Nà Mỏ"),
        "Chi bộ thôn Nà Mỏ Không sinh hoạt định kỳ 3 trong 3 tháng gần nhất".to_string(),
        "Lục Thị Xuân — Chi bộ thôn Khuổi Trang".to_string(),
        "Chi bộ thôn Khuổi Trang 6 ✓ Hà Văn Quyết".to_string(),
        "Chi bộ thôn Nà Mỏ 3 ✗ chưa phân công".to_string(),
    ] {
        assert!(text.contains(&expected), "{expected:?} missing from {text}");
    }
    if today.month() > 3 {
        assert!(text.contains("Hoàng Thị Bình — Chi bộ thôn Khuổi Trang 3 tháng vắng không lý do"), "{text}");
    }
    assert!(!text.contains("Nà Khà"), "cell C is outside Xuân Lập");

    // above the committee: the same lists, without names
    let mut viewer = app.login("viewer").await;
    let text = viewer.get("/followup/P").await.text();
    assert!(text.contains("Chi bộ bản Nà Khà"), "{text}");
    assert!(!text.contains("Lục Thị Xuân"), "{text}");
}
