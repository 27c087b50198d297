//! What a first use found (issue 15), in the browser: the layouts and flows of items 8–10.
use super::*;

/// Item 10: the member record's forms are grouped in sections that open on demand, so that on a phone the page is
/// short and nothing scrolls sideways, closed or open.
#[sqlx::test]
async fn the_member_record_is_short_on_a_phone_with_its_forms_in_sections(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let code: String = sqlx::query_scalar(
        "select m.code from members m join users u on u.username = 'xuanlap'
         cross join lateral cell_of(m.id, current_date) c(cell_id)
         where m.left_on is null and unit_within(u.unit_id, c.cell_id, current_date) order by m.code limit 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser_with(&driver, 390, 844, false).await;
    sign_in(&c, &base, "xuanlap").await;
    c.goto(&format!("{base}/members/{code}")).await.unwrap();
    wait_for(&c, "h1").await;
    let measure = "return [document.documentElement.scrollHeight, document.documentElement.scrollWidth,
                    document.querySelectorAll('details.record-group').length];";
    let (closed, closed_width, groups): (f64, f64, usize) =
        serde_json::from_value(c.execute(measure, vec![]).await.unwrap()).unwrap();
    screenshot(&c, "phone-member-record").await;
    assert!(groups >= 4, "the forms are grouped by topic: {groups} sections");
    let open = "document.querySelectorAll('details.record-group').forEach(d => d.open = true);";
    c.execute(open, vec![]).await.unwrap();
    let (opened, open_width, _): (f64, f64, usize) =
        serde_json::from_value(c.execute(measure, vec![]).await.unwrap()).unwrap();
    eprintln!("member record at 390 px: {closed} px closed, {opened} px open");
    assert!(closed * 2.5 < opened, "closed, the page is a fraction of its length: {closed} px, open {opened} px");
    assert!(closed <= 3.0 * 844.0, "a few screens at most: {closed} px");
    assert!(closed_width <= 390.0 && open_width <= 390.0, "nothing sideways: {closed_width} / {open_width} px");
    // a section opens at a tap and shows its forms
    c.goto(&format!("{base}/members/{code}")).await.unwrap();
    let hidden = wait_for(&c, "#f-transfers-cell_code").await.is_displayed().await.unwrap();
    assert!(!hidden, "closed at first");
    c.find(Locator::Css("#g-transfers > summary")).await.unwrap().click().await.unwrap();
    let shown = c.find(Locator::Css("#f-transfers-cell_code")).await.unwrap().is_displayed().await.unwrap();
    assert!(shown, "the transfer form shows once its section is open");
    c.close().await.unwrap();
}

/// Item 14: on a phone without script, the reason field shows beside a member once they are marked excused, and
/// the reason typed reaches the meeting's page.
#[sqlx::test]
async fn an_excused_member_gets_a_reason_field_on_a_phone_without_script(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser_with(&driver, 390, 844, false).await;
    sign_in(&c, &base, "khuoitrang").await;
    wait_for(&c, "#month-status").await;
    c.find(Locator::LinkText("Ghi biên bản sinh hoạt")).await.unwrap().click().await.unwrap();
    wait_for(&c, "#meeting-form").await;
    let member = c.find(Locator::Css("#roster .member:not(.exempt)")).await.unwrap();
    let id = member.attr("id").await.unwrap().unwrap().trim_start_matches("att-").to_string();
    let reason = c.find(Locator::Css(&format!("#reason-{id}"))).await.unwrap();
    assert!(!reason.is_displayed().await.unwrap(), "no reason asked of a member present");
    c.find(Locator::Css(&format!("input[name='att.{id}'][value=excused]"))).await.unwrap().click().await.unwrap();
    assert!(reason.is_displayed().await.unwrap(), "the reason is asked once the member is excused");
    reason.send_keys("Đi làm ăn xa").await.unwrap();
    assert!(sideways(&c).await.is_none(), "nothing sideways");
    screenshot(&c, "phone-meeting-excused-reason").await;
    c.find(Locator::Css("#topic")).await.unwrap().send_keys("Họp có người vắng có lý do").await.unwrap();
    c.execute(
        "document.getElementById('started_at').value = '19:30'; document.getElementById('ended_at').value = '21:00';",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Css("input[name=rating][value=fair]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("button.primary[value=save]")).await.unwrap().click().await.unwrap();
    let outcome = wait_for(&c, ".notice, #error-summary").await.text().await.unwrap();
    assert!(outcome.contains("Đã lưu biên bản sinh hoạt chi bộ tháng"), "{outcome}");
    let list = c.find(Locator::Css("ul.attendance")).await.unwrap().text().await.unwrap();
    assert!(list.contains("Vắng có lý do (Đi làm ăn xa)"), "{list}");
    c.close().await.unwrap();
}
