//! Rules that change over time (DOMAIN.md §11) in the browser: the page script's suggestion is the server's for
//! every score of every rubric version; the form follows the date, warns of a short meeting, and the warning is
//! on the printed minutes.
use super::*;
use chibo::db::audit::Actor;
use chibo::domain::rubric::{Bands, Criterion, NewVersion};

#[sqlx::test]
async fn the_page_script_suggests_what_the_server_does_for_every_score_of_every_version(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    // a third version with bands of its own, starting tomorrow
    let c = |key: &str, max| Criterion { key: key.into(), label_vi: key.into(), label_en: key.into(), max_points: max };
    let tomorrow = chibo::domain::time::today() + chrono::Days::new(1);
    let new = NewVersion {
        code: "thu-2027".into(),
        valid_from: tomorrow,
        bands: Bands { good: 85, fair: 61, average: 33 },
        min_minutes: 60,
        min_minutes_combined: 100,
        notice_required: true,
        criteria: vec![c("preparation", 30), c("conduct", 70)],
    };
    chibo::db::rubric::create(&pool, &Actor::cli(), &new).await.unwrap().expect("created");
    let versions = chibo::db::rubric::versions(&pool).await.unwrap();
    assert_eq!(versions.len(), 3);

    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser(&driver, 390, 844).await;
    sign_in(&c, &base, "khuoitrang").await;
    c.goto(&format!("{base}/cells/TQ-LB-01-01/meetings/new")).await.unwrap();
    wait_for(&c, "#meeting-form").await;
    // the page's own script, on the page's own data: every version, every score
    let found = c
        .execute(
            "const versions = JSON.parse(document.getElementById('meeting-form').dataset.rubrics);
             return versions.map(v => [v.code, [...Array(101).keys()].map(s => chiboRubric.suggest(v.bands, s))]);",
            vec![],
        )
        .await
        .unwrap();
    let script: Vec<(String, Vec<String>)> = serde_json::from_value(found).unwrap();
    let server: Vec<(String, Vec<String>)> = versions
        .iter()
        .map(|v| (v.code.clone(), (0..=100u8).map(|s| v.bands.suggest(s).as_str().to_string()).collect()))
        .collect();
    assert_eq!(script, server);

    // and the total shown as points are typed: hd42-2025 today, 8 criteria
    c.execute(
        "const points = {time: 5, attendance: 5, preparation: 10, conduct: 25, chairing: 8, principles: 5,
                         results: 20, closing: 5};
         for (const [k, p] of Object.entries(points)) document.getElementById('score-' + k).value = p;
         document.getElementById('meeting-form').dispatchEvent(new Event('input'));",
        vec![],
    )
    .await
    .unwrap();
    let total = c.find(Locator::Css("#score-total")).await.unwrap().text().await.unwrap();
    assert_eq!(total, "Tổng 83/100 điểm — gợi ý: Khá");
    // tomorrow's version: its criteria, the points typed under the keys both have kept, its bands
    c.execute(
        &format!(
            "const d = document.getElementById('held_on'); d.value = '{tomorrow}';
             d.dispatchEvent(new Event('change', {{bubbles: true}}));"
        ),
        vec![],
    )
    .await
    .unwrap();
    let fields: Vec<String> = serde_json::from_value(
        c.execute(
            "return [...document.querySelectorAll('#score-grid input')].map(i => i.name + '=' + i.value);",
            vec![],
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(fields, ["score.preparation=10", "score.conduct=25"]);
    c.execute(
        "document.getElementById('score-conduct').value = 51;
         document.getElementById('meeting-form').dispatchEvent(new Event('input'));",
        vec![],
    )
    .await
    .unwrap();
    let total = c.find(Locator::Css("#score-total")).await.unwrap().text().await.unwrap();
    assert_eq!(total, "Tổng 61/100 điểm — gợi ý: Khá", "61 is fair under thu-2027, average under HD 42");
    c.close().await.unwrap();
}

#[sqlx::test]
async fn a_secretary_logs_a_short_meeting_with_a_member_online_and_finds_the_warning_on_the_minutes(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser(&driver, 390, 844).await;
    sign_in(&c, &base, "khuoitrang").await;
    wait_for(&c, "#month-status").await;
    c.find(Locator::LinkText("Ghi biên bản sinh hoạt")).await.unwrap().click().await.unwrap();
    wait_for(&c, "#meeting-form").await;

    // this month's meeting is judged by HD 42's criteria
    let hint = c.find(Locator::Css("#rubric-hint")).await.unwrap().text().await.unwrap();
    assert!(hint.contains("hd42-2025"), "{hint}");
    let results = c.find(Locator::Css("label[for=score-results]")).await.unwrap().text().await.unwrap();
    assert!(results.contains("Kết quả thực hiện nghị quyết tháng trước"), "{results}");
    // no notice recorded yet: said from the start; nothing about the length before the times are typed
    let before = c.find(Locator::Css("#warnings")).await.unwrap().text().await.unwrap();
    assert!(before.contains("Chưa ghi ngày gửi thông báo triệu tập.") && !before.contains("phút"), "{before}");

    // 75 minutes: warned at once, not refused
    c.execute(
        "document.getElementById('started_at').value = '19:00'; document.getElementById('ended_at').value = '20:15';
         document.getElementById('meeting-form').dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .unwrap();
    let warned = wait_for(&c, "#warnings:not([hidden])").await.text().await.unwrap();
    assert!(warned.contains("Buổi sinh hoạt kéo dài 75 phút, ngắn hơn mức tối thiểu 90 phút."), "{warned}");
    let topic = "Họp chi bộ có đảng viên dự trực tuyến";
    c.find(Locator::Css("#topic")).await.unwrap().send_keys(topic).await.unwrap();
    let members = c.find_all(Locator::Css(".member:not(.exempt)")).await.unwrap();
    let online = members[0].find(Locator::Css(".member-name")).await.unwrap().text().await.unwrap();
    members[0].find(Locator::Css("input[name^='online.']")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("input[name=rating][value=good]")).await.unwrap().click().await.unwrap();
    screenshot(&c, "phone-log-meeting-hd42-warning").await;
    c.find(Locator::Css("button.primary[value=save]")).await.unwrap().click().await.unwrap();

    let notice = wait_for(&c, ".notice").await.text().await.unwrap();
    assert!(notice.contains("Đã lưu biên bản sinh hoạt chi bộ tháng"), "{notice}");
    let page = c.find(Locator::Css("#warnings")).await.unwrap().text().await.unwrap();
    assert!(page.contains("75 phút"), "{page}");
    let roll = c.find(Locator::Css("ul.attendance")).await.unwrap().text().await.unwrap();
    let name = online.split(" (").next().unwrap_or_default().to_string();
    assert!(roll.contains(&format!("{name} — Có mặt (trực tuyến)")), "{name:?} online in {roll}");
    assert_eq!(roll.matches("(trực tuyến)").count(), 1, "{roll}");
    c.find(Locator::LinkText("In biên bản")).await.unwrap().click().await.unwrap();
    let minutes = wait_for(&c, "#warnings").await.text().await.unwrap();
    assert!(minutes.contains("Buổi sinh hoạt kéo dài 75 phút, ngắn hơn mức tối thiểu 90 phút."), "{minutes}");
    let body = c.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
    assert!(body.contains("trong đó 1 đồng chí dự trực tuyến"), "{body}");
    screenshot(&c, "phone-minutes-hd42-warning").await;
    c.close().await.unwrap();
}
