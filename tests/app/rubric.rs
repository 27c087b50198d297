//! Rules that change over time (DOMAIN.md §11): rubric versions, the meeting form following the date, the HD 42
//! facts and their warnings.
use axum::http::StatusCode;
use chibo::db::audit::Actor;
use chibo::domain::meeting::AttendanceStatus;
use chibo::domain::rubric::{Bands, Criterion, NewVersion};
use chibo::domain::vocab::Metric;
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

async fn figures(pool: &PgPool, unit: &str, from: &str, to: &str) -> Vec<(Metric, (i64, i64))> {
    let unit = chibo::db::units::by_code(pool, unit).await.unwrap().unwrap();
    let period = chibo::domain::metrics::Period::parse(from, to).unwrap();
    let r = chibo::db::metrics::report(pool, unit, period, chibo::domain::time::today()).await.unwrap();
    [Metric::DurationCompliance, Metric::OnlineShare, Metric::ThematicCoverage]
        .into_iter()
        .map(|m| (m, (r.figure(m).numerator, r.figure(m).denominator)))
        .collect()
}

#[sqlx::test]
async fn duration_online_and_combined_meetings_are_counted_in_the_engine(pool: PgPool) {
    let app = TestApp::new(pool).await;
    use AttendanceStatus::{Excused, Exempt, Present};
    // November 2025 (hd42-2025: 90 minutes, 120 combined): a combined meeting of 110 minutes, two members online
    app.meeting("A", "2025-11-10")
        .times("19:00", "20:50")
        .combined()
        .online("M1")
        .status("M2", Present)
        .status("M3", Present)
        .online("M4")
        .status("M5", Exempt)
        .status("M6", Excused)
        .save()
        .await;
    // December: a plain meeting of 120 minutes, one member online
    app.meeting("A", "2025-12-08")
        .online("M1")
        .status("M2", Present)
        .status("M3", Present)
        .status("M4", Present)
        .status("M5", Exempt)
        .status("M6", Present)
        .save()
        .await;
    // January 2026, from a paper book: counts only, no times
    app.meeting("A", "2026-01-12").counts([5, 0, 0, 1]).save().await;
    // cell C, November: per-member rows but no times (an imported book)
    app.import(&[
        (
            "meetings.csv",
            "ref,cell_code,held_on,kind,topic,started_at,ended_at,rating,score,present,excused,unexcused,exempt\n\
             C-2025-11,C,2025-11-15,regular,Họp chi bộ,,,,,,,,\n",
        ),
        ("attendance.csv", "meeting_ref,member_code,status\nC-2025-11,M9,present\n"),
    ])
    .await;

    let a = figures(&app.pool, "A", "2025-11", "2026-01").await;
    assert_eq!(
        a,
        [
            // the 110-minute combined meeting falls short of 120; meetings without times are not counted
            (Metric::DurationCompliance, (1, 2)),
            // present members of meetings with per-member rows: 4 + 5, of whom 2 + 1 online
            (Metric::OnlineShare, (3, 9)),
            (Metric::ThematicCoverage, (0, 0)),
        ]
    );
    // the last quarter of 2025: A's combined meeting covers it; B and C held no thematic part
    let q4 = figures(&app.pool, "P", "2025-10", "2025-12").await;
    assert_eq!(
        q4,
        [(Metric::DurationCompliance, (1, 2)), (Metric::OnlineShare, (3, 10)), (Metric::ThematicCoverage, (1, 3))]
    );
    // every output reads the same figures: the dashboard's tiles, its CSV, its printed report
    let mut admin = app.login("admin").await;
    let page = admin.get("/dashboard/P?from=2025-10&to=2025-12").await.text();
    for said in [
        "Sinh hoạt theo quy định năm 2025 (Hướng dẫn 42)",
        "Tỷ lệ buổi sinh hoạt định kỳ đủ thời gian tối thiểu",
        "50,00 %",
        "30,00 %",
    ] {
        assert!(page.contains(said), "{said:?} in {page}");
    }
    let csv = String::from_utf8(admin.get_bytes("/dashboard/P/export.csv?from=2025-10&to=2025-12").await).unwrap();
    assert!(csv.contains("duration_compliance") && csv.contains("online_share"), "{csv}");
    let printed = admin.get("/dashboard/P/report?from=2025-10&to=2025-12").await.text();
    assert!(printed.contains("Tỷ lệ lượt đảng viên dự sinh hoạt trực tuyến"), "{printed}");

    // the stores kept by the triggers say what a rebuild from the raw rows says
    sqlx::query("select rebuild_metric_stores()").execute(&app.pool).await.unwrap();
    assert_eq!(figures(&app.pool, "P", "2025-10", "2025-12").await, q4);
    assert_eq!(figures(&app.pool, "A", "2025-11", "2026-01").await, a);
}

#[sqlx::test]
async fn hd42_facts_are_saved_and_their_warnings_shown_on_the_form_the_page_and_the_minutes(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let an = app.member_id("Nguyễn Văn An").await;
    let mut form = form_on(&app, &mut sec, "2026-11-20", &[]).await;
    set(&mut form, "started_at", "19:00");
    set(&mut form, "ended_at", "20:15");
    set(&mut form, "prepared_on", "2026-11-15");
    set(&mut form, "materials_on", "2026-11-20");
    form.push((format!("online.{an}"), "1".into()));
    let short = "Buổi sinh hoạt kéo dài 75 phút, ngắn hơn mức tối thiểu 90 phút.";
    let late = "Tài liệu đăng ngày 20/11/2026, chưa đủ một ngày trước buổi sinh hoạt.";
    let no_notice = "Chưa ghi ngày gửi thông báo triệu tập.";

    // refused for another reason: the warnings are there already, with everything typed kept
    let mut refused = form.clone();
    set(&mut refused, "topic", "");
    let page = sec.post("/cells/A/meetings", &refused).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = page.text();
    assert!(text.contains(short) && text.contains(late) && text.contains(no_notice), "{text}");
    assert_eq!(page.input("materials_on").as_deref(), Some("2026-11-20"));
    assert!(page.body.contains(&format!("name=\"online.{an}\" value=\"1\" checked")), "the online box stays ticked");

    // a warning never refuses: saved, and said on the meeting's page and its printed minutes
    let page = sec.post("/cells/A/meetings", &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let id = meeting_id(&page.location);
    let shown = sec.get(&format!("/meetings/{id}")).await.text();
    for said in
        [short, late, no_notice, "Nguyễn Văn An — Có mặt (trực tuyến)", "hd42-2025", "Chi ủy họp chuẩn bị 15/11/2026"]
    {
        assert!(shown.contains(said), "{said:?} in {shown}");
    }
    let minutes = sec.get(&format!("/meetings/{id}/minutes")).await.text();
    for said in [short, late, no_notice, "trong đó 1 đồng chí dự trực tuyến"] {
        assert!(minutes.contains(said), "{said:?} in {minutes}");
    }
    let modes: Vec<(String, String)> = sqlx::query_as(
        "select m.code, a.mode from attendance a join members m on m.id = a.member_id where a.meeting_id = $1
         order by m.code",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(modes[0], ("M1".to_string(), "online".to_string()));
    assert!(modes[1..].iter().all(|(_, m)| m == "in_person"));

    // the edit form keeps the facts; with a notice, materials the day before and 90 minutes nothing is said
    let mut edit = sec.get(&format!("/meetings/{id}/edit")).await.form_values();
    assert!(edit.contains(&(format!("online.{an}"), "1".to_string())));
    set(&mut edit, "notice_on", "2026-11-10");
    set(&mut edit, "materials_on", "2026-11-19");
    set(&mut edit, "ended_at", "20:30");
    set(&mut edit, "action", "save");
    let page = sec.post(&format!("/meetings/{id}"), &edit).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let shown = sec.get(&format!("/meetings/{id}")).await;
    assert!(!shown.body.contains("id=\"warnings\""), "{}", shown.text());

    // only a regular meeting holds the thematic part too
    let mut thematic = form_on(&app, &mut sec, "2026-11-21", &[]).await;
    set(&mut thematic, "kind", "thematic");
    set(&mut thematic, "rating", "");
    thematic.push(("combined_thematic".into(), "1".into()));
    let page = sec.post("/cells/A/meetings", &thematic).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.text());
    assert!(page.text().contains("Chỉ buổi sinh hoạt định kỳ mới kết hợp được sinh hoạt chuyên đề."));
}

const MEETINGS_HD42: &str = "ref,cell_code,held_on,kind,topic,started_at,ended_at,rating,score,present,excused,\
    unexcused,exempt,notice_on,prepared_on,materials_on,combined_thematic";

#[sqlx::test]
async fn the_bundle_carries_the_hd42_columns_and_old_bundles_import_as_before(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let out = app
        .import(&[
            (
                "meetings.csv",
                &format!(
                    "{MEETINGS_HD42}\n\
                     H1,C,2026-11-12,regular,Họp tháng 11,19:00,21:00,good,,,,,,2026-11-05,2026-11-08,2026-11-10,true\n\
                     H2,C,2026-10-12,regular,Họp tháng 10,19:00,20:00,fair,,,,,,,,,\n"
                ),
            ),
            ("attendance.csv", "meeting_ref,member_code,status,mode\nH1,M9,present,online\nH2,M9,present,\n"),
        ])
        .await;
    assert!(out.written);
    let facts: (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>, bool, String) = sqlx::query_as(
        "select m.notice_on, m.materials_on, m.combined_thematic, a.mode from meetings m
         join attendance a on a.meeting_id = m.id where m.ref = 'H1'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d);
    assert_eq!(facts, (day(5), day(10), true, "online".to_string()));

    // exported as given; blank stays blank
    let dir = std::env::temp_dir().join(format!("chibo-rubric-export-{}", std::process::id()));
    chibo::import::export::export(&app.pool, &dir).await.unwrap();
    let meetings = std::fs::read_to_string(dir.join("meetings.csv")).unwrap();
    assert!(meetings.starts_with(&format!("{}\n", MEETINGS_HD42.replace(' ', ""))), "{meetings}");
    assert!(meetings.contains(
        "H1,C,2026-11-12,regular,Họp tháng 11,19:00,21:00,good,,,,,,2026-11-05,2026-11-08,2026-11-10,true\n"
    ));
    assert!(meetings.contains("H2,C,2026-10-12,regular,Họp tháng 10,19:00,20:00,fair,,,,,,,,,\n"), "{meetings}");
    let attendance = std::fs::read_to_string(dir.join("attendance.csv")).unwrap();
    assert!(attendance.contains("H1,M9,present,online\n") && attendance.contains("H2,M9,present,\n"), "{attendance}");
    let _ = std::fs::remove_dir_all(&dir);

    // a bundle made before HD 42 (no such columns) imports as it did
    let old = app
        .import(&[
            (
                "meetings.csv",
                "ref,cell_code,held_on,kind,topic,started_at,ended_at,rating,score,present,excused,unexcused,exempt\n\
                 H3,C,2026-09-12,regular,Họp tháng 9,19:00,21:00,good,,,,,\n",
            ),
            ("attendance.csv", "meeting_ref,member_code,status\nH3,M9,present\n"),
        ])
        .await;
    assert!(old.written);

    // online only for a present member, combined only for a regular meeting: listed at their lines, nothing written
    let files = vec![
        (
            "meetings.csv".to_string(),
            format!("{MEETINGS_HD42}\nH4,C,2026-08-12,thematic,Chuyên đề,19:00,21:00,,,,,,,,,,true\n").into_bytes(),
        ),
        ("attendance.csv".to_string(), b"meeting_ref,member_code,status,mode\nH4,M9,excused,online\n".to_vec()),
    ];
    let bad = chibo::import::import(&app.pool, files, false, &Actor::cli(), &|_| {}).await.unwrap();
    let texts: Vec<String> =
        bad.problems.iter().map(|p| chibo::web::problems::text_in(p, chibo::domain::metrics::Lang::En)).collect();
    assert!(!bad.written);
    assert!(
        texts.iter().any(|t| t.starts_with("meetings.csv:2:") && t.contains("only a regular meeting")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.starts_with("attendance.csv:2:") && t.contains("only a present member")),
        "{texts:?}"
    );
}

/// The new-version form as the page fills it (from the latest version), with these changes.
async fn version_form(client: &mut Client<'_>, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let page = client.get("/admin/rubrics").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let mut form = page.form_values();
    // the page's first form is the new version's
    form.retain(|(k, _)| k != "action");
    for (k, v) in changes {
        set(&mut form, k, v);
    }
    form
}

#[sqlx::test]
async fn an_administrator_adds_a_version_checked_at_its_fields_and_sees_which_meetings_use_each(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.meeting("A", "2025-10-20").save().await;
    app.meeting("A", "2025-11-20").save().await;
    app.meeting("A", "2026-11-02").save().await;
    let mut admin = app.login("admin").await;
    let page = admin.get("/admin/rubrics").await;
    let text = page.text();
    assert!(text.contains("hd42-2025 áp dụng từ 28/10/2025"), "{text}");
    assert!(text.contains("Đã dùng để chấm 2 buổi sinh hoạt (20/11/2025–02/11/2026)"), "{text}");
    assert!(text.contains("Đã dùng để chấm 1 buổi sinh hoạt (20/10/2025–20/10/2025)"), "{text}");
    // prefilled from hd42-2025
    assert_eq!(page.input("criterion.6.key").as_deref(), Some("results"));
    assert_eq!(page.input("criterion.6.points").as_deref(), Some("30"));

    // points adding up to 99: refused at the criteria, everything typed kept, nothing written
    let form =
        version_form(&mut admin, &[("code", "hd42-2027"), ("valid_from", "2027-01-01"), ("criterion.6.points", "29")])
            .await;
    let before = app.count("rubric_versions").await;
    let page = admin.post("/admin/rubrics", &form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.text());
    assert!(page.body.contains("<title>Lỗi:"));
    assert!(page.body.contains("href=\"#criteria\""), "the summary links to the criteria");
    assert!(page.text().contains("Điểm các tiêu chí cộng lại là 99, phải đúng 100."), "{}", page.text());
    assert_eq!(page.input("criterion.6.points").as_deref(), Some("29"));
    assert_eq!(page.input("code").as_deref(), Some("hd42-2027"));
    assert_eq!(app.count("rubric_versions").await, before);

    // bands out of order, a start before the last version's
    let form =
        version_form(&mut admin, &[("code", "x"), ("valid_from", "2025-10-01"), ("good", "70"), ("fair", "80")]).await;
    let page = admin.post("/admin/rubrics", &form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = page.text();
    assert!(text.contains("Ngày áp dụng phải sau ngày áp dụng của bộ gần nhất (28/10/2025)."), "{text}");
    assert!(text.contains("Mức tốt, khá, trung bình phải là số từ 1 đến 100, giảm dần"), "{text}");

    // a good one: added, audited, listed as used by no meeting
    let form =
        version_form(&mut admin, &[("code", "hd42-2027"), ("valid_from", "2027-01-01"), ("min_minutes", "100")]).await;
    let page = admin.post("/admin/rubrics", &form).await;
    assert_eq!(page.location.as_deref(), Some("/admin/rubrics?saved=1"), "{}", page.text());
    let text = admin.get("/admin/rubrics?saved=1").await.text();
    assert!(text.contains("Đã thêm bộ tiêu chí mới."), "{text}");
    assert!(text.contains("hd42-2027 áp dụng từ 01/01/2027"), "{text}");
    assert!(text.contains("Sinh hoạt định kỳ tối thiểu 100 phút"), "{text}");
    assert!(text.contains("Chưa buổi sinh hoạt nào dùng bộ tiêu chí này."), "{text}");
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where entity = 'rubric_version'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audited, 1);

    // a secretary, or a district's viewer, may not
    let mut sec = app.login("sec_a").await;
    assert_eq!(sec.get("/admin/rubrics").await.status, StatusCode::FORBIDDEN);
}

#[sqlx::test]
async fn the_demo_carries_hd42_facts_from_november_2025_so_the_new_metrics_and_warnings_show(pool: PgPool) {
    let today = chibo::domain::time::today();
    chibo::demo::load(&pool, chibo::demo::Scale::Small, today).await.unwrap();
    let (online, online_before, short, short_before, late, no_notice, combined): (i64, i64, i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "select (select count(*) from attendance a join meetings m on m.id = a.meeting_id
                     where a.mode = 'online' and m.held_on >= '2025-11-01'),
                    (select count(*) from attendance a join meetings m on m.id = a.meeting_id
                     where a.mode = 'online' and m.held_on < '2025-11-01'),
                    (select count(*) from meetings where kind = 'regular' and ended_at - started_at < interval '90 minutes'
                     and held_on >= '2025-11-01'),
                    (select count(*) from meetings where kind = 'regular' and ended_at - started_at < interval '90 minutes'
                     and held_on < '2025-11-01'),
                    (select count(*) from meetings where materials_on >= held_on),
                    (select count(*) from meetings where kind = 'regular' and held_on >= '2025-11-01' and notice_on is null),
                    (select count(*) from meetings where combined_thematic)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        online > 20 && short > 3 && late > 3 && no_notice > 0 && combined > 0,
        "{online} {short} {late} {no_notice} {combined}"
    );
    assert_eq!((online_before, short_before), (0, 0), "the history before HD 42 is as it was");

    let unit = chibo::db::units::by_code(&pool, "TQ").await.unwrap().unwrap();
    let period = chibo::domain::metrics::Period::parse("2025-11", &today.format("%Y-%m").to_string()).unwrap();
    let r = chibo::db::metrics::report(&pool, unit, period, today).await.unwrap();
    let duration = r.figure(Metric::DurationCompliance).value.unwrap();
    let share = r.figure(Metric::OnlineShare).value.unwrap();
    assert!((0.85..1.0).contains(&duration), "{duration}");
    assert!((0.02..0.2).contains(&share), "{share}");
}
