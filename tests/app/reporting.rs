//! The reporting metrics of DOMAIN.md §10 (reporting_completeness, reporting_timeliness, reports_approved) in the
//! metric engine: hand-counted cell-months, the months counted, a cell that moved, a change of the deadline day,
//! the rollups against `rebuild_metric_stores()`; and where a user sees them.
use chibo::db::audit::Actor;
use chibo::db::followup::Reason;
use chibo::db::metrics::{Report, report};
use chibo::db::units;
use chibo::domain::metrics::{Period, Reporting, add_months};
use chibo::domain::reports::Settings;
use chibo::domain::time;
use chibo::domain::vocab::Metric;
use chrono::NaiveDate;
use sqlx::PgPool;

use crate::common::TestApp;
use crate::metrics::d;

fn m(y: i32, month: u32) -> NaiveDate {
    d(y, month, 1)
}

/// A report row written as the workflow would leave it (plain SQL: the workflow is db::reports').
async fn report_row(
    pool: &PgPool,
    cell: &str,
    month: NaiveDate,
    state: &str,
    first_submitted_on: Option<NaiveDate>,
    approved_on: Option<NaiveDate>,
) {
    sqlx::query(
        "insert into cell_reports (cell_id, month, state, first_submitted_on, submitted_on, approved_on, returned_reason)
         select id, $2, $3, $4, $4, $5, case when $3 = 'returned' then 'Thiếu biên bản' end from units where code = $1",
    )
    .bind(cell)
    .bind(month)
    .bind(state)
    .bind(first_submitted_on)
    .bind(approved_on)
    .execute(pool)
    .await
    .unwrap();
}

async fn settings(pool: &PgPool, since: NaiveDate, deadline_day: u32) {
    let s = Settings { reporting_since: Some(since), report_deadline_day: deadline_day };
    chibo::db::settings::set(pool, &Actor::cli(), s).await.unwrap();
}

async fn run(pool: &PgPool, unit: &str, from: &str, to: &str, today: NaiveDate) -> Report {
    let unit = units::by_code(pool, unit).await.unwrap().unwrap();
    report(pool, unit, Period::parse(from, to).unwrap(), today).await.unwrap()
}

/// (completeness, timeliness, approved) as (numerator, denominator) each.
fn three(metrics: &[(Metric, chibo::domain::metrics::Figure)]) -> [(i64, i64); 3] {
    [Metric::ReportingCompleteness, Metric::ReportingTimeliness, Metric::ReportsApproved].map(|k| {
        let f = metrics.iter().find(|(m, _)| *m == k).expect("every metric").1;
        (f.numerator, f.denominator)
    })
}

fn child<'a>(r: &'a Report, code: &str) -> &'a chibo::db::metrics::ChildReport {
    r.children.iter().find(|c| c.unit.code == code).unwrap_or_else(|| panic!("{code} is a child"))
}

/// The month and quarter rollups and the cell-month sums as kept by the triggers equal a rebuild from the raw rows.
async fn assert_stores_agree(pool: &PgPool, when: &str) {
    async fn rows(tx: &mut sqlx::PgConnection) -> std::collections::BTreeSet<String> {
        sqlx::query_scalar(
            "select 'm' || r::text from unit_month_rollup r
             where (open_cells, regular_cells, present, expected, submitted, on_time, approved) <> (0, 0, 0, 0, 0, 0, 0)
             union all select 'c' || r::text from cell_month_stats r",
        )
        .fetch_all(&mut *tx)
        .await
        .unwrap()
        .into_iter()
        .collect()
    }
    let mut tx = pool.begin().await.unwrap();
    let kept = rows(&mut tx).await;
    sqlx::query("select rebuild_metric_stores()").execute(&mut *tx).await.unwrap();
    let rebuilt = rows(&mut tx).await;
    tx.rollback().await.unwrap();
    let missing: Vec<_> = rebuilt.difference(&kept).take(5).collect();
    let extra: Vec<_> = kept.difference(&rebuilt).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty(), "stores {when}: missing {missing:?}, extra {extra:?}");
}

#[sqlx::test]
async fn completeness_timeliness_and_approval_count_the_cell_months_due(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let pool = &app.pool;
    // reports from March 2026, due on the 5th of the next month; B moves from Xuân Lập to YY on 1 May 2026
    settings(pool, m(2026, 3), 5).await;
    let moved = app.import(&[("moves.csv", "code,parent_code,effective_on\nB,YY,2026-05-01\n")]).await;
    assert!(moved.problems.is_empty(), "{:?}", moved.problems);
    // A: every month on time; March and April approved
    for (month, approved) in [(3, true), (4, true), (5, false), (6, false)] {
        let on = d(2026, month + 1, 4);
        let state = if approved { "approved" } else { "submitted" };
        report_row(pool, "A", m(2026, month), state, Some(on), approved.then(|| on + chrono::Days::new(2))).await;
    }
    // B: late twice (March approved), then never; a report before reporting_since and one not yet due count nowhere
    report_row(pool, "B", m(2026, 3), "approved", Some(d(2026, 4, 10)), Some(d(2026, 4, 12))).await;
    report_row(pool, "B", m(2026, 4), "submitted", Some(d(2026, 5, 6)), None).await;
    report_row(pool, "B", m(2026, 2), "approved", Some(d(2026, 3, 1)), Some(d(2026, 3, 2))).await;
    report_row(pool, "B", m(2026, 7), "submitted", Some(d(2026, 7, 31)), None).await;
    // C never submits, except June on time, which came back returned: on time, but not submitted now
    report_row(pool, "C", m(2026, 6), "returned", Some(d(2026, 7, 3)), None).await;
    assert_stores_agree(pool, "after the reports were written").await;

    // on 20 July June is due (its deadline, 5 July, has passed), July is not: March–June, three cells each
    let today = d(2026, 7, 20);
    let r = run(pool, "P", "2026-01", "2026-07", today).await;
    assert_eq!(r.reporting, Reporting::Counted { from: m(2026, 3), to: m(2026, 6) });
    assert_eq!(three(&r.metrics), [(6, 12), (5, 12), (3, 12)]);
    // each cell-month where the cell stood: B's March and April under D1, its May and June under D2
    assert_eq!(three(&child(&r, "D1").metrics), [(6, 6), (4, 6), (3, 6)]);
    assert_eq!(three(&child(&r, "D2").metrics), [(0, 6), (1, 6), (0, 6)]);
    let xl = run(pool, "XL", "2026-01", "2026-07", today).await;
    assert_eq!(three(&child(&xl, "B").metrics), [(2, 2), (0, 2), (1, 2)]);
    assert_eq!(three(&child(&xl, "A").metrics), [(4, 4), (4, 4), (2, 4)]);
    let yy = run(pool, "YY", "2026-01", "2026-07", today).await;
    assert_eq!(three(&child(&yy, "B").metrics), [(0, 2), (0, 2), (0, 2)]);
    let b = run(pool, "B", "2026-01", "2026-07", today).await;
    assert_eq!(three(&b.metrics), [(2, 4), (0, 4), (1, 4)], "B's own page counts all its months");

    // on 5 July June's deadline has not passed: March–May only
    let r = run(pool, "P", "2026-01", "2026-07", d(2026, 7, 5)).await;
    assert_eq!(r.reporting, Reporting::Counted { from: m(2026, 3), to: m(2026, 5) });
    assert_eq!(three(&r.metrics), [(5, 9), (3, 9), (3, 9)]);

    // a period before reporting_since, and one with nothing due yet: no figure, and the report says why
    let r = run(pool, "P", "2025-01", "2026-02", today).await;
    assert_eq!(r.reporting, Reporting::BeforeSince { since: m(2026, 3) });
    assert_eq!(three(&r.metrics), [(0, 0); 3]);
    assert_eq!(r.figure(Metric::ReportingCompleteness).value, None, "no 0 %");
    let r = run(pool, "P", "2026-07", "2026-07", today).await;
    assert_eq!(r.reporting, Reporting::NothingDue);
    assert_eq!(r.figure(Metric::ReportingTimeliness).value, None);
    assert!(chibo::web::report::json(&r)["reporting"].is_null());

    // the deadline moves to the 10th: B's March (submitted 10 April) and April (6 May) become on time
    settings(pool, m(2026, 3), 10).await;
    let r = run(pool, "P", "2026-01", "2026-07", today).await;
    assert_eq!(three(&r.metrics), [(6, 12), (7, 12), (3, 12)]);
    assert_eq!(three(&child(&r, "D1").metrics), [(6, 6), (6, 6), (3, 6)]);
    assert_stores_agree(pool, "after the deadline day changed").await;

    // approving, returning and deleting reports move the figures at once
    sqlx::query(
        "update cell_reports set state = 'approved', approved_on = date '2026-07-15'
         where state = 'submitted' and cell_id = (select id from units where code = 'A')",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "update cell_reports set state = 'returned', returned_reason = 'Sai số liệu'
         where month = '2026-04-01' and cell_id = (select id from units where code = 'B')",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("delete from cell_reports where cell_id = (select id from units where code = 'C')")
        .execute(pool)
        .await
        .unwrap();
    let r = run(pool, "P", "2026-01", "2026-07", today).await;
    assert_eq!(three(&r.metrics), [(5, 12), (6, 12), (5, 12)]);
    assert_stores_agree(pool, "after approving, returning and deleting reports").await;

    // no reporting_since: nothing is required
    sqlx::query("delete from settings where key = 'reporting_since'").execute(pool).await.unwrap();
    let r = run(pool, "P", "2026-01", "2026-07", today).await;
    assert_eq!(r.reporting, Reporting::NotRequired);
    assert_eq!(three(&r.metrics), [(0, 0); 3]);
}

/// The rules' SQL form (migration 0013, used by the report's query) and their Rust form give one answer.
#[sqlx::test]
async fn the_deadline_rules_agree_in_sql_and_rust(pool: PgPool) {
    let rows: Vec<(NaiveDate, i32, NaiveDate, NaiveDate)> = sqlx::query_as(
        "select day::date, k, last_due_month(day::date, k), report_deadline(day::date, k)
         from generate_series(date '2025-12-01', date '2027-03-31', interval '1 day') day, generate_series(1, 28) k",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(rows.len() > 10_000);
    for (day, k, last_due, deadline) in rows {
        let s = Settings { reporting_since: None, report_deadline_day: k as u32 };
        assert_eq!(s.last_due_month(day), last_due, "last due month on {day}, deadline day {k}");
        assert_eq!(s.deadline(day), deadline, "deadline of {day}, deadline day {k}");
    }
}

#[sqlx::test]
async fn the_dashboard_the_exports_and_the_follow_up_show_reporting(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let today = time::today();
    let last_due = Settings { reporting_since: None, report_deadline_day: 5 }.last_due_month(today);
    settings(&app.pool, add_months(last_due, -5), 5).await;
    // A reports every month due; B and C never
    for k in 0..6 {
        let month = add_months(last_due, -k);
        report_row(&app.pool, "A", month, "submitted", Some(month + chrono::Days::new(20)), None).await;
    }
    let mut clerk = app.login("clerk").await;
    let from = add_months(last_due, -5).format("%Y-%m").to_string();
    let to = last_due.format("%Y-%m").to_string();
    let text = clerk.get(&format!("/dashboard/XL?from={from}&to={to}")).await.text();
    for label in
        ["Tỷ lệ chi bộ nộp báo cáo tháng", "Tỷ lệ chi bộ nộp báo cáo đúng hạn", "Tỷ lệ báo cáo tháng được duyệt"]
    {
        assert!(text.contains(label), "{label} missing from {text}");
    }
    assert!(text.contains("50,00 %") && text.contains("6 / 12"), "A of A and B reported: {text}");

    // a month with nothing due says so, with no 0 %
    let now = time::month_start(today).format("%Y-%m").to_string();
    let text = clerk.get(&format!("/dashboard/XL?from={now}&to={now}")).await.text();
    assert!(text.contains("Chưa có tháng nào trong kỳ này quá hạn nộp báo cáo"), "{text}");

    // the exports, the printed report and the API carry the three metrics
    let csv =
        String::from_utf8(clerk.get_bytes(&format!("/dashboard/XL/export.csv?from={from}&to={to}")).await).unwrap();
    assert!(csv.contains("Tỷ lệ chi bộ nộp báo cáo tháng,reporting_completeness,6,12,\"50,00 %\""), "{csv}");
    let print = clerk.get(&format!("/dashboard/XL/report?from={from}&to={to}")).await.text();
    assert!(print.contains("Tỷ lệ báo cáo tháng được duyệt"), "{print}");
    let xl = units::by_code(&app.pool, "XL").await.unwrap().unwrap();
    let r = report(&app.pool, xl, Period::parse(&from, &to).unwrap(), today).await.unwrap();
    let json = chibo::web::report::json(&r);
    assert_eq!(json["metrics"]["reporting_completeness"]["numerator"], 6);
    assert_eq!(json["metrics"]["reporting_timeliness"]["denominator"], 12);
    assert_eq!(json["metrics"]["reports_approved"]["value"], 0.0);
    assert!(json["metrics"]["attendance_rate"].is_object(), "the old keys stay");
    assert_eq!(json["reporting"], serde_json::json!({"from": from, "to": to}));
    assert!(
        chibo::web::report::csv(&r).contains(",reporting_timeliness,6,12,0.5,,\n"),
        "{}",
        chibo::web::report::csv(&r)
    );

    // B is overdue: on the watch list with the months; A is not
    let lists = chibo::db::followup::follow_up(&app.pool, xl_id(&app.pool).await, today).await.unwrap();
    let reasons =
        |code: &str| lists.watch.iter().find(|c| c.code == code).map(|c| c.reasons.clone()).unwrap_or_default();
    let overdue = |month| Reason::ReportOverdue { month };
    let b = reasons("B");
    for k in 0..3 {
        assert!(b.contains(&overdue(add_months(last_due, -k))), "{b:?}");
    }
    assert!(!reasons("A").iter().any(|r| matches!(r, Reason::ReportOverdue { .. })), "{:?}", reasons("A"));
    let text = clerk.get("/followup/XL").await.text();
    let words = format!("Quá hạn nộp báo cáo tháng {}", time::format_month(last_due));
    assert!(text.contains(&words), "{words} missing from {text}");
}

async fn xl_id(pool: &PgPool) -> i64 {
    units::by_code(pool, "XL").await.unwrap().unwrap().id
}
