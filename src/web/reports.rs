//! The monthly reporting cycle's pages (DOMAIN.md §10): a cell-month's report (what it holds, its state, submit;
//! approve, return, unlock for the committee), and a committee's review queue. The lock itself is PostgreSQL's
//! (migration 0012); [`locked_message`] says its refusal in the user's language.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::extract::{CsrfForm, Fields, Form, Path};
use super::meetings::load_cell;
use super::routes::{Access, Routes};
use super::view::{Label, Layout};
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::reports::{self, MonthMeeting, Outcome, QueueItem, Report};
use crate::db::settings;
use crate::db::units::{self, Unit};
use crate::domain::reports::Settings;
use crate::domain::time;
use crate::domain::vocab::{MeetingKind, ReportState};

pub fn routes() -> Routes {
    Routes::default()
        .get("/cells/{code}/reports/{month}", Access::ReadUnit, month_page)
        .post("/cells/{code}/reports/{month}/submit", Access::EditCell, submit)
        .post("/cells/{code}/reports/{month}/approve", Access::ManageRecords, approve)
        .post("/cells/{code}/reports/{month}/return", Access::ManageRecords, send_back)
        .post("/cells/{code}/reports/{month}/unlock", Access::ManageRecords, unlock)
        .get("/units/{code}/reports", Access::ManageRecords, queue)
        .post("/units/{code}/reports/approve", Access::ManageRecords, approve_many)
}

/// The lock's refusal (the database's DETAIL `CELL/YYYY-MM`) in the user's language.
pub fn locked_message(detail: &str) -> String {
    let (code, month) = detail.split_once('/').unwrap_or((detail, ""));
    let month = time::parse_month(month).map(time::format_month).unwrap_or_else(|| month.to_string());
    crate::tr2("cycle.locked", month, code)
}

/// A cell-month's report with what it holds.
pub struct MonthView {
    pub report: Report,
    pub meetings: Vec<MonthMeeting>,
    pub deadline: NaiveDate,
}

impl MonthView {
    pub async fn load(state: &AppState, s: &Settings, report: Report) -> AppResult<MonthView> {
        let meetings = reports::meetings_of_months(state.pool(), report.cell_id, report.month, report.month).await?;
        Ok(MonthView { deadline: s.deadline(report.month), report, meetings })
    }

    /// `11/2026`
    pub fn label(&self) -> String {
        time::format_month(self.report.month)
    }

    /// `2026-11`, as in the month's address
    pub fn slug(&self) -> String {
        self.report.month.format("%Y-%m").to_string()
    }

    pub fn has_regular(&self) -> bool {
        self.meetings.iter().any(|m| m.kind == MeetingKind::Regular)
    }

    pub fn can_submit(&self) -> bool {
        self.report.can_submit()
    }

    pub fn state_class(&self) -> &'static str {
        self.report.state.as_str()
    }

    pub fn state_label(&self) -> &'static str {
        self.report.state.label()
    }

    /// The state in plain words.
    pub fn state_words(&self) -> String {
        let day = |d: Option<NaiveDate>| d.map(time::format_date).unwrap_or_default();
        match self.report.state {
            ReportState::Draft => crate::tr1("cycle.state_draft", time::format_date(self.deadline)),
            ReportState::Submitted => crate::tr1("cycle.state_submitted", day(self.report.submitted_on)),
            ReportState::Approved => crate::tr1("cycle.state_approved", day(self.report.approved_on)),
            ReportState::Returned => crate::tr("cycle.state_returned").to_string(),
        }
    }

    pub fn is_returned(&self) -> bool {
        self.report.state == ReportState::Returned
    }

    pub fn is_submitted(&self) -> bool {
        self.report.state == ReportState::Submitted
    }

    pub fn is_approved(&self) -> bool {
        self.report.state == ReportState::Approved
    }

    pub fn returned_reason(&self) -> &str {
        self.report.returned_reason.as_deref().unwrap_or_default()
    }

    pub fn kept_reason(&self) -> Option<String> {
        self.report.reason.as_deref().map(|r| crate::tr1("cycle.kept_reason", r))
    }
}

/// The months a cell still has to report (from `reporting_since`, or this month when none is set), the latest
/// first, with what each holds; at most a year of them.
pub async fn open_months(state: &AppState, cell_id: i64, today: NaiveDate) -> AppResult<Vec<MonthView>> {
    let s = settings::get(state.pool()).await?;
    let since = s.reporting_since.unwrap_or(time::month_start(today));
    let open: Vec<Report> =
        reports::open_months(state.pool(), cell_id, since, today).await?.into_iter().take(12).collect();
    let (Some(first), Some(last)) = (open.iter().map(|r| r.month).min(), open.iter().map(|r| r.month).max()) else {
        return Ok(Vec::new());
    };
    // every month's meetings in one query, then each month takes its own
    let mut meetings = reports::meetings_of_months(state.pool(), cell_id, first, last).await?;
    Ok(open
        .into_iter()
        .map(|report| {
            let (mine, rest) = meetings.drain(..).partition(|m| time::month_start(m.held_on) == report.month);
            meetings = rest;
            MonthView { deadline: s.deadline(report.month), report, meetings: mine }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "reports/month.html")]
struct MonthPage {
    layout: Layout,
    cell: Unit,
    r: MonthView,
    can_submit: bool,
    can_review: bool,
    errors: Vec<(&'static str, String)>,
    /// the reasons as typed, kept when the form is refused
    reason: String,
    return_reason: String,
    unlock_reason: String,
    done: Option<String>,
}

impl MonthPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
}

/// The cell and month of the path; a month not yet begun has no report.
async fn cell_month(state: &AppState, user: &CurrentUser, code: &str, month: &str) -> AppResult<(Unit, NaiveDate)> {
    let cell = load_cell(state, user, code).await?;
    let month = time::parse_month(month).ok_or(AppError::NotFound)?;
    if month > time::month_start(time::today()) {
        return Err(AppError::NotFound);
    }
    Ok((cell, month))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DoneQuery {
    done: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn render_month(
    state: &AppState,
    user: &CurrentUser,
    cell: Unit,
    month: NaiveDate,
    errors: Vec<(&'static str, String)>,
    typed: [String; 3],
    done: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let s = settings::get(state.pool()).await?;
    let report = reports::get(state.pool(), cell.id, month).await?;
    let r = MonthView::load(state, &s, report).await?;
    let ancestors = units::ancestors(state.pool(), cell.id, time::today()).await?;
    let [reason, return_reason, unlock_reason] = typed;
    let page = MonthPage {
        layout: Layout::new(user).with_units(&ancestors, user.user.unit_id),
        cell,
        r,
        can_submit: user.role().can_edit_meetings(),
        can_review: user.role().can_manage_records(),
        errors,
        reason,
        return_reason,
        unlock_reason,
        done,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn month_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, month)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    let (cell, month) = cell_month(&state, &user, &code, &month).await?;
    let label = time::format_month(month);
    let done = match q.done.as_deref() {
        Some("submit") => Some(crate::tr1("cycle.submitted_ok", &label)),
        Some("approve") => Some(crate::tr1("cycle.approved_ok", &label)),
        Some("return") => Some(crate::tr1("cycle.returned_ok", &label)),
        Some("unlock") => Some(crate::tr1("cycle.unlocked_ok", &label)),
        _ => None,
    };
    render_month(&state, &user, cell, month, Vec::new(), Default::default(), done, StatusCode::OK).await
}

#[derive(Deserialize)]
struct ReasonForm {
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
}

fn month_address(cell: &Unit, month: NaiveDate, done: &str) -> String {
    format!("/cells/{}/reports/{}?done={done}", cell.code, month.format("%Y-%m"))
}

/// A step's outcome: on to the month's page, or the form again with the reason asked for at its field.
#[allow(clippy::too_many_arguments)]
async fn after_step(
    state: &AppState,
    user: &CurrentUser,
    cell: Unit,
    month: NaiveDate,
    outcome: Outcome,
    field: &'static str,
    message: &'static str,
    typed: String,
    done: &str,
) -> AppResult<Response> {
    match outcome {
        Outcome::Done => Ok(Redirect::to(&month_address(&cell, month, done)).into_response()),
        // sent twice, or overtaken by another step: the page says where it stands now
        Outcome::WrongState(_) => {
            Ok(Redirect::to(&format!("/cells/{}/reports/{}", cell.code, month.format("%Y-%m"))).into_response())
        }
        Outcome::NeedsReason => {
            let mut kept: [String; 3] = Default::default();
            let slot = ["reason", "return_reason", "unlock_reason"].iter().position(|f| *f == field).unwrap_or(0);
            kept[slot] = typed;
            let errors = vec![(field, crate::tr(message).to_string())];
            render_month(state, user, cell, month, errors, kept, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, month)): Path<(String, String)>,
    Form(form): Form<ReasonForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    let (cell, month) = cell_month(&state, &user, &code, &month).await?;
    user.require_edit(&state, cell.id).await?;
    let outcome =
        reports::submit(state.pool(), &user.actor(), cell.id, month, Some(&form.reason), time::today()).await?;
    after_step(&state, &user, cell, month, outcome, "reason", "cycle.reason_needed", form.reason, "submit").await
}

async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, month)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    let (cell, month) = cell_month(&state, &user, &code, &month).await?;
    let n = reports::approve(state.pool(), &user.actor(), &[(cell.id, month)], time::today()).await?;
    let outcome = if n == 1 { Outcome::Done } else { Outcome::WrongState(ReportState::Approved) };
    after_step(&state, &user, cell, month, outcome, "reason", "cycle.reason_required", String::new(), "approve").await
}

async fn send_back(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, month)): Path<(String, String)>,
    Form(form): Form<ReasonForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    let (cell, month) = cell_month(&state, &user, &code, &month).await?;
    let outcome = reports::return_report(state.pool(), &user.actor(), cell.id, month, Some(&form.reason)).await?;
    after_step(&state, &user, cell, month, outcome, "return_reason", "cycle.reason_required", form.reason, "return")
        .await
}

async fn unlock(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, month)): Path<(String, String)>,
    Form(form): Form<ReasonForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    let (cell, month) = cell_month(&state, &user, &code, &month).await?;
    let outcome = reports::unlock(state.pool(), &user.actor(), cell.id, month, Some(&form.reason)).await?;
    after_step(&state, &user, cell, month, outcome, "unlock_reason", "cycle.reason_required", form.reason, "unlock")
        .await
}

/// A line of the review queue as shown.
struct QueueLine {
    item: QueueItem,
}

impl QueueLine {
    fn month_label(&self) -> String {
        time::format_month(self.item.month)
    }

    fn slug(&self) -> String {
        self.item.month.format("%Y-%m").to_string()
    }

    /// The checkbox's value: `CELL/YYYY-MM`.
    fn key(&self) -> String {
        format!("{}/{}", self.item.cell_code, self.slug())
    }

    fn submitted_on(&self) -> String {
        self.item.submitted_on.map(time::format_date).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "reports/queue.html")]
struct QueuePage {
    layout: Layout,
    unit: Unit,
    waiting: Vec<QueueLine>,
    overdue: Vec<QueueLine>,
    returned: Vec<QueueLine>,
    done: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct QueueQuery {
    approved: Option<usize>,
    /// how many were ticked (sent again, they may have been approved already)
    selected: Option<usize>,
}

async fn queue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<QueueQuery>,
) -> AppResult<Response> {
    let pool = state.pool();
    let unit = units::by_code(pool, &code).await?.ok_or(AppError::NotFound)?;
    user.require_scope(&state, unit.id).await?;
    let today = time::today();
    let s = settings::get(pool).await?;
    let since = s.reporting_since.unwrap_or(time::month_start(today));
    let ids = units::subtree_ids(pool, unit.id, today).await?;
    let due = s.last_due_month(today);
    let (mut waiting, mut overdue, mut returned) = (Vec::new(), Vec::new(), Vec::new());
    for item in reports::queue(pool, &ids, since, today).await? {
        match item.state {
            ReportState::Submitted => waiting.push(QueueLine { item }),
            ReportState::Returned => returned.push(QueueLine { item }),
            ReportState::Draft if item.month <= due => overdue.push(QueueLine { item }),
            _ => {}
        }
    }
    let ancestors = units::ancestors(pool, unit.id, today).await?;
    let done = q.approved.map(|n| {
        if q.selected == Some(0) {
            crate::tr("cycle.nothing_selected").to_string()
        } else {
            crate::tr1("cycle.approved_n", n)
        }
    });
    let page = QueuePage {
        layout: Layout::new(&user).with_units(&ancestors, user.user.unit_id),
        unit,
        waiting,
        overdue,
        returned,
        done,
    };
    Ok(Html(page.render()?).into_response())
}

/// Approves the reports ticked in the queue (`item=CELL/YYYY-MM`, repeated), in one transaction.
async fn approve_many(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Fields(pairs): Fields,
) -> AppResult<Response> {
    let csrf = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
    user.check_csrf(csrf)?;
    let unit = units::by_code(state.pool(), &code).await?.ok_or(AppError::NotFound)?;
    user.require_scope(&state, unit.id).await?;
    let today = time::today();
    // each cell must lie under the queue's unit (itself in the user's scope): the cells there, read once
    let under = units::by_ids(state.pool(), &units::subtree_ids(state.pool(), unit.id, today).await?).await?;
    let cells: std::collections::HashMap<&str, i64> =
        under.iter().filter(|u| u.is_cell()).map(|u| (u.code.as_str(), u.id)).collect();
    let mut items = Vec::new();
    for (_, value) in pairs.iter().filter(|(k, _)| k == "item").take(1000) {
        let (cell_code, month) = value.split_once('/').ok_or(AppError::BadRequest("item".into()))?;
        let month = time::parse_month(month).ok_or(AppError::BadRequest("item".into()))?;
        let cell = *cells.get(cell_code).ok_or(AppError::Forbidden)?;
        items.push((cell, month));
    }
    let n = reports::approve(state.pool(), &user.actor(), &items, today).await?;
    Ok(Redirect::to(&format!("/units/{code}/reports?approved={n}&selected={}", items.len())).into_response())
}
