//! The metric engine on small handmade cases and the seed's figures reproduced exactly (the rollups against the
//! raw rows: rollups.rs).
use chibo::db::metrics::{Report, report};
use chibo::db::units;
use chibo::domain::meeting::{AttendanceStatus, MeetingKind, Rating};
use chibo::domain::metrics::{Lang, Period, format_percent};
use chibo::domain::vocab::Metric;
use chibo::web::report as render;
use sqlx::PgPool;

use crate::common::{MeetingFixture, TestApp, import_bundle, seed};

pub(crate) fn d(y: i32, m: u32, day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn run(pool: &PgPool, unit: &str, from: &str, to: &str) -> Report {
    let unit = units::by_code(pool, unit).await.unwrap().unwrap();
    report(pool, unit, Period::parse(from, to).unwrap(), chibo::domain::time::today()).await.unwrap()
}

fn nd(r: &Report, key: &str) -> (i64, i64) {
    let f = r.figure(Metric::parse(key).unwrap());
    (f.numerator, f.denominator)
}

/// A meeting of `cell` on `day`: per-member statuses by member code, or four counts; a rating.
async fn meeting(
    pool: &PgPool,
    cell: &str,
    day: &str,
    kind: &str,
    rating: Option<&str>,
    statuses: &[(&str, &str)],
    counts: Option<[u32; 4]>,
) -> i64 {
    let mut meeting = MeetingFixture::new(pool, cell, day).kind(MeetingKind::parse(kind).expect("a meeting kind"));
    if let Some(rating) = rating {
        meeting = meeting.rating(Rating::parse(rating).expect("a rating"));
    }
    for (member, status) in statuses {
        meeting = meeting.status(member, AttendanceStatus::parse(status).expect("a status"));
    }
    if let Some(counts) = counts {
        meeting = meeting.counts(counts);
    }
    meeting.save().await
}

#[sqlx::test]
async fn exempt_excused_count_only_and_months_without_a_meeting(pool: PgPool) {
    seed(&pool).await;
    let roster = [
        ("M1", "present"),
        ("M2", "excused"),
        ("M3", "unexcused"),
        ("M4", "present"),
        ("M5", "exempt"),
        ("M6", "present"),
    ];
    meeting(&pool, "A", "2024-01-10", "regular", Some("fair"), &roster, None).await;
    // February: no regular meeting, one thematic
    meeting(&pool, "A", "2024-02-20", "thematic", None, &[], Some([6, 0, 0, 0])).await;
    // March, from the paper book: four counts
    meeting(&pool, "A", "2024-03-05", "regular", Some("good"), &[], Some([4, 1, 0, 1])).await;

    let r = run(&pool, "A", "2024-01", "2024-03").await;
    assert_eq!(nd(&r, "attendance_rate"), (3 + 4, 5 + 5), "exempt never counts; excused and unexcused do");
    assert_eq!(nd(&r, "good_meeting_share"), (1, 2));
    assert_eq!(nd(&r, "meeting_regularity"), (2, 3), "February had no regular meeting");
    assert_eq!(nd(&r, "thematic_coverage"), (1, 1));
    assert_eq!(format_percent(r.figure(Metric::AttendanceRate).value, Lang::Vi), "70,00 %");
    assert_eq!(r.figure(Metric::AttendanceRate).met, Some(false));
    assert_eq!(r.figure(Metric::AttendanceRate).target, Some(0.9));
    assert!(r.children.is_empty(), "a cell has no children");

    // January alone: no whole quarter, no whole year
    let r = run(&pool, "A", "2024-01", "2024-01").await;
    assert_eq!(nd(&r, "thematic_coverage"), (0, 0));
    assert_eq!(r.figure(Metric::ThematicCoverage).value, None);
}

#[sqlx::test]
async fn a_cell_moved_mid_period_counts_where_it_stood_each_month(pool: PgPool) {
    seed(&pool).await;
    // B moves from Xuân Lập (district D1) to YY (district D2) on 15/02/2024: February still counts under D1
    import_bundle(&pool, &[("moves.csv", "code,parent_code,effective_on\nB,YY,2024-02-15\n")]).await;
    for (day, present) in [("2024-01-09", 1), ("2024-02-09", 2), ("2024-03-09", 3)] {
        meeting(&pool, "B", day, "regular", Some("good"), &[], Some([present, 0, 0, 0])).await;
    }
    let d1 = run(&pool, "D1", "2024-01", "2024-03").await;
    let d2 = run(&pool, "D2", "2024-01", "2024-03").await;
    let p = run(&pool, "P", "2024-01", "2024-03").await;
    assert_eq!(nd(&d1, "attendance_rate"), (3, 3), "January and February under D1");
    assert_eq!(nd(&d2, "attendance_rate"), (3, 3), "March under D2");
    assert_eq!(nd(&d1, "meeting_regularity"), (2, 3 + 2), "A: 0 of 3 months, B: 2 of 2");
    // the quarter counts where B stood on its first day
    assert_eq!(nd(&d1, "thematic_coverage").1, 2);
    assert_eq!(nd(&d2, "thematic_coverage").1, 1, "C only");
    // every unit that was a child during the period, and the children add up to the parent
    let xl = run(&pool, "XL", "2024-01", "2024-03").await;
    let names: Vec<&str> = xl.children.iter().map(|c| c.unit.code.as_str()).collect();
    assert_eq!(names, ["A", "B"], "B was a child of Xuân Lập in January and February");
    for &metric in Metric::ALL {
        let key = metric.as_str();
        let (n, d) = p
            .children
            .iter()
            .map(|c| (c.figure(metric).numerator, c.figure(metric).denominator))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        assert_eq!((n, d), nd(&p, key), "{key}: the children of P add up to P");
    }
    let children: Vec<&str> = p.children.iter().map(|c| c.unit.code.as_str()).collect();
    assert_eq!(children, ["D1", "D2"]);
}

#[sqlx::test]
async fn a_cell_that_closes_counts_only_while_open(pool: PgPool) {
    seed(&pool).await;
    sqlx::query("update units set valid_to = '2024-01-31' where code = 'C'").execute(&pool).await.unwrap();
    meeting(&pool, "C", "2024-01-09", "regular", Some("good"), &[], Some([1, 0, 0, 0])).await;
    let r = run(&pool, "YY", "2024-01", "2024-06").await;
    assert_eq!(nd(&r, "meeting_regularity"), (1, 1), "C was open in January only");
    assert_eq!(nd(&r, "thematic_coverage"), (0, 1), "only the first quarter, where C was open");
}

/// A unit with no month in the period (a district after the 2025 reform, a cell before it opened) shows its page
/// with nothing counted, not an error: the province demo's district dashboards answered 500 for this year.
#[sqlx::test]
async fn a_unit_with_no_month_in_the_period_shows_an_empty_dashboard(pool: PgPool) {
    let app = TestApp::new(pool).await;
    sqlx::query("update units set valid_to = '2024-01-31' where code = 'C'").execute(&app.pool).await.unwrap();
    let r = run(&app.pool, "C", "2024-03", "2024-06").await;
    assert_eq!(nd(&r, "attendance_rate"), (0, 0));
    let mut viewer = app.login("viewer").await;
    for path in ["/dashboard/C?from=2024-03&to=2024-06", "/dashboard/A?from=2019-01&to=2019-06"] {
        let page = viewer.get(path).await;
        assert_eq!(page.status, axum::http::StatusCode::OK, "{path}: {}", page.text());
        assert!(page.text().contains("Tỷ lệ đảng viên dự sinh hoạt"), "{path}: {}", page.text());
    }
}

#[sqlx::test]
async fn quarters_and_years_count_only_when_wholly_inside(pool: PgPool) {
    seed(&pool).await;
    let classifications = "year,subject,code,level\n\
        2024,cell,A,good\n2024,cell,B,excellent\n2024,cell,C,complete\n2024,member,M1,good\n2024,member,M2,good\n";
    import_bundle(&pool, &[("classifications.csv", classifications)]).await;
    let part = run(&pool, "P", "2024-02", "2024-12").await;
    assert_eq!(nd(&part, "thematic_coverage").1, 3 * 3, "Q2, Q3, Q4 for three cells");
    assert_eq!(nd(&part, "cells_good_or_better"), (0, 0), "2024 is not wholly inside");
    let whole = run(&pool, "P", "2024-01", "2024-12").await;
    assert_eq!(nd(&whole, "thematic_coverage").1, 4 * 3);
    assert_eq!(nd(&whole, "cells_good_or_better"), (2, 3));
    assert_eq!(nd(&whole, "members_good_or_better"), (2, 2));
}

/// Data built for the seed article's figures (DOMAIN.md §3).
async fn seed_article_data(pool: &PgPool) {
    sqlx::raw_sql(
        "insert into units (code, kind, name, parent_id, valid_from) values ('S', 'province', 'Đảng bộ tỉnh', null, '1991-10-01');
         insert into units (code, kind, name, parent_id, valid_from) select 'SD', 'district', 'Đảng bộ huyện', id, '2000-01-01' from units where code = 'S';
         insert into units (code, kind, name, parent_id, valid_from) select 'SC', 'committee', 'Đảng bộ xã', id, '2000-01-01' from units where code = 'SD';
         insert into units (code, kind, name, parent_id, valid_from, cell_type)
             select 'X' || n, 'cell', 'Chi bộ ' || n, (select id from units where code = 'SC'), '2000-01-01', 'village'
             from generate_series(1, 185) n;
         -- 2020–2022 from the paper books: 38 regular meetings, 9,048 present of 10,000 expected, 35 rated good
         insert into meetings (cell_id, held_on, kind, topic, rating, present, excused, unexcused, exempt)
             select (select id from units where code = 'X4'), date '2020-01-05' + (n * 28), 'regular', 'Họp',
                    case when n < 35 then 'good' else 'fair' end,
                    case when n = 0 then 242 else 238 end, case when n = 0 then 27 else 25 end, 0, 0
             from generate_series(0, 37) n;
         -- 2023 Regulation 18: 46 of 44 (district standing), 8,921 of 10,000 (grassroots), 24,723 of 29,160 (district committee)
         insert into officials (code, full_name, \"group\", unit_id) select c, 'Cán bộ ' || c, g, (select id from units where code = 'SD')
             from (values ('OD', 'district_standing'), ('OG', 'grassroots_committee'), ('OC', 'district_committee')) v(c, g);
         insert into reg18_assignments (official_id, cell_id, year, required)
             select o.id, u.id, 2023, r from (values ('OD', 'X1', 44), ('OG', 'X2', 10000), ('OC', 'X3', 29160)) v(o, c, r)
             join officials o on o.code = v.o join units u on u.code = v.c;
         insert into meetings (cell_id, held_on, kind, topic)
             select u.id, date '2023-01-01' + (n % 365), 'extraordinary', o
             from (values ('OD', 'X1', 46), ('OG', 'X2', 8921), ('OC', 'X3', 24723)) v(o, c, k)
             join units u on u.code = v.c, generate_series(1, k) n;
         insert into meeting_guests (meeting_id, official_id)
             select m.id, o.id from meetings m join officials o on o.code = m.topic where m.kind = 'extraordinary';
         -- 185 cells with a secretary on 31/12/2023, 178 of them trained
         insert into members (code, full_name, search_name, gender, birth_date, ethnicity, joined_on, official_on, cell_id)
             select 'S' || n, 'Bí thư ' || n, 'bi thu ' || n, 'male', '1970-01-01', 'Tày', '2000-01-01', '2001-01-01',
                    (select id from units where code = 'X' || n)
             from generate_series(1, 185) n;
         insert into positions (cell_id, member_id, position, valid_from)
             select m.cell_id, m.id, 'secretary', '2020-08-01' from members m where m.code like 'S%';
         insert into trainings (member_id, trained_on, course)
             select id, '2019-05-01', 'Bồi dưỡng nghiệp vụ' from members where code like 'S%' and substr(code, 2)::int <= 178;",
    )
    .execute(pool)
    .await
    .unwrap();
}

#[sqlx::test]
async fn the_seed_articles_figures_come_out_exactly(pool: PgPool) {
    seed_article_data(&pool).await;
    let r = run(&pool, "S", "2020-01", "2022-12").await;
    assert_eq!(nd(&r, "attendance_rate"), (9048, 10000));
    assert_eq!(format_percent(r.figure(Metric::AttendanceRate).value, Lang::Vi), "90,48 %");
    assert_eq!(r.figure(Metric::AttendanceRate).met, Some(true), "Project 16: 90 %");
    assert_eq!(nd(&r, "good_meeting_share"), (35, 38));
    assert_eq!(format_percent(r.figure(Metric::GoodMeetingShare).value, Lang::Vi), "92,11 %");
    assert_eq!(r.figure(Metric::GoodMeetingShare).met, Some(true), "Project 16: 80 %");

    let r = run(&pool, "S", "2023-01", "2023-12").await;
    assert_eq!(nd(&r, "reg18_participation"), (33_690, 39_204));
    assert_eq!(format_percent(r.figure(Metric::Reg18Participation).value, Lang::Vi), "85,94 %");
    assert_eq!(format_percent(r.figure(Metric::Reg18Participation).value, Lang::En), "85.94%");
    let group = |g: &str| r.reg18_by_group.iter().find(|(k, _)| k.as_str() == g).unwrap().1;
    assert_eq!(format_percent(group("district_standing").value, Lang::Vi), "104,55 %");
    assert_eq!(format_percent(group("grassroots_committee").value, Lang::Vi), "89,21 %");
    assert_eq!(nd(&r, "secretaries_trained"), (178, 185));
    assert_eq!(format_percent(r.figure(Metric::SecretariesTrained).value, Lang::Vi), "96,22 %");

    // the JSON of chibo report and the API: the same numbers
    let json = render::json(&r);
    assert_eq!(json["metrics"]["reg18_participation"]["numerator"], 33_690);
    assert_eq!(json["metrics"]["reg18_participation"]["denominator"], 39_204);
    assert_eq!(json["reg18_by_group"]["district_standing"]["numerator"], 46);
    assert_eq!(json["children"][0]["unit"], "SD");
    let csv = render::csv(&r);
    assert!(csv.contains("S,Đảng bộ tỉnh,reg18_participation,33690,39204,"), "{csv}");
}

#[sqlx::test]
async fn the_api_serves_the_same_report(pool: PgPool) {
    let app = TestApp::new(pool).await;
    meeting(&app.pool, "A", "2024-01-10", "regular", Some("good"), &[], Some([9, 1, 0, 0])).await;
    let clerk = chibo::db::users::by_username(&app.pool, "clerk").await.unwrap().unwrap();
    let secret =
        chibo::db::credentials::create_token(&app.pool, &chibo::db::audit::Actor::cli(), &clerk, "t").await.unwrap();
    let mut api = app.anonymous();
    let page = api.get_with_token("/api/v1/units/XL/metrics?from=2024-01&to=2024-01", Some(&secret)).await;
    assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    let direct = render::json(&run(&app.pool, "XL", "2024-01", "2024-01").await);
    assert_eq!(json, direct);
    assert_eq!(json["metrics"]["attendance_rate"]["numerator"], 9);
    let bad = api.get_with_token("/api/v1/units/XL/metrics?from=2024-13&to=2024-01", Some(&secret)).await;
    assert_eq!(bad.status, axum::http::StatusCode::BAD_REQUEST);
    let outside = api.get_with_token("/api/v1/units/YY/metrics?from=2024-01&to=2024-01", Some(&secret)).await;
    assert_eq!(outside.status, axum::http::StatusCode::FORBIDDEN);
}

/// The sums the cell-month store should hold, recomputed from the raw rows.
#[sqlx::test]
async fn the_dashboard_its_csv_and_its_printed_report_show_the_same_numbers(pool: PgPool) {
    seed_article_data(&pool).await;
    let unit_id: i64 = sqlx::query_scalar("select id from units where code = 'S'").fetch_one(&pool).await.unwrap();
    let actor = chibo::db::audit::Actor::cli();
    let new = chibo::db::users::NewUser {
        username: "bantochuc",
        display_name: "Ban Tổ chức",
        password_hash: crate::common::hash(crate::common::PASSWORD).await,
        role: chibo::domain::Role::ProvinceViewer,
        unit_id,
    };
    chibo::db::users::create(&pool, &actor, new).await.unwrap();
    let app = TestApp::without_fixture(pool).await;
    let mut viewer = app.login("bantochuc").await;
    assert_eq!(viewer.get("/").await.location.as_deref(), Some("/dashboard/S"), "viewers start at their dashboard");

    let page = viewer.get("/dashboard/S?from=2023-01&to=2023-12").await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    let text = page.text();
    for expected in [
        "Tỷ lệ cán bộ dự sinh hoạt theo Quy định 18 85,94 % 33.690 / 39.204",
        "Ủy viên Ban Thường vụ Huyện ủy 46 / 44 104,55 %",
        "Đảng bộ huyện",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
    let page = viewer.get("/dashboard/S?from=2020-01&to=2022-12").await.text();
    assert!(
        page.contains("Tỷ lệ đảng viên dự sinh hoạt 90,48 % 9.048 / 10.000 chỉ tiêu 90,00 % (+0,48 điểm %) — ✓ đạt"),
        "{page}"
    );
    assert!(page.contains("92,11 %"), "{page}");
    // a small monthly trend in each tile counted by month: attendance, good meetings, regularity
    let raw = viewer.get("/dashboard/S?from=2020-01&to=2022-12").await.body;
    assert_eq!(raw.matches("<svg class=\"spark\"").count(), 3, "{raw}");
    assert!(raw.contains("aria-label=\"Xu hướng theo tháng: Tỷ lệ đảng viên dự sinh hoạt\""), "{raw}");

    let csv = viewer.get("/dashboard/S/export.csv?from=2023-01&to=2023-12").await;
    assert_eq!(csv.status, axum::http::StatusCode::OK);
    // for people: the workbook's Vietnamese headings, percentages as a Vietnamese reader writes them
    assert!(
        csv.body
            .starts_with("\u{feff}Mã đơn vị,Đơn vị,Chỉ tiêu,Mã chỉ tiêu,Tử số,Mẫu số,Tỷ lệ,Chỉ tiêu Đề án,Đánh giá\n")
    );
    assert!(
        csv.body.contains(
            "S,Đảng bộ tỉnh,Tỷ lệ cán bộ dự sinh hoạt theo Quy định 18,reg18_participation,33690,39204,\"85,94 %\""
        ),
        "{}",
        csv.body
    );
    assert!(csv.body.contains(",reg18_participation.district_standing,46,44,\"104,55 %\""), "{}", csv.body);
    assert!(csv.body.contains(",meeting_regularity,0,2220,\"0,00 %\",\"100,00 %\",Chưa đạt\n"), "{}", csv.body);
    assert!(!csv.body.contains("true") && !csv.body.contains("0.85935108662"), "no machine values: {}", csv.body);
    assert!(raw.contains("id=\"export-forms\""), "the page says which form is which");

    // the workbook: the same counts, as numbers, and the value as a number formatted as a percentage
    let xlsx = viewer.get_bytes("/dashboard/S/export.xlsx?from=2023-01&to=2023-12").await;
    let path = std::env::temp_dir().join(format!("chibo-test-{}.xlsx", std::process::id()));
    std::fs::write(&path, &xlsx).unwrap();
    let unzip = |member: &str| {
        let out = std::process::Command::new("unzip").arg("-p").arg(&path).arg(member).output().expect("unzip runs");
        String::from_utf8(out.stdout).unwrap()
    };
    let sheet = unzip("xl/worksheets/sheet1.xml");
    let strings = unzip("xl/sharedStrings.xml");
    let styles = unzip("xl/styles.xml");
    let _ = std::fs::remove_file(&path);
    assert!(sheet.contains("<v>33690</v>") && sheet.contains("<v>39204</v>"), "counts as numbers: {sheet}");
    assert!(sheet.contains("<v>0.85935108662"), "the value as a number: {sheet}");
    assert!(strings.contains("Tỷ lệ cán bộ dự sinh hoạt theo Quy định 18") && strings.contains("Đảng bộ tỉnh"));
    assert!(styles.contains("formatCode=\"0.00%\""), "percentages formatted as such: {styles}");

    let printed = viewer.get("/dashboard/S/report?from=2023-01&to=2023-12").await.text();
    for expected in
        ["ĐẢNG CỘNG SẢN VIỆT NAM", "BÁO CÁO KẾT QUẢ SINH HOẠT CHI BỘ", "85,94 % 33.690 / 39.204", "96,22 % 178 / 185"]
    {
        assert!(printed.contains(expected), "{expected:?} missing from {printed}");
    }
    // drilling down: the district's row links to its own dashboard
    assert!(
        viewer.get("/dashboard/S?from=2023-01&to=2023-12").await.body.contains("href=\"/dashboard/SD?from=2023-01")
    );
}

#[sqlx::test]
async fn an_administrator_adds_a_programme_and_overrides_a_target_for_one_unit(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    let csrf = admin.get("/admin/programmes").await.input("csrf").unwrap();
    let add = [
        ("csrf", csrf.as_str()),
        ("code", "DA-2030"),
        ("name", "Đề án 2026–2030"),
        ("from", "2026-01"),
        ("to", "2030-12"),
    ];
    assert_eq!(admin.post("/admin/programmes", &add).await.status, axum::http::StatusCode::SEE_OTHER);
    let again = admin.post("/admin/programmes", &add).await;
    assert_eq!(again.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text().contains("Mã DA-2030 đã có"), "{}", again.text());

    let before = app.count("programme_targets").await;
    let bad = [
        ("csrf", csrf.as_str()),
        ("programme", "DA-2030"),
        ("metric", "attendance_rate"),
        ("unit", "XL"),
        ("target", "chín mươi"),
    ];
    let page = admin.post("/admin/programmes/targets", &bad).await;
    assert_eq!(page.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().contains("Nhập chỉ tiêu là một tỷ lệ phần trăm"), "{}", page.text());
    assert_eq!(page.input("unit").as_deref(), Some("XL"), "what was typed is kept");
    assert_eq!(app.count("programme_targets").await, before, "nothing written");

    for (unit, target) in [("", "92"), ("XL", "95,5")] {
        let form = [
            ("csrf", csrf.as_str()),
            ("programme", "DA-2030"),
            ("metric", "attendance_rate"),
            ("unit", unit),
            ("target", target),
        ];
        let page = admin.post("/admin/programmes/targets", &form).await;
        assert!(page.text().contains("Đã lưu chỉ tiêu."), "{}", page.text());
    }
    let xl = run(&app.pool, "XL", "2026-01", "2026-03").await;
    assert_eq!(xl.figure(Metric::AttendanceRate).target, Some(0.955), "the unit's own override");
    let a = run(&app.pool, "A", "2026-01", "2026-03").await;
    assert_eq!(a.figure(Metric::AttendanceRate).target, Some(0.92), "the programme's default");
    let old = run(&app.pool, "A", "2024-01", "2024-03").await;
    assert_eq!(old.figure(Metric::AttendanceRate).target, Some(0.9), "Project 16 still holds for its years");

    let mut clerk = app.login("clerk").await;
    assert_eq!(clerk.get("/admin/programmes").await.status, axum::http::StatusCode::FORBIDDEN);
}

/// DOMAIN.md §5: a month counts for regularity, and a quarter for thematic coverage, only once it has ended; the
/// month in progress is shown as progress, while its meetings already count for attendance.
#[sqlx::test]
async fn the_month_in_progress_is_progress_not_a_miss(pool: PgPool) {
    use chrono::Datelike;
    let app = TestApp::new(pool.clone()).await;
    let today = chibo::domain::time::today();
    let month = today.with_day(1).unwrap();
    let year = format!("{}-01", today.year());
    let this_month = today.format("%Y-%m").to_string();
    // one regular meeting of cell A today: all five present (Triệu Văn Em exempt), Đặng Văn Giang moved to B
    meeting(&pool, "A", &today.to_string(), "regular", Some("good"), &[("M1", "present"), ("M2", "present")], None)
        .await;
    let r = run(&pool, "P", &year, &this_month).await;
    let ended = i64::from(today.month0());
    assert_eq!(nd(&r, "meeting_regularity"), (0, 3 * ended), "3 open cells × {ended} ended months, not {}", ended + 1);
    assert_eq!(nd(&r, "attendance_rate"), (2, 2), "the meeting held counts for attendance already");
    let p = r.progress.expect("the period holds the month in progress");
    assert_eq!((p.month, p.met, p.open), (month, 1, 3));
    // the quarter in progress is no miss either
    let q_start = chibo::domain::metrics::add_months(month, -((today.month0() % 3) as i32));
    let quarter = run(&pool, "P", &q_start.format("%Y-%m").to_string(), &this_month).await;
    assert_eq!(quarter.figure(Metric::ThematicCoverage).value, None, "{:?}", quarter.figure(Metric::ThematicCoverage));
    // a period that ended has no progress
    let past = run(&pool, "P", "2025-01", "2025-12").await;
    assert!(past.progress.is_none());
    assert_eq!(nd(&past, "meeting_regularity").1, 36);

    // the dashboard says it in words under the tile
    let mut viewer = app.login("viewer").await;
    let page = viewer.get(&format!("/dashboard/P?from={year}&to={this_month}")).await.text();
    let words =
        format!("Tháng {} chưa kết thúc nên chưa tính: đến nay 1 trên 3 chi bộ đã sinh hoạt.", month.format("%m/%Y"));
    assert!(page.contains(&words), "{page}");
}

/// DOMAIN.md §5: a period no programme covers says so in words, links administrators to the programmes, and shows
/// no target legend and no empty target columns; a period Project 16 covers is unchanged.
#[sqlx::test]
async fn a_period_without_a_programme_says_so(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let words = "Không có chương trình nào đặt chỉ tiêu cho giai đoạn này";
    let mut viewer = app.login("viewer").await;
    let page = viewer.get("/dashboard/P?from=2026-01&to=2026-11").await.text();
    assert!(page.contains(words), "{page}");
    assert!(!page.contains("đường đứt: chỉ tiêu"), "no legend for a line that is not drawn");
    assert!(
        page.contains("Kết quả sinh hoạt chi bộ, 01/2026") && !page.contains("Kết quả thực hiện Đề án 16"),
        "{page}"
    );
    assert!(!page.contains("href=\"/admin/programmes\""), "the link is for administrators");
    let printed = viewer.get("/dashboard/P/report?from=2026-01&to=2026-11").await.text();
    assert!(printed.contains(words), "{printed}");
    assert!(!printed.contains("Chỉ tiêu Đề án"), "no empty target column: {printed}");
    let mut admin = app.login("admin").await;
    let page = admin.get("/dashboard/P?from=2026-01&to=2026-11").await.body;
    assert!(page.contains("<a href=\"/admin/programmes\">"), "{page}");

    let covered = viewer.get("/dashboard/P?from=2024-01&to=2024-12").await.text();
    assert!(!covered.contains(words));
    assert!(covered.contains("đường đứt: chỉ tiêu"));
    let printed = viewer.get("/dashboard/P/report?from=2024-01&to=2024-12").await.text();
    assert!(printed.contains("Chỉ tiêu Đề án"));
}

/// A Regulation 18 rate above 100 % says what it means beside the figure: officials attended more often than required.
#[sqlx::test]
async fn a_rate_above_one_hundred_percent_says_what_it_means(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    app.import(&[("assignments.csv", "official_code,cell_code,year,required\nO1,A,2024,1\n")]).await;
    for day in ["2024-03-05", "2024-06-05", "2024-09-05"] {
        app.meeting("A", day).rating(Rating::Good).counts([4, 0, 0, 1]).guest("O1").save().await;
    }
    assert_eq!(nd(&run(&pool, "P", "2024-01", "2024-12").await, "reg18_participation"), (3, 1));
    let mut viewer = app.login("viewer").await;
    let page = viewer.get("/dashboard/P?from=2024-01&to=2024-12").await.text();
    assert!(page.contains("300,00 %"), "{page}");
    assert!(page.contains("Trên 100 %: cán bộ dự sinh hoạt nhiều lần hơn số lần phải dự theo Quy định 18"), "{page}");
    assert!(page.contains("300,00 % (dự nhiều hơn số lần phải dự)"), "in the groups' table too: {page}");
}

/// A child that belonged to the unit for part of the period is marked with its months, explained once under the
/// table, so that its figure differing from its own page's is no surprise.
#[sqlx::test]
async fn a_child_counted_for_part_of_the_period_is_marked_with_its_months(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    app.import(&[("moves.csv", "code,parent_code,effective_on\nB,YY,2024-03-01\n")]).await;
    let xl = run(&pool, "XL", "2024-01", "2024-06").await;
    let covers: Vec<_> = xl.children.iter().map(|c| (c.unit.code.as_str(), c.covers)).collect();
    assert_eq!(covers, [("A", None), ("B", Some((None, Some(d(2024, 2, 1)))))]);
    let mut admin = app.login("admin").await;
    let page = admin.get("/dashboard/XL?from=2024-01&to=2024-06").await.body;
    assert!(page.contains("Chi bộ thôn Nà Mỏ</a> <small class=\"covers\">(đến 02/2024*)</small>"), "{page}");
    assert!(page.contains("id=\"covers-note\""), "explained once under the table");
    let page = admin.get("/dashboard/YY?from=2024-01&to=2024-06").await.body;
    assert!(page.contains("Chi bộ thôn Nà Mỏ</a> <small class=\"covers\">(từ 03/2024*)</small>"), "{page}");
    // a period the child spans whole: no mark, no note
    let page = admin.get("/dashboard/YY?from=2024-03&to=2024-06").await.body;
    assert!(!page.contains("class=\"covers\"") && !page.contains("covers-note"), "{page}");
}

/// Over more than two years the trend steps by quarter, each summing its months; a year steps by month.
#[sqlx::test]
async fn a_long_trend_steps_by_quarter(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    // 2 of 3 present in March 2021, 1 of 1 in May 2021: the first quarter 67 %, the second 100 %
    meeting(&pool, "A", "2021-03-05", "regular", Some("good"), &[], Some([2, 1, 0, 1])).await;
    meeting(&pool, "A", "2021-05-05", "regular", Some("good"), &[], Some([1, 0, 0, 1])).await;
    let mut viewer = app.login("viewer").await;
    let long = viewer.get("/dashboard/P?from=2020-01&to=2025-12").await.body;
    assert!(long.contains(">Q1/2020</text>") && long.contains(">Q4/2025</text>"), "{long}");
    let chart = long.split("class=\"chart\"").nth(1).unwrap().split("</svg>").next().unwrap();
    let path = chart.split("class=\"series\"").next().unwrap().rsplit("d=\"").next().unwrap();
    assert_eq!(path.matches(['M', 'L']).count(), 2, "two quarters with meetings, one point each: {path}");
    let year = viewer.get("/dashboard/P?from=2021-01&to=2021-12").await.body;
    assert!(year.contains(">01/2021</text>") && year.contains(">12/2021</text>"), "{year}");
}
