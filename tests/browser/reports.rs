//! The monthly reporting cycle at phone size: the secretary submits, the clerk returns it with a reason, the
//! secretary sees why, fixes the meeting and submits again, the clerk approves, and an edit of that month is refused
//! with a clear message.
use super::*;

async fn sign_out(c: &Client) {
    c.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    wait_for(c, "#username").await;
}

async fn click(c: &Client, css: &str) {
    wait_for(c, css).await.click().await.unwrap();
}

async fn notice(c: &Client) -> String {
    wait_for(c, ".notice").await.text().await.unwrap()
}

#[sqlx::test]
async fn a_month_is_submitted_returned_fixed_approved_and_locked_on_a_phone(pool: PgPool) {
    let today = chibo::domain::time::today();
    chibo::demo::load(&pool, chibo::demo::Scale::Small, today).await.unwrap();
    let committee: String =
        sqlx::query_scalar("select u.code from users s join units u on u.id = s.unit_id where s.username = 'xuanlap'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser(&driver, 390, 844).await;
    let cell = "TQ-LB-01-01";
    let month = today.format("%Y-%m").to_string();
    let label = today.format("%m/%Y").to_string();

    // the secretary logs this month's meeting and submits the month from the cell's home
    sign_in(&c, &base, "khuoitrang").await;
    c.goto(&format!("{base}/cells/{cell}/meetings/new")).await.unwrap();
    wait_for(&c, "#meeting-form").await;
    c.execute(
        "document.getElementById('started_at').value = '19:30'; document.getElementById('ended_at').value = '21:40';",
        vec![],
    )
    .await
    .unwrap();
    wait_for(&c, "#topic").await.send_keys("Họp chi bộ định kỳ").await.unwrap();
    click(&c, "input[name=rating][value=good]").await;
    click(&c, "button.primary[value=save]").await;
    notice(&c).await;
    let meeting = c.current_url().await.unwrap().path().to_string();
    c.goto(&format!("{base}/cells/{cell}")).await.unwrap();
    let state = wait_for(&c, &format!("#report-{month}")).await.text().await.unwrap();
    assert!(state.contains("Chưa nộp"), "{state}");
    click(&c, &format!("#report-{month} form button")).await;
    assert!(notice(&c).await.contains(&format!("Đã nộp báo cáo tháng {label}")));
    screenshot(&c, "phone-report-submitted").await;
    sign_out(&c).await;

    // the clerk opens it from the review queue and returns it with a reason
    sign_in(&c, &base, "xuanlap").await;
    c.goto(&format!("{base}/units/{committee}/reports")).await.unwrap();
    let waiting = wait_for(&c, "#waiting").await.text().await.unwrap();
    assert!(waiting.contains(&label), "{waiting}");
    screenshot(&c, "phone-report-queue").await;
    click(&c, &format!("#waiting a[href='/cells/{cell}/reports/{month}']")).await;
    wait_for(&c, "#return_reason").await.send_keys("Biên bản thiếu nội dung nghị quyết").await.unwrap();
    click(&c, "form[action$='/return'] button").await;
    assert!(notice(&c).await.contains("Đã trả lại"));
    sign_out(&c).await;

    // the secretary sees why on the cell's home, fixes the meeting and submits again
    sign_in(&c, &base, "khuoitrang").await;
    c.goto(&format!("{base}/cells/{cell}")).await.unwrap();
    let report = wait_for(&c, &format!("#report-{month}")).await.text().await.unwrap();
    assert!(report.contains("Biên bản thiếu nội dung nghị quyết"), "{report}");
    screenshot(&c, "phone-report-returned").await;
    c.goto(&format!("{base}{meeting}/edit")).await.unwrap();
    wait_for(&c, "#resolution").await.send_keys("Nghị quyết: mỗi hộ làm một nhà vệ sinh.").await.unwrap();
    click(&c, "button.primary[value=save]").await;
    notice(&c).await;
    c.goto(&format!("{base}/cells/{cell}")).await.unwrap();
    click(&c, &format!("#report-{month} form button")).await;
    assert!(notice(&c).await.contains(&format!("Đã nộp báo cáo tháng {label}")));
    sign_out(&c).await;

    // the clerk approves
    sign_in(&c, &base, "xuanlap").await;
    c.goto(&format!("{base}/cells/{cell}/reports/{month}")).await.unwrap();
    click(&c, "form[action$='/approve'] button").await;
    assert!(notice(&c).await.contains(&format!("Đã duyệt báo cáo tháng {label}")));
    sign_out(&c).await;

    // an edit of the approved month is refused, in words
    sign_in(&c, &base, "khuoitrang").await;
    c.goto(&format!("{base}{meeting}/edit")).await.unwrap();
    let said = format!("Báo cáo tháng {label} của chi bộ {cell} đã được duyệt");
    // said as the form opens, and again when a save is tried anyway
    let summary = wait_for(&c, "#error-summary").await.text().await.unwrap();
    assert!(summary.contains(&said), "{summary}");
    wait_for(&c, "#topic").await.send_keys(" (sửa)").await.unwrap();
    click(&c, "button.primary[value=save]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.current_url().await.unwrap().path() != meeting {
        assert!(Instant::now() < deadline, "the save was not answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let summary = wait_for(&c, "#error-summary").await.text().await.unwrap();
    assert!(summary.contains(&said), "{summary}");
    screenshot(&c, "phone-report-locked").await;
    let topic: String = sqlx::query_scalar("select topic from meetings where id = $1")
        .bind(meeting.trim_start_matches("/meetings/").parse::<i64>().unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(topic, "Họp chi bộ định kỳ", "nothing written");

    // the province sees how completely and how timely its cells report, each tile with its figure
    sign_out(&c).await;
    sign_in(&c, &base, "bantochuc").await;
    c.goto(&format!("{base}/dashboard/TQ")).await.unwrap();
    let page = wait_for(&c, "main").await.text().await.unwrap();
    for label in ["Tỷ lệ chi bộ nộp báo cáo tháng", "Tỷ lệ chi bộ nộp báo cáo đúng hạn"] {
        let at = page.find(label).unwrap_or_else(|| panic!("no tile {label}: {page:.3000}"));
        let after: String = page[at + label.len()..].chars().take(40).collect();
        assert!(after.contains('%'), "{label} shows no figure: {after}");
    }
    screenshot(&c, "phone-province-reporting").await;
    c.close().await.unwrap();
}
