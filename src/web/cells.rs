//! A cell's home: this month's status, the roster, open and overdue tasks.
use crate::web::extract::Path;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use chrono::NaiveDate;

use super::meetings::load_cell;
use super::routes::{Access, Routes};
use super::view::{Label, Layout};
use super::{AppResult, AppState, CurrentUser};
use crate::db::meetings::{self, Task};
use crate::db::members::{self, RollMember};
use crate::db::units::{self, Unit};
use crate::domain::MeetingKind;
use crate::domain::time;

pub fn routes() -> Routes {
    Routes::default().get("/cells/{code}", Access::ReadUnit, home)
}

#[derive(Template)]
#[template(path = "cells/home.html")]
struct HomePage {
    layout: Layout,
    cell: Unit,
    month: String,
    this_month: Vec<meetings::MeetingSummary>,
    roster: Vec<RollMember>,
    tasks: Vec<Task>,
    today: NaiveDate,
    can_edit: bool,
    can_see_names: bool,
    /// a task just marked done here: said, with an undo button
    done_task: Option<Task>,
    /// this page's address, to come back to after an undo
    here: String,
    notices: super::account::Notices,
    /// this month's report and earlier months still to report, the latest first
    reports: Vec<super::reports::MonthView>,
    /// the committee this cell reports to, for a reviewer's link to its queue
    committee: Option<Unit>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct HomeQuery {
    done_task: Option<i64>,
}

impl HomePage {
    fn overdue_count(&self) -> usize {
        self.tasks.iter().filter(|t| t.is_overdue(&self.today)).count()
    }

    fn regular_logged(&self) -> bool {
        self.this_month.iter().any(|m| m.kind == MeetingKind::Regular)
    }

    fn exempt_count(&self) -> usize {
        self.roster.iter().filter(|m| m.exempt).count()
    }
}

async fn home(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    axum::extract::Query(q): axum::extract::Query<HomeQuery>,
) -> AppResult<Html<String>> {
    let cell = load_cell(&state, &user, &code).await?;
    let done_task = super::meetings::tasks::just_done(&state, cell.id, q.done_task).await?;
    let pool = state.pool();
    let today = time::today();
    let month_start = time::month_start(today);
    let this_month =
        meetings::list_for_cell(pool, cell.id, 40).await?.into_iter().filter(|m| m.held_on >= month_start).collect();
    let ancestors = units::ancestors(pool, cell.id, today).await?;
    let reports = super::reports::open_months(&state, cell.id, today).await?;
    let committee = if user.role().can_manage_records() { ancestors.iter().rev().nth(1).cloned() } else { None };
    let page = HomePage {
        reports,
        committee,
        layout: Layout::new(&user).with_units(&ancestors, user.user.unit_id),
        month: time::format_month(today),
        this_month,
        roster: members::roll(pool, cell.id, today.min(cell.valid_to.unwrap_or(today))).await?,
        tasks: meetings::open_tasks_for_cell(pool, cell.id).await?,
        today,
        can_edit: user.role().can_edit_meetings(),
        can_see_names: user.role().can_see_names(),
        done_task,
        here: format!("/cells/{code}"),
        notices: super::account::Notices::load(&state, &user, cell.id, &format!("/cells/{code}")).await?,
        cell,
    };
    Ok(Html(page.render()?))
}
