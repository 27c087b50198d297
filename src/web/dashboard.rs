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
use crate::domain::metrics::{Figure, Period, Reporting, add_months};
use crate::domain::time;
use crate::domain::vocab::{Metric, Rating};
use crate::i18n;

pub fn routes() -> Routes {
    Routes::default()
        .get("/dashboard/{code}", Access::ReadUnit, show)
        .get("/dashboard/{code}/export.csv", Access::ReadUnit, export::<false>)
        .get("/dashboard/{code}/export.xlsx", Access::ReadUnit, export::<true>)
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
    /// The period asked for; this year to date (on `today`) when none (or a malformed one) is given.
    fn period(&self, today: NaiveDate) -> (Period, bool) {
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

/// The metrics a dashboard shows in tiles and columns (and, in tiles only, those of `HD42`).
pub(super) const SHOWN: [Metric; 8] = [
    Metric::AttendanceRate,
    Metric::GoodMeetingShare,
    Metric::MeetingRegularity,
    Metric::ThematicCoverage,
    Metric::Reg18Participation,
    Metric::ReportingCompleteness,
    Metric::ReportingTimeliness,
    Metric::ReportsApproved,
];

/// The metrics of the monthly reporting cycle (DOMAIN.md §10): counted over the months due only.
const REPORTING: [Metric; 3] = [Metric::ReportingCompleteness, Metric::ReportingTimeliness, Metric::ReportsApproved];

/// Under a reporting metric's figure: which months it counts, or why none (a period with nothing due shows no
/// 0 %, and says so).
fn reporting_note(report: &Report) -> Option<String> {
    match report.reporting {
        Reporting::NotRequired => Some(crate::tr("dash.reporting_not_required").to_string()),
        Reporting::BeforeSince { since } => Some(crate::tr1("dash.reporting_before", time::format_month(since))),
        Reporting::NothingDue => Some(crate::tr("dash.reporting_nothing_due").to_string()),
        Reporting::Counted { from, to } if (from, to) != (report.period.from, report.period.to) => {
            Some(crate::tr2("dash.reporting_counted", time::format_month(from), time::format_month(to)))
        }
        Reporting::Counted { .. } => None,
    }
}

/// A report's tile for `metric`, with the note of the reporting metrics.
fn report_tile(report: &Report, metric: Metric, months: &[MonthFigures]) -> Tile {
    let mut t = tile(metric, &report.figure(metric), months);
    if REPORTING.contains(&metric) {
        t.note = reporting_note(report);
        t.reporting = true;
    }
    t
}

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
    /// one of the monthly reporting cycle's metrics (shown in their own group)
    pub reporting: bool,
    /// one of the 2025 meeting rules' metrics (DOMAIN.md §11, their own group)
    pub hd42: bool,
}

fn tile(metric: Metric, f: &Figure, months: &[MonthFigures]) -> Tile {
    let monthly = |pick: fn(&MonthFigures) -> Figure| months.iter().map(|m| pick(m).value).collect::<Vec<_>>();
    let series = match metric {
        Metric::AttendanceRate => monthly(|m| m.attendance_rate),
        Metric::GoodMeetingShare => monthly(|m| m.good_meeting_share),
        Metric::MeetingRegularity => monthly(|m| m.meeting_regularity),
        _ => Vec::new(),
    };
    let trend = chart::spark(&series, f.target, &crate::tr1("dash.spark", metric.label()));
    Tile {
        trend,
        label: metric.label(),
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
        reporting: false,
        hd42: HD42.contains(&metric),
    }
}

/// The metrics of the 2025 meeting rules (HD 42, DOMAIN.md §11): shown in a group of their own.
const HD42: [Metric; 2] = [Metric::DurationCompliance, Metric::OnlineShare];

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

fn presets(today: NaiveDate) -> Vec<Preset> {
    let now = time::month_start(today);
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
    columns: Vec<(Metric, &'static str)>,
    rows: Vec<Row>,
    /// the column the table is sorted by (none: by name)
    sort: Option<Metric>,
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

    /// Whether the table is sorted by this column.
    fn sorted_by(&self, metric: &Metric) -> bool {
        self.sort == Some(*metric)
    }

    fn sort_link(&self, key: &str) -> String {
        let desc = self.sort.is_some_and(|s| s.as_str() == key) && !self.desc;
        format!("?from={}&to={}&sort={key}{}", self.from, self.to, if desc { "&desc=1" } else { "" })
    }
}

async fn load(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
    q: &DashboardQuery,
    today: NaiveDate,
) -> AppResult<(Unit, Report, bool)> {
    let unit = units::by_code(state.pool(), code).await?.ok_or(AppError::NotFound)?;
    user.require_scope(state, unit.id).await?;
    let (period, bad) = q.period(today);
    Ok((unit.clone(), metrics::report(state.pool(), unit, period, today).await?, bad))
}

fn sorted_children(report: &Report, sort: Option<Metric>, desc: bool) -> Vec<&ChildReport> {
    let mut children: Vec<&ChildReport> = report.children.iter().collect();
    if let Some(sort) = sort {
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
            cells: SHOWN.iter().map(|m| (i18n::percent(c.figure(*m).value), c.figure(*m).met)).collect(),
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
    let sort = q.sort.as_deref().and_then(Metric::parse);
    let desc = q.desc.is_some();
    let today = time::today();
    let (period, bad_period) = q.period(today);
    let key = PageKey {
        path: format!("/dashboard/{code}"),
        from: period.from,
        to: period.to,
        flags: format!("{}|{desc}|{bad_period}|{}", sort.map(Metric::as_str).unwrap_or_default(), i18n::lang().code()),
        role: user.role(),
        scope_unit: user.user.unit_id,
        today,
    };
    let viewer = Viewer { name: &user.user.display_name, csrf: &user.csrf };
    // a stored page (or one being rendered) was rendered after the same scope check, for the same top of scope,
    // on the same data
    let cache = state.cache();
    let page = cache.page_or_render(key, &viewer, || render(&state, &user, &code, &q, today, sort, desc)).await?;
    Ok(Html(page))
}

/// The dashboard page, rendered with [`Viewer::MARKS`] for the cache to fill in.
async fn render(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
    q: &DashboardQuery,
    today: NaiveDate,
    sort: Option<Metric>,
    desc: bool,
) -> AppResult<String> {
    let (unit, report, bad_period) = load(state, user, code, q, today).await?;
    let (labels, months): (Vec<String>, Vec<MonthFigures>) =
        trend_steps(metrics::monthly(state.pool(), unit.id, report.period, today).await?).into_iter().unzip();
    let rows = table_rows(sorted_children(&report, sort, desc));
    let target = report.figure(Metric::AttendanceRate).target;
    let points: Vec<(String, Option<f64>)> =
        labels.into_iter().zip(&months).map(|(label, m)| (label, m.attendance_rate.value)).collect();
    let totals = months.iter().fold([0i64; 4], |mut acc, m| {
        for (a, r) in acc.iter_mut().zip(m.ratings) {
            *a += r;
        }
        acc
    });
    let names: Vec<&str> = Rating::ALL.iter().map(|r| r.label()).collect();
    let classes = ["good", "fair", "average", "weak"];
    let parts: Vec<(&str, i64, &str)> = (0..4).map(|i| (names[i], totals[i], classes[i])).collect();
    let rated: i64 = totals.iter().sum();
    let ancestors = units::ancestors(state.pool(), unit.id, today).await?;
    let page = DashboardPage {
        layout: Layout::shown_to(user, &Viewer::MARKS).with_units(&ancestors, user.user.unit_id).dashboards(),
        period_label: period_label(&report.period),
        from: report.period.from_label(),
        to: report.period.to_label(),
        bad_period,
        // the 2025 rules' metrics as tiles of their own (the children's table keeps to the shown metrics)
        tiles: SHOWN
            .iter()
            .chain(HD42.iter())
            .map(|m| {
                let mut t = report_tile(&report, *m, &months);
                if *m == Metric::Reg18Participation && t.over_100 {
                    t.note = Some(crate::tr("dash.over_required").to_string());
                }
                if let (Metric::MeetingRegularity, Some(p)) = (m, report.progress) {
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
        columns: SHOWN.iter().map(|m| (*m, m.label())).collect(),
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
                let label = g.label();
                let value = if f.value.is_some_and(|v| v > 1.0) {
                    format!("{} ({})", i18n::percent(f.value), crate::tr("dash.over_required_short"))
                } else {
                    i18n::percent(f.value)
                };
                (label, format!("{} / {}", i18n::count(f.numerator), i18n::count(f.denominator)), value)
            })
            .collect(),
        presets: presets(today),
        query: format!("from={}&to={}", report.period.from_label(), report.period.to_label()),
        no_targets: !report.has_targets(),
        sort,
        desc,
        unit,
    };
    Ok(page.render()?)
}

/// The dashboard's table as a file for people: CSV (`web::report::table_csv`), or with `XLSX` a workbook
/// (`web::report::xlsx`).
async fn export<const XLSX: bool>(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<DashboardQuery>,
) -> AppResult<Response> {
    let (unit, report, _) = load(&state, &user, &code, &q, time::today()).await?;
    let (content_type, extension, bytes) = if XLSX {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
            super::report::xlsx(&report).map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?,
        )
    } else {
        ("text/csv; charset=utf-8", "csv", super::report::table_csv(&report).into_bytes())
    };
    let file = format!("chibo-{}-{}-{}.{extension}", unit.code, report.period.from_label(), report.period.to_label());
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "dashboard/report.html")]
struct PrintPage {
    unit: Unit,
    issuer: String,
    period_label: String,
    place_date: String,
    tiles: Vec<Tile>,
    columns: Vec<(Metric, &'static str)>,
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
    let today = time::today();
    let (unit, report, _) = load(&state, &user, &code, &q, today).await?;
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
        tiles: Metric::ALL.iter().map(|m| report_tile(&report, *m, &[])).collect(),
        columns: SHOWN.iter().map(|m| (*m, m.label())).collect(),
        rows: table_rows(sorted_children(&report, None, false)),
        no_targets: !report.has_targets(),
        unit,
    };
    Ok(Html(page.render()?))
}
