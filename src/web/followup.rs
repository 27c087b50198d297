//! The follow-up lists a committee acts on: cells without last month's meeting, the watch list (overdue monthly
//! reports included), members absent without reason, probation reviews due, small cells and their commune cadres.
use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::extract::Path;
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::followup::{self, FollowUp, MemberDetail, Reason};
use crate::db::units::{self, Unit};
use crate::domain::time;

pub fn routes() -> Routes {
    Routes::default().get("/followup/{code}", Access::ReadUnit, show)
}

#[derive(Template)]
#[template(path = "dashboard/followup.html")]
struct FollowUpPage {
    layout: Layout,
    unit: Unit,
    month: String,
    lists: FollowUp,
    can_see_names: bool,
}

impl FollowUpPage {
    fn reason(&self, r: &Reason) -> String {
        reason_text(r)
    }

    fn detail(&self, d: &MemberDetail) -> String {
        detail_text(d)
    }
}

/// Why a cell is listed, in the request's language.
fn reason_text(r: &Reason) -> String {
    match *r {
        Reason::NotLogged { month } => crate::tr1("cell.not_logged", time::format_month(month)),
        Reason::Missed(n) => crate::tr1("followup.missed_n", n),
        Reason::MissedLast => crate::tr("followup.missed_last").to_string(),
        Reason::LowAttendance => crate::tr("followup.low_attendance").to_string(),
        Reason::Weak(n) => crate::tr1("followup.weak_n", n),
        Reason::FailedYear(year) => crate::tr1("followup.failed_year", year),
        Reason::ReportOverdue { month } => crate::tr1("followup.report_overdue", time::format_month(month)),
    }
}

/// What puts a member on a list, in the request's language.
fn detail_text(d: &MemberDetail) -> String {
    match *d {
        MemberDetail::Absent { months, year } => crate::tr2("followup.absent_detail", months, year),
        MemberDetail::ProbationDue { joined_on, due_on } => {
            crate::tr2("followup.probation_detail", time::format_date(joined_on), time::format_date(due_on))
        }
    }
}

async fn show(State(state): State<AppState>, user: CurrentUser, Path(code): Path<String>) -> AppResult<Html<String>> {
    let unit = units::by_code(state.pool(), &code).await?.ok_or(AppError::NotFound)?;
    user.require_scope(&state, unit.id).await?;
    let today = time::today();
    let lists = followup::follow_up(state.pool(), unit.id, today).await?;
    let ancestors = units::ancestors(state.pool(), unit.id, today).await?;
    let page = FollowUpPage {
        layout: Layout::new(&user).with_units(&ancestors, user.user.unit_id).dashboards(),
        month: time::format_month(lists.month),
        can_see_names: user.role().can_see_names(),
        lists,
        unit,
    };
    Ok(Html(page.render()?))
}
