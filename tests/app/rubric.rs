//! Rules that change over time (DOMAIN.md §11): rubric versions, the meeting form following the date, the HD 42
//! facts and their warnings.
use axum::http::StatusCode;
use chibo::db::audit::Actor;
use chibo::domain::rubric::{Bands, Criterion, NewVersion};
use sqlx::PgPool;

use crate::common::{Client, TestApp, set};
use crate::meetings::filled_form;

fn meeting_id(location: &Option<String>) -> i64 {
    let loc = location.as_deref().expect("a redirect");
    loc.trim_start_matches("/meetings/").trim_end_matches("?saved=1").parse().expect("a meeting id")
}

/// The new-meeting form of cell A filled for `day` (Đặng Văn Giang is still on A's roll before June 2026), with
/// these points.
async fn form_on(app: &TestApp, client: &mut Client<'_>, day: &str, points: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form = filled_form(client, "A").await;
    set(&mut form, "held_on", day);
    if day < "2026-06-01" {
        let giang = app.member_id("Đặng Văn Giang").await;
        set(&mut form, &format!("att.{giang}"), "present");
    }
    form.retain(|(k, _)| !k.starts_with("score."));
    for (key, p) in points {
        form.push((format!("score.{key}"), p.to_string()));
    }
    form
}

const P16: [(&str, &str); 4] = [("preparation", "14"), ("attendance", "18"), ("conduct", "42"), ("conclusion", "18")];
const HD42: [(&str, &str); 8] = [
    ("time", "5"),
    ("attendance", "5"),
    ("preparation", "9"),
    ("conduct", "25"),
    ("chairing", "8"),
    ("principles", "5"),
    ("results", "20"),
    ("closing", "5"),
];

async fn version_of(pool: &PgPool, meeting: i64) -> (String, Option<i16>, serde_json::Value) {
    sqlx::query_as(
        "select v.code, m.score, m.score_detail from meetings m join rubric_versions v on v.id = m.rubric_version_id
         where m.id = $1",
    )
    .bind(meeting)
    .fetch_one(pool)
    .await
    .unwrap()
}

fn score_fields(page: &crate::common::Page) -> Vec<String> {
    let mut keys: Vec<String> =
        page.form_values().into_iter().filter_map(|(k, _)| k.strip_prefix("score.").map(str::to_string)).collect();
    keys.sort();
    keys
}

#[sqlx::test]
async fn a_meeting_is_judged_by_the_version_in_force_on_its_day_and_a_new_version_changes_neither(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;

    let form = form_on(&app, &mut sec, "2025-10-20", &P16).await;
    let page = sec.post("/cells/A/meetings", &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let october = meeting_id(&page.location);
    let form = form_on(&app, &mut sec, "2025-11-20", &HD42).await;
    let page = sec.post("/cells/A/meetings", &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let november = meeting_id(&page.location);

    let judged = |code: &str, score: i16, keys: &[(&str, &str)]| {
        let detail: serde_json::Map<String, serde_json::Value> =
            keys.iter().map(|(k, p)| (k.to_string(), p.parse::<u64>().unwrap().into())).collect();
        (code.to_string(), Some(score), serde_json::Value::Object(detail))
    };
    assert_eq!(version_of(&app.pool, october).await, judged("p16-2020", 92, &P16));
    assert_eq!(version_of(&app.pool, november).await, judged("hd42-2025", 82, &HD42));
    assert!(sec.get(&format!("/meetings/{october}")).await.text().contains("Tốt (92 điểm)"));
    // the rating voted is what counts; the score only suggests
    assert!(sec.get(&format!("/meetings/{november}")).await.text().contains("Tốt (82 điểm)"));

    // an administrator adds a version starting today: the two meetings keep theirs, their forms their criteria
    let today = chibo::domain::time::today();
    let c = |key: &str, max| Criterion { key: key.into(), label_vi: key.into(), label_en: key.into(), max_points: max };
    let new = NewVersion {
        code: "x-2026".into(),
        valid_from: today,
        bands: Bands { good: 85, fair: 65, average: 45 },
        min_minutes: 60,
        min_minutes_combined: 100,
        notice_required: true,
        criteria: vec![c("preparation", 40), c("conduct", 60)],
    };
    chibo::db::rubric::create(&app.pool, &Actor::cli(), &new).await.unwrap().expect("created");
    assert_eq!(version_of(&app.pool, october).await, judged("p16-2020", 92, &P16));
    assert_eq!(version_of(&app.pool, november).await, judged("hd42-2025", 82, &HD42));
    let edit = sec.get(&format!("/meetings/{october}/edit")).await;
    assert_eq!(score_fields(&edit), ["attendance", "conclusion", "conduct", "preparation"]);
    assert_eq!(edit.input("score.conduct").as_deref(), Some("42"));
    assert!(edit.text().contains("Tổng 92/100 điểm — gợi ý: Tốt"), "{}", edit.text());
    let edit = sec.get(&format!("/meetings/{november}/edit")).await;
    assert_eq!(
        score_fields(&edit),
        ["attendance", "chairing", "closing", "conduct", "preparation", "principles", "results", "time"]
    );
    assert!(edit.text().contains("Bộ tiêu chí hd42-2025 (áp dụng từ 28/10/2025)"), "{}", edit.text());
    assert!(edit.text().contains("Tổng 82/100 điểm — gợi ý: Khá"), "{}", edit.text());
    // a meeting of today is judged by the new version
    let fresh = sec.get("/cells/A/meetings/new").await;
    assert_eq!(score_fields(&fresh), ["conduct", "preparation"]);

    // a version that judges meetings cannot be changed, only followed by a new one
    let changed = sqlx::query("update rubric_criteria set max_points = max_points where key = 'conduct'")
        .execute(&app.pool)
        .await
        .expect_err("frozen");
    assert!(changed.to_string().contains("cannot be changed"), "{changed}");
}

#[sqlx::test]
async fn the_points_of_a_version_add_up_to_one_hundred_in_the_database_too(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query(
        "insert into rubric_versions (code, valid_from, good_from, fair_from, average_from, min_minutes,
                                      min_minutes_combined) values ('bad', '2030-01-01', 90, 70, 50, 90, 120)",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("insert into rubric_criteria select id, 'a', 'A', 'A', 99, 1 from rubric_versions where code = 'bad'")
        .execute(&mut *tx)
        .await
        .unwrap();
    let refused = tx.commit().await.expect_err("99 points");
    assert!(refused.to_string().contains("add up to 99, not 100"), "{refused}");
}
