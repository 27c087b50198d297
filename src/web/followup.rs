//! The follow-up lists a committee acts on: cells without last month's meeting, the watch list (overdue monthly
//! reports included), members absent without reason, probation reviews due, small cells and their commune cadres.
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::NaiveDate;
use serde::Deserialize;

use super::extract::Path;
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::followup::{self, FollowUp, MemberDetail, Reason};
use crate::db::units::{self, Unit};
use crate::domain::metrics::add_months;
use crate::domain::time;

/// How many closed months the picker offers, the last one first.
const MONTHS_OFFERED: i32 = 24;

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
    /// names link to the member's record
    can_manage: bool,
    /// the months the picker offers: (`YYYY-MM`, `mm/yyyy`, chosen)
    months: Vec<(String, String, bool)>,
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

#[derive(Deserialize, Default)]
pub struct FollowUpQuery {
    /// `YYYY-MM`: a closed month; anything else (or nothing) is last month
    #[serde(default)]
    month: String,
}

/// The month picked, if it is one of those offered, else last month; and the day its lists are read as of: the
/// last day of the month after it (the last day the page showed that month), or today for last month.
fn picked(q: &FollowUpQuery, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let last = add_months(time::month_start(today), -1);
    let month = time::parse_month(&q.month).filter(|m| *m <= last && *m > add_months(last, -MONTHS_OFFERED));
    match month {
        Some(m) if m < last => (m, time::month_end(add_months(m, 1))),
        _ => (last, today),
    }
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<FollowUpQuery>,
) -> AppResult<Html<String>> {
    let unit = units::by_code(state.pool(), &code).await?.ok_or(AppError::NotFound)?;
    user.require_scope(&state, unit.id).await?;
    let today = time::today();
    let (month, as_of) = picked(&q, today);
    let lists = followup::follow_up(state.pool(), unit.id, as_of).await?;
    let last = add_months(time::month_start(today), -1);
    let months = (0..MONTHS_OFFERED)
        .map(|k| add_months(last, -k))
        .map(|m| (m.format("%Y-%m").to_string(), time::format_month(m), m == month))
        .collect();
    let ancestors = units::ancestors(state.pool(), unit.id, today).await?;
    let page = FollowUpPage {
        layout: Layout::new(&user).with_units(&ancestors, user.user.unit_id).dashboards(),
        month: time::format_month(lists.month),
        can_see_names: user.role().can_see_names(),
        can_manage: user.role().can_manage_records(),
        months,
        lists,
        unit,
    };
    Ok(Html(page.render()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_picked_among_the_closed_ones_offered() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let today = day(2026, 12, 1);
        let pick = |m: &str| picked(&FollowUpQuery { month: m.into() }, today);
        assert_eq!(pick(""), (day(2026, 11, 1), today), "last month by default, as of today");
        assert_eq!(pick("2026-11"), (day(2026, 11, 1), today));
        assert_eq!(pick("2026-09"), (day(2026, 9, 1), day(2026, 10, 31)), "as the page stood a month after");
        assert_eq!(pick("2025-12"), (day(2025, 12, 1), day(2026, 1, 31)));
        for other in ["2026-12", "2027-01", "2024-11", "11/2026", "x"] {
            assert_eq!(pick(other).0, day(2026, 11, 1), "{other}: not offered, last month");
        }
    }
}
