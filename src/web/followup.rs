//! The follow-up lists a committee acts on: cells without last month's meeting, the watch list, members absent
//! without reason, probation reviews due, small cells and their commune cadres.
use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::extract::Path;
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::followup::{self, FollowUp};
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

async fn show(State(state): State<AppState>, user: CurrentUser, Path(code): Path<String>) -> AppResult<Html<String>> {
    let unit = units::by_code(state.pool(), &code).await?.ok_or(AppError::NotFound)?;
    user.require_scope(&state, unit.id).await?;
    let lists = followup::follow_up(state.pool(), unit.id).await?;
    let ancestors = units::ancestors(state.pool(), unit.id, time::today()).await?;
    let page = FollowUpPage {
        layout: Layout::new(&user).with_units(&ancestors, user.user.unit_id).dashboards(),
        month: time::format_month(lists.month),
        can_see_names: user.role().can_see_names(),
        lists,
        unit,
    };
    Ok(Html(page.render()?))
}
