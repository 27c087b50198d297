//! Dashboards against the programme's targets: KPI tiles, a sortable table of children that drills down, the
//! monthly trend and the ratings, Regulation 18 by group; its CSV export and a printable A4 report. Every figure
//! comes from `db::metrics` (the same as `chibo report` and the API).
use crate::web::view::Label;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use chrono::Datelike;
use chrono::NaiveDate;
use serde::Deserialize;

use super::cache::{PageKey, Viewer};
use super::chart;
use super::extract::Path;
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::metrics::{self, ChildReport, MonthFigures, Report};
use crate::db::units::{self, Unit};
use crate::domain::metrics::{Figure, METRICS, Period, add_months, metric_label_vi};
use crate::domain::time;
use crate::i18n;

/// A metric's name in the request's language.
fn metric_label(key: &str) -> &'static str {
    crate::tr(&format!("metric.{key}"))
}

pub fn routes() -> Routes {
    Routes::default()
        .get("/dashboard/{code}", Access::ReadUnit, show)
        .get("/dashboard/{code}/export.csv", Access::ReadUnit, export_csv)
        .get("/dashboard/{code}/export.xlsx", Access::ReadUnit, export_xlsx)
        .get("/dashboard/{code}/report", Access::ReadUnit, printable)
}

#[derive(Deserialize, Default)]
pub struct DashboardQuery {
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    desc: Option<String>,
}

impl DashboardQuery {
    /// The period asked for; this year to date when none (or a malformed one) is given.
    fn period(&self) -> (Period, bool) {
        let today = time::today();
        let default = Period {
            from: today.with_month(1).and_then(|d| d.with_day(1)).expect("1 January"),
            to: time::month_start(today),
        };
        match (&self.from, &self.to) {
            (Some(f), Some(t)) => match Period::parse(f, t) {
                Some(p) => (p, false),
                None => (default, true),
            },
            _ => (default, false),
        }
    }
}

/// The metrics a dashboard shows in tiles and columns.
const SHOWN: [&str; 5] =
    ["attendance_rate", "good_meeting_share", "meeting_regularity", "thematic_coverage", "reg18_participation"];

pub struct Tile {
    pub label: &'static str,
    pub value: String,
    pub fraction: String,
    pub target: Option<String>,
    pub gap: Option<String>,
    pub met: Option<bool>,
    /// the monthly values as a small inline SVG; empty for metrics not counted by month
    pub trend: String,
    /// a word under the figure (the month in progress, for regularity)
    pub note: Option<String>,
    /// the figure is above 100 % (officials attended more often than required)
    pub over_100: bool,
}

fn tile(key: &'static str, f: &Figure, months: &[MonthFigures]) -> Tile {
    let monthly = |pick: fn(&MonthFigures) -> Figure| months.iter().map(|m| pick(m).value).collect::<Vec<_>>();
    let series = match key {
        "attendance_rate" => monthly(|m| m.attendance_rate),
        "good_meeting_share" => monthly(|m| m.good_meeting_share),
        "meeting_regularity" => monthly(|m| m.meeting_regularity),
        _ => Vec::new(),
    };
    let trend = chart::spark(&series, f.target, &crate::tr1("dash.spark", metric_label(key)));
    Tile {
        trend,
        label: metric_label(key),
        value: i18n::percent(f.value),
        fraction: format!("{} / {}", i18n::count(f.numerator), i18n::count(f.denominator)),
        target: f.target.map(|t| i18n::percent(Some(t))),
        gap: f.gap().map(|g| {
            let pts = i18n::percent(Some(g.abs())).replace(" %", "").replace('%', "");
            format!("{}{}", if g < 0.0 { "−" } else { "+" }, crate::tr1("dash.points", pts))
        }),
        met: f.met,
        note: None,
        over_100: f.value.is_some_and(|v| v > 1.0),
    }
}

pub struct Row {
    pub code: String,
    pub name: String,
    pub cells: Vec<(String, Option<bool>)>,
    /// the months the unit counts for here, when not the whole period ("từ 07/2025")
    pub covers: Option<String>,
}

pub struct Preset {
    pub label: &'static str,
    pub from: String,
    pub to: String,
}

fn presets() -> Vec<Preset> {
    let now = time::month_start(time::today());
    let ym = |d: chrono::NaiveDate| d.format("%Y-%m").to_string();
    let q_start = add_months(now, -(((now.month() - 1) % 3) as i32));
    let last_q = add_months(q_start, -3);
    vec![
        Preset { label: crate::tr("dash.this_month"), from: ym(now), to: ym(now) },
        Preset { label: crate::tr("dash.last_quarter"), from: ym(last_q), to: ym(add_months(last_q, 2)) },
        Preset { label: crate::tr("dash.this_year"), from: format!("{}-01", now.year()), to: ym(now) },
        Preset {
            label: crate::tr("dash.last_year"),
            from: format!("{}-01", now.year() - 1),
            to: format!("{}-12", now.year() - 1),
        },
        Preset { label: crate::tr("dash.programme"), from: "2020-01".into(), to: "2025-12".into() },
    ]
}

#[derive(Template)]
#[template(path = "dashboard/show.html")]
struct DashboardPage {
    layout: Layout,
    unit: Unit,
    period_label: String,
    from: String,
    to: String,
    bad_period: bool,
    tiles: Vec<Tile>,
    columns: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    sort: String,
    desc: bool,
    trend: String,
    ratings: String,
    ratings_legend: Vec<(&'static str, String, &'static str)>,
    reg18: Vec<(&'static str, String, String)>,
    presets: Vec<Preset>,
    query: String,
    /// no programme sets a target for the period: said in words, and no target legend
    no_targets: bool,
}

impl DashboardPage {
    /// Whether a row counts only part of the period (its months are marked, and explained once under the table).
    fn any_partial(&self) -> bool {
        self.rows.iter().any(|r| r.covers.is_some())
    }

    fn sort_link(&self, key: &str) -> String {
        let desc = self.sort == key && !self.desc;
        format!("?from={}&to={}&sort={key}{}", self.from, self.to, if desc { "&desc=1" } else { "" })
    }
}

async fn load(state: &AppState, user: &CurrentUser, code: &str, q: &DashboardQuery) -> AppResult<(Unit, Report, bool)> {
    let unit = units::by_code(state.pool(), code).await?.ok_or(AppError::NotFound)?;
    user.require_scope(state, unit.id).await?;
    let (period, bad) = q.period();
    Ok((unit.clone(), metrics::report(state.pool(), unit, period).await?, bad))
}

fn sorted_children<'a>(report: &'a Report, sort: &str, desc: bool) -> Vec<&'a ChildReport> {
    let mut children: Vec<&ChildReport> = report.children.iter().collect();
    if METRICS.contains(&sort) {
        children.sort_by(|a, b| {
            let (x, y) = (a.figure(sort).value.unwrap_or(-1.0), b.figure(sort).value.unwrap_or(-1.0));
            x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    if desc {
        children.reverse();
    }
    children
}

/// The children table's rows: each shown metric as a percentage with its met / not met.
fn table_rows(children: Vec<&ChildReport>) -> Vec<Row> {
    children
        .into_iter()
        .map(|c| Row {
            code: c.unit.code.clone(),
            name: c.unit.name.clone(),
            cells: SHOWN.iter().map(|k| (i18n::percent(c.figure(k).value), c.figure(k).met)).collect(),
            covers: c.covers.map(|(from, until)| covers_label(from, until)),
        })
        .collect()
}

/// "từ 07/2025", "đến 06/2025" or "07/2025 – 09/2025": the months a child's row counts.
fn covers_label(from: Option<NaiveDate>, until: Option<NaiveDate>) -> String {
    match (from, until) {
        (Some(f), Some(u)) => format!("{} – {}", time::format_month(f), time::format_month(u)),
        (Some(f), None) => crate::tr1("dash.covers_from", time::format_month(f)),
        (None, Some(u)) => crate::tr1("dash.covers_until", time::format_month(u)),
        (None, None) => String::new(),
    }
}

/// The trend's steps: months, or over more than two years quarters (a month's wobble is noise over 72 of them),
/// each quarter summing its months' counts. With their labels ("03/2024", "Q1/2024").
fn trend_steps(months: Vec<MonthFigures>) -> Vec<(String, MonthFigures)> {
    if months.len() <= 24 {
        return months.into_iter().map(|m| (time::format_month(m.month), m)).collect();
    }
    let sum = |a: Figure, b: Figure| Figure::new(a.numerator + b.numerator, a.denominator + b.denominator, a.target);
    let mut steps: Vec<(String, MonthFigures)> = Vec::new();
    for m in months {
        let label = crate::tr2("dash.quarter", m.month.month0() / 3 + 1, m.month.year());
        match steps.last_mut() {
            Some((last, q)) if *last == label => {
                q.attendance_rate = sum(q.attendance_rate, m.attendance_rate);
                q.good_meeting_share = sum(q.good_meeting_share, m.good_meeting_share);
                q.meeting_regularity = sum(q.meeting_regularity, m.meeting_regularity);
                for (total, r) in q.ratings.iter_mut().zip(m.ratings) {
                    *total += r;
                }
            }
            _ => steps.push((label, m)),
        }
    }
    steps
}

fn period_label(p: &Period) -> String {
    if p.from == p.to {
        crate::tr1("dash.month", time::format_month(p.from))
    } else {
        format!("{} – {}", time::format_month(p.from), time::format_month(p.to))
    }
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<DashboardQuery>,
) -> AppResult<Html<String>> {
    // a sort key that is not a metric sorts nothing and marks no column
    let sort = q.sort.clone().filter(|s| METRICS.contains(&s.as_str())).unwrap_or_default();
    let desc = q.desc.is_some();
    let (period, bad_period) = q.period();
    let key = PageKey {
        path: format!("/dashboard/{code}"),
        from: period.from,
        to: period.to,
        flags: format!("{sort}|{desc}|{bad_period}|{}", i18n::lang().code()),
        role: user.role(),
        scope_unit: user.user.unit_id,
        today: time::today(),
    };
    let viewer = Viewer { name: &user.user.display_name, csrf: &user.csrf };
    // a stored page was rendered after the same scope check, for the same top of scope, on the same data
    if let Some(page) = state.cache().page(&key, &viewer) {
        return Ok(Html(page));
    }
    let generation = state.cache().data_generation();
    let (unit, report, bad_period) = load(&state, &user, &code, &q).await?;
    let (labels, months): (Vec<String>, Vec<MonthFigures>) =
        trend_steps(metrics::monthly(state.pool(), unit.id, report.period).await?).into_iter().unzip();
    let rows = table_rows(sorted_children(&report, &sort, desc));
    let target = report.figure("attendance_rate").target;
    let points: Vec<(String, Option<f64>)> =
        labels.into_iter().zip(&months).map(|(label, m)| (label, m.attendance_rate.value)).collect();
    let totals = months.iter().fold([0i64; 4], |mut acc, m| {
        for (a, r) in acc.iter_mut().zip(m.ratings) {
            *a += r;
        }
        acc
    });
    let names: Vec<&str> = crate::domain::meeting::Rating::ALL.iter().map(|r| r.label()).collect();
    let classes = ["good", "fair", "average", "weak"];
    let parts: Vec<(&str, i64, &str)> = (0..4).map(|i| (names[i], totals[i], classes[i])).collect();
    let rated: i64 = totals.iter().sum();
    let ancestors = units::ancestors(state.pool(), unit.id, time::today()).await?;
    let page = DashboardPage {
        layout: Layout::shown_to(&user, &Viewer::MARKS).with_units(&ancestors, user.user.unit_id).dashboards(),
        period_label: period_label(&report.period),
        from: report.period.from_label(),
        to: report.period.to_label(),
        bad_period,
        tiles: SHOWN
            .iter()
            .map(|k| {
                let mut t = tile(k, &report.figure(k), &months);
                if *k == "reg18_participation" && t.over_100 {
                    t.note = Some(crate::tr("dash.over_required").to_string());
                }
                if let (&"meeting_regularity", Some(p)) = (k, report.progress) {
                    t.note = Some(crate::tr3(
                        "dash.month_progress",
                        time::format_month(p.month),
                        i18n::count(p.met),
                        i18n::count(p.open),
                    ));
                }
                t
            })
            .collect(),
        columns: SHOWN.iter().map(|k| (*k, metric_label(k))).collect(),
        rows,
        trend: chart::line(&points, target, crate::tr("dash.trend")),
        ratings: chart::stacked_bar(&parts, crate::tr("dash.ratings")),
        ratings_legend: (0..4)
            .map(|i| (names[i], i18n::percent((rated > 0).then(|| totals[i] as f64 / rated as f64)), classes[i]))
            .collect(),
        reg18: report
            .reg18_by_group
            .iter()
            .map(|(g, f)| {
                let label = crate::domain::meeting::OfficialGroup::parse(g).map(|x| x.label()).unwrap_or_default();
                let value = if f.value.is_some_and(|v| v > 1.0) {
                    format!("{} ({})", i18n::percent(f.value), crate::tr("dash.over_required_short"))
                } else {
                    i18n::percent(f.value)
                };
                (label, format!("{} / {}", i18n::count(f.numerator), i18n::count(f.denominator)), value)
            })
            .collect(),
        presets: presets(),
        query: format!("from={}&to={}", report.period.from_label(), report.period.to_label()),
        no_targets: !report.has_targets(),
        sort,
        desc,
        unit,
    };
    Ok(Html(state.cache().store_page(key, generation, page.render()?, &viewer)))
}

/// The dashboard's table as CSV for people, as the workbook has it: Vietnamese headings, percentages as a
/// Vietnamese reader writes them ("85,94 %"), "Đạt" / "Chưa đạt", text a spreadsheet would run made inert. The
/// machine form (metric keys, ratios, true/false) is `chibo report --format csv` and the API's JSON.
async fn export_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<DashboardQuery>,
) -> AppResult<Response> {
    use crate::db::metrics::csv_field;
    use crate::domain::metrics::{Lang, format_percent};
    let (unit, report, _) = load(&state, &user, &code, &q).await?;
    let file = format!("chibo-{}-{}-{}.csv", unit.code, report.period.from_label(), report.period.to_label());
    // a byte order mark, so that Excel opens the UTF-8 names with their diacritics
    let mut body = format!("\u{feff}{}\n", TABLE_HEADINGS.join(","));
    for (unit, label, key, f) in table_lines(&report) {
        let percent = |v: Option<f64>| v.map(|v| format_percent(Some(v), Lang::Vi)).unwrap_or_default();
        let met = f.met.map(|m| if m { "Đạt" } else { "Chưa đạt" }).unwrap_or_default();
        let fields = [
            csv_field(&unit.code),
            csv_field(&unit.name),
            csv_field(&label),
            csv_field(&key),
            f.numerator.to_string(),
            f.denominator.to_string(),
            csv_field(&percent(f.value)),
            csv_field(&percent(f.target)),
            met.to_string(),
        ];
        body.push_str(&fields.join(","));
        body.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        body,
    )
        .into_response())
}

/// The headings of the tables for people (CSV and XLSX).
const TABLE_HEADINGS: [&str; 9] =
    ["Mã đơn vị", "Đơn vị", "Chỉ tiêu", "Mã chỉ tiêu", "Tử số", "Mẫu số", "Tỷ lệ", "Chỉ tiêu Đề án", "Đánh giá"];

/// The rows of the tables for people (CSV and XLSX): the unit's figures and its Regulation 18 groups, then each
/// child's figures; with the label and the key of each.
fn table_lines(report: &Report) -> Vec<(&Unit, String, String, Figure)> {
    let mut lines: Vec<(&Unit, String, String, Figure)> =
        report.metrics.iter().map(|(k, f)| (&report.unit, metric_label_vi(k).to_string(), k.to_string(), *f)).collect();
    for (g, f) in &report.reg18_by_group {
        let group = crate::domain::meeting::OfficialGroup::parse(g).map(|x| x.label_vi()).unwrap_or_default();
        let label = format!("{} — {group}", metric_label_vi("reg18_participation"));
        lines.push((&report.unit, label, format!("reg18_participation.{g}"), *f));
    }
    for c in &report.children {
        lines.extend(c.metrics.iter().map(|(k, f)| (&c.unit, metric_label_vi(k).to_string(), k.to_string(), *f)));
    }
    lines
}

/// The same table as the CSV, as a workbook: counts as numbers, values and targets as numbers formatted as
/// percentages, so that a clerk can compute with them.
async fn export_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<DashboardQuery>,
) -> AppResult<Response> {
    let (unit, report, _) = load(&state, &user, &code, &q).await?;
    let bytes = xlsx(&report).map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
    let file = format!("chibo-{}-{}-{}.xlsx", unit.code, report.period.from_label(), report.period.to_label());
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        bytes,
    )
        .into_response())
}

fn xlsx(report: &Report) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Kết quả")?;
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.00%");
    for (c, h) in TABLE_HEADINGS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (row, (unit, label, key, f)) in (1u32..).zip(table_lines(report)) {
        sheet.write_string(row, 0, &unit.code)?;
        sheet.write_string(row, 1, &unit.name)?;
        sheet.write_string(row, 2, &label)?;
        sheet.write_string(row, 3, &key)?;
        sheet.write_number(row, 4, f.numerator as f64)?;
        sheet.write_number(row, 5, f.denominator as f64)?;
        if let Some(v) = f.value {
            sheet.write_number_with_format(row, 6, v, &percent)?;
        }
        if let Some(t) = f.target {
            sheet.write_number_with_format(row, 7, t, &percent)?;
        }
        if let Some(m) = f.met {
            sheet.write_string(row, 8, if m { "Đạt" } else { "Chưa đạt" })?;
        }
    }
    sheet.set_column_width(1, 36)?;
    sheet.set_column_width(2, 44)?;
    book.save_to_buffer()
}

#[derive(Template)]
#[template(path = "dashboard/report.html")]
struct PrintPage {
    unit: Unit,
    issuer: String,
    period_label: String,
    place_date: String,
    tiles: Vec<Tile>,
    columns: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    /// no programme sets a target for the period: the target and assessment columns give way to a sentence
    no_targets: bool,
}

/// An A4 report of a unit and period, laid out like an official summary (in the user's language; Vietnamese first).
async fn printable(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<DashboardQuery>,
) -> AppResult<Html<String>> {
    let (unit, report, _) = load(&state, &user, &code, &q).await?;
    let today = time::today();
    let issuer = units::ancestors(state.pool(), unit.id, today)
        .await?
        .iter()
        .rev()
        .nth(1)
        .map(|p| p.name.to_uppercase())
        .unwrap_or_default();
    let page = PrintPage {
        issuer,
        period_label: period_label(&report.period),
        place_date: today.format(crate::tr("minutes.date_format")).to_string(),
        tiles: METRICS.iter().map(|k| tile(k, &report.figure(k), &[])).collect(),
        columns: SHOWN.iter().map(|k| (*k, metric_label(k))).collect(),
        rows: table_rows(sorted_children(&report, "", false)),
        no_targets: !report.has_targets(),
        unit,
    };
    Ok(Html(page.render()?))
}
